"""A real server in a subprocess, killed and restarted: no task is lost or duplicated."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import pytest

from config import PROJECT_ROOT
from tasks.store import TaskStore
from tasks.store import connect
from tests.conftest import HeldWorkers
from tests.conftest import is_gone
from tests.conftest import stored
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
        self.env = {**os.environ, "PI_DATA_DIR": str(data_dir), "PI_PORT": str(self.port), "PI_WORKERS": str(workers)}
        # Its output goes to a file: a pipe nobody reads would fill and stall the server.
        self.log = data_dir.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, *self.command], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._answers, timeout=60, interval=0.2)

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

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
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


def worker_process(server: Server) -> psutil.Process | None:
    """The server's worker process, if it has started one."""
    assert server.process is not None
    try:
        children = psutil.Process(server.process.pid).children()
        return next((child for child in children if "tasks.worker" in child.cmdline()), None)
    except psutil.Error:  # a child exited between listing and reading it
        return None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data", workers=1)
    yield running
    running.stop()


def test_killed_server_resumes_running_and_queued_tasks(server: Server, checkpoints: dict[str, Any]) -> None:
    server.start()
    running = server.post("/api/tasks", {"n": 10_000_000})
    queued = server.post("/api/tasks", {"n": 9_999_990})
    wait_for(lambda: server.get(f"/api/tasks/{running['id']}")["status"] == "running")
    # Handles taken before the kill: a pid looked up afterwards may be reaped already.
    worker = wait_for(lambda: worker_process(server))
    killed_at = time.time()
    server.kill()
    # The worker dies with its server rather than live on uncounted.
    wait_for(lambda: is_gone(worker), timeout=10)

    server.start()
    done = wait_for(lambda: (t := server.get(f"/api/tasks/{running['id']}"))["status"] == "done" and t, timeout=180)
    assert done["digit"] == checkpoints["digit_at"]["10000000"]
    last = wait_for(lambda: (t := server.get(f"/api/tasks/{queued['id']}"))["status"] == "done" and t, timeout=180)
    assert last["digit"] == checkpoints["window_ending_at"]["10000000"][9]  # place 9,999,990
    # The first task really was cut short and run again, not finished before the kill;
    # and the kill was the server's, so it cost the task no attempt.
    engine = connect(f"sqlite:///{server.data_dir / 'tasks.sqlite3'}")
    resumed = stored(TaskStore(engine), running["id"])
    assert resumed["started_at"] > killed_at and resumed["attempts"] == 1
    engine.dispose()
    listing = server.get("/api/tasks")
    assert listing["total"] == 2
    assert sorted(task["id"] for task in listing["tasks"]) == sorted([running["id"], queued["id"]])


def test_three_server_kills_during_one_task_are_not_its_failures(tmp_path: Path, reference_digits: str) -> None:
    data_dir = tmp_path / "data"
    server = Server(data_dir, workers=1, command=("-m", "tests.held_server"))
    workers = HeldWorkers(data_dir)
    try:
        server.start()
        task = server.post("/api/tasks", {"n": 123_456})
        for _ in range(3):
            worker = workers.process(task["id"])  # the handle before the kill
            server.kill()
            wait_for(partial(is_gone, worker), timeout=10)  # it died with its server
            (workers.folder / f"{task['id']}-1.pid").unlink()
            server.start()
        workers.process(task["id"])
        assert server.get(f"/api/tasks/{task['id']}")["status"] == "running"
        workers.release(task["id"])
        done = wait_for(lambda: (t := server.get(f"/api/tasks/{task['id']}"))["status"] == "done" and t, timeout=60)
        assert done["digit"] == reference_digits[123_456 - 1]
    finally:
        server.stop()
    engine = connect(f"sqlite:///{data_dir / 'tasks.sqlite3'}")
    assert stored(TaskStore(engine), task["id"])["attempts"] == 1  # only the run that finished counted
    engine.dispose()
