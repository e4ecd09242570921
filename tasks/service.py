"""The service layer: what the web page and the JSON API both call.

Validation, the known-digit fast path and cancellation live here once, so the
page and the API give the same answers and the same messages.
"""

from __future__ import annotations

import time
from typing import Any

from compute.digit_store import DigitStore
from compute.validation import parse_n
from tasks.phases import phase_end
from tasks.runner import LocalRunner
from tasks.store import FINISHED
from tasks.store import RUNNING
from tasks.store import Task
from tasks.store import TaskStore

# The C path reports the series every second: a report younger than this is
# shown as measured; an older one is extrapolated.
FRESH_SECONDS = 2.0


class TaskNotFound(LookupError):
    """No task has this id."""


class TaskFinished(RuntimeError):
    """The task has already finished, so it cannot be cancelled."""


class TaskService:
    """Submit, cancel and describe tasks."""

    def __init__(self, store: TaskStore, digits: DigitStore, runner: LocalRunner, max_n: int) -> None:
        self.store = store
        self.digits = digits
        self.runner = runner
        self.max_n = max_n

    def submit(self, raw_n: object) -> Task:
        """Validate n and add a task; done at once if its digit is already stored.

        :raises compute.validation.InvalidN: with a message for people.
        """
        n = parse_n(raw_n, self.max_n)
        task = self.store.create(n, digit=self.digits.digit(n))
        if task["status"] not in FINISHED:
            self.runner.wake()
        return task

    def get(self, task_id: int) -> Task:
        """The task, or TaskNotFound."""
        task = self.store.get(task_id)
        if task is None:
            raise TaskNotFound(f"There is no task {task_id}.")
        return task

    def cancel(self, task_id: int) -> Task:
        """Cancel a queued or running task (its process is stopped)."""
        task = self.get(task_id)
        if not self.store.cancel(task_id):
            raise TaskFinished(f"Task {task_id} has already finished ({task['status']}).")
        self.runner.wake()
        return self.get(task_id)


def describe(task: Task, now: float | None = None) -> dict[str, Any]:
    """A task as people and scripts see it (JSON-ready).

    Progress is what the worker last reported. When that report is not fresh
    (a phase that cannot report, such as FLINT's one-call pi or the decimal
    conversion), it is extrapolated at the rate the time estimate predicts, up
    to the end of the phase, and flagged as an estimate.
    """
    now = time.time() if now is None else now
    progress = float(task["progress"] or 0.0)
    estimated = False
    end = phase_end(task["phase"])
    since_report = now - (task["updated_at"] or now)
    if task["status"] == RUNNING and task["estimate_seconds"] and end is not None and since_report > FRESH_SECONDS:
        guess = min(end, progress + since_report / max(task["estimate_seconds"], 0.001))
        if guess > progress:
            progress, estimated = guess, True
    started, finished = task["started_at"], task["finished_at"]
    return {
        "id": task["id"],
        "n": task["n"],
        "status": task["status"],
        "phase": task["phase"],
        "progress": round(progress, 4),
        "progress_is_estimate": estimated,
        "digit": task["digit"],
        "error": task["error"],
        "created_at": _iso(task["created_at"]),
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "seconds": round(finished - started, 3) if started and finished else None,
        "url": f"/task/{task['id']}",
    }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"
