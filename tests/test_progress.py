"""What a running task's progress looks like to people and scripts (tasks.service.describe)."""

from __future__ import annotations

from tasks.phases import PHASES
from tasks.records import Task
from tasks.service import FRESH_SECONDS
from tasks.service import describe
from tasks.store.queries import TaskStore
from tests.conftest import stored


def running_task(task_store: TaskStore, phase: str, done: float, estimate_seconds: float = 20.0) -> Task:
    task = task_store.create(100_000_000)
    task_store.claim_next()
    name, start, end = PHASES[phase]
    task_store.report(task["id"], name, start + done * (end - start), estimate_seconds, 100_000_000)
    return stored(task_store, task["id"])


def test_a_fresh_measured_report_is_shown_as_measured(task_store: TaskStore) -> None:
    task = running_task(task_store, "series", 0.5)
    shown = describe(task, now=task["updated_at"] + FRESH_SECONDS / 2)
    assert shown["phase"] == "summing the series"
    assert shown["progress"] == 0.37 and shown["progress_is_estimate"] is False


def test_a_step_that_cannot_report_is_estimated_but_never_past_its_end(task_store: TaskStore) -> None:
    task = running_task(task_store, "final", 0.0, estimate_seconds=100.0)
    a_little_later = describe(task, now=task["updated_at"] + 3.0)
    assert a_little_later["progress_is_estimate"] is True
    assert 0.74 < a_little_later["progress"] < 0.84
    much_later = describe(task, now=task["updated_at"] + 600.0)
    assert much_later["progress"] == 0.84, "the estimate must not run past the next measured point"


def test_a_task_waiting_for_another_does_not_pretend_to_progress(task_store: TaskStore) -> None:
    task = task_store.create(1000)
    task_store.claim_next()
    task_store.report(task["id"], "waiting for task 1", 0.0, 20.0)
    shown = describe(stored(task_store, task["id"]), now=stored(task_store, task["id"])["updated_at"] + 60.0)
    assert shown["progress"] == 0.0 and shown["progress_is_estimate"] is False
