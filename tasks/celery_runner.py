"""The web side of the scaled-out mode: a Runner (tasks/runner.py) that hands tasks to Celery workers.

Nothing runs in the web process: ``wake`` sends a wake-up to the broker, and
cancelling needs no message, since the worker holding a task sees it
cancelled in the database within a second and stops its process.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from tasks.celery_app import send_wake_up
from tasks.store import TaskStore

# A worker that has not beaten for this long counts as gone.
LIVE_WITHIN_SECONDS = 30.0


class CeleryRunner:
    """Hands queued tasks to Celery workers on any machine (a tasks.runner.Runner)."""

    def __init__(self, store: TaskStore, celery: Celery) -> None:
        self.store = store
        self.celery = celery

    def start(self) -> None:
        """Nothing to start: the workers run elsewhere."""

    def stop(self) -> None:
        """Nothing to stop: tasks stay with their workers."""

    def wake(self) -> None:
        """A task was queued: wake a worker (if the broker is down, the reconciler does it later)."""
        send_wake_up(self.celery)

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
