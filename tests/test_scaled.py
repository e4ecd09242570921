"""The scaled-out mode: PostgreSQL, the Redis broker and real Celery workers on their own data folders.

Each worker stands for a machine: it shares nothing with the web app or the
other worker but the database URL and the broker URL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from tasks.records import CANCELLED
from tasks.records import DONE
from tasks.records import QUEUED
from tasks.records import RUNNING
from tests.celery_workers import LEASE_SECONDS
from tests.celery_workers import SHARED_BROKER
from tests.celery_workers import Cluster
from tests.conftest import fill
from tests.conftest import is_gone
from tests.conftest import service_of
from tests.conftest import small_disk
from tests.conftest import wait_for
from tests.own_postgres import OwnPostgres
from tests.servers import Server
from tests.servers import free_port


def test_two_worker_machines_compute_and_every_web_process_serves_the_digits(
    cluster: Cluster, reference_digits: str
) -> None:
    first, second = cluster.start_worker("machine-1"), cluster.start_worker("machine-2")
    tasks = [cluster.submit(n) for n in (250_000, 120_000)]
    # One slot each: the two tasks run at once, one on each machine.
    holders = {cluster.holder(task_id) for task_id in tasks}
    assert holders == {first, second}
    named = {cluster.client.get(f"/api/tasks/{task_id}").get_json()["worker"] for task_id in tasks}
    assert named == {first.node + socket.gethostname(), second.node + socket.gethostname()}
    for task_id in tasks:
        held = cluster.holder(task_id).held
        held.process(task_id)
        held.release(task_id)
    for task_id, n in zip(tasks, (250_000, 120_000), strict=True):
        assert cluster.wait_status(task_id, DONE)["digit"] == reference_digits[n - 1]
    # Computed on the workers' machines, published, and mirrored into the web app's own store.
    wait_for(lambda: cluster.client.get("/api/engine").get_json()["stored_places"] >= 250_000, timeout=10)
    served = cluster.client.get("/api/pi?start=249991&count=10").get_json()["digits"]
    assert served == reference_digits[249_990:250_000]
    page = cluster.client.get(f"/api/tasks/{tasks[0]}/pi.txt")
    assert page.get_data(as_text=True) == "3." + reference_digits[:250_000]
    # A place already published is answered at once, without a worker.
    known = cluster.client.post("/api/tasks", json={"n": 100_000}).get_json()
    assert known["status"] == DONE and known["digit"] == reference_digits[99_999]


def test_a_lost_worker_machine_s_task_finishes_on_the_other(cluster: Cluster, reference_digits: str) -> None:
    first, second = cluster.start_worker("machine-1"), cluster.start_worker("machine-2")
    task_id = cluster.submit(54_321)
    lost = cluster.holder(task_id)
    survivor = second if lost is first else first
    computing = lost.held.process(task_id)
    lost.kill()  # the worker and everything it started, as a machine that loses power
    wait_for(lambda: is_gone(computing), timeout=10)  # SIGKILL is delivered, not awaited
    # Its lease runs out; the reconciler puts the task back, and the other machine takes it.
    wait_for(lambda: (task := cluster.task(task_id))["attempts"] == 2 and task["status"] == RUNNING, timeout=30)
    assert cluster.holder(task_id) is survivor
    survivor.held.process(task_id, attempt=2)
    survivor.held.release(task_id, attempt=2)
    done = cluster.wait_status(task_id, DONE)
    assert done["digit"] == reference_digits[54_320] and done["attempts"] == 2


def test_a_task_whose_places_another_machine_is_computing_waits_for_them(
    cluster: Cluster, reference_digits: str
) -> None:
    # Both plan 110,000 places; the first is claimed (with them) on one machine, the second on the other.
    machines = [cluster.start_worker("machine-1"), cluster.start_worker("machine-2")]
    first = cluster.submit(110_000)
    cluster.holder(first).held.process(first)
    second = cluster.submit(109_500)
    waiter = cluster.holder(second)
    assert {cluster.holder(first), waiter} == set(machines)
    waiter.held.process(second)
    waiter.held.release(second)  # its computation starts ...

    def waiting() -> bool:
        task = cluster.task(second)
        assert task["status"] == RUNNING, f"it did not wait: {task}"
        return task["phase"] == f"waiting for task {first}"

    wait_for(waiting, timeout=30)  # ... and waits for the other machine's
    cluster.holder(first).held.release(first)
    for task_id, n in ((first, 110_000), (second, 109_500)):
        assert cluster.wait_status(task_id, DONE)["digit"] == reference_digits[n - 1]


def test_a_full_disk_gives_the_task_back_and_a_machine_with_room_finishes_it(
    cluster: Cluster, reference_digits: str, tmp_path: Path
) -> None:
    digits = tmp_path / "machine-1" / "data" / "digits"  # that machine's digit store on a disk of 8 MiB
    with small_disk(digits, "8m"):
        full = cluster.start_worker("machine-1")
        task_id = cluster.submit(300_000)
        full.held.process(task_id)
        fill(digits)  # while it computes: its 300,000 places have nowhere to go
        full.held.release(task_id)
        given_back = cluster.wait_status(task_id, QUEUED)
        assert given_back["attempts"] == 0 and given_back["error"] is None  # not the task's fault
        # Rounds of wake-ups later, the full machine has not taken it again ...
        full.reconciled_after(cluster.service.store, time.time(), rounds=2)
        assert cluster.task(task_id)["status"] == QUEUED
        cluster.start_worker("machine-2", held=False)  # ... and a machine with room computes it
        done = cluster.wait_status(task_id, DONE)
        assert done["digit"] == reference_digits[299_999] and done["attempts"] == 1
        full.stop()  # before its disk goes


def test_a_pool_process_killed_mid_task_loses_nothing(cluster: Cluster, reference_digits: str) -> None:
    worker = cluster.start_worker("machine-1")
    task_id = cluster.submit(4_321)
    computing = worker.held.process(task_id)
    pool_process = computing.parent()
    assert pool_process is not None
    pool_process.kill()  # Celery's pool process, the compute process's parent
    wait_for(lambda: is_gone(computing), timeout=10)
    # Celery replaces the pool process; the lease expires and the task comes back.
    worker.held.process(task_id, attempt=2, timeout=30)
    worker.held.release(task_id, attempt=2)
    assert cluster.wait_status(task_id, DONE)["digit"] == reference_digits[4_320]


def test_cancel_stops_the_computation_on_the_machine_that_runs_it(cluster: Cluster) -> None:
    worker = cluster.start_worker("machine-1")
    task_id = cluster.submit(77_777)
    computing = worker.held.process(task_id)
    assert cluster.client.delete(f"/api/tasks/{task_id}").status_code == 200
    wait_for(lambda: is_gone(computing), timeout=10)
    # Its lease has run out, and the reconciler has looked since: had it wrongly revived the task, it would have.
    worker.reconciled_after(cluster.service.store, time.time() + LEASE_SECONDS)
    task = cluster.task(task_id)
    assert task["status"] == CANCELLED and task["attempts"] == 1


def test_health_and_metrics_report_the_database_the_broker_and_the_workers(cluster: Cluster) -> None:
    cluster.start_worker("machine-1", held=False)
    health = cluster.client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}
    task_id = cluster.submit(1_000)
    cluster.wait_status(task_id, DONE)
    metrics = cluster.client.get("/metrics").get_data(as_text=True)
    assert 'pi_tasks{state="done"} 1.0' in metrics
    assert "pi_task_run_seconds_count 1.0" in metrics
    assert "pi_workers 1.0" in metrics


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start (and restart) a Redis of this test's own on a free port; it keeps nothing on disk."""
    port = free_port()
    servers: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        server = subprocess.Popen([*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=port)
        wait_for(lambda: _pings(client), timeout=10)
        client.close()
        servers.append(server)
        return server

    start.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    yield start
    for server in servers:
        server.kill()
        server.wait()


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_a_restarted_broker_loses_no_task_and_runs_none_twice(
    cluster_on: Callable[[str], Cluster], own_redis: Any, reference_digits: str
) -> None:
    broker = own_redis()
    cluster = cluster_on(own_redis.url)
    cluster.start_worker("machine-1", held=False)
    cluster.start_worker("machine-2", held=False)
    broker.kill()  # every message in it is lost: it keeps nothing on disk
    broker.wait()
    assert cluster.client.get("/healthz").status_code == 503
    places = [1_000 + 37 * i for i in range(50)]
    tasks = [cluster.submit(n) for n in places]  # queued in the database all the same
    own_redis()  # the same port, empty
    for task_id, n in zip(tasks, places, strict=True):
        task = cluster.wait_status(task_id, DONE, timeout=90)
        assert task["digit"] == reference_digits[n - 1] and task["attempts"] == 1
    assert cluster.client.get("/healthz").get_json()["broker"] == "ok"


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres()
    server.start()
    yield server
    server.remove()


def test_a_restarted_database_gets_503_meanwhile_and_loses_no_task(
    make_app: Callable[..., Any], own_postgres: OwnPostgres, tmp_path: Path, reference_digits: str
) -> None:
    broker = redis.Redis.from_url(SHARED_BROKER)
    broker.flushdb()
    app = make_app(DATABASE_URL=own_postgres.url, BROKER_URL=SHARED_BROKER, LEASE_SECONDS=LEASE_SECONDS)
    cluster = Cluster(app, tmp_path, own_postgres.url, SHARED_BROKER)
    try:
        # A lease longer than the restart: the worker renews it once the database is back.
        worker = cluster.start_worker("machine-1", workers=2, lease_seconds=20)
        running = cluster.submit(33_333)
        computing = worker.held.process(running)
        own_postgres.stop()
        down = cluster.client.get("/api/tasks")
        assert down.status_code == 503 and "database" in down.get_json()["error"] and down.headers["Retry-After"]
        health = cluster.client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"].startswith("down")
        own_postgres.start()
        queued = cluster.submit(22_222)  # the first request after the restart is answered
        worker.held.process(queued)
        assert not is_gone(computing)  # the computation went on through the restart
        for task_id in (running, queued):
            worker.held.release(task_id)
        assert cluster.wait_status(running, DONE)["digit"] == reference_digits[33_332]
        assert cluster.wait_status(queued, DONE)["digit"] == reference_digits[22_221]
        assert {task["attempts"] for task in cluster.service.page(10)} == {1}
    finally:
        for worker in cluster.workers:
            worker.stop()
        service_of(app).runner.stop()
        service_of(app).store.engine.dispose()
        broker.flushdb()


def test_a_killed_web_process_leaves_the_others_serving(
    cluster: Cluster, postgres_url: str, tmp_path: Path, reference_digits: str
) -> None:
    cluster.start_worker("machine-1", held=False)
    web = Server(tmp_path / "web", workers=1, command=("-m", "gunicorn", "wsgi:application"))
    web.env.update(PI_DATABASE_URL=postgres_url, PI_BROKER_URL=SHARED_BROKER, PI_WEB_PROCESSES="2")
    (tmp_path / "web").mkdir()
    web.start()
    try:
        assert web.process is not None
        master = psutil.Process(web.process.pid)
        processes = wait_for(lambda: len(children := master.children()) == 2 and children)
        processes[0].kill()
        # Every request meanwhile is answered: by the other process, then by the one gunicorn starts anew.
        submitted = [web.post("/api/tasks", {"n": 1_000 + n})["id"] for n in range(20)]
        for task_id, n in zip(submitted, range(20), strict=True):
            assert cluster.wait_status(task_id, DONE)["digit"] == reference_digits[1_000 + n - 1]
        assert web.get(f"/api/tasks/{submitted[-1]}")["status"] == DONE
        # Read-your-writes: the moment a task shows done, both web processes serve its last places
        # (computed on the worker's machine; each process's mirror catches up before it answers).
        large = web.post("/api/tasks", {"n": 1_000_000})["id"]
        wait_for(lambda: web.get(f"/api/tasks/{large}")["status"] == DONE, timeout=60, interval=0.005)
        for _ in range(6):  # spread over both processes
            assert web.get("/api/pi?start=999991&count=10")["digits"] == reference_digits[999_990:]
    finally:
        web.stop()


def test_a_task_too_large_for_a_machine_s_free_memory_stays_queued_and_blocks_no_one(
    make_app: Callable[..., Any], postgres_url: str, tmp_path: Path
) -> None:
    broker = redis.Redis.from_url(SHARED_BROKER)
    broker.flushdb()
    # Five billion places would need 48 to 85 GB (compute/planning.py): more than this machine has free.
    huge = {"MAX_N": 10**10, "QUEUED_SECONDS_PER_CLIENT": 10**9}
    app = make_app(DATABASE_URL=postgres_url, BROKER_URL=SHARED_BROKER, LEASE_SECONDS=LEASE_SECONDS, **huge)
    cluster = Cluster(app, tmp_path, postgres_url, SHARED_BROKER)
    try:
        worker = cluster.start_worker("machine-1")
        worker.env["PI_MAX_N"] = str(10**10)
        worker.stop()
        worker.start(cluster.service.store)
        task_id = cluster.submit(5 * 10**9)
        small = cluster.submit(12_345)  # the same worker takes what fits
        worker.held.process(small)
        # Several wake-ups for the large task meanwhile (the reconciler sends them each round).
        worker.reconciled_after(cluster.service.store, time.time(), rounds=3)
        task = cluster.task(task_id)
        assert task["status"] == "queued" and task["attempts"] == 0
        assert not (worker.held.folder / f"{task_id}-1.pid").exists()
    finally:
        worker.stop()
        service_of(app).runner.stop()
        service_of(app).store.engine.dispose()
        broker.flushdb()


def test_a_lone_large_task_gets_every_core_and_a_second_one_core_each(cluster: Cluster) -> None:
    worker = cluster.start_worker("machine-1", workers=2)
    first = worker.held.process(cluster.submit(6_000_000))
    second = worker.held.process(cluster.submit(7_000_000))

    def threads(process: psutil.Process) -> int:
        command = process.cmdline()
        return int(command[command.index("--threads") + 1])

    assert threads(first) == os.cpu_count() and threads(second) == 1


def test_search_and_statistics_answer_from_digits_another_machine_computed(
    cluster: Cluster, reference_digits: str
) -> None:
    cluster.start_worker("machine-1", held=False)
    task_id = cluster.submit(20_000)
    cluster.wait_status(task_id, DONE)
    # The web process searches its own mirror of the published digits, once it has them (searches are
    # limited per client a minute: wait on the engine's count of stored places, not by searching).
    wait_for(lambda: cluster.client.get("/api/engine").get_json()["stored_places"] >= 20_000, timeout=30)
    found = cluster.client.get("/api/search?q=999999").get_json()
    assert found["first"] == 762 and found["searched"] >= 20_000
    stats = cluster.client.get("/api/stats?n=20000").get_json()
    assert stats["counts"] == {digit: reference_digits[:20_000].count(digit) for digit in "0123456789"}


def test_a_compute_process_that_stops_reporting_is_killed_and_its_task_retried(
    cluster: Cluster, reference_digits: str
) -> None:
    worker = cluster.start_worker("machine-1")
    worker.stop()
    worker.env["PI_STALL_SECONDS"] = "3"
    worker.start(cluster.service.store)
    task_id = cluster.submit(8_888)
    silent = worker.held.process(task_id)  # a held worker reports nothing unless told
    wait_for(lambda: is_gone(silent), timeout=15)
    assert "no progress report for 3 s, killing its process" in worker.log.read_text()
    worker.held.process(task_id, attempt=2)  # taken up again, by a fresh process
    worker.held.release(task_id, attempt=2)  # which computes, reporting as it goes
    done = cluster.wait_status(task_id, DONE)
    assert done["attempts"] == 2 and done["digit"] == reference_digits[8_887]
