"""The `notifications.dead` queue: where RabbitMQ puts the delivery tasks a worker rejected.

The Delivery row (status `dead`) is the source of truth; the queue is what operations watch. A
replay takes the matching messages out of the queue so that its depth keeps meaning "dead
deliveries nobody has replayed yet"."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from kombu import Connection

logger = logging.getLogger(__name__)

QUEUE = "notifications.dead"
DELIVER_TASK = "notifications.deliver"


def dead_letter_depth() -> int | None:
    """Messages waiting in notifications.dead (a passive declare: never creates the queue);
    None without a broker or when it cannot be asked."""
    if not settings.CELERY_BROKER_URL:
        return None
    from apps.common.observability.metrics import queue_depths

    return queue_depths([QUEUE]).get(QUEUE)


def _delivery_id(message) -> int | None:
    if (message.headers or {}).get("task") != DELIVER_TASK:
        return None
    try:
        body = message.body if isinstance(message.body, str | bytes) else json.dumps(message.body)
        args = json.loads(body)[0]
        return int(args[0])
    except (ValueError, TypeError, IndexError, KeyError):
        return None


def dead_letters_remove(*, delivery_ids: set[int] | None = None) -> set[int]:
    """Take out of notifications.dead the messages of `delivery_ids` (every message when None);
    return the delivery ids removed. Messages are held unacknowledged while scanning and the
    others go back when the channel closes, so nothing is lost if this process dies."""
    if not settings.CELERY_BROKER_URL:
        return set()
    removed: set[int] = set()
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            _, depth, _ = channel.queue_declare(queue=QUEUE, passive=True)
        except connection.channel_errors:
            return removed  # no queue: nothing was ever dead-lettered
        for _ in range(depth):
            message = channel.basic_get(queue=QUEUE, no_ack=False)
            if message is None:
                break
            kombu_message = channel.message_to_python(message)
            delivery_id = _delivery_id(kombu_message)
            if delivery_ids is None or delivery_id in delivery_ids:
                kombu_message.ack()
                if delivery_id is not None:
                    removed.add(delivery_id)
        channel.close()
    return removed


def dead_letters_peek() -> list[int]:
    """Delivery ids of the messages in notifications.dead, left in place."""
    if not settings.CELERY_BROKER_URL:
        return []
    ids: list[int] = []
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            _, depth, _ = channel.queue_declare(queue=QUEUE, passive=True)
        except connection.channel_errors:
            return ids
        for _ in range(depth):
            message = channel.basic_get(queue=QUEUE, no_ack=False)
            if message is None:
                break
            delivery_id = _delivery_id(channel.message_to_python(message))
            if delivery_id is not None:
                ids.append(delivery_id)
        channel.close()  # everything goes back
    return ids
