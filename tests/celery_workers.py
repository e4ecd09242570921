"""Real ``celery worker`` processes (``python -m tasks.runners.celery_worker``) for the scaled-out tests, and
the fixtures that build a cluster of them (loaded by tests/conftest.py as a plugin).

Each has its own data folder, standing for its own machine; they share only
the PostgreSQL database and the Redis broker, as in production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from config import PROJECT_ROOT
from tasks.records import Task
from tasks.store.queries import TaskStore
from tests.conftest import HeldWorkers
from tests.conftest import service_of
from tests.conftest import wait_for

# Short, so that the tests see a dead worker's task taken back within seconds.
LEASE_SECONDS = 2


class CeleryWorker:
    """One worker machine: a Celery worker on its own data folder."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        broker_url: str,
        workers: int,
        compute_module: str,
        lease_seconds: int = LEASE_SECONDS,
    ) -> None:
        self.folder = folder
        self.data_dir = folder / "data"
        self.held = HeldWorkers(self.data_dir)
        self.log = folder / "worker.log"
        self.env = {
            **os.environ,
            "PI_DATA_DIR": str(self.data_dir),
            "PI_DATABASE_URL": database_url,
            "PI_BROKER_URL": broker_url,
            "PI_WORKERS": str(workers),
            "PI_LEASE_SECONDS": str(lease_seconds),
        }
        self.command = [sys.executable, "-m", "tasks.runners.celery_worker", "--compute-module", compute_module]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, store: TaskStore) -> CeleryWorker:
        """Start it and wait until it has beaten (it takes messages from then on)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        name = f"pi-{self.process.pid}@"
        wait_for(
            lambda: (self._alive() and any(w["name"].startswith(name) for w in store.live_workers(60))) or None,
            timeout=60,
        )
        return self

    def _alive(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"celery worker exited with {self.process.returncode}:\n{self.log.read_text()}")
        return True

    @property
    def node(self) -> str:
        assert self.process is not None
        return f"pi-{self.process.pid}@"

    def kill(self) -> None:
        """SIGKILL the worker and everything it started, as a machine lost would."""
        assert self.process is not None
        family = [self.process.pid, *(child.pid for child in psutil.Process(self.process.pid).children(True))]
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def reconciled_after(self, store: TaskStore, moment: float, rounds: int = 1) -> None:
        """Wait until this worker's reconciler has run ``rounds`` whole rounds begun after ``moment`` (time.time()).

        Each round starts with a heartbeat: once one begun later has been seen, the next heartbeat means
        that round ended. In place of a fixed sleep "long enough for the reconciler to have acted".
        """

        def beat_after(earlier: float) -> float:
            def later() -> float | None:
                mine = [w for w in store.live_workers(60) if w["name"].startswith(self.node)]
                return at if mine and (at := float(mine[0]["heartbeat_at"])) > earlier else None

            found: float = wait_for(later, timeout=30)
            return found

        for _ in range(rounds):
            moment = beat_after(beat_after(moment))


# A Redis database of the tests' own, one per pytest-xdist worker (gw0: 11, gw1: 12, ...), emptied before and after.
SHARED_BROKER = f"redis://127.0.0.1:6379/{11 + int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:])}"


class Cluster:
    """A web app (Flask test client) and the workers the test starts."""

    def __init__(self, app: Any, tmp_path: Path, database_url: str, broker_url: str) -> None:
        self.app, self.client = app, app.server.test_client()
        self.service = service_of(app)
        self.tmp_path, self.database_url, self.broker_url = tmp_path, database_url, broker_url
        self.workers: list[CeleryWorker] = []

    def start_worker(
        self, name: str, *, held: bool = True, workers: int = 1, lease_seconds: int = LEASE_SECONDS
    ) -> CeleryWorker:
        module = "tests.held_worker" if held else "tasks.runners.compute_process"
        folder = self.tmp_path / name
        worker = CeleryWorker(folder, self.database_url, self.broker_url, workers, module, lease_seconds)
        self.workers.append(worker)
        return worker.start(self.service.store)

    def submit(self, n: int) -> int:
        response = self.client.post("/api/tasks", json={"n": n})
        assert response.status_code == 201, response.get_json()
        task_id: int = response.get_json()["id"]
        return task_id

    def task(self, task_id: int) -> Task:
        return self.service.get(task_id)

    def wait_status(self, task_id: int, status: str, timeout: float = 60) -> dict[str, Any]:
        task: dict[str, Any] = wait_for(
            lambda: (found := self.task(task_id))["status"] == status and found, timeout=timeout
        )
        return task

    def holder(self, task_id: int) -> CeleryWorker:
        """The worker whose lease the running task is under."""
        owner = wait_for(lambda: self.task(task_id)["lease_owner"], timeout=30)
        return next(worker for worker in self.workers if owner.startswith(worker.node))


@pytest.fixture
def cluster_on(postgres_url: str, make_app: Callable[..., Any], tmp_path: Path) -> Iterator[Callable[[str], Cluster]]:
    """Build a cluster on a broker URL; its workers are killed after the test.

    postgres_url first: set up first, torn down last, so its schema is dropped only once the app's
    runner has stopped (dropped under a live mirror thread, PostgreSQL once reported a deadlock).
    """
    clusters: list[Cluster] = []

    def build(broker_url: str) -> Cluster:
        app = make_app(
            DATABASE_URL=postgres_url, BROKER_URL=broker_url, LEASE_SECONDS=LEASE_SECONDS, ACTIVE_TASKS_PER_CLIENT=100
        )
        clusters.append(Cluster(app, tmp_path, postgres_url, broker_url))
        return clusters[-1]

    yield build
    for cluster in clusters:
        for worker in cluster.workers:
            worker.stop()


@pytest.fixture
def cluster(cluster_on: Callable[[str], Cluster]) -> Iterator[Cluster]:
    """A cluster on the machine's Redis (a database of the tests' own, emptied before and after)."""
    broker = redis.Redis.from_url(SHARED_BROKER)
    broker.flushdb()
    yield cluster_on(SHARED_BROKER)
    broker.flushdb()
    broker.close()
