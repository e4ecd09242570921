"""The Celery app of the scaled-out mode, and the one message it carries.

The broker only carries wake-ups: "a task is queued". The task row in the
database is the truth (see tasks/runners/celery_worker.py): a lost message is sent
again by the reconciler, a duplicate finds nothing to claim. Redis is the
broker (docs/scale-out.md says why): the same server keeps the per-client limits'
counts and, for Dash's CeleryManager, the results of background callbacks.
"""

from __future__ import annotations

import logging

from amqp.exceptions import ChannelError
from celery import Celery
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

QUEUE = "pi-tasks"
RUN_ONE = "pi.run_one"
# A message a worker took and did not acknowledge comes back after this long
# (Redis); the lease, not this, decides when a dead worker's task is taken back.
VISIBILITY_SECONDS = 3600


def make_celery(broker_url: str) -> Celery:
    """A Celery app on ``broker_url`` (a redis:// URL), configured for tasks that must not be lost."""
    app = Celery("pi", broker=broker_url, backend=broker_url)
    app.conf.update(
        # A message is acknowledged when its task ends, and requeued if the
        # pool process running it dies: a SIGKILLed worker's message returns.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A worker takes one message per free slot, so a busy worker hoards none.
        worker_prefetch_multiplier=1,
        task_default_queue=QUEUE,
        broker_transport_options={"visibility_timeout": VISIBILITY_SECONDS},
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2.0,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        result_expires=3600,
    )
    return app


def send_wake_up(app: Celery, countdown: float | None = None) -> bool:
    """Tell some worker that a task is queued; False if the broker is down (the reconciler sends it later)."""
    try:
        app.send_task(RUN_ONE, queue=QUEUE, countdown=countdown, retry=False, ignore_result=True)
    except (OperationalError, OSError) as error:
        log.warning("the broker did not take a wake-up (%s); the reconciler will send it again", error)
        return False
    return True


def messages_waiting(app: Celery) -> int:
    """How many wake-ups wait in the broker's queue."""
    with app.connection_for_write() as connection:
        try:
            declared = connection.default_channel.queue_declare(QUEUE, passive=True)  # type: ignore[attr-defined]
        except ChannelError:  # Redis has no such list while the queue is empty
            return 0
        return int(declared.message_count)


def broker_reachable(app: Celery) -> bool:
    """Whether the broker answers now."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except (OperationalError, OSError):
        return False
    return True
