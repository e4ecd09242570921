"""The production server (``python app.py``, or tests.held_server) in a subprocess, for tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from config import PROJECT_ROOT
from tests.conftest import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``python app.py`` on a free port and a given data folder."""

    def __init__(self, data_dir: Path, workers: int, command: tuple[str, ...] = ("app.py",)) -> None:
        self.command = command
        self.port = free_port()
        self.data_dir = data_dir
        # os.environ holds no PI_* here (tests/conftest.py hides them).
        self.events_port = free_port()
        self.env = {
            **os.environ,
            "PI_DATA_DIR": str(data_dir),
            "PI_PORT": str(self.port),
            "PI_EVENTS_PORT": str(self.events_port),
            "PI_WORKERS": str(workers),
        }
        # Its output goes to a file: a pipe nobody reads would fill and stall the server.
        self.log = data_dir.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.command], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._answers, timeout=60, interval=0.05)

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
        try:
            self.get("/api/tasks")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self, how: signal.Signals = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(how)
        self.process.wait(10)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return json.load(response)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
