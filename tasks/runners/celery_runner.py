"""The web side of the scaled-out mode: a Runner (tasks/runners/base.py) that hands tasks to Celery workers.

No task runs in the web process: ``wake`` sends a wake-up to the broker, and
cancelling needs no message, since the worker holding a task sees it
cancelled in the database within a second and stops its process.
"""

from __future__ import annotations

import time
from typing import Any

from celery import Celery

from tasks.digits.publishing import Mirror
from tasks.runners.celery_app import send_wake_up
from tasks.store.queries import TaskStore

# After the broker refused a wake-up, this long without trying again.
QUIET_SECONDS = 5.0
# A worker that has not beaten for this long counts as gone.
LIVE_WITHIN_SECONDS = 30.0


class CeleryRunner:
    """Hands queued tasks to Celery workers on any machine (a tasks.runners.base.Runner)."""

    def __init__(self, store: TaskStore, celery: Celery, mirror: Mirror) -> None:
        """:param mirror: brings the digits the workers publish into this process's store."""
        self.store = store
        self.celery = celery
        self.mirror = mirror
        self._quiet_until = 0.0

    def start(self) -> None:
        """Start mirroring the published digits; the tasks run on the workers."""
        self.mirror.start()

    def stop(self) -> None:
        """Stop mirroring; tasks stay with their workers."""
        self.mirror.stop()

    def wake(self) -> None:
        """A task was queued: wake a worker (if the broker is down, the reconciler does it later)."""
        # A broker that just refused is not asked again for a while: a failed
        # send costs seconds, and a submission must stay fast while it is down.
        if time.monotonic() < self._quiet_until:
            return
        if not send_wake_up(self.celery):
            self._quiet_until = time.monotonic() + QUIET_SECONDS

    def cancel(self, task_id: int) -> None:
        """The store already says cancelled; the worker that holds the task stops its process."""

    def describe(self) -> dict[str, Any]:
        """The live workers and their slots, for the API."""
        live = self.store.live_workers(LIVE_WITHIN_SECONDS)
        return {
            "kind": "celery",
            "workers": sum(worker["slots"] for worker in live),
            "machines": [worker["name"] for worker in live],
            "runs_tasks": bool(live),
        }
