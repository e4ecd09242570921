"""What the task service needs of a runner: the interface every runner implements.

A runner takes queued tasks from the task store (the source of truth), runs
them in processes of its own with bounded concurrency, and stops the process
of a task that is cancelled. tasks/runners/local.py runs them on this machine,
for the embedded default; tasks/runners/celery_runner.py hands them to Celery
workers, scaled out. What both do with a task is in supervision.py.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol


class Runner(Protocol):
    """Runs the task store's queued tasks in the background."""

    def start(self) -> None:
        """Begin taking tasks from the queue (idempotent)."""

    def stop(self) -> None:
        """Stop taking tasks and stop this runner's workers; their tasks stay in
        the store and are taken up again by the next runner to start."""

    def wake(self) -> None:
        """Something was queued: look at the queue now rather than later."""

    def cancel(self, task_id: int) -> None:
        """The store has marked ``task_id`` cancelled: stop its process now if
        this runner holds it (the store already keeps it from finishing)."""

    def describe(self) -> dict[str, Any]:
        """What this runner is, for ``GET /api/engine``: at least ``kind`` and ``workers``."""
