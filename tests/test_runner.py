"""The local runner: bounded, FIFO, cancellable, and it loses no task."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import psutil
import pytest

import tasks.runner
from tasks.store import CANCELLED
from tasks.store import DONE
from tasks.store import RUNNING
from tests.conftest import wait_for


def service_of(app: Any) -> Any:
    return app.server.extensions["pi"]


def test_burst_of_fifty_tasks_runs_two_at_a_time_in_order(app: Any, reference_digits: str) -> None:
    service = service_of(app)
    submitted = [service.submit(n)["id"] for n in range(100, 150)]
    most_tasks, most_processes = 0, 0

    def all_finished() -> bool:
        nonlocal most_tasks, most_processes
        most_tasks = max(most_tasks, service.store.count_running())
        most_processes = max(most_processes, len(service.runner.worker_pids()))
        return all(service.store.get(task_id)["status"] == DONE for task_id in submitted)

    wait_for(all_finished, timeout=120, interval=0.01)
    tasks = [service.store.get(task_id) for task_id in submitted]
    assert [task["digit"] for task in tasks] == [reference_digits[task["n"] - 1] for task in tasks]
    assert most_tasks <= 2 and most_processes <= 2
    assert most_processes == 2  # the two workers were both used
    # Never more than two tasks between start and finish at any instant.
    events = sorted([(task["started_at"], 1) for task in tasks] + [(task["finished_at"], -1) for task in tasks])
    running, peak = 0, 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 2
    # FIFO: tasks started in the order they were submitted.
    assert [task["id"] for task in sorted(tasks, key=lambda task: task["started_at"])] == submitted


def is_alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def running_with_worker(service: Any, task_id: int) -> int | None:
    task = service.store.get(task_id)
    return task["worker_pid"] if task["status"] == RUNNING else None


def test_cancel_stops_a_running_task_and_the_queue_moves_on(make_app: Any) -> None:
    service = service_of(make_app(WORKERS=1))
    # Large enough that its spot check would run on for many seconds if orphaned.
    big = service.submit(300_000_000)["id"]
    small = service.submit(1000)["id"]
    pid = wait_for(lambda: running_with_worker(service, big))
    # Well inside the computation, with its check process going beside it.
    helpers = wait_for(lambda: psutil.Process(pid).children(recursive=True), timeout=10)
    service.cancel(big)
    for process in [psutil.Process(pid), *helpers]:
        wait_for(lambda process=process: not is_alive(process), timeout=5)
    assert service.store.get(big)["status"] == CANCELLED
    wait_for(lambda: service.store.get(small)["status"] == DONE, timeout=30)
    assert service.store.get(big)["status"] == CANCELLED  # its worker never wrote a result


def test_cancel_a_queued_task(make_app: Any) -> None:
    service = service_of(make_app(WORKERS=1))
    first = service.submit(30_000_000)["id"]
    queued = service.submit(20_000)["id"]
    wait_for(lambda: running_with_worker(service, first))
    service.cancel(queued)
    service.cancel(first)
    time.sleep(1)
    assert service.store.get(queued)["status"] == CANCELLED
    assert service.store.get(queued)["started_at"] is None


def test_a_killed_worker_loses_no_task(app: Any, checkpoints: dict) -> None:
    service = service_of(app)
    task_id = service.submit(10_000_000)["id"]
    pid = wait_for(lambda: running_with_worker(service, task_id))
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    task = wait_for(lambda: (t := service.store.get(task_id))["status"] == DONE and t, timeout=120)
    assert task["digit"] == checkpoints["digit_at"]["10000000"]
    assert task["attempts"] == 2
    assert service.store.count() == 1


def test_a_task_that_keeps_dying_ends_in_error(app: Any) -> None:
    service = service_of(app)
    task_id = service.submit(40_000_000)["id"]
    for _ in range(3):
        pid = wait_for(lambda: running_with_worker(service, task_id))
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda pid=pid: (t := service.store.get(task_id))["worker_pid"] != pid or t["status"] == "error")
    task = wait_for(lambda: (t := service.store.get(task_id))["status"] == "error" and t, timeout=30)
    assert "stopped unexpectedly 3 times" in task["error"]


def test_a_smaller_task_waits_for_a_running_computation(
    app: Any, checkpoints: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One thread for the big task, so the second worker has a core to start on.
    monkeypatch.setattr(tasks.runner, "PARALLEL_FROM_N", 10**12)
    service = service_of(app)
    big = service.submit(10_000_000)["id"]
    wait_for(lambda: service.store.get(big)["places"])  # its worker is computing
    small = service.submit(9_999_990)["id"]
    wait_for(lambda: (service.store.get(small)["phase"] or "").startswith("waiting for task"), timeout=30)
    done = wait_for(lambda: (t := service.store.get(small))["status"] == DONE and t, timeout=120)
    assert done["digit"] == checkpoints["window_ending_at"]["10000000"][9]
    assert done["places"] is None  # it computed nothing itself
    assert done["finished_at"] >= service.store.get(big)["finished_at"]


def test_a_lone_large_task_gets_every_core_and_never_oversubscribes(app: Any) -> None:
    service = service_of(app)
    big = service.submit(40_000_000)["id"]
    wait_for(lambda: running_with_worker(service, big))
    assert service.runner.threads_in_use() == service.runner.cores
    second = service.submit(12_345)["id"]
    time.sleep(1.0)
    # No core is free, so the second task waits in the queue.
    assert service.store.get(second)["status"] == "queued"
    service.cancel(big)
    wait_for(lambda: service.store.get(second)["status"] == DONE, timeout=30)


def test_the_queue_waits_for_memory_the_next_task_needs(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    service = service_of(make_app(START_RUNNER=False))
    runner = service.runner
    first = service.submit(40_000_000)["id"]
    second = service.submit(30_000_000)["id"]
    available = psutil.virtual_memory().available
    # Pretend each task needs all the memory there is: the second cannot fit beside the first.
    monkeypatch.setattr(tasks.runner, "estimated_peak_bytes", lambda places: available + places)
    runner.cores = 4
    runner.start()
    wait_for(lambda: running_with_worker(service, first))
    time.sleep(1.0)
    assert service.store.get(second)["status"] == "queued"
    service.cancel(first)
    wait_for(lambda: service.store.get(second)["status"] == "running", timeout=30)
    service.cancel(second)
