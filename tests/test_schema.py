"""Schema migrations: an older database keeps every task when the app upgrades it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tasks.records import DONE
from tasks.records import QUEUED
from tasks.store import schema
from tasks.store.tables import connect
from tasks.store.tables import metadata
from tests.conftest import service_of

# Tasks as an older version of the app wrote them, in every state.
OLD_ROWS = [
    {"n": 6, "status": DONE, "digit": "2", "progress": 1.0, "attempts": 1, "created_at": 1.0, "updated_at": 2.0},
    {"n": 762, "status": QUEUED, "progress": 0.0, "attempts": 0, "created_at": 3.0, "updated_at": 3.0},
    {"n": 10**9, "status": "error", "error": "the reason", "progress": 0.4, "attempts": 3, "created_at": 4.0,
     "updated_at": 5.0},
]  # fmt: skip


def insert_old_rows(engine: sa.Engine) -> None:
    columns = sorted({name for row in OLD_ROWS for name in row})
    rows = [{name: row.get(name) for name in columns} for row in OLD_ROWS]
    with engine.begin() as db:
        db.execute(sa.insert(sa.table("tasks", *(sa.column(name) for name in columns))), rows)


def test_a_database_at_the_first_revision_is_upgraded_and_keeps_every_task(database_url: str, make_app: Any) -> None:
    engine = connect(database_url)
    schema.upgrade(engine, schema.FIRST_REVISION)
    assert schema.current_revision(engine) == schema.FIRST_REVISION != schema.head_revision()
    insert_old_rows(engine)
    engine.dispose()

    app = make_app(DATABASE_URL=database_url, START_RUNNER=False)
    engine = service_of(app).store.engine
    assert schema.current_revision(engine) == schema.head_revision()
    tasks = service_of(app).page(limit=10)
    assert [(task["n"], task["status"], task["digit"], task["error"]) for task in tasks] == [
        (10**9, "error", None, "the reason"),
        (762, QUEUED, None, None),
        (6, DONE, "2", None),
    ]
    # And the upgraded database works: the queued task is the next one claimed.
    claimed = service_of(app).store.claim_next()
    assert claimed is not None and claimed["n"] == 762


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path, make_app: Any) -> None:
    # The app once made its table with create_all, before the `places` column existed.
    url = f"sqlite:///{tmp_path / 'data' / 'tasks.sqlite3'}"
    (tmp_path / "data").mkdir()
    engine = connect(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "CREATE TABLE tasks (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, status VARCHAR(16) NOT NULL,"
                " phase VARCHAR(32), progress FLOAT NOT NULL, estimate_seconds FLOAT, digit VARCHAR(1), error TEXT,"
                " attempts INTEGER NOT NULL, worker_pid INTEGER, created_at FLOAT NOT NULL, started_at FLOAT,"
                " finished_at FLOAT, updated_at FLOAT NOT NULL)"
            )
        )
        db.execute(sa.text("CREATE INDEX ix_tasks_status ON tasks (status)"))
        db.execute(sa.text("CREATE INDEX ix_tasks_updated_at ON tasks (updated_at)"))
    insert_old_rows(engine)
    engine.dispose()

    app = make_app(START_RUNNER=False)  # on tmp_path / "data"
    service = service_of(app)
    assert schema.current_revision(service.store.engine) == schema.head_revision()
    assert service.count() == 3 and service.get(1)["digit"] == "2" and service.get(1)["places"] is None
    assert service.submit(1000)["status"] == QUEUED


def test_the_migrations_build_exactly_the_schema_the_code_queries(database_url: str) -> None:
    engine = connect(database_url)
    schema.upgrade(engine)
    with engine.connect() as db:
        differences = compare_metadata(MigrationContext.configure(db), metadata)
    engine.dispose()
    assert differences == []


def test_the_command_line_upgrades_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'tasks.sqlite3'}"
    assert schema.main(["current", url]) == 0
    assert capsys.readouterr().out.startswith("None (newest: ")
    assert schema.main(["upgrade", url]) == 0
    head = schema.head_revision()
    assert capsys.readouterr().out.splitlines()[-1] == f"{head} (newest: {head})"
