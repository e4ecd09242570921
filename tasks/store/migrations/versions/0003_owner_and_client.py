"""Whose task is it: the submitter's owner key (from a signed cookie) and client address.

`owner` lets the submitter (and only it, or an operator) cancel a task;
`client` is who asked, for the per-client limits and the fair queue.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("owner", sa.String(64)))
        batch.add_column(sa.Column("client", sa.String(64)))
    op.create_index("ix_tasks_client_status", "tasks", ["client", "status"])
    op.create_index("ix_tasks_client_started_at", "tasks", ["client", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_client_started_at", table_name="tasks")
    op.drop_index("ix_tasks_client_status", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("client")
        batch.drop_column("owner")
