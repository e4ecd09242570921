"""The task store's tables, and the connection to its database.

SQLAlchemy 2 Core, so the same tables live in the embedded SQLite default and
in PostgreSQL. A column added here is added by a migration too (migrations/),
and to the record in tasks/records.py: tests/test_schema.py and
tests/test_records.py fail if they differ.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("phase", sa.String(32)),
    sa.Column("progress", sa.Double, nullable=False, default=0.0),
    sa.Column("estimate_seconds", sa.Double),
    # How many places this task's computation makes (n rounded up), set when it is
    # claimed, so that a task for a smaller n claimed a moment later waits for that
    # result instead of computing it too; None for a task answered from stored digits.
    sa.Column("places", sa.BigInteger),
    sa.Column("digit", sa.String(1)),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("worker_pid", sa.Integer),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("started_at", sa.Double),
    sa.Column("finished_at", sa.Double),
    # Indexed: the live table asks "what changed since t?" every second.
    sa.Column("updated_at", sa.Double, nullable=False, index=True),
    # Who submitted it: a hash of the submitter's signed-cookie key (may cancel
    # it), and the client address (per-client limits, the fair queue).
    sa.Column("owner", sa.String(64)),
    sa.Column("client", sa.String(64)),
    # Taken from task_revision with every change (see _next_revision): the live
    # table asks "what changed after revision r?".
    sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"),
    # The Celery worker holding a running task, and until when (its heartbeat renews it).
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_expires", sa.Double),
    # 10: n is a decimal place; 16: a hexadecimal place, computed by Bellard's formula
    # (compute/hex_digits.py) with the hex digits from n kept in hex_digits.
    sa.Column("radix", sa.Integer, nullable=False, server_default="10"),
    sa.Column("hex_digits", sa.String(32)),
    # The runner's "oldest queued" and the pages' "running, oldest first".
    sa.Index("ix_tasks_status_id", "status", "id"),
    # A client's active tasks (the per-client limits); when it was last served (the fair queue).
    sa.Index("ix_tasks_client_status", "client", "status"),
    sa.Index("ix_tasks_client_started_at", "client", "started_at"),
    sa.Index("ix_tasks_revision", "revision"),
    # The grid sorts by n; the reconciler looks for running tasks whose lease expired.
    sa.Index("ix_tasks_n_id", "n", "id"),
    sa.Index("ix_tasks_status_lease", "status", "lease_expires"),
)

# The Celery workers, each beating every few seconds (for /metrics and /api/engine).
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("slots", sa.Integer, nullable=False),
    sa.Column("heartbeat_at", sa.Double, nullable=False),
)

# The digits published by the workers of the scaled-out mode (tasks/digits/publishing.py):
# chunks of compute.digit_store.BLOCK places with their SHA-256, and how many places.
digit_chunks = sa.Table(
    "digit_chunks",
    metadata,
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("digits", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)
digit_prefix = sa.Table(
    "digit_prefix",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("places", sa.BigInteger, nullable=False),
)

# One row: the last revision given out.
task_revision = sa.Table(
    "task_revision",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)


def connect(database_url: str) -> Engine:
    """The engine for ``database_url``; tasks.store.schema.upgrade creates or upgrades the tables."""
    options: dict[str, Any] = {"future": True}
    if database_url.startswith("sqlite"):
        # Several processes write (web server, workers): wait for the lock
        # rather than fail at once.
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        # A connection left from before a database restart is replaced, not handed out to fail.
        options["pool_pre_ping"] = True
    engine = sa.create_engine(database_url, **options)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL lets the page read while a worker writes; see sqlite.org/wal.html.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
