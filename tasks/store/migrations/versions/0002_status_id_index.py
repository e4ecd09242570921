"""Index the queue by (status, id): the next task is the lowest id with a status.

The runner asks "the oldest queued task" on every tick and the pages ask "the
running tasks, oldest first". With an index on status alone, PostgreSQL reads
every queued row and sorts them; with (status, id) it reads the first one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_status", table_name="tasks")
    op.create_index("ix_tasks_status_id", "tasks", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_status_id", table_name="tasks")
    op.create_index("ix_tasks_status", "tasks", ["status"])
