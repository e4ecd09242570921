"""Alembic's environment: run the migrations on the connection tasks.store.schema hands over.

From the command line (``alembic -c tasks/store/alembic.ini upgrade head``) it connects
to ``-x url=...`` if given, else to the app's own database (PI_DATABASE_URL, else
the SQLite file in PI_DATA_DIR), as config.py reads them.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

import config
from tasks.store.tables import metadata

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
    url = context.get_x_argument(as_dictionary=True).get("url") or config.database_url(config.load(os.environ))
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()
