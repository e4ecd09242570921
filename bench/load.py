"""Load with Locust (bench/locustfile.py): how many viewers `make run` and `make web` each hold.

    python bench/load.py                          # make bench-load: both modes, both scenarios
    python bench/load.py --modes web --quiet-steps 300,600 --seconds 30

Starts what users run, on this machine: `make run` (waitress, SQLite, the local runner), then `make web`
(gunicorn, 2 processes, PostgreSQL) with two `make worker`s (Celery, Redis). At each step Locust runs
headless for a while with that many visitors, in two scenarios: quiet (viewers with the page open,
nothing changing) and busy (20 viewers for each one who submits and one who searches); the table gives,
per request type, p50/p95/p99 (ms) and failures. A mode "holds" a step when the viewers' poll p95 stays
under 250 ms with no failure. Then every task submitted is checked: none lost, none run twice, every
digit right. Locust runs on the same two cores as the server, so the figures are a floor.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BROKER = "redis://127.0.0.1:6379/12"
HOLDS_P95_MS = 250


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(base: str, log: Path) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start; see {log}")


def without_settings() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("PI_")}


def check_tasks(database_url: str) -> str:
    """Once every task submitted has finished: how many were lost, run twice, or got a wrong digit."""
    reference = (ROOT / "tests" / "reference" / "pi-1e6.txt").read_text()
    engine = sa.create_engine(database_url)
    deadline = time.time() + 300
    with engine.connect() as db:
        while db.execute(sa.text("SELECT count(*) FROM tasks WHERE status IN ('queued', 'running')")).scalar_one():
            if time.time() > deadline:
                break
            db.rollback()
            time.sleep(0.5)
        rows = db.execute(sa.text("SELECT n, status, digit, attempts FROM tasks")).all()
    engine.dispose()
    lost = sum(row.status != "done" for row in rows)
    twice = sum(row.attempts > 1 for row in rows)
    wrong = sum(row.status == "done" and row.n <= len(reference) and row.digit != reference[row.n - 1] for row in rows)
    return f"{len(rows)} tasks: {lost} lost, {twice} run twice, {wrong} with a wrong digit"


@dataclass
class Started:
    """A server the bench started: its address, its database, and its processes (for their CPU and memory)."""

    base: str
    database_url: str
    server: subprocess.Popen[bytes]
    events_port: int = 0


@contextmanager
def make_run(folder: Path, settings: dict[str, str] | None = None) -> Iterator[Started]:
    """`make run`'s server on a fresh data folder (with ``settings``, PI_* variables, over the defaults here)."""
    port = free_port()
    env = {
        **without_settings(),
        "PI_DATA_DIR": str(folder / "run"),
        "PI_PORT": str(port),
        "PI_EVENTS_PORT": "0",
        "PI_WORKERS": "1",
        **(settings or {}),
    }
    log = folder / "run.log"
    with open(log, "ab") as out:
        server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", log)
        database = f"sqlite:///{folder / 'run' / 'tasks.sqlite3'}"
        yield Started(f"http://127.0.0.1:{port}", database, server, int(env["PI_EVENTS_PORT"]))
    finally:
        stop([server])


@contextmanager
def make_web(folder: Path, settings: dict[str, str] | None = None, workers: int = 2) -> Iterator[Started]:
    """`make web` (2 processes) and ``workers`` `make worker`s, on a PostgreSQL schema and a Redis database of
    their own (with ``settings`` over the defaults here)."""
    schema = f"load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as db:
        db.execute(sa.text(f"CREATE SCHEMA {schema}"))
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    port = free_port()
    common = {
        **without_settings(),
        "PI_DATABASE_URL": f"{POSTGRES}?options=-csearch_path%3D{schema}",
        "PI_BROKER_URL": BROKER,
    }
    log = folder / "web.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with open(log, "ab") as out:
            web_env = {
                **common,
                "PI_DATA_DIR": str(folder / "web"),
                "PI_PORT": str(port),
                "PI_EVENTS_PORT": "0",
                "PI_WEB_PROCESSES": "2",
                **(settings or {}),
            }
            command = [sys.executable, "-m", "gunicorn", "wsgi:application"]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=web_env, stdout=out, stderr=out))
            for machine in [f"worker-{number}" for number in range(1, workers + 1)]:
                env = {**common, "PI_DATA_DIR": str(folder / machine), "PI_WORKERS": "1"}
                command = [sys.executable, "-m", "tasks.runners.celery_worker"]
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out))
        wait_until_healthy(f"http://127.0.0.1:{port}", log)
        yield Started(
            f"http://127.0.0.1:{port}", common["PI_DATABASE_URL"], processes[0], int(web_env["PI_EVENTS_PORT"])
        )
    finally:
        stop(processes)
        broker.flushdb()
        with admin.begin() as db:
            db.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def run_locust(
    locust: str, base: str, visitors: int, seconds: int, folder: Path, users: list[str]
) -> list[dict[str, str]]:
    """One headless Locust run of ``users`` (class names; all when empty); its stats per request type (CSV rows)."""
    prefix = folder / f"locust-{visitors}"
    command = [locust, "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", *users]
    command += ["--host", base, "-u", str(visitors), "-r", str(max(1, visitors // 5)), "-t", f"{seconds}s"]
    command += ["--csv", str(prefix), "--only-summary", "--loglevel", "ERROR", "--exit-code-on-error", "0"]
    with open(folder / "locust.log", "ab") as log:
        subprocess.run(command, cwd=ROOT, check=True, stdout=log, stderr=log)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return [row for row in csv.DictReader(stats) if row["Name"] != "Aggregated"]


SCENARIOS = {
    # Pages left open and nothing changing: what polling costs by itself.
    "quiet": ["Viewer"],
    # 20 viewers to one who submits and one who searches: every new task makes each page fetch its rows again.
    "busy": [],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="run,web", help="run (make run), web (make web + 2 workers), or both")
    parser.add_argument("--quiet-steps", default="100,200,400,800", help="viewers at each step, nothing else")
    parser.add_argument("--busy-steps", default="50,100", help="visitors at each step, 1 in 11 submitting or searching")
    parser.add_argument("--seconds", type=int, default=20, help="seconds of load at each step")
    parser.add_argument("--locust", default=str(ROOT / ".venv-bench" / "bin" / "locust"), help="Locust's command")
    args = parser.parse_args()
    steps = {"quiet": args.quiet_steps, "busy": args.busy_steps}
    servers = {"run": make_run, "web": make_web}
    folder = Path(tempfile.mkdtemp(prefix="pi-locust-"))
    held: dict[tuple[str, str], int] = {}
    try:
        for mode in args.modes.split(","):
            print(f"\nmake {mode}: Locust for {args.seconds} s at each step")
            header = ("scenario", "visitors", "request", "count", "fail", "p50", "p95", "p99")
            print("{:<8} {:>8} {:<16} {:>7} {:>5} {:>6} {:>6} {:>6}".format(*header))
            with servers[mode](folder) as started:
                base, database_url = started.base, started.database_url
                for scenario, users in SCENARIOS.items():
                    held[mode, scenario] = 0
                    for visitors in [int(step) for step in steps[scenario].split(",")]:
                        rows = run_locust(args.locust, base, visitors, args.seconds, folder, users)
                        for row in rows:
                            print(
                                f"{scenario:<8} {visitors:>8} {row['Name']:<16} {row['Request Count']:>7} "
                                f"{row['Failure Count']:>5} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
                            )
                        poll = next((row for row in rows if row["Name"] == "poll"), None)
                        failures = sum(int(row["Failure Count"]) for row in rows)
                        if poll is not None and float(poll["95%"]) < HOLDS_P95_MS and failures == 0:
                            held[mode, scenario] = visitors if users else visitors * 20 // 22  # its viewers
                print(f"{'':<8} then {check_tasks(database_url)}")
        print(f"\nviewers held with poll p95 under {HOLDS_P95_MS} ms (ms columns above) and no failure:")
        for (mode, scenario), viewers in held.items():
            print(f"  make {mode}, {scenario}: {viewers}")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
