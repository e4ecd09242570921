"""A PostgreSQL cluster of a test's own, on a free port, that the test may stop and restart.

The machine's PostgreSQL serves every other test; a test that restarts the
database gets its own (initdb takes about a second), as the broker tests get
their own Redis.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.servers import free_port


def _bin(program: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))
    if not found:
        pytest.skip("PostgreSQL's server programs are not installed")
    return found[-1]


class OwnPostgres:
    """initdb, then pg_ctl start / stop / restart, run as the postgres user."""

    def __init__(self) -> None:
        # Its own folder outside pytest's (which only root may enter): the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="pi-test-postgres-"))
        shutil.chown(self.folder, "postgres")
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres(_bin("initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)

    def _ctl(self, action: str, *options: str) -> None:
        server = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        data = str(self.folder / "data")
        self._as_postgres(_bin("pg_ctl"), action, "-D", data, "-o", server, "-l", str(self.folder / "log"), *options)

    def start(self) -> None:
        self._ctl("start", "-w")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast", "-w")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
