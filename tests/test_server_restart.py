"""A real server in a subprocess, killed and restarted: no task is lost or duplicated, none fails for it."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psutil
import pytest

from tasks.store.queries import TaskStore
from tasks.store.tables import connect
from tests.conftest import HeldWorkers
from tests.conftest import is_gone
from tests.conftest import stored
from tests.conftest import wait_for
from tests.servers import Server


def worker_process(server: Server) -> psutil.Process | None:
    """The server's worker process, if it has started one."""
    assert server.process is not None
    try:
        children = psutil.Process(server.process.pid).children()
        return next((child for child in children if "tasks.runners.compute_process" in child.cmdline()), None)
    except psutil.Error:  # a child exited between listing and reading it
        return None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data", workers=1)
    yield running
    running.stop()


@pytest.mark.slow
def test_a_killed_server_resumes_its_running_computation(server: Server, checkpoints: dict[str, Any]) -> None:
    # A real computation of 10^7 places, cut short by SIGKILL of its server.
    server.start()
    running = server.post("/api/tasks", {"n": 10_000_000})
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
    # It really was cut short and run again, not finished before the kill; and
    # the kill was the server's, so it cost the task no attempt.
    engine = connect(f"sqlite:///{server.data_dir / 'tasks.sqlite3'}")
    resumed = stored(TaskStore(engine), running["id"])
    assert (resumed["started_at"] or 0.0) > killed_at and resumed["attempts"] == 1
    engine.dispose()
    assert server.get("/api/tasks")["total"] == 1


@pytest.mark.slow
def test_three_server_kills_during_one_task_are_not_its_failures(tmp_path: Path, reference_digits: str) -> None:
    data_dir = tmp_path / "data"
    server = Server(data_dir, workers=1, command=("-m", "tests.held_server"))
    workers = HeldWorkers(data_dir)
    try:
        server.start()
        task = server.post("/api/tasks", {"n": 123_456})
        queued = server.post("/api/tasks", {"n": 234_567})  # waits for the one worker throughout
        for stop in (signal.SIGKILL, signal.SIGTERM, signal.SIGKILL):
            worker = workers.process(task["id"])  # the handle before the kill
            server.kill(stop)
            wait_for(partial(is_gone, worker), timeout=10)  # it died with its server
            (workers.folder / f"{task['id']}-1.pid").unlink()
            server.start()
        workers.process(task["id"])
        assert server.get(f"/api/tasks/{task['id']}")["status"] == "running"
        workers.release(task["id"])
        done = wait_for(lambda: (t := server.get(f"/api/tasks/{task['id']}"))["status"] == "done" and t, timeout=60)
        assert done["digit"] == reference_digits[123_456 - 1]
        workers.process(queued["id"])  # the queued task survived the kills too, and runs next
        workers.release(queued["id"])
        last = wait_for(lambda: (t := server.get(f"/api/tasks/{queued['id']}"))["status"] == "done" and t, timeout=60)
        assert last["digit"] == reference_digits[234_567 - 1]
        assert server.get("/api/tasks")["total"] == 2
    finally:
        server.stop()
    engine = connect(f"sqlite:///{data_dir / 'tasks.sqlite3'}")
    assert stored(TaskStore(engine), task["id"])["attempts"] == 1  # only the run that finished counted
    engine.dispose()
