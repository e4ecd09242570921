"""Shared fixtures: reference digits, a fresh app per test, held workers, task helpers.

Tests never read the developer's PI_* variables (only PI_TEST_*): each app is
built from the test's own settings on its own data folder, and each
PostgreSQL test gets a schema of its own in the test database.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dash
import psutil
import pytest
import sqlalchemy as sa
from dash.testing.application_runners import BaseDashRunner
from dash.testing.browser import Browser
from selenium.webdriver.common.keys import Keys

from app import create_app
from tasks.records import Task
from tasks.runners.local import LocalRunner
from tasks.service import TaskService
from tasks.store import schema
from tasks.store.queries import TaskStore
from tasks.store.tables import connect
from tests.axe import violations as axe_violations
from tests.dash_server import StoppingThreadedRunner
from tests.held_worker import control_folder

# The scaled-out mode's fixtures (cluster, cluster_on): Celery workers as real processes.
pytest_plugins = ["tests.celery_workers"]

# Markers from what a test uses, so the suite runs in parts (`make test-quick`: none of these).
BROWSER_FIXTURES = {"dash_duo", "dash_br", "dash_thread_server", "second_browser"}
SCALED_FIXTURES = {"cluster", "cluster_on", "own_redis"}
POSTGRES_FIXTURES = {"postgres_url", "own_postgres"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test ``browser``, ``postgres`` and ``scaled`` by the fixtures and parameters it uses.

    Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup``) the PostgreSQL tests run one after another
    on one process (a local runner holds an advisory lock on the whole database); everything else is spread.
    """
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        scaled = bool(used & SCALED_FIXTURES) or "scaled" in params.values()
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if scaled:
            item.add_marker(pytest.mark.scaled)
        postgres = scaled or bool(used & POSTGRES_FIXTURES) or "postgresql" in params.values()
        if postgres:
            item.add_marker(pytest.mark.postgres)
        if postgres:
            item.add_marker(pytest.mark.xdist_group("postgres"))


# dash.testing serves each app on the next port from 58050, counted per process: each pytest-xdist
# worker (gw0, gw1, ...) counts from a range of its own, so two browser tests never share a port.
BaseDashRunner._next_port = 58050 + 1000 * int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:])

REFERENCE = Path(__file__).parent / "reference"
POSTGRES_URL = os.environ.get("PI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True, scope="session")
def _no_developer_settings() -> Iterator[None]:
    """Hide PI_* (but PI_TEST_*) from every test and every process a test starts."""
    hidden = {name: value for name, value in os.environ.items() if name.startswith("PI_")}
    for name in hidden:
        if not name.startswith("PI_TEST_"):
            del os.environ[name]
    yield
    os.environ.update(hidden)


@pytest.fixture(scope="session")
def reference_digits() -> str:
    """The first 10^6 places of pi, computed by three independent programs."""
    return (REFERENCE / "pi-1e6.txt").read_text()


@pytest.fixture(scope="session")
def checkpoints() -> dict[str, Any]:
    """Digits at places 10^0..10^9 and hashes of long prefixes (see tests/reference/README.md)."""
    found: dict[str, Any] = json.loads((REFERENCE / "checkpoints.json").read_text())
    return found


@pytest.fixture(scope="session")
def ten_million_places(tmp_path_factory: pytest.TempPathFactory, checkpoints: dict[str, Any]) -> str:
    """Places 1..10^7 of pi from this engine, computed once per run and checked against the reference hash.

    Once per run, not per pytest-xdist process: the first to ask computes under a file lock in the folder
    all of them share; the others wait and read its file.
    """
    from compute.engine import pi_digits  # FLINT and numpy load only for the tests that ask

    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "pi-1e7.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = shared / "pi-1e7.txt"
        if not cached.exists():
            computed = pi_digits(10_000_000, threads=2)
            cached.with_suffix(".tmp").write_text(computed)
            cached.with_suffix(".tmp").replace(cached)
        digits = cached.read_text()
    expected = checkpoints["sha256_of_first"]["10000000"]
    assert hashlib.sha256(digits.encode()).hexdigest() == expected, "the engine's 10^7 places are wrong"
    return digits


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of the test database whose tables live in a schema of this test's own."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as db:
        db.execute(sa.text(f"CREATE SCHEMA {name}"))
    yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={name}')}"
    with admin.begin() as db:
        db.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each task-store test runs on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def task_store(database_url: str) -> Iterator[TaskStore]:
    """An empty task store at the newest schema."""
    engine = connect(database_url)
    schema.upgrade(engine)
    yield TaskStore(engine)
    engine.dispose()


@pytest.fixture
def sqlite_task_store(tmp_path: Path) -> Iterator[TaskStore]:
    """An empty task store on SQLite, for tests that need one database only."""
    engine = connect(f"sqlite:///{tmp_path / 'tasks.sqlite3'}")
    schema.upgrade(engine)
    yield TaskStore(engine)
    engine.dispose()


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build apps on a fresh data folder; their runners stop after the test."""
    apps = []

    def build(**overrides: Any) -> Any:
        settings = {"DATA_DIR": str(tmp_path / "data"), "WORKERS": 2, "REFRESH_MS": 500}
        settings.update(overrides)
        app = create_app(settings, environ={})
        if isinstance(service_of(app).runner, LocalRunner):
            runner_of(app).poll_seconds = 0.1
        apps.append(app)
        return app

    yield build
    for app in apps:
        service_of(app).runner.stop()
        service_of(app).store.engine.dispose()
        if isinstance(app._background_manager, dash.DiskcacheManager):
            app._background_manager.handle.close()  # its SQLite file


@pytest.fixture(params=["embedded", "scaled"])
def any_client(request: pytest.FixtureRequest, make_app: Any) -> Any:
    """A client of the app embedded (SQLite, the local runner) and scaled out (PostgreSQL, a real Celery worker)."""
    if request.param == "embedded":
        return make_app().server.test_client()
    cluster = request.getfixturevalue("cluster")
    cluster.start_worker("worker", held=False, workers=2)
    return cluster.client


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    """A fresh app with its runner going, on SQLite in a temporary folder."""
    return make_app()


@pytest.fixture
def client(app: Any) -> Any:
    """A Flask test client for the app's JSON API."""
    return app.server.test_client()


def service_of(app: Any) -> TaskService:
    """The task service inside an app."""
    service: TaskService = app.server.extensions["pi"]
    return service


def stored(store: TaskStore, task_id: int) -> Task:
    """A task that must exist in ``store``."""
    task = store.get(task_id)
    assert task is not None, f"task {task_id} is not in the store"
    return task


def runner_of(app: Any) -> LocalRunner:
    """The local runner inside an app, for tests that drive its decisions."""
    runner = service_of(app).runner
    assert isinstance(runner, LocalRunner)
    return runner


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class HeldWorkers:
    """Drive the tests.held_worker processes of the app (or server) on ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = control_folder(data_dir / "digits")

    def process(self, task_id: int, attempt: int = 1, timeout: float = 30.0) -> psutil.Process:
        """The held worker of this attempt at ``task_id``, once it runs.

        A handle taken now, before anything acts on the process: a pid looked
        up after a kill may already have been reaped.
        """
        pid_file = self.folder / f"{task_id}-{attempt}.pid"
        wait_for(pid_file.exists, timeout=timeout)
        return psutil.Process(int(pid_file.read_text()))

    def send(self, task_id: int, command: str, attempt: int = 1) -> None:
        """Append a command; one sent before the worker starts waits for it."""
        self.folder.mkdir(exist_ok=True)
        with open(self.folder / f"{task_id}-{attempt}", "a") as commands:
            commands.write(command + "\n")

    def report(self, task_id: int, progress: float, places: int, phase: str = "summing the series") -> None:
        self.send(task_id, f"report {progress} {places} {phase}")

    def release(self, task_id: int, attempt: int = 1) -> None:
        """Let the real worker code compute and finish the task."""
        self.send(task_id, "release", attempt)

    def kill(self, task_id: int, attempt: int = 1) -> None:
        self.send(task_id, "die", attempt)


@pytest.fixture
def held(make_app: Callable[..., Any], tmp_path: Path) -> Callable[..., tuple[Any, HeldWorkers]]:
    """Build an app whose workers hold their tasks until the test releases them."""

    def build(**overrides: Any) -> tuple[Any, HeldWorkers]:
        app = make_app(COMPUTE_MODULE="tests.held_worker", **overrides)
        return app, HeldWorkers(tmp_path / "data")

    return build


def is_gone(process: psutil.Process) -> bool:
    """Whether a process has exited (a zombie waiting to be reaped counts as gone)."""
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@contextmanager
def small_disk(mount_point: Path, size: str) -> Iterator[Path]:
    """A file system of ``size`` (tmpfs: "1m", "8m") mounted at ``mount_point`` while the block runs."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system to fill needs root (CI runs as root)")
    mount_point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte (a file named filler)."""
    with open(folder / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC


@pytest.fixture(autouse=True)
def _axe_finds_nothing(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test ends with axe-core run on the page it left open: no accessibility violation."""
    browsers = [
        request.getfixturevalue(name)
        for name in ("dash_duo", "dash_br", "second_browser")
        if name in request.fixturenames
    ]
    yield
    outcome = getattr(request.node, "rep_call", None)
    exempt = request.node.get_closest_marker("not_our_page")  # a page another project draws; the docs say why
    if outcome is not None and outcome.passed and exempt is None:  # a failed test's page says nothing more
        for browser in browsers:
            found = axe_violations(browser.driver)
            assert found == [], f"axe-core on {browser.driver.current_url}: {found}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's outcome on the test item, so a fixture's teardown can tell whether the test passed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def dash_thread_server() -> Iterator[StoppingThreadedRunner]:
    """dash.testing's fixture of this name (dash_duo uses it), with a stop that always ends the server."""
    with StoppingThreadedRunner() as starter:
        yield starter


@pytest.fixture
def second_browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Browser]:
    """Another Chromium with its own profile: a second person at another desk."""
    with Browser(
        browser=request.config.getoption("webdriver"),
        headless=request.config.getoption("headless"),
        options=request.config.hook.pytest_setup_options(),
        download_path=str(tmp_path / "second-browser-downloads"),
    ) as browser:
        yield browser


def type_into(browser: Any, selector: str, text: str) -> None:
    """Replace what a text box holds, as a person would: clear() bypasses React's onChange."""
    box = browser.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    box.send_keys(text)
