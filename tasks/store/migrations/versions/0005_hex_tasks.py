"""Hexadecimal tasks: a task's radix (10 or 16), and the hex digits a hex task found from its place.

Every task before this one asked for a decimal place: radix 10.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("radix", sa.Integer, nullable=False, server_default="10"))
        batch.add_column(sa.Column("hex_digits", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("hex_digits")
        batch.drop_column("radix")
