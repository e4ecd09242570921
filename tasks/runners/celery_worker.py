"""A Celery worker of the scaled-out mode: computes queued tasks on its own machine.

``python -m tasks.runners.celery_worker`` (``make worker``) reads the same PI_*
settings as the web app. A wake-up message makes one pool process claim the
next task from the database (fair order, tasks/store/queries.py) under a lease, run
it in a compute process exactly as the local runner does (``tasks.runners.compute_process``),
renew the lease every second and stop the process as soon as the task is
cancelled. So the database decides, and the broker only carries:

- a duplicate message finds nothing to claim, and no task runs twice at once;
- a worker that dies stops renewing: the reconciler (a thread in every
  worker) takes its task back once the lease expires, and sends a wake-up;
- a message the broker lost (Redis keeps nothing on disk here) is made up
  for: the reconciler sends as many wake-ups as queued tasks lack.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from celery import Celery
from celery.signals import worker_process_init
from celery.signals import worker_ready

import config
from compute.digit_store import DigitStore
from compute.engine_info import expected_engine
from compute.planning import largest_n_fitting
from compute.planning import places_to_compute
from compute.processes import die_with_parent
from tasks.digits.publishing import PublishedDigitsDamaged
from tasks.digits.publishing import SharedDigits
from tasks.reasons import STALLED
from tasks.reasons import reason
from tasks.records import DECIMAL
from tasks.records import QUEUED
from tasks.records import RUNNING
from tasks.runners.celery_app import QUEUE
from tasks.runners.celery_app import RUN_ONE
from tasks.runners.celery_app import make_celery
from tasks.runners.celery_app import messages_waiting
from tasks.runners.celery_app import send_wake_up
from tasks.runners.supervision import COMPUTE_MODULE
from tasks.runners.supervision import MAX_ATTEMPTS
from tasks.runners.supervision import compute_command
from tasks.runners.supervision import exit_reason
from tasks.runners.supervision import finish_if_known
from tasks.runners.supervision import largest_n_with_room
from tasks.runners.supervision import oom_killed_since
from tasks.runners.supervision import oom_kills
from tasks.runners.supervision import retry_or_fail
from tasks.runners.supervision import stalled_for
from tasks.runners.supervision import threads_for
from tasks.store import schema
from tasks.store.queries import TaskStore
from tasks.store.tables import connect

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class WorkerContext:
    """What a pool process needs, built once per process (never shared across a fork)."""

    settings: dict[str, Any]
    node: str
    compute_module: str
    store: TaskStore | None = None
    digits: DigitStore | None = None

    @property
    def lease_seconds(self) -> float:
        return float(self.settings["LEASE_SECONDS"])

    def task_store(self) -> TaskStore:
        if self.store is None:
            self.store = TaskStore(connect(config.database_url(self.settings)))
        return self.store

    def digit_store(self) -> DigitStore:
        # One per process: it remembers which blocks it has verified.
        if self.digits is None:
            self.digits = DigitStore(Path(self.settings["DATA_DIR"]) / "digits")
        return self.digits


_context: WorkerContext | None = None


def context() -> WorkerContext:
    assert _context is not None, "tasks.runners.celery_worker.main sets the context before the worker starts"
    return _context


def run_one(celery: Celery) -> None:
    """Claim the next queued task, if any, and compute it here."""
    ctx = context()
    store = ctx.task_store()
    owner = f"{ctx.node}/{os.getpid()}"
    # Only what fits in the memory free on this machine now; a larger task
    # stays queued for a machine that has it (or for later).
    fits = largest_n_fitting(psutil.virtual_memory().available, expected_engine().c_path)
    fits = min(fits, largest_n_with_room(Path(ctx.settings["DATA_DIR"]) / "digits"))
    task = store.claim_next(lease=(owner, ctx.lease_seconds), largest_n=fits, max_n=ctx.settings["MAX_N"])
    if task is None:
        return  # nothing that fits here, a duplicate wake-up, or another worker was quicker
    if task["radix"] == DECIMAL:
        _mirror_published(ctx)  # what any machine published, into this machine's store first
    if finish_if_known(store, ctx.digit_store(), task):
        return
    places = places_to_compute(int(task["n"]), ctx.settings["MAX_N"])
    threads = threads_for(task, places, os.cpu_count() or 1, alone=lambda: store.running_under(ctx.node + "/") <= 1)
    _compute(ctx, celery, task["id"], owner, threads)


def _mirror_published(ctx: WorkerContext) -> None:
    # Damaged: the compute process recomputes, and replaces what is damaged.
    with contextlib.suppress(PublishedDigitsDamaged):
        SharedDigits(ctx.task_store().engine).mirror_into(ctx.digit_store())


def _compute(ctx: WorkerContext, celery: Celery, task_id: int, owner: str, threads: int) -> None:
    store = ctx.task_store()
    command = compute_command(
        task_id,
        module=ctx.compute_module,
        database_url=config.database_url(ctx.settings),
        digits_dir=str(Path(ctx.settings["DATA_DIR"]) / "digits"),
        max_n=ctx.settings["MAX_N"],
        threads=threads,
        parent=os.getpid(),
        shared_digits=True,
    )
    oom_kills_at_start = oom_kills()
    child = subprocess.Popen(command, cwd=PROJECT_ROOT)
    store.set_worker(task_id, child.pid)
    killed_because: str | None = None
    while True:
        try:
            child.wait(timeout=1.0)  # a quick task returns at once
            break
        except subprocess.TimeoutExpired:
            pass
        try:
            still_ours = store.renew_lease(task_id, owner, ctx.lease_seconds)
            task = store.get(task_id)
        except Exception:  # the database is restarting: keep computing, try again next second
            log.warning("could not renew the lease of task %s", task_id, exc_info=True)
            continue
        if not still_ours:  # cancelled, or taken back after this worker was cut off
            child.kill()
        elif task is not None and (stalled := stalled_for(task, ctx.settings["STALL_SECONDS"])):
            killed_because = reason(STALLED, seconds=round(stalled))
            log.warning("task %s: no progress report for %.0f s, killing its process", task_id, stalled)
            child.kill()
    exit_code = child.wait()
    task = store.get(task_id)
    if task is None or task["status"] != RUNNING or task["lease_owner"] != owner:
        return
    # Ended without recording an outcome: retry, up to MAX_ATTEMPTS.
    why = killed_because or exit_reason(exit_code, oom_killed_since(oom_kills_at_start))
    if retry_or_fail(store, task, why) == "requeued":
        send_wake_up(celery)


class Reconciler:
    """Takes back tasks whose lease expired, and sends the wake-ups the broker lacks."""

    def __init__(self, celery: Celery, store: TaskStore, node: str, slots: int, lease_seconds: float) -> None:
        self.celery, self.store, self.node, self.slots = celery, store, node, slots
        self.lease_seconds = lease_seconds
        self._no_take_backs_until = 0.0

    def run_forever(self) -> None:
        while True:
            try:
                self.once()
            except Exception:  # the database or the broker is restarting: next round
                log.warning("reconciler round failed", exc_info=True)
                # While the database was away no worker could renew: give every
                # holder a whole lease, once it is back, before taking a task back.
                self._no_take_backs_until = time.monotonic() + self.lease_seconds
            time.sleep(max(0.5, self.lease_seconds / 3))

    def once(self) -> None:
        """One round."""
        self.store.beat(self.node, self.slots)
        for task in self.store.expired_leases() if time.monotonic() >= self._no_take_backs_until else []:
            if self.store.take_back(task["id"], MAX_ATTEMPTS):
                log.warning("task %s: its worker %s stopped renewing; taken back", task["id"], task["lease_owner"])
        missing = self.store.count_with_status(QUEUED) - messages_waiting(self.celery)
        for _ in range(min(missing, 1000)):
            send_wake_up(self.celery)


def build(settings: dict[str, Any], compute_module: str = COMPUTE_MODULE) -> Celery:
    """The Celery app of a worker with these settings, its task registered."""
    global _context
    node = f"pi-{os.getpid()}@{socket.gethostname()}"
    _context = WorkerContext(settings=settings, node=node, compute_module=compute_module)
    celery = make_celery(settings["BROKER_URL"])

    @celery.task(name=RUN_ONE, ignore_result=True, acks_late=True)
    def _run_one() -> None:
        run_one(celery)

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_: Any) -> None:
        # A forked pool process must not share the parent's database connections,
        # nor outlive the worker: killed with it, its compute process dies too.
        context().store = None
        die_with_parent(os.getppid())

    @worker_ready.connect(weak=False)
    def _start_reconciler(**_: Any) -> None:
        store = TaskStore(connect(config.database_url(settings)))
        reconciler = Reconciler(celery, store, node, settings["WORKERS"], float(settings["LEASE_SECONDS"]))
        threading.Thread(target=reconciler.run_forever, name="pi-reconciler", daemon=True).start()

    return celery


def main(argv: list[str] | None = None) -> int:
    """``make worker``: a Celery worker computing PI_WORKERS tasks at once."""
    parser = argparse.ArgumentParser(description="A Celery worker computing queued tasks.")
    # For tests only (as the app's COMPUTE_MODULE): the process started per task.
    parser.add_argument("--compute-module", default=COMPUTE_MODULE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = config.load(os.environ)
    if not settings["BROKER_URL"]:
        parser.error("PI_BROKER_URL must name the broker (e.g. redis://127.0.0.1:6379/0)")
    Path(settings["DATA_DIR"], "digits").mkdir(parents=True, exist_ok=True)
    engine = connect(config.database_url(settings))
    schema.upgrade(engine)
    engine.dispose()
    celery = build(settings, args.compute_module)
    node = context().node
    celery.worker_main(
        [
            *("worker", "--pool=prefork", f"--concurrency={settings['WORKERS']}", f"--hostname={node}"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO", "-Q", QUEUE),
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
