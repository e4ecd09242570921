"""Two servers on one data folder (or one task database): only one of them runs tasks."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest

from tasks.records import DONE
from tests.conftest import HeldWorkers
from tests.conftest import runner_of
from tests.conftest import service_of
from tests.conftest import wait_for

COMPUTE_MODULES = {"tasks.runners.compute_process", "tests.held_worker"}


def live_workers() -> list[int]:
    """Task ids of the worker processes this test process has started, one entry per process."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            command = child.cmdline()
            if COMPUTE_MODULES & set(command) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(int(command[-1]))
        except psutil.Error:  # exited while we looked
            continue
    return found


@pytest.fixture(params=["data-folder", "postgresql"])
def shared(request: pytest.FixtureRequest) -> str | None:
    """What the two servers share: the data folder, or (in separate folders) a PostgreSQL database.

    Set up before make_app, so the database outlives the apps' teardown.
    """
    if request.param == "data-folder":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_a_second_server_runs_no_task_and_takes_over_when_the_first_stops(
    shared: str | None, make_app: Any, tmp_path: Path, reference_digits: str
) -> None:
    # Both on tmp_path / "data"; or in separate folders on one database, where its lock alone must hold.
    settings: list[dict[str, str]] = [{}, {}]
    if shared is not None:
        settings = [{"DATA_DIR": str(tmp_path / folder), "DATABASE_URL": shared} for folder in ("a", "b")]
    # The first server's workers wait for the test's word: were the first task to
    # finish during the burst, the rest would be answered from its digits at once,
    # and no second worker would ever be seen.
    first = make_app(COMPUTE_MODULE="tests.held_worker", **settings[0])
    held = HeldWorkers(Path(settings[0].get("DATA_DIR", tmp_path / "data")))
    wait_for(lambda: runner_of(first).describe()["runs_tasks"], timeout=10)  # the first server runs tasks
    second = make_app(**settings[1])
    services = [service_of(first), service_of(second)]
    submitted = [services[i % 2].submit(n)["id"] for i, n in enumerate(range(200, 300))]
    assert all(services[0].get(task_id)["status"] != DONE for task_id in submitted)
    assert sorted(wait_for(lambda: len(running := live_workers()) == 2 and running)) == submitted[:2]
    assert runner_of(second).compute_pids() == {}

    for task_id in submitted:
        held.release(task_id)
    deadline = time.monotonic() + 120
    while not all(services[0].get(task_id)["status"] == DONE for task_id in submitted):
        assert time.monotonic() < deadline, "the burst did not finish"
        running = live_workers()
        assert len(running) <= 2, f"more workers than PI_WORKERS: {running}"
        duplicates = [task_id for task_id, count in Counter(running).items() if count > 1]
        assert duplicates == [], f"tasks running in two processes at once: {duplicates}"
        assert runner_of(second).compute_pids() == {}
        time.sleep(0.1)
    assert [services[1].get(task_id)["digit"] for task_id in submitted] == [
        reference_digits[n - 1] for n in range(200, 300)
    ]

    engine = second.server.test_client().get("/api/engine").get_json()
    assert engine["runs_tasks"] is False and "runs tasks for this data folder" in engine["note"]
    assert first.server.test_client().get("/api/engine").get_json()["runs_tasks"] is True

    runner_of(first).stop()  # the first server goes away: the second takes over
    task = services[1].submit(123_457)
    done = wait_for(lambda: (t := services[1].get(task["id"]))["status"] == DONE and t, timeout=60)
    assert done["digit"] == reference_digits[123_457 - 1]
    assert second.server.test_client().get("/api/engine").get_json()["runs_tasks"] is True
