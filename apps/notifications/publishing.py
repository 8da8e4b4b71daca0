"""Publishing deliver tasks in batches: every task of a batch is published, then the broker's
publisher confirms are awaited once for the whole batch (CELERY_BROKER_TRANSPORT_OPTIONS makes
Celery wait for each publish's confirm in turn, one round trip per task).

Each process (each thread) keeps its broker connection, with a channel in confirm mode, from
batch to batch and opens a new one when it broke. A task the broker refused (nack) or did not
confirm in time, twice, is reported to the caller; its delivery row stays due, and
deliveries_resume enqueues it again once NOTIFICATIONS_RESUME_GRACE_SECONDS have passed."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence

import amqp.exceptions
from celery import current_app
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

BROKER_ERRORS = (OSError, socket.timeout, KombuError, amqp.exceptions.AMQPError)


@dataclasses.dataclass(frozen=True)
class BatchOutcome:
    """The ids whose task the broker did not confirm, and why ("" when every one was)."""

    unconfirmed: tuple[int, ...] = ()
    error: str = ""


class _Link:
    """A broker connection and its channel in confirm mode (not the per-publish wait)."""

    def __init__(self, app, timeout: float):
        self.connection = app.connection_for_write(transport_options={"confirm_publish": False},
                                                   connect_timeout=timeout)
        self.connection.ensure_connection(max_retries=0)  # the caller tries a second link
        self.channel = self.connection.channel()
        self.channel.confirm_select()
        self.producer = app.amqp.Producer(self.channel)
        self.published = 0  # delivery tags: the broker numbers this channel's publishes from 1
        self.acked: set[int] = set()
        self.nacked: set[int] = set()
        self.settled_upto = 0  # every tag up to this one is acked or nacked
        self.channel.events["basic_ack"].add(self._on_ack)
        self.channel.events["basic_nack"].add(self._on_nack)

    def _settle(self, into: set[int], tag: int, multiple: bool) -> None:
        into.update(range(self.settled_upto + 1, tag + 1) if multiple else (tag,))
        while self.settled_upto + 1 in self.acked or self.settled_upto + 1 in self.nacked:
            self.settled_upto += 1

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(self.acked, tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._settle(self.nacked, tag, multiple)

    def publish(self, task, ids: Sequence[int], *, timeout: float) -> BatchOutcome:
        first = self.published + 1
        for delivery_id in ids:
            task.apply_async(args=[delivery_id], producer=self.producer, retry=False)
            self.published += 1
        deadline = time.monotonic() + timeout
        while self.settled_upto < self.published and (remaining := deadline - time.monotonic()) > 0:
            with contextlib.suppress(socket.timeout, TimeoutError):
                self.connection.drain_events(timeout=remaining)
        tags = range(first, self.published + 1)
        unconfirmed = tuple(delivery_id for tag, delivery_id in zip(tags, ids, strict=True) if tag not in self.acked)
        nacked = any(tag in self.nacked for tag in tags)
        self.acked.difference_update(tags)
        self.nacked.difference_update(tags)
        if not unconfirmed:
            return BatchOutcome()
        why = "the broker refused them (nack)" if nacked else f"no publisher confirm within {timeout}s"
        return BatchOutcome(unconfirmed, why)

    def close(self) -> None:
        with contextlib.suppress(*BROKER_ERRORS):
            self.connection.release()


_links = threading.local()


def _link(app, timeout: float) -> _Link:
    if getattr(_links, "pid", None) != os.getpid():  # a forked child opens its own
        _links.link, _links.pid = None, os.getpid()
    if _links.link is None:
        _links.link = _Link(app, timeout)
    return _links.link


def _drop() -> None:
    link, _links.link = _links.link, None
    if link is not None:
        link.close()


def tasks_publish(task, ids: Sequence[int]) -> BatchOutcome:
    """Publish `task(id)` for each id and wait once for the broker's confirms of all of them.

    What failed on the kept connection (it broke while idle, the broker restarted, a confirm did
    not come) is published once more on a new one: a task published twice finds its delivery
    claimed or delivered and does nothing."""
    app = current_app._get_current_object()
    timeout = float(app.conf.broker_connection_timeout or 4.0)
    pending, error = list(ids), ""
    for _attempt in (1, 2):
        try:
            outcome = _link(app, timeout).publish(task, pending, timeout=timeout)
        except BROKER_ERRORS as exc:
            _drop()
            error = f"publish failed: {exc!r}"
            continue
        except Exception:
            _drop()  # in whatever state it is, the next batch gets a new one
            raise
        if not outcome.unconfirmed:
            return outcome
        _drop()  # its unsettled tags would be settled in a later batch
        pending, error = list(outcome.unconfirmed), outcome.error
    return BatchOutcome(tuple(pending), error)
