"""The task store: one table of every task ever submitted.

SQLAlchemy 2 Core, so the same code runs on the embedded SQLite default and on
PostgreSQL. Every write goes through a conditional UPDATE (``WHERE status =
...``), so the web server, the runner and the workers can never move a task
backwards: a cancelled task stays cancelled even if its worker finishes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from compute.planning import places_to_compute
from tasks.records import CANCELLED
from tasks.records import DECIMAL
from tasks.records import DONE
from tasks.records import ERROR
from tasks.records import QUEUED
from tasks.records import RUNNING
from tasks.records import STATUSES
from tasks.records import Task
from tasks.store.fair_order import next_queued
from tasks.store.tables import task_revision
from tasks.store.tables import tasks
from tasks.store.tables import workers

ACTIVE = (QUEUED, RUNNING)
# What the task table may sort by. Submission time sorts as the id does (ids
# are given out in submission order), so it needs no index of its own.
SORTABLE = {"id": tasks.c.id, "n": tasks.c.n, "status": tasks.c.status, "created_at": tasks.c.id}


class TaskStore:
    """Reads and writes tasks; every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(
        self,
        n: int,
        *,
        digit: str | None = None,
        owner: str | None = None,
        client: str | None = None,
        radix: int = DECIMAL,
        hex_digits: str | None = None,
    ) -> Task:
        """Insert a task for place n in ``radix``: done at once if ``digit`` is known, else queued."""
        now = time.time()
        values: dict[str, Any] = {"n": n, "created_at": now, "updated_at": now, "progress": 0.0, "radix": radix}
        values.update(owner=owner, client=client)
        if digit is None:
            values["status"] = QUEUED
        else:
            values.update(
                status=DONE, digit=digit, hex_digits=hex_digits, progress=1.0, started_at=now, finished_at=now
            )
        with self.engine.begin() as db:
            values["revision"] = _next_revision(db)
            inserted = db.execute(sa.insert(tasks).values(**values).returning(*tasks.c)).one()
            return _row(inserted)

    def get(self, task_id: int) -> Task | None:
        """The task with this id, or None."""
        return self._first(sa.select(tasks).where(tasks.c.id == task_id))

    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        sort: str = "id",
        descending: bool = True,
        statuses: Sequence[str] | None = None,
    ) -> list[Task]:
        """One page of tasks in ``sort`` order (ties by id), optionally only those in ``statuses``.

        Every order has an index (id; n, id; status, id), so a page costs the
        same at a million tasks as at ten, but for the offset's skip.
        """
        column = SORTABLE[sort]
        order = [column.desc(), tasks.c.id.desc()] if descending else [column.asc(), tasks.c.id.asc()]
        query = _filtered(sa.select(tasks), statuses).order_by(*order).limit(limit).offset(offset)
        with self.engine.connect() as db:
            return [_row(row) for row in db.execute(query)]

    def count(self, statuses: Sequence[str] | None = None) -> int:
        """How many tasks there are (in ``statuses``, if given)."""
        query = _filtered(sa.select(sa.func.count()).select_from(tasks), statuses)
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def revision(self) -> int:
        """The revision of the last committed change (0: none yet)."""
        with self.engine.connect() as db:
            return int(db.execute(sa.select(task_revision.c.value).where(task_revision.c.id == 1)).scalar_one())

    def changed_after(self, revision: int, through: int, limit: int) -> list[Task]:
        """Tasks whose last change is in revisions (``revision``, ``through``], in the order of change."""
        query = sa.select(tasks).where(tasks.c.revision > revision, tasks.c.revision <= through)
        with self.engine.connect() as db:
            return [_row(row) for row in db.execute(query.order_by(tasks.c.revision).limit(limit))]

    def with_status(self, *statuses: str) -> list[Task]:
        """Tasks in any of ``statuses``, oldest first."""
        query = sa.select(tasks).where(tasks.c.status.in_(statuses)).order_by(tasks.c.id)
        with self.engine.connect() as db:
            return [_row(row) for row in db.execute(query)]

    def count_with_status(self, status: str) -> int:
        """How many tasks have ``status``."""
        query = sa.select(sa.func.count()).select_from(tasks).where(tasks.c.status == status)
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def count_running(self) -> int:
        """How many tasks are marked running."""
        return self.count_with_status(RUNNING)

    def computing_at_least(self, places: int, other_than: int, own_places: int | None = None) -> Task | None:
        """A running task (not ``other_than``) whose computation covers ``places``, for ``other_than`` to wait for.

        :param own_places: the places ``other_than`` itself would compute. A task that would compute as
            many waits only for an older one, so two such tasks never wait for each other.
        """
        covers = tasks.c.places >= places
        if own_places is not None:
            covers &= (tasks.c.places > own_places) | ((tasks.c.places == own_places) & (tasks.c.id < other_than))
        query = (
            sa.select(tasks)
            .where(tasks.c.status == RUNNING, tasks.c.radix == DECIMAL, covers, tasks.c.id != other_than)
            .order_by(tasks.c.id)
        )
        return self._first(query)

    def active_for(self, *, client: str | None = None, owner: str | None = None) -> list[Task]:
        """The queued and running tasks of one address (``client``), or of one person (``owner``, their cookie)."""
        whose = tasks.c.owner == owner if owner is not None else tasks.c.client == client
        with self.engine.connect() as db:
            return [_row(row) for row in db.execute(sa.select(tasks).where(whose, tasks.c.status.in_(ACTIVE)))]

    def computing_or_queued_at_least(self, n: int) -> Task | None:
        """The oldest queued or running task whose n is at least ``n``."""
        query = (
            sa.select(tasks)
            .where(tasks.c.status.in_((QUEUED, RUNNING)), tasks.c.radix == DECIMAL, tasks.c.n >= n)
            .order_by(tasks.c.id)
        )
        return self._first(query)

    def peek_next(self) -> Task | None:
        """The task claim_next would take now, left queued."""
        with self.engine.connect() as db:
            next_id = db.execute(next_queued(None)).scalar()
        return None if next_id is None else self.get(next_id)

    def claim_next(
        self, lease: tuple[str, float] | None = None, largest_n: int | None = None, max_n: int | None = None
    ) -> Task | None:
        """Mark the next queued task running and return it, or None.

        The queue is fair: the next task is the oldest queued task of the
        client served longest ago (never served first), so one visitor's
        hundred tasks do not hold up another's one. FIFO within a client.

        :param lease: (owner, seconds) for a worker that holds the task by a lease.
        :param largest_n: take no task for a larger n (it would not fit in this machine's memory).
        :param max_n: PI_MAX_N: a decimal task is then claimed with its ``places`` (computing_at_least).
        """
        owner, seconds = lease if lease else (None, 0.0)
        while True:
            with self.engine.begin() as db:
                oldest = db.execute(next_queued(largest_n)).scalar()
                if oldest is None:
                    return None
                n, radix = db.execute(sa.select(tasks.c.n, tasks.c.radix).where(tasks.c.id == oldest)).one()
                planned = places_to_compute(int(n), max_n) if max_n is not None and radix == DECIMAL else None
                now = time.time()
                claimed = db.execute(
                    sa.update(tasks)
                    .where(tasks.c.id == oldest, tasks.c.status == QUEUED)
                    .values(
                        revision=_next_revision(db),
                        status=RUNNING,
                        phase="starting",
                        progress=0.0,
                        places=planned,
                        worker_pid=None,
                        lease_owner=owner,
                        lease_expires=now + seconds if owner else None,
                        attempts=tasks.c.attempts + 1,
                        started_at=now,
                        updated_at=now,
                    )
                ).rowcount
                if claimed:
                    return _row(db.execute(sa.select(tasks).where(tasks.c.id == oldest)).one())
            # Another runner took it between our SELECT and UPDATE: try the next.

    def renew_lease(self, task_id: int, owner: str, seconds: float) -> bool:
        """Extend ``owner``'s lease on a running task; False if it is no longer
        running under that lease (cancelled, finished, or taken back)."""
        statement = (
            sa.update(tasks)
            .where(tasks.c.id == task_id, tasks.c.status == RUNNING, tasks.c.lease_owner == owner)
            .values(lease_expires=time.time() + seconds)
        )
        # No new revision: nothing a reader sees has changed.
        with self.engine.begin() as db:
            return db.execute(statement).rowcount == 1

    def expired_leases(self) -> list[Task]:
        """Running tasks whose worker stopped renewing its lease."""
        query = sa.select(tasks).where(tasks.c.status == RUNNING, tasks.c.lease_expires < time.time())
        with self.engine.connect() as db:
            return [_row(row) for row in db.execute(query.order_by(tasks.c.id))]

    def take_back(self, task_id: int, max_attempts: int) -> bool:
        """Requeue a task whose lease expired (its worker died); fail it after
        ``max_attempts``. Conditional on the lease still being expired, so a
        worker that renews meanwhile keeps its task."""
        now = time.time()
        with self.engine.begin() as db:
            revision = _next_revision(db)
            expired = (tasks.c.id == task_id, tasks.c.status == RUNNING, tasks.c.lease_expires < now)
            failed = db.execute(
                sa.update(tasks)
                .where(*expired, tasks.c.attempts >= max_attempts)
                .values(
                    status=ERROR,
                    error=f"Its worker stopped answering {max_attempts} times; the task was given up.",
                    phase=None,
                    finished_at=now,
                    updated_at=now,
                    revision=revision,
                )
            ).rowcount
            if failed:
                return True
            return (
                db.execute(
                    sa.update(tasks)
                    .where(*expired)
                    .values(**_requeued(counted=True), updated_at=now, revision=revision)
                ).rowcount
                == 1
            )

    def beat(self, worker: str, slots: int) -> None:
        """Record that Celery worker ``worker`` (running ``slots`` tasks at once) is alive."""
        with self.engine.begin() as db:
            updated = db.execute(
                sa.update(workers).where(workers.c.name == worker).values(slots=slots, heartbeat_at=time.time())
            ).rowcount
            if not updated:
                db.execute(sa.insert(workers).values(name=worker, slots=slots, heartbeat_at=time.time()))

    def live_workers(self, within_seconds: float) -> list[dict[str, Any]]:
        """The Celery workers that beat within the last ``within_seconds``."""
        query = sa.select(workers).where(workers.c.heartbeat_at >= time.time() - within_seconds)
        with self.engine.connect() as db:
            return [dict(row._mapping) for row in db.execute(query.order_by(workers.c.name))]

    def running_under(self, owner_prefix: str) -> int:
        """How many tasks run under leases whose owner starts with ``owner_prefix`` (one machine's)."""
        query = (
            sa.select(sa.func.count())
            .select_from(tasks)
            .where(tasks.c.status == RUNNING, tasks.c.lease_owner.startswith(owner_prefix, autoescape=True))
        )
        with self.engine.connect() as db:
            return int(db.execute(query).scalar_one())

    def counts_by_status(self) -> dict[str, int]:
        """How many tasks are in each status."""
        query = sa.select(tasks.c.status, sa.func.count()).group_by(tasks.c.status)
        with self.engine.connect() as db:
            found = {status: int(count) for status, count in db.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}

    def duration_buckets(
        self, start: sa.ColumnElement[Any], end: sa.ColumnElement[Any], bounds: Sequence[float]
    ) -> tuple[list[int], float]:
        """Cumulative counts of done tasks with ``end - start`` at most each bound, and the sum of those durations."""
        took = end - start
        columns = [sa.func.count().filter(took <= bound) for bound in bounds]
        query = sa.select(*columns, sa.func.coalesce(sa.func.sum(took), 0.0)).where(
            tasks.c.status == DONE, start.is_not(None), end.is_not(None)
        )
        with self.engine.connect() as db:
            *counts, total = db.execute(query).one()
        return [int(count) for count in counts], float(total)

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as db:
            db.execute(sa.text("SELECT 1"))

    def set_worker(self, task_id: int, pid: int) -> None:
        """Record which process runs the task."""
        self._update(task_id, (RUNNING,), worker_pid=pid)

    def report(
        self,
        task_id: int,
        phase: str,
        progress: float,
        estimate_seconds: float | None = None,
        places: int | None = None,
    ) -> bool:
        """Record progress of a running task; False if it is no longer running."""
        values: dict[str, Any] = {"phase": phase, "progress": progress}
        if estimate_seconds is not None:
            values["estimate_seconds"] = estimate_seconds
        if places is not None:
            values["places"] = places
        return self._update(task_id, (RUNNING,), **values)

    def finish(self, task_id: int, digit: str, hex_digits: str | None = None, *, computed: bool = True) -> bool:
        """Mark a running task done with its digit (and a hex task's digits from its place).

        :param computed: False for a task answered from stored digits: it made no places (``places`` None).
        """
        planned = {} if computed else {"places": None}
        return self._update(
            task_id,
            (RUNNING,),
            **planned,
            status=DONE,
            digit=digit,
            hex_digits=hex_digits,
            phase=None,
            progress=1.0,
            finished_at=time.time(),
        )

    def fail(self, task_id: int, error: str, statuses: Iterable[str] = (RUNNING,)) -> bool:
        """Mark a task as failed with a reason a person can read."""
        return self._update(task_id, tuple(statuses), status=ERROR, error=error, phase=None, finished_at=time.time())

    def requeue(self, task_id: int, *, counted: bool = True) -> bool:
        """Put a running task whose process died back in the queue.

        :param counted: whether the attempt its claim counted stands. A task
            whose server stopped under it was not at fault: its attempt is
            given back, so restarts never use up a task's attempts.
        """
        return self._update(task_id, (RUNNING,), **_requeued(counted))

    def cancel(self, task_id: int) -> bool:
        """Cancel a queued or running task; False if it had already finished."""
        return self._update(task_id, (QUEUED, RUNNING), status=CANCELLED, phase=None, finished_at=time.time())

    def _first(self, query: sa.Select[Any]) -> Task | None:
        with self.engine.connect() as db:
            row = db.execute(query.limit(1)).first()
        return None if row is None else _row(row)

    def _update(self, task_id: int, statuses: tuple[str, ...], **values: object) -> bool:
        values["updated_at"] = time.time()
        with self.engine.begin() as db:
            values["revision"] = _next_revision(db)
            statement = sa.update(tasks).where(tasks.c.id == task_id, tasks.c.status.in_(statuses)).values(**values)
            return db.execute(statement).rowcount == 1


def _next_revision(db: sa.Connection) -> int:
    # Taken first in every writing transaction (one lock order, no deadlock).
    # The counter's row stays locked until commit, so a later revision never
    # commits before an earlier one: no poll can skip a change.
    statement = (
        sa.update(task_revision)
        .where(task_revision.c.id == 1)
        .values(value=task_revision.c.value + 1)
        .returning(task_revision.c.value)
    )
    return int(db.execute(statement).scalar_one())


def _requeued(counted: bool) -> dict[str, Any]:
    attempts = tasks.c.attempts if counted else sa.case((tasks.c.attempts > 0, tasks.c.attempts - 1), else_=0)
    gone = dict.fromkeys(("phase", "worker_pid", "lease_owner", "lease_expires", "started_at"))
    return {"status": QUEUED, "progress": 0.0, "attempts": attempts, **gone}


def _filtered(query: sa.Select[Any], statuses: Sequence[str] | None) -> sa.Select[Any]:
    return query if statuses is None else query.where(tasks.c.status.in_(list(statuses)))


def _row(row: sa.Row[Any]) -> Task:
    # The table's columns are Task's keys (tests/test_records.py keeps the two in step).
    return cast(Task, dict(row._mapping))
