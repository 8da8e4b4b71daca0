"""Consuming domain events in a Celery worker."""

from __future__ import annotations

import functools
import logging
import traceback
from typing import Any

from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections
from kombu import Consumer, Producer

from apps.common.messaging.consumers import EventConsumer, consumers_registered, event_apply
from apps.common.messaging.envelope import InvalidEvent
from apps.common.messaging.rejections import event_rejected
from apps.common.messaging.topology import consumer_queue, consumers_topology_declare

logger = logging.getLogger(__name__)


class EventConsumersStep(bootsteps.ConsumerStep):
    """Consumes every registered consumer's queue (or those named by `--event-consumers`) in the
    Celery worker. Handlers run in the worker's consumer thread and stay short: the slow work
    (sending notifications, ...) is done by tasks they enqueue after their transaction commits."""

    def __init__(self, parent, event_consumers: str | None = "all", **kwargs):
        self.selection = (event_consumers or "all").strip()
        super().__init__(parent, **kwargs)

    def selected(self) -> list[EventConsumer]:
        if self.selection == "none":
            return []
        if self.selection == "all":
            return consumers_registered()
        names = {name.strip() for name in self.selection.split(",") if name.strip()}
        unknown = names - {consumer.name for consumer in consumers_registered()}
        if unknown:
            raise ValueError(f"unknown event consumers: {sorted(unknown)}")
        return [consumer for consumer in consumers_registered() if consumer.name in names]

    def get_consumers(self, channel):
        consumers = self.selected()
        if not consumers:
            return []
        consumers_topology_declare(channel, consumers)
        kombu_consumers = []
        for consumer in consumers:
            kombu_consumer = Consumer(
                channel, queues=[consumer_queue(consumer)], accept=["json"],
                callbacks=[functools.partial(_on_message, consumer)],
            )
            # Per-consumer QoS: quorum queues do not support the global kind.
            kombu_consumer.qos(prefetch_count=settings.EVENT_CONSUMER_PREFETCH)
            kombu_consumers.append(kombu_consumer)
            logger.info("consuming events for %s from %s", consumer.name, consumer.queue_name)
        return kombu_consumers


ATTEMPTS_HEADER = "x-consumer-attempts"


def _on_message(consumer: EventConsumer, body: Any, message) -> None:
    """Apply, then ack. An event that can never be applied is dead-lettered at once; one whose
    handler failed is parked in the retry queue (the worker's event loop never sleeps on it) and
    dead-lettered after EVENT_CONSUMER_MAX_ATTEMPTS."""
    close_old_connections()
    try:
        event_apply(consumer=consumer, envelope=body)
    except InvalidEvent as exc:
        logger.error("%s cannot apply an event, dead-lettering it: %s", consumer.name, exc)
        message.reject(requeue=False)
    except Exception:
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER) or 0) + 1
        if attempts >= settings.EVENT_CONSUMER_MAX_ATTEMPTS:
            logger.exception("%s failed to apply an event %d times, dead-lettering it", consumer.name, attempts)
            event_rejected(consumer=consumer.name, envelope=body,
                           reason=f"failed {attempts} times, last: {traceback.format_exc(limit=3)}")
            message.reject(requeue=False)
        else:
            logger.exception("%s failed to apply an event (attempt %d); retrying in %ss", consumer.name, attempts,
                             settings.EVENT_CONSUMER_RETRY_DELAY_SECONDS)
            _park_for_retry(consumer, message, attempts)
    else:
        message.ack()
    finally:
        close_old_connections()


def _park_for_retry(consumer: EventConsumer, message, attempts: int) -> None:
    try:
        Producer(message.channel).publish(
            message.body, exchange="", routing_key=consumer.retry_queue_name, retry=False, delivery_mode=2,
            content_type=message.content_type, content_encoding=message.content_encoding,
            headers={**(message.headers or {}), ATTEMPTS_HEADER: attempts},
            **{key: value for key, value in message.properties.items() if key in ("message_id", "type")},
        )
    except Exception:
        logger.exception("%s could not park an event for retry; the broker redelivers it", consumer.name)
        message.requeue()
    else:
        message.ack()
