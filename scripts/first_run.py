"""The first run of a new user, checked: ``make first-run`` (and the first stage of CI).

A fresh virtual environment built from requirements.txt alone, by ``make run``'s
own install step (never the dev venv, whose test tools bring packages the app
may lean on by accident), then:

1. ``pip check``, and every production module imported in that venv;
2. ``make run`` on a free port with a data folder of its own: ``/`` answers,
   n = 6 submitted through the JSON API comes back done with digit 2, the
   search and task pages load, and the server stops by its process id;
3. scaled out, from the same venv: ``make web`` and one ``make worker`` against
   a Redis and a PostgreSQL database of the check's own, one task done.

Standard library only, so it runs before anything is installed. With
PI_FIRST_RUN_SCALED=skip the scaled-out part is left out (a machine without
redis-server or PostgreSQL); in CI it always runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPConnection
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Not production: the tests, the benchmarks, these scripts, and Alembic's env.py (run only by Alembic).
NOT_PRODUCTION = ("tests/", "bench/", "scripts/", "docs/", "tasks/store/migrations/")
POSTGRES_ADMIN_URL = os.environ.get("PI_FIRST_RUN_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


class CheckFailed(Exception):
    """A step of the first run did not do what a new user expects."""


def step(message: str) -> None:
    print(f"first-run: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_environment(**settings: str) -> dict[str, str]:
    """This shell's environment without any PI_* of a developer's, plus ``settings``."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PI_")}
    # make passes MAKEFLAGS down; a make inside `make first-run` must not inherit its -j or -C.
    environment.pop("MAKEFLAGS", None)
    environment.pop("MFLAGS", None)
    return {**environment, **settings}


def wait_until(what: str, condition: Callable[[], Any], timeout: float, alive: Callable[[], None]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise CheckFailed(f"{what}: nothing after {timeout:.0f} s")


def http(port: int, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"} if body is not None else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def answers(port: int, path: str) -> bool:
    try:
        return http(port, path)[0] == 200
    except OSError:
        return False


class Process:
    """A command in a session of its own, so the whole tree (make, then python) stops by one id."""

    def __init__(self, name: str, command: list[str], environment: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with open(log, "ab") as output:
            self.popen = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> None:
        if self.popen.poll() is not None:
            raise CheckFailed(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the process group by its id; it must be gone within 20 s."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
                raise CheckFailed(f"{self.name} did not stop within 20 s of SIGTERM:\n{self.tail()}") from None

    def check_log(self) -> None:
        if "Traceback" in self.log.read_text(errors="replace"):
            raise CheckFailed(f"{self.name} printed a traceback:\n{self.tail(80)}")


@contextmanager
def running(name: str, command: list[str], environment: dict[str, str], log: Path) -> Iterator[Process]:
    process = Process(name, command, environment, log)
    try:
        yield process
    finally:
        process.stop()


def make(venv: Path, target: str) -> list[str]:
    return ["make", "--no-print-directory", "-C", str(ROOT), target, f"VENV={venv}"]


def build_venv(venv: Path) -> None:
    """``make run``'s own install step, into a venv of its own."""
    step(f"installing requirements.txt alone into {venv}")
    started = time.monotonic()
    subprocess.run(make(venv, f"{venv}/installed"), env=clean_environment(), check=True)
    # That step ends with `pip check`: a conflict among the pins fails it.
    step(f"installed in {time.monotonic() - started:.0f} s")


def production_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, check=True, capture_output=True, text=True)
    files = [path for path in listed.stdout.split() if not path.startswith(NOT_PRODUCTION)]
    # wsgi.py first: it builds the app, and Dash pages can only be registered after that.
    return sorted(files, key=lambda path: (path != "wsgi.py", path))


# A module by its dotted name; gunicorn.conf.py (not a module name: it would shadow gunicorn) by its path.
IMPORT_PROGRAM = """
import importlib, runpy, sys
for path in sys.argv[1:]:
    name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    if "." in path.removesuffix(".py").rsplit("/", 1)[-1]:
        runpy.run_path(path)
    else:
        importlib.import_module(name)
"""


def import_everything(venv: Path, data_dir: Path) -> None:
    """Every production module imported in the requirements-only venv: each one a package it lacks fails."""
    files = production_files()
    step(f"importing {len(files)} production modules in that venv")
    # wsgi.py builds the app on import (as gunicorn does): it gets a data folder of its own.
    environment = clean_environment(PI_DATA_DIR=str(data_dir))
    imported = subprocess.run(
        [venv / "bin/python", "-c", IMPORT_PROGRAM, *files], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if imported.returncode != 0:
        raise CheckFailed(f"a production module does not import from requirements.txt alone:\n{imported.stderr}")


def open_events(port: int) -> HTTPResponse:
    """The live updates' stream (server-sent events), opened as a page opens it."""
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/api/events")
    events = connection.getresponse()
    if events.status != 200 or not (events.getheader("Content-Type") or "").startswith("text/event-stream"):
        raise CheckFailed(f"GET /api/events on port {port} answered {events.status} {events.getheader('Content-Type')}")
    return events


def pushed(events: HTTPResponse, task_id: int) -> None:
    """Read the stream until it says the task is done: the page would have changed with no poll."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = events.readline()
        if line.startswith(b"data:") and any(
            task["id"] == task_id and task["status"] == "done" for task in json.loads(line[5:])["tasks"]
        ):
            step(f"the live updates pushed task {task_id}'s end")
            return
    raise CheckFailed(f"the live updates never said task {task_id} was done")


def submit_and_wait(port: int, alive: Callable[[], None]) -> int:
    status, body = http(port, "/api/tasks", {"n": 6})
    if status != 201:
        raise CheckFailed(f"POST /api/tasks {{'n': 6}} answered {status}: {body[:500]!r}")
    task_id = int(json.loads(body)["id"])

    def finished() -> dict[str, Any] | None:
        task: dict[str, Any] = json.loads(http(port, f"/api/tasks/{task_id}")[1])
        return task if task["status"] in {"done", "error", "cancelled"} else None

    task = wait_until(f"task {task_id} (n = 6) to finish", finished, timeout=120, alive=alive)
    if task["status"] != "done" or task["digit"] != "2":
        raise CheckFailed(f"n = 6 should be done with digit 2, got {task}")
    step(f"task {task_id}: n = 6, digit {task['digit']}")
    return task_id


def load_pages(port: int, task_id: int, alive: Callable[[], None]) -> None:
    for path in ("/", "/search?q=14159", f"/task/{task_id}", "/_dash-layout", "/_dash-dependencies"):
        status, body = http(port, path)
        if status != 200:
            raise CheckFailed(f"GET {path} answered {status}: {body[:500]!r}")

    def found() -> bool:
        status, body = http(port, "/api/search?q=14159")
        if status != 200:
            raise CheckFailed(f"GET /api/search?q=14159 answered {status}: {body[:500]!r}")
        return bool(json.loads(body)["first"] == 1)

    # Scaled out, a web process mirrors the workers' digits once a second (issue 26 asks for read-your-writes).
    wait_until("/api/search?q=14159 to find place 1", found, timeout=15, alive=alive)
    step("pages /, /search?q=14159 and /task/<id> load; 14159 is found at place 1")


def check_embedded(venv: Path, work: Path) -> None:
    port = free_port()
    step(f"make run on port {port}")
    events_port = free_port()
    environment = clean_environment(
        PI_PORT=str(port), PI_EVENTS_PORT=str(events_port), PI_DATA_DIR=str(work / "run-data")
    )
    with running("make run", make(venv, "run"), environment, work / "run.log") as server:
        wait_until("make run to answer /", lambda: answers(port, "/"), timeout=60, alive=server.alive)
        events = open_events(events_port)
        task_id = submit_and_wait(port, server.alive)
        pushed(events, task_id)
        load_pages(port, task_id, server.alive)
        server.stop()
        step("make run stopped by its process id")
    if answers(port, "/"):
        raise CheckFailed(f"port {port} still answers after make run stopped")
    server.check_log()


def postgres(venv: Path, statement: str) -> None:
    program = (
        "import sys, psycopg\nwith psycopg.connect(sys.argv[1], autocommit=True) as db:\n    db.execute(sys.argv[2])\n"
    )
    subprocess.run([venv / "bin/python", "-c", program, POSTGRES_ADMIN_URL, statement], check=True)


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def own_redis(work: Path) -> Iterator[int]:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with running("redis-server", command, clean_environment(), work / "redis.log") as redis:
        wait_until("redis-server to answer", lambda: redis_answers(port), timeout=20, alive=redis.alive)
        yield port


@contextmanager
def own_database(venv: Path) -> Iterator[str]:
    name = f"pi_first_run_{os.getpid()}"
    postgres(venv, f"DROP DATABASE IF EXISTS {name}")
    postgres(venv, f"CREATE DATABASE {name}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    finally:
        postgres(venv, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def check_scaled(venv: Path, work: Path) -> None:
    with own_redis(work) as redis_port, own_database(venv) as database_url:
        port = free_port()
        shared = {"PI_DATABASE_URL": database_url, "PI_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0"}
        events_port = free_port()
        web_environment = clean_environment(
            **shared, PI_PORT=str(port), PI_EVENTS_PORT=str(events_port), PI_DATA_DIR=str(work / "web-data")
        )
        worker_environment = clean_environment(**shared, PI_DATA_DIR=str(work / "worker-data"), PI_WORKERS="1")
        step(f"make web on port {port}, make worker, Redis on {redis_port}, a database of their own")
        with (
            running("make web", make(venv, "web"), web_environment, work / "web.log") as web,
            running("make worker", make(venv, "worker"), worker_environment, work / "worker.log") as worker,
        ):

            def both_alive() -> None:
                web.alive()
                worker.alive()

            wait_until("make web to answer /", lambda: answers(port, "/healthz"), timeout=60, alive=both_alive)
            events = open_events(events_port)
            task_id = submit_and_wait(port, both_alive)
            pushed(events, task_id)
            load_pages(port, task_id, both_alive)
            web.stop()
            worker.stop()
            step("make web and make worker stopped by their process ids")
        web.check_log()
        worker.check_log()


def scaled_services_missing() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the venv, data folders and logs (path printed)")
    options = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="pi-first-run-"))
    venv = work / "venv"
    try:
        build_venv(venv)
        import_everything(venv, work / "import-data")
        check_embedded(venv, work)
        missing = scaled_services_missing()
        if os.environ.get("PI_FIRST_RUN_SCALED") == "skip" and not os.environ.get("CI"):
            step("scaled-out part skipped (PI_FIRST_RUN_SCALED=skip)")
        elif missing:
            raise CheckFailed(f"the scaled-out check needs Redis: {missing} (PI_FIRST_RUN_SCALED=skip leaves it out)")
        else:
            check_scaled(venv, work)
    except (CheckFailed, subprocess.CalledProcessError) as failure:
        step(f"FAILED after {time.monotonic() - started:.0f} s: {failure}")
        step(f"logs kept in {work}")
        return 1
    step(f"passed in {time.monotonic() - started:.0f} s")
    if options.keep:
        step(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
