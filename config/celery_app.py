"""Celery on RabbitMQ: late acks, one message in flight per worker process, publisher confirms,
quorum queues whose rejected messages dead-letter to "<queue>.dead".

Workers also consume the domain events of the registered event consumers (each one's
"<consumer>.events" queue, apps.common.messaging.worker); `--event-consumers=a,b|all|none` picks them."""

import os

import click
from celery import Celery
from celery.signals import celeryd_init, task_postrun, task_prerun
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("commerce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.user_options["worker"].add(click.Option(
    ["--event-consumers"], default="all", show_default=True,
    help="Event consumers whose queues this worker consumes: all, none, or a comma-separated list."))
# Imported by name so that loading this module does not import Django models.
app.steps["consumer"].add("apps.common.messaging.worker:EventConsumersStep")


def dead_letter_queues() -> list[Queue]:
    from django.conf import settings

    exchange = Exchange(settings.CELERY_DEAD_LETTER_EXCHANGE, type="direct", durable=True)
    return [
        Queue(f"{name}.dead", exchange, routing_key=name, durable=True, queue_arguments={"x-queue-type": "quorum"})
        for name in settings.CELERY_DEAD_LETTER_QUEUES
    ]


def declare_dead_letter_topology() -> None:
    """Declare the dead-letter exchange and queues. Workers never consume them, so Celery
    would not declare them; without them RabbitMQ would drop what it dead-letters."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in dead_letter_queues():
            queue.bind(channel).declare()


def declare_work_topology() -> None:
    """Declare every work queue and its exchange, whichever queues this worker consumes.

    Celery's native delayed delivery binds each work queue's exchange when the worker starts,
    before the worker declares the queues it consumes; on a fresh vhost those exchanges did not
    exist yet and the worker logged CRITICAL "Native delayed delivery will not be available"
    (countdown retries then blocked the worker). A publisher of a task for a queue no worker has
    consumed yet also needs it to exist, or the message is unroutable."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in [*dead_letter_queues(), *app.conf.task_queues]:
            queue.bind(channel).declare()


@celeryd_init.connect
def _declare_on_worker_start(**kwargs):
    # A worker always has its broker: what its tasks send (retries with a countdown, follow-up
    # tasks) must go through it, even under settings that run tasks eagerly in other processes.
    app.conf.task_always_eager = False
    declare_work_topology()


@task_prerun.connect
@task_postrun.connect
def _connections_tidy(task=None, **kwargs):
    """Around each task run by a worker (not eagerly, inside a caller's transaction): what Django
    does around each request. A connection that broke or outlived CONN_MAX_AGE is closed; with
    the pool (CONN_MAX_AGE 0) the connection goes back to it for the next task."""
    if task is not None and not getattr(task.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()
