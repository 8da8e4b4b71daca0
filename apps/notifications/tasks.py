import logging

from celery import shared_task
from celery.exceptions import Ignore, Reject
from kombu.transport.native_delayed_delivery import calculate_routing_key, level_name

from apps.notifications.outcomes import AttemptKind
from apps.notifications.services import delivery, fanout

logger = logging.getLogger(__name__)

QUEUE = "notifications"
# The entry of RabbitMQ native delayed delivery: 28 levels of TTL queues, declared by every worker
# (Celery's DelayedDelivery step, on because the queues are quorum queues), that hand the
# message back to the queue's topic exchange once the delay has passed.
DELAYED_DELIVERY = level_name(27)


@shared_task(bind=True, name="notifications.deliver", acks_late=True, max_retries=None, ignore_result=True)
def deliver(self, delivery_id: int) -> str:
    """One attempt at one delivery (queue `notifications`). Transient failure: the task comes
    back after the backoff, delayed by RabbitMQ. Permanent or exhausted: the row is dead and the
    message is rejected without requeue, so RabbitMQ dead-letters it to `notifications.dead`.
    Idempotent: a delivered or dead row makes it a no-op."""
    request = self.request
    # The task id stays across retries; with the retry count the claim names this very message.
    claim = f"{request.id}:{request.retries}"
    redelivered = bool((request.delivery_info or {}).get("redelivered"))
    outcome = delivery.delivery_deliver(delivery_id=delivery_id, claim=claim, redelivered=redelivered)
    if request.is_eager:
        # In-process (embedded default): never block the caller on a backoff. A failed row
        # keeps its next_attempt_at for deliveries_resume; a dead one waits for a replay.
        return outcome.kind.value
    if outcome.kind in (AttemptKind.RETRY, AttemptKind.BUSY):
        _again_in(self, outcome.retry_in, outcome.detail)
    if outcome.kind is AttemptKind.DEAD:
        raise Reject(outcome.detail, requeue=False)
    return outcome.kind.value


def _again_in(task, seconds: int, why: str) -> None:
    """Publish this task again, held by the broker for `seconds`, then ack this message.

    Not `task.retry(countdown=...)`: that also stamps an ETA, and Celery runs ETA messages from
    its timer, where the ack (or the final reject) waits for the event loop's next wake-up, up to
    10 s, holding the quorum queue's single prefetch slot of the worker all that time. Without an
    ETA the worker runs the message the moment RabbitMQ hands it back."""
    request = task.request
    task.apply_async(args=request.args, kwargs=request.kwargs, task_id=request.id, retries=request.retries + 1,
                     exchange=DELAYED_DELIVERY, routing_key=calculate_routing_key(max(1, int(seconds)), QUEUE))
    logger.info("delivery %s: %s; again in %ss", request.args, why, seconds)
    raise Ignore()


@shared_task(name="notifications.deliveries_resume", ignore_result=True)
def deliveries_resume() -> int:
    """Beat: re-enqueue deliveries whose task message went missing."""
    return delivery.deliveries_resume()


@shared_task(name="notifications.inbox_purge", ignore_result=True)
def inbox_purge() -> int:
    """Beat: forget applied events older than EVENT_INBOX_RETENTION_DAYS (0 keeps them)."""
    return fanout.inbox_purge()
