"""The fair order of the queue: which queued task runs next.

Each client's oldest queued task is its head; of the heads, the one whose
client last had a task started longest ago (or never) goes first, so one
client's burst never holds back another's single task.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tasks.records import DECIMAL
from tasks.records import QUEUED
from tasks.store.tables import tasks


def next_queued(largest_n: int | None) -> sa.Select[Any]:
    """The next task to run: each client's oldest queued task (the heads), and
    of those the one whose client last had a task started longest ago (never:
    first). With ``largest_n``, only tasks up to that n count (a machine's memory)."""
    queued = tasks.c.status == QUEUED
    if largest_n is not None:
        # Hex tasks need almost no memory.
        queued = sa.and_(queued, sa.or_(tasks.c.radix != DECIMAL, tasks.c.n <= largest_n))
    heads = (
        sa.select(tasks.c.client, sa.func.min(tasks.c.id).label("id")).where(queued).group_by(tasks.c.client).subquery()
    )
    last_served = (
        sa.select(sa.func.max(tasks.c.started_at))
        .where(tasks.c.client == heads.c.client, tasks.c.started_at.is_not(None))
        .scalar_subquery()
    )
    return sa.select(heads.c.id).order_by(last_served.asc().nulls_first(), heads.c.id).limit(1)
