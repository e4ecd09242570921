"""The task database's schema version, kept by Alembic (tasks/store/migrations/).

The app upgrades the database to the newest revision when it starts, so a
database made by an older version of the app keeps every task. From the shell:
``python -m tasks.store.schema upgrade <database URL>`` (or ``current``).
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The revision that describes the schema the app made with create_all before
# it had migrations; such a database is adopted at this revision.
FIRST_REVISION = "0001"
# Any fixed number: PostgreSQL's advisory lock that lets one process at a time migrate.
_MIGRATION_LOCK = 314_159_265

log = logging.getLogger(__name__)


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the newest by default), one process at a time.

    ``make web`` starts several processes at once on one database: without the
    lock each would find no tables and create them, and all but one would fail.
    """
    with _one_at_a_time(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        _adopt_unversioned(connection)
        config = _config(connection)
        command.upgrade(config, revision)


@contextmanager
def _one_at_a_time(engine: sa.Engine) -> Iterator[None]:
    # SQLite has no advisory locks: a lock file beside the database (one machine, as SQLite needs anyway).
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrating", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; None for an empty (or unversioned) one."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision this version of the app knows."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "tasks/migrations has no revisions"
    return head


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _adopt_unversioned(connection: sa.Connection) -> None:
    # Databases made before migrations have a tasks table and no version. The
    # only column added in that time was `places`: add it if missing, then
    # record them at the first revision so the later ones apply as usual.
    inspector = sa.inspect(connection)
    if not inspector.has_table("tasks") or inspector.has_table("alembic_version"):
        return
    columns = {column["name"] for column in inspector.get_columns("tasks")}
    if "places" not in columns:
        connection.execute(sa.text("ALTER TABLE tasks ADD COLUMN places BIGINT"))
    log.info("adopting an unversioned task database at revision %s", FIRST_REVISION)
    command.stamp(_config(connection), FIRST_REVISION)


def main(argv: list[str] | None = None) -> int:
    """``python -m tasks.store.schema upgrade|current URL``."""
    parser = argparse.ArgumentParser(description="Upgrade the task database, or say its revision.")
    parser.add_argument("action", choices=["upgrade", "current"])
    parser.add_argument("database_url")
    args = parser.parse_args(argv)
    engine = sa.create_engine(args.database_url)
    try:
        if args.action == "upgrade":
            upgrade(engine)
        print(f"{current_revision(engine)} (newest: {head_revision()})")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
