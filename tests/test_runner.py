"""The local runner: bounded, FIFO, cancellable, and it loses no task.

Most tests hold tasks running with tests.held_worker and drive the runner's
decisions one ``tick()`` at a time, so "it did not start" is asserted right
after the decision, without sleeping; released tasks then run the real worker.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import psutil
import pytest

import tasks.runners.local
from tasks.records import CANCELLED
from tasks.records import DONE
from tasks.records import ERROR
from tasks.records import QUEUED
from tasks.records import RUNNING
from tests.conftest import is_gone
from tests.conftest import runner_of
from tests.conftest import service_of
from tests.conftest import wait_for


def status(service: Any, task_id: int) -> str:
    return str(service.get(task_id)["status"])


def has_status(service: Any, task_id: int, wanted: str) -> bool:
    return status(service, task_id) == wanted


def test_burst_of_twenty_tasks_runs_two_at_a_time_in_order(app: Any, reference_digits: str) -> None:
    service = service_of(app)
    runner = runner_of(app)
    submitted = [service.submit(n)["id"] for n in range(100, 120)]
    most_tasks, most_processes = 0, 0

    def all_finished() -> bool:
        nonlocal most_tasks, most_processes
        most_tasks = max(most_tasks, service.store.count_running())
        most_processes = max(most_processes, len(runner.compute_pids()))
        return all(status(service, task_id) == DONE for task_id in submitted)

    wait_for(all_finished, timeout=120, interval=0.01)
    tasks = [service.get(task_id) for task_id in submitted]
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
    assert [task["id"] for task in sorted(tasks, key=lambda task: task["started_at"] or 0.0)] == submitted


def test_cancel_stops_a_running_computation_and_its_check(make_app: Any) -> None:
    # A real computation: large enough that its Bellard check runs in a helper
    # process beside FLINT, which must not outlive the cancelled task.
    service = service_of(make_app(WORKERS=1))
    big = service.submit(300_000_000)["id"]
    small = service.submit(1000)["id"]
    worker = psutil.Process(wait_for(lambda: service.get(big)["worker_pid"]))
    helpers = wait_for(lambda: worker.children(recursive=True), timeout=30)
    service.cancel(big)
    for process in [worker, *helpers]:
        wait_for(partial(is_gone, process), timeout=5)
    wait_for(lambda: status(service, small) == DONE, timeout=30)
    assert status(service, big) == CANCELLED  # its worker never wrote a result


def test_cancel_a_queued_task_and_it_never_starts(held: Any) -> None:
    app, _workers = held(START_RUNNER=False, WORKERS=1)
    service = service_of(app)
    runner = runner_of(app)
    first = service.submit(30_000_000)["id"]
    queued = service.submit(20_000)["id"]
    runner.tick()
    assert status(service, first) == RUNNING and status(service, queued) == QUEUED
    service.cancel(queued)
    service.cancel(first)
    runner.tick()  # a slot is free now: the cancelled task must not take it
    assert status(service, queued) == CANCELLED
    assert service.get(queued)["started_at"] is None


def test_a_killed_worker_loses_no_task(held: Any, reference_digits: str) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    runner = runner_of(app)
    task_id = service.submit(123_457)["id"]
    runner.tick()
    first = workers.process(task_id)
    workers.kill(task_id)
    wait_for(lambda: is_gone(first), timeout=10)
    runner.tick()  # reaps the dead worker, requeues its task and starts it again
    again = workers.process(task_id, attempt=2)
    assert again.pid != first.pid and status(service, task_id) == RUNNING
    workers.release(task_id, attempt=2)
    task = wait_for(lambda: (t := service.get(task_id))["status"] == DONE and t, timeout=30)
    assert task["digit"] == reference_digits[123_457 - 1]
    assert task["attempts"] == 2
    assert service.store.count() == 1


def test_a_task_that_keeps_dying_ends_in_error(held: Any) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    runner = runner_of(app)
    task_id = service.submit(40_000_000)["id"]
    runner.tick()
    for attempt, command in ((1, "die"), (2, "exit 3"), (3, "die")):
        process = workers.process(task_id, attempt)
        workers.send(task_id, command, attempt)
        wait_for(partial(is_gone, process), timeout=10)
        runner.tick()
    task = service.get(task_id)
    assert task["status"] == ERROR
    assert task["error"] == "The worker stopped 3 times; the last time it was killed by signal 9 (SIGKILL)."
    assert runner.compute_pids() == {}


def test_a_worker_that_exits_without_a_result_says_its_exit_code(held: Any) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    runner = runner_of(app)
    task_id = service.submit(40_000_000)["id"]
    for attempt in (1, 2, 3):
        runner.tick()
        process = workers.process(task_id, attempt)
        workers.send(task_id, "exit 3", attempt)
        wait_for(partial(is_gone, process), timeout=10)
    runner.tick()
    assert str(service.get(task_id)["error"]).endswith("exited with code 3 before recording a result.")


def test_a_stopped_server_gives_its_tasks_back_without_counting_an_attempt(held: Any) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    task_id = service.submit(40_000_000)["id"]
    for _ in range(5):  # more stops than MAX_ATTEMPTS: none of them is the task's fault
        runner_of(app).tick()
        process = workers.process(task_id)
        runner_of(app).stop()
        assert is_gone(process)
        task = service.get(task_id)
        assert task["status"] == QUEUED and task["attempts"] == 0
        app, _ = held(START_RUNNER=False)  # the next server on the same data folder
        (workers.folder / f"{task_id}-1.pid").unlink()
    runner_of(app).tick()
    workers.process(task_id)
    assert service.get(task_id)["attempts"] == 1


def test_a_smaller_task_waits_for_a_running_computation(held: Any, reference_digits: str) -> None:
    app, workers = held()
    service = service_of(app)
    big = service.submit(200_000)["id"]
    workers.process(big)
    workers.report(big, 0.1, places=200_000)
    wait_for(lambda: service.get(big)["places"] == 200_000)
    small = service.submit(199_990)["id"]
    workers.process(small)
    workers.release(small)
    waiting = f"waiting for task {big}"
    wait_for(lambda: service.get(small)["phase"] == waiting, timeout=30)
    workers.release(big)
    done = wait_for(lambda: (t := service.get(small))["status"] == DONE and t, timeout=30)
    assert done["digit"] == reference_digits[199_990 - 1]
    assert done["places"] is None  # it computed nothing itself
    assert done["finished_at"] >= service.get(big)["finished_at"]


def test_a_lone_large_task_gets_every_core_and_never_oversubscribes(held: Any) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    runner = runner_of(app)
    big = service.submit(40_000_000)["id"]
    runner.tick()
    worker = workers.process(big)
    assert runner.threads_in_use() == runner.cores
    assert worker.cmdline()[worker.cmdline().index("--threads") + 1] == str(runner.cores)
    second = service.submit(12_345)["id"]
    runner.tick()
    assert status(service, second) == QUEUED  # no core is free
    service.cancel(big)
    wait_for(lambda: is_gone(worker), timeout=5)
    runner.tick()
    assert status(service, second) == RUNNING
    small = workers.process(second).cmdline()
    assert small[small.index("--threads") + 1] == "1"  # too small to be worth a second thread


def test_the_queue_waits_for_memory_the_next_task_needs(held: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    runner = runner_of(app)
    first = service.submit(40_000_000)["id"]
    second = service.submit(30_000_000)["id"]
    available = psutil.virtual_memory().available
    # Each task is said to need all the memory there is: the second cannot fit beside the first.
    monkeypatch.setattr(tasks.runners.local, "estimated_peak_bytes", lambda places, c_path: available + places)
    runner.cores = 4
    runner.tick()
    worker = workers.process(first)
    assert status(service, first) == RUNNING and status(service, second) == QUEUED
    runner.tick()
    assert status(service, second) == QUEUED
    service.cancel(first)
    wait_for(lambda: is_gone(worker), timeout=5)
    runner.tick()
    assert status(service, second) == RUNNING


def test_the_runner_describes_itself(held: Any) -> None:
    app, workers = held(START_RUNNER=False)
    service = service_of(app)
    runner = runner_of(app)
    idle = {"kind": "local", "workers": 2, "cores": runner.cores, "running": 0, "runs_tasks": False}
    assert runner.describe() == idle  # not started: it runs nothing
    service.submit(20_000)
    runner.tick()
    workers.process(1)
    assert runner.describe() == idle | {"running": 1, "runs_tasks": True}


def test_a_worker_that_stops_reporting_is_killed_and_its_task_retried(held: Any, reference_digits: str) -> None:
    app, workers = held(STALL_SECONDS=1)
    service = service_of(app)
    silent = service.submit(150_000)["id"]
    first = workers.process(silent)
    wait_for(partial(is_gone, first), timeout=10)  # killed a second after its last report
    # The retry is as silent until released, and on a busy machine its process alone may take a
    # second to start: it gets a minute, from before it is claimed.
    runner_of(app).stall_seconds = 60
    workers.process(silent, attempt=2)  # and the task runs again
    workers.release(silent, attempt=2)
    wait_for(partial(has_status, service, silent, DONE), timeout=30)
    runner_of(app).stall_seconds = 1
    # A worker that keeps reporting is left alone however long it takes.
    chatty = service.submit(160_000)["id"]
    talker = workers.process(chatty)
    for step in range(1, 7):  # 1.5 s of reports a quarter of a second apart, past the 1 s allowed
        workers.report(chatty, step / 100, places=160_000)
        time.sleep(0.25)
    assert not is_gone(talker) and service.get(chatty)["attempts"] == 1
    workers.release(chatty)
    for task_id, n in ((silent, 150_000), (chatty, 160_000)):
        wait_for(partial(has_status, service, task_id, DONE), timeout=30)
        assert service.get(task_id)["digit"] == reference_digits[n - 1]
