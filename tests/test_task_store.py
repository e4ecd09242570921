"""The task store on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from tasks.records import CANCELLED
from tasks.records import DONE
from tasks.records import QUEUED
from tasks.records import RUNNING
from tasks.store.queries import TaskStore
from tasks.store.tables import tasks
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


def changed_after(task_store: TaskStore, revision: int) -> list[tuple[int, str]]:
    """(id, status) of the tasks changed after ``revision``, in revision order: what a follower of changes reads."""
    query = sa.select(tasks.c.id, tasks.c.status).where(tasks.c.revision > revision).order_by(tasks.c.revision)
    with task_store.engine.connect() as db:
        return [(row.id, row.status) for row in db.execute(query)]


def test_every_change_gets_a_higher_revision(task_store: TaskStore) -> None:
    before = task_store.revision()
    task = task_store.create(100)
    assert task["revision"] == task_store.revision() > before
    task_store.claim_next()
    claimed = stored(task_store, task["id"])["revision"]
    task_store.report(task["id"], "computing π", 0.5)
    reported = stored(task_store, task["id"])["revision"]
    assert task["revision"] < claimed < reported == task_store.revision()
    assert changed_after(task_store, before) == [(task["id"], RUNNING)]
    assert changed_after(task_store, reported) == []


def test_a_follower_of_revisions_misses_no_change_in_a_burst(task_store: TaskStore) -> None:
    # Eight writers create, claim and finish tasks at once while a reader
    # follows "changed after my last revision": on PostgreSQL ids commit out
    # of order, and a cursor on ids or clocks would skip rows that commit late.
    def write(_: int) -> None:
        for _ in range(15):
            task = task_store.create(100)
            task_store.claim_next()
            task_store.finish(task["id"], "9")

    seen: dict[int, str] = {}
    cursor = task_store.revision()

    def follow() -> None:
        nonlocal cursor
        revision = task_store.revision()
        for task_id, status in changed_after(task_store, cursor):
            seen[task_id] = status
        cursor = revision

    with ThreadPoolExecutor(8) as writers:
        pending = [writers.submit(write, worker) for worker in range(8)]
        while not all(future.done() for future in pending):
            follow()
            time.sleep(0.01)  # as a page polls: SQLite's writers need the lock between reads
        for future in pending:
            future.result()
    follow()
    final = {task["id"]: task["status"] for task in task_store.page(10**6)}
    assert len(final) == 120 and seen == final


def test_page_is_newest_first(task_store: TaskStore) -> None:
    ids = [task_store.create(n)["id"] for n in range(1, 8)]
    assert [task["id"] for task in task_store.page(3)] == ids[::-1][:3]
    assert [task["id"] for task in task_store.page(3, offset=6)] == [ids[0]]
    assert task_store.count() == 7


def test_pages_sort_and_filter_in_the_database(task_store: TaskStore) -> None:
    small, large, middle = (task_store.create(n) for n in (10, 30, 20))
    task_store.claim_next()  # small is running
    assert [task["n"] for task in task_store.page(3, sort="n", descending=False)] == [10, 20, 30]
    assert [task["id"] for task in task_store.page(2, 1, sort="n")] == [middle["id"], small["id"]]
    queued = task_store.page(10, statuses=[QUEUED])
    assert [task["id"] for task in queued] == [middle["id"], large["id"]]
    assert task_store.count([QUEUED]) == 2 and task_store.count([RUNNING, DONE]) == 1
