"""Load on the scaled-out mode: 10 clients submit 1,000 tasks over 2 web processes with 2 workers.

    python bench/load.py                 # make bench-load
    python bench/load.py --tasks 200     # a shorter run

Starts what production runs, on this machine: `make web` (gunicorn, 2
processes) and two `make worker`s (Celery, one task at a time each, each on its
own data folder), on PostgreSQL and the Redis broker. Ten clients (each its own
address, through X-Forwarded-For) submit tasks for random places up to 10^6
as fast as they are answered, while 50 simulated browsers poll the task table
once a second as the page does. Prints submission latency, throughput, the
time until every task is done, the refresh poll's latency under that load,
and checks that no task was lost or ran twice and every digit is right.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BROKER = "redis://127.0.0.1:6379/12"
REFERENCE = ROOT / "tests" / "reference" / "pi-1e6.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(base: str, path: str, body: Any = None, client: str = "10.9.9.9") -> tuple[float, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": client}
    began = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=headers), timeout=60) as answer:
        payload = answer.read()
    return (time.perf_counter() - began) * 1000, json.loads(payload) if payload else None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def callback_body(output: str, outputs: list[tuple[str, str]], inputs: list[Any], state: list[Any]) -> Any:
    return {
        "output": output,
        "outputs": [{"id": element, "property": prop} for element, prop in outputs],
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": state,
    }


def browser(base: str, stop: threading.Event, latencies: list[float]) -> None:
    """A page left open: one grid request, then the refresh poll every second."""
    first = {"startRow": 0, "endRow": 50, "sortModel": [], "filterModel": {}}
    rows = callback_body(
        "..tasks-grid.getRowsResponse...grid-shown.data..",
        [("tasks-grid", "getRowsResponse"), ("grid-shown", "data")],
        [{"id": "tasks-grid", "property": "getRowsRequest", "value": first}],
        [],
    )
    _, answer = request(base, "/_dash-update-component", rows)
    shown, seen = answer["response"]["grid-shown"]["data"], None
    tick = 0
    while not stop.wait(1.0):
        tick += 1
        body = callback_body(
            "..grid-updates.data...grid-seen.data..",
            [("grid-updates", "data"), ("grid-seen", "data")],
            [
                {"id": "tasks-refresh", "property": "n_intervals", "value": tick},
                {"id": "tasks-changed", "property": "data", "value": None},
            ],
            [
                {"id": "grid-shown", "property": "data", "value": shown},
                {"id": "grid-seen", "property": "data", "value": seen},
            ],
        )
        ms, answer = request(base, "/_dash-update-component", body)
        latencies.append(ms)
        if answer is not None:
            response = answer["response"]
            seen = response.get("grid-seen", {}).get("data", seen)
            updates = response.get("grid-updates", {}).get("data")
            if updates and updates.get("refetch"):  # as the page does: fetch the page again
                _, again = request(base, "/_dash-update-component", rows)
                shown, seen = again["response"]["grid-shown"]["data"], None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--browsers", type=int, default=50)
    parser.add_argument("--largest-n", type=int, default=1_000_000)
    args = parser.parse_args()

    schema_name = f"load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as db:
        db.execute(sa.text(f"CREATE SCHEMA {schema_name}"))
    database_url = f"{POSTGRES}?options=-csearch_path%3D{schema_name}"
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    folder = Path(tempfile.mkdtemp(prefix="pi-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    common = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PI_")},
        "PI_DATABASE_URL": database_url,
        "PI_BROKER_URL": BROKER,
        "PI_MAX_N": str(max(args.largest_n, 10_000)),
    }
    web_env = {
        **common,
        "PI_DATA_DIR": str(folder / "web"),
        "PI_PORT": str(port),
        "PI_WEB_PROCESSES": "2",
        "PI_PROXY_HOPS": "1",
        "PI_SUBMISSIONS_PER_MINUTE": str(args.tasks),
        "PI_ACTIVE_TASKS_PER_CLIENT": str(args.tasks),
        "PI_QUEUED_SECONDS_PER_CLIENT": str(10**9),
    }
    processes: list[subprocess.Popen[bytes]] = []
    log = open(folder / "servers.log", "ab")  # noqa: SIM115 - open for the whole run
    try:
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "wsgi:application"], cwd=ROOT, env=web_env, stdout=log, stderr=log
            )
        )
        for machine in ("worker-1", "worker-2"):
            env = {**common, "PI_DATA_DIR": str(folder / machine), "PI_WORKERS": "1"}
            command = [sys.executable, "-m", "tasks.runners.celery_worker"]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log))
        deadline = time.time() + 60
        while True:
            try:
                if request(base, "/healthz")[1]["status"] == "ok":
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit(f"the web processes did not start; see {folder / 'servers.log'}")
            time.sleep(0.2)
        time.sleep(3)  # the workers' start

        stop_browsers = threading.Event()
        poll_latencies: list[float] = []
        browsers = [
            threading.Thread(target=browser, args=(base, stop_browsers, poll_latencies), daemon=True)
            for _ in range(args.browsers)
        ]
        for thread in browsers:
            thread.start()

        rng = random.Random(314159)
        places = [rng.randint(1, args.largest_n) for _ in range(args.tasks)]
        submit_latencies: list[float] = []
        submitted: list[tuple[int, int]] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            address = f"10.0.0.{number + 1}"
            for n in places[number :: args.clients]:
                ms, task = request(base, "/api/tasks", {"n": n}, client=address)
                with lock:
                    submit_latencies.append(ms)
                    submitted.append((task["id"], n))

        began = time.perf_counter()
        clients = [threading.Thread(target=client, args=(number,)) for number in range(args.clients)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        submit_seconds = time.perf_counter() - began

        engine = sa.create_engine(database_url)
        while True:
            with engine.connect() as db:
                open_tasks = db.execute(
                    sa.text("SELECT count(*) FROM tasks WHERE status IN ('queued', 'running')")
                ).scalar_one()
            if open_tasks == 0:
                break
            time.sleep(0.2)
        all_done = time.perf_counter() - began
        stop_browsers.set()
        for thread in browsers:
            thread.join(5)

        with engine.connect() as db:
            rows = {row.id: row for row in db.execute(sa.text("SELECT id, n, status, digit, attempts FROM tasks"))}
            owners = db.execute(sa.text("SELECT count(DISTINCT split_part(lease_owner, '/', 1)) FROM tasks")).scalar()
        engine.dispose()
        reference = REFERENCE.read_text()
        lost = [task_id for task_id, _ in submitted if rows[task_id].status != "done"]
        twice = [task_id for task_id, _ in submitted if rows[task_id].attempts > 1]
        wrong = [task_id for task_id, n in submitted if n <= len(reference) and rows[task_id].digit != reference[n - 1]]

        print(f"\n{args.tasks:,} tasks from {args.clients} clients, 2 web processes (gunicorn), 2 Celery workers")
        print(f"{'what':<48} {'value':>12}")
        print(f"{'submission latency p50 (ms)':<48} {statistics.median(submit_latencies):>12.1f}")
        print(f"{'submission latency p99 (ms)':<48} {percentile(submit_latencies, 0.99):>12.1f}")
        print(f"{'submissions per second':<48} {args.tasks / submit_seconds:>12.1f}")
        print(f"{'seconds until every task was done':<48} {all_done:>12.1f}")
        print(f"{f'refresh poll p50, {args.browsers} browsers (ms)':<48} {statistics.median(poll_latencies):>12.1f}")
        print(f"{f'refresh poll p99, {args.browsers} browsers (ms)':<48} {percentile(poll_latencies, 0.99):>12.1f}")
        print(f"{'refresh polls answered':<48} {len(poll_latencies):>12,}")
        print(f"{'workers that ran tasks':<48} {owners:>12}")
        print(f"{'tasks lost / run twice / wrong digit':<48} {f'{len(lost)} / {len(twice)} / {len(wrong)}':>12}")
        return 0 if not (lost or twice or wrong) else 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        broker.flushdb()
        with admin.begin() as db:
            db.execute(sa.text(f"DROP SCHEMA {schema_name} CASCADE"))
        admin.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
