"""The local runner: runs queued tasks in worker processes on this machine, a bounded number at once.

A supervisor thread in the web server polls the task store (and is woken at
once on submit or cancel). It starts one ``tasks.runners.compute_process`` process per task,
oldest first, while fewer than ``workers`` tasks are marked running (whoever
started them), a core is free, and memory is left for what the next task is
expected to need (compute/planning.py). It kills the process of a task that
was cancelled, and puts a task whose process died back in the queue (up to
MAX_ATTEMPTS times), so a killed worker or a restarted server loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from compute.digit_store import DigitStore
from compute.engine_info import expected_engine
from compute.planning import estimated_peak_bytes
from compute.planning import places_to_compute
from tasks.reasons import NO_WORKER
from tasks.reasons import SERVER_STOPPED
from tasks.records import DECIMAL
from tasks.records import QUEUED
from tasks.records import RUNNING
from tasks.records import Task
from tasks.runners.lock import RunnerLock
from tasks.runners.supervision import COMPUTE_MODULE
from tasks.runners.supervision import compute_command
from tasks.runners.supervision import exit_reason
from tasks.runners.supervision import finish_if_known
from tasks.runners.supervision import largest_n_with_room
from tasks.runners.supervision import oom_killed_since
from tasks.runners.supervision import oom_kills
from tasks.runners.supervision import retry_or_fail
from tasks.runners.supervision import stalled_for
from tasks.runners.supervision import threads_for
from tasks.store.queries import TaskStore

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A task claimed but not yet given a process id is left alone this long, in
# case another server process is between claiming it and starting its worker.
CLAIM_GRACE_SECONDS = 30.0


class LocalRunner:
    """Runs tasks from ``store`` in at most ``workers`` worker processes (a tasks.runners.base.Runner)."""

    def __init__(
        self,
        store: TaskStore,
        *,
        database_url: str,
        digits_dir: str,
        max_n: int,
        workers: int,
        cores: int | None = None,
        poll_seconds: float = 0.5,
        compute_module: str = COMPUTE_MODULE,
        stall_seconds: float = 120.0,
        lock: RunnerLock | None = None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.cores = cores or os.cpu_count() or 1
        self.poll_seconds = poll_seconds
        self._compute_module = compute_module
        self.stall_seconds = stall_seconds
        self._lock = lock
        self._holds_lock = lock is None
        self._kill_reasons: dict[int, str] = {}
        self._database_url = database_url
        self._digits_dir = digits_dir
        self._children: dict[int, subprocess.Popen[bytes]] = {}
        self._threads: dict[int, int] = {}
        self._memory: dict[int, int] = {}
        self._oom_kills_at_start: dict[int, int | None] = {}
        self._digits = DigitStore(digits_dir)
        self._max_n = max_n
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the supervisor thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="pi-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the supervisor and kill its workers; their tasks stay running
        in the store and are requeued by the next runner to start."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        # Their tasks were not at fault: back in the queue, the attempt given back.
        for task_id in list(self._children):
            self.store.requeue(task_id, counted=False)
        self._kill_all_workers()
        if self._lock is not None and self._holds_lock:
            self._lock.release()
            self._holds_lock = False

    def cancel(self, task_id: int) -> None:
        """Kill the worker of a task the store has marked cancelled, at once."""
        child = self._children.get(task_id)
        if child is not None and child.poll() is None:
            child.kill()
        self.wake()

    def describe(self) -> dict[str, Any]:
        """The runner's kind and limits, for the API."""
        described: dict[str, Any] = {
            "kind": "local",
            "workers": self.workers,
            "cores": self.cores,
            "running": len(self.compute_pids()),
            "runs_tasks": self._holds_lock and not self._stopping.is_set(),
        }
        if self._lock is not None and self._lock.blocked_by:
            described["note"] = f"{self._lock.blocked_by} runs tasks for this data folder; this server does not"
        return described

    def threads_in_use(self) -> int:
        """Threads granted to this runner's live workers."""
        return sum(self._threads.get(task_id, 1) for task_id in self.compute_pids())

    def compute_pids(self) -> dict[int, int]:
        """Task id -> pid of this runner's worker processes still alive."""
        return {task_id: child.pid for task_id, child in list(self._children.items()) if child.poll() is None}

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # a database hiccup must not end the runner
                log.exception("runner tick failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _take_lock(self) -> bool:
        if self._holds_lock or self._lock is None:
            return True
        was_blocked = self._lock.blocked_by
        self._holds_lock = self._lock.acquire()
        if self._holds_lock:
            log.info("this server runs tasks for its data folder")
        elif was_blocked is None:
            log.warning(
                "%s runs tasks for this data folder: this server serves pages and the API only", self._lock.blocked_by
            )
        return self._holds_lock

    def _kill_all_workers(self) -> None:
        for child in list(self._children.values()):
            child.kill()
            child.wait()
        self._children.clear()

    def tick(self) -> None:
        """One round: reap, stop cancelled, recover orphans, start queued.

        Only while this runner holds the lock on its data folder and database;
        otherwise it asks for the lock again and does nothing else.
        """
        if not self._take_lock():
            return
        self._reap_finished_workers()
        self._kill_cancelled_workers()
        self._kill_stalled_workers()
        self._requeue_orphans()
        self._start_queued()

    def _reap_finished_workers(self) -> None:
        for task_id, child in list(self._children.items()):
            exit_code = child.poll()
            if exit_code is None:
                continue
            del self._children[task_id]
            self._threads.pop(task_id, None)
            self._memory.pop(task_id, None)
            oom_killed = oom_killed_since(self._oom_kills_at_start.pop(task_id, None))
            why = self._kill_reasons.pop(task_id, None) or exit_reason(exit_code, oom_killed)
            task = self.store.get(task_id)
            if task is not None and task["status"] == RUNNING:
                self._recover(task, why, counted=True)

    def _kill_cancelled_workers(self) -> None:
        if not self._children:
            return
        running = {task["id"] for task in self.store.with_status(RUNNING)}
        for task_id, child in list(self._children.items()):
            if task_id not in running and child.poll() is None:
                child.kill()

    def _kill_stalled_workers(self) -> None:
        if not self._children:
            return
        now = time.time()
        for task in self.store.with_status(RUNNING):
            child = self._children.get(task["id"])
            if child is None or child.poll() is not None or task["id"] in self._kill_reasons:
                continue
            allowed = stalled_for(task, self.stall_seconds, now)
            if allowed is not None:
                self._kill_reasons[task["id"]] = f"killed after {allowed:,.0f} s without a progress report"
                log.warning("task %s: no progress report for %.0f s, killing its worker", task["id"], allowed)
                child.kill()

    def _requeue_orphans(self) -> None:
        now = time.time()
        for task in self.store.with_status(RUNNING):
            if task["id"] in self._children:
                continue
            pid = task["worker_pid"]
            # Not this runner's worker: the server that ran it stopped (its
            # workers die with it), which is not the task's fault.
            if pid is None:
                if now - task["updated_at"] > CLAIM_GRACE_SECONDS:
                    self._recover(task, NO_WORKER, counted=False)
            elif not _is_compute_process_alive(pid, self._compute_module):
                self._recover(task, SERVER_STOPPED, counted=False)

    def _recover(self, task: Task, why: str, *, counted: bool) -> None:
        # Not counted: the task was not at fault (its server stopped), its attempt is given back.
        outcome = retry_or_fail(self.store, task, why) if counted else self.store.requeue(task["id"], counted=False)
        log.warning("task %s %s: %s", task["id"], "failed for good" if outcome == "failed" else "requeued", why)

    def _start_queued(self) -> None:
        # A worker that has recorded its result may still be exiting: count
        # live processes too, so there are never more than ``workers``; and
        # never more compute threads than cores.
        while (
            max(self.store.count_running(), len(self.compute_pids())) < self.workers
            and self.threads_in_use() < self.cores
        ):
            head = self.store.peek_next()
            if head is None:
                return
            memory = self._memory_needed(head)
            if self.compute_pids() and memory > self._memory_to_spare():
                return  # FIFO: the head of the queue waits until memory frees up
            if memory and int(head["n"]) > largest_n_with_room(self._digits_dir):
                return  # and until the disk has room for its digits
            task = self.store.claim_next(max_n=self._max_n)
            if task is None:
                return
            if finish_if_known(self.store, self._digits, task):
                continue
            free = self.cores - self.threads_in_use()
            threads = threads_for(task, int(task["n"]), free, alone=lambda: self.store.count_with_status(QUEUED) == 0)
            command = compute_command(
                task["id"],
                module=self._compute_module,
                database_url=self._database_url,
                digits_dir=self._digits_dir,
                max_n=self._max_n,
                threads=threads,
                parent=os.getpid(),
            )
            child = subprocess.Popen(command, cwd=PROJECT_ROOT)
            self._children[task["id"]] = child
            self._threads[task["id"]] = threads
            # Normally the head we measured; another runner may have taken it first.
            self._memory[task["id"]] = memory if task["id"] == head["id"] else self._memory_needed(task)
            self._oom_kills_at_start[task["id"]] = oom_kills()
            self.store.set_worker(task["id"], child.pid)
            threading.Thread(target=self._wake_when_done, args=(child.pid,), daemon=True).start()

    def _memory_needed(self, task: Task) -> int:
        n = int(task["n"])
        if task["radix"] != DECIMAL or self._digits.covers(n):
            return 0  # a hex task's few numbers, or digits already stored
        return estimated_peak_bytes(places_to_compute(n, self._max_n), expected_engine().c_path)

    def _memory_to_spare(self) -> int:
        # What is free now, less what running workers are still expected to take.
        still_to_grow = 0
        for task_id, pid in self.compute_pids().items():
            try:
                resident = psutil.Process(pid).memory_info().rss
            except psutil.Error:
                continue
            still_to_grow += max(0, self._memory.get(task_id, 0) - resident)
        return psutil.virtual_memory().available - still_to_grow

    def _wake_when_done(self, pid: int) -> None:
        # Start the next task the moment a worker exits, not at the next poll.
        # WNOWAIT leaves the exit for tick() to reap: a Popen.wait() here would
        # hold Popen's lock, and a poll() meanwhile would say "still running".
        with contextlib.suppress(ChildProcessError):  # tick() reaped it first
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        self.wake()


def _is_compute_process_alive(pid: int, module: str) -> bool:
    # Any psutil.Error (the process gone between the calls, or not ours to
    # read) means no worker of ours lives there.
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and module in process.cmdline()
    except psutil.Error:
        return False
