"""Shared fixtures: reference digits, a fresh app per test, task helpers."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app import create_app
from tasks.store import TaskStore
from tasks.store import connect
from tasks.store import metadata

REFERENCE = Path(__file__).parent / "reference"
POSTGRES_URL = os.environ.get("PI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def reference_digits() -> str:
    """The first 10^6 places of pi, computed by three independent programs."""
    return (REFERENCE / "pi-1e6.txt").read_text()


@pytest.fixture(scope="session")
def checkpoints() -> dict[str, Any]:
    """Digits at places 10^0..10^9 and hashes of long prefixes (see tests/reference/README.md)."""
    return json.loads((REFERENCE / "checkpoints.json").read_text())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each task-store test runs on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.sqlite3'}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def task_store(database_url: str) -> Iterator[TaskStore]:
    """An empty task store."""
    engine = connect(database_url)
    yield TaskStore(engine)
    engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build apps on a fresh data folder; their runners stop after the test."""
    apps = []

    def build(**overrides: Any) -> Any:
        settings = {"DATA_DIR": str(tmp_path / "data"), "WORKERS": 2, "REFRESH_MS": 500}
        settings.update(overrides)
        app = create_app(settings)
        app.server.extensions["pi"].runner.poll_seconds = 0.1
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.server.extensions["pi"].runner.stop()


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    """A fresh app with its runner going, on SQLite in a temporary folder."""
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    """A Flask test client for the app's JSON API."""
    return app.server.test_client()


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
