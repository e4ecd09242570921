"""Real ``celery worker`` processes (``python -m tasks.celery_worker``) for the scaled-out tests.

Each has its own data folder, standing for its own machine; they share only
the PostgreSQL database and the Redis broker, as in production.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from config import PROJECT_ROOT
from tasks.store import TaskStore
from tests.conftest import HeldWorkers
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
        worker_module: str,
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
        self.command = [sys.executable, "-m", "tasks.celery_worker", "--worker-module", worker_module]
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
