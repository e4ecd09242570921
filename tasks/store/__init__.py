"""The task store, the one source of truth: its tables and queries (queries.py),
its schema version and migrations (schema.py, migrations/, alembic.ini)."""
