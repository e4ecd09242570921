"""Revisions for the live table, sort indexes, and leases for workers on other machines.

`revision` is taken from the one-row `task_revision` counter in the same
transaction as every change, so revisions commit in the order they were
given out (the counter's row lock orders them on PostgreSQL): a poll that has
seen revision r has seen every change up to r, whatever the commit order of ids.

`lease_owner`/`lease_expires` say which Celery worker holds a running task and
until when (renewed by its heartbeat); `dispatched_at` is when a message for a
queued task last went to the broker. `workers` lists the Celery workers and
when each last beat (the operator's "live workers"). `digit_chunks` and
`digit_prefix` hold the digits published by workers on any machine.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counter = op.create_table(
        "task_revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("lease_owner", sa.String(128)))
        batch.add_column(sa.Column("lease_expires", sa.Double))
        batch.add_column(sa.Column("dispatched_at", sa.Double))
    # Existing rows: a revision each, in id order, and the counter after them.
    op.execute("UPDATE tasks SET revision = id")
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    op.execute("UPDATE task_revision SET value = (SELECT COALESCE(MAX(id), 0) FROM tasks)")
    op.create_index("ix_tasks_revision", "tasks", ["revision"])
    op.create_index("ix_tasks_n_id", "tasks", ["n", "id"])
    op.create_index("ix_tasks_status_lease", "tasks", ["status", "lease_expires"])
    op.create_table(
        "workers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("slots", sa.Integer, nullable=False),
        sa.Column("heartbeat_at", sa.Double, nullable=False),
    )
    # The digits every machine reads, published by the workers that computed them.
    op.create_table(
        "digit_chunks",
        sa.Column("chunk", sa.Integer, primary_key=True),
        sa.Column("digits", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    prefix = op.create_table(
        "digit_prefix",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("places", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(prefix, [{"id": 1, "places": 0}])


def downgrade() -> None:
    op.drop_table("digit_prefix")
    op.drop_table("digit_chunks")
    op.drop_table("workers")
    op.drop_index("ix_tasks_status_lease", table_name="tasks")
    op.drop_index("ix_tasks_n_id", table_name="tasks")
    op.drop_index("ix_tasks_revision", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("dispatched_at")
        batch.drop_column("lease_expires")
        batch.drop_column("lease_owner")
        batch.drop_column("revision")
    op.drop_table("task_revision")
