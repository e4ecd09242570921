"""A Task record has a key for each column of the task table, and no other."""

from __future__ import annotations

from tasks.records import Task
from tasks.store.tables import tasks


def test_a_task_record_has_exactly_the_task_table_s_columns() -> None:
    assert set(Task.__required_keys__) == {column.name for column in tasks.columns}
