"""The task store on SQLite and PostgreSQL."""

from __future__ import annotations

from tasks.store import CANCELLED
from tasks.store import DONE
from tasks.store import QUEUED
from tasks.store import RUNNING
from tasks.store import TaskStore
from tests.conftest import stored


def test_new_task_is_queued(task_store: TaskStore) -> None:
    task = task_store.create(1000)
    assert task["status"] == QUEUED and task["n"] == 1000 and task["digit"] is None
    assert stored(task_store, task["id"]) == task


def test_known_digit_is_done_at_once(task_store: TaskStore) -> None:
    task = task_store.create(6, digit="2")
    assert task["status"] == DONE and task["digit"] == "2" and task["progress"] == 1.0


def test_claims_oldest_first(task_store: TaskStore) -> None:
    ids = [task_store.create(n)["id"] for n in (30, 10, 20)]
    claimed = [claimed["id"] for _ in ids if (claimed := task_store.claim_next()) is not None]
    assert claimed == ids
    assert task_store.claim_next() is None
    assert task_store.count_running() == 3


def test_finished_task_cannot_be_cancelled_or_changed(task_store: TaskStore) -> None:
    task = task_store.create(100)
    task_store.claim_next()
    assert task_store.finish(task["id"], "9")
    assert not task_store.cancel(task["id"])
    assert not task_store.requeue(task["id"])
    assert stored(task_store, task["id"])["status"] == DONE


def test_cancelled_task_ignores_its_worker(task_store: TaskStore) -> None:
    task = task_store.create(100)
    task_store.claim_next()
    assert task_store.cancel(task["id"])
    assert not task_store.finish(task["id"], "9")
    assert not task_store.report(task["id"], "computing π", 0.5)
    assert stored(task_store, task["id"])["status"] == CANCELLED


def test_requeue_puts_a_task_back_in_line(task_store: TaskStore) -> None:
    first = task_store.create(100)
    task_store.create(200)
    task_store.claim_next()
    assert task_store.requeue(first["id"])
    again = task_store.claim_next()
    assert again is not None
    assert again["id"] == first["id"] and again["attempts"] == 2 and again["status"] == RUNNING


def test_changed_since_returns_changes_and_running_tasks(task_store: TaskStore) -> None:
    old = task_store.create(100)
    running = task_store.create(200)
    task_store.claim_next()  # old is now running
    task_store.claim_next()
    task_store.finish(old["id"], "9")
    since = stored(task_store, old["id"])["updated_at"]
    fresh = task_store.create(300)
    changed = {task["id"] for task in task_store.changed_since(since)}
    assert changed == {old["id"], running["id"], fresh["id"]}
    later = {task["id"] for task in task_store.changed_since(fresh["updated_at"] + 1)}
    assert later == {running["id"]}


def test_page_is_newest_first(task_store: TaskStore) -> None:
    ids = [task_store.create(n)["id"] for n in range(1, 8)]
    assert [task["id"] for task in task_store.page(3)] == ids[::-1][:3]
    assert [task["id"] for task in task_store.page(3, offset=6)] == [ids[0]]
    assert task_store.count() == 7
