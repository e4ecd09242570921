"""Alembic's environment: run the migrations on the connection tasks.schema hands over.

From the command line (``alembic -x url=sqlite:///data/tasks.sqlite3 upgrade head``,
alembic.ini at the project root) it connects to the URL given instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from tasks.store import metadata

# Several web processes may start at once on one PostgreSQL database: one
# migrates, the others wait on this lock and then find nothing left to do.
_PG_MIGRATION_LOCK = 314159


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("Give the database: alembic -x url=sqlite:///data/tasks.sqlite3 upgrade head")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()
