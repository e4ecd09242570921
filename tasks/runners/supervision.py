"""How a task's compute process is supervised, the same in both runners.

The local runner (one web server's thread) and the Celery worker (one pool
process per task) differ in how they find tasks; what they do with one is
written here once: the known-digit path that starts no process, how many
threads a task gets, the compute process's command line, how long it may be
silent before it is killed, and whether a process that ended without an
outcome is retried or its task failed.
"""

from __future__ import annotations

import errno
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from compute.digit_store import DigitsDamaged
from compute.digit_store import DigitStore
from tasks.reasons import EXITED
from tasks.reasons import GIVEN_UP
from tasks.reasons import KILLED
from tasks.reasons import OUT_OF_MEMORY
from tasks.reasons import reason
from tasks.records import DECIMAL
from tasks.records import Task
from tasks.store.queries import TaskStore

# A task whose process ends without an outcome this many times fails.
MAX_ATTEMPTS = 3
# Below this n a task takes under a second: threads would not pay off.
PARALLEL_FROM_N = 5_000_000
COMPUTE_MODULE = "tasks.runners.compute_process"


def finish_if_known(store: TaskStore, digits: DigitStore, task: Task) -> bool:
    """Finish a claimed decimal task from the stored digits, with no process to start; whether it could.

    Stored since it was queued (a burst behind one computation): milliseconds,
    not the second a compute process takes to start. Damaged digits are never
    trusted: the compute process computes them afresh and replaces them.
    """
    if task["radix"] != DECIMAL:
        return False
    try:
        known = digits.digit(int(task["n"]))
    except DigitsDamaged:
        return False
    return known is not None and store.finish(task["id"], known, computed=False)


# A full disk is the machine's fault, not the task's: its task goes back to the queue, uncounted.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# Room kept free beside a new digit file (its checksums, the task database's journal).
_DISK_MARGIN_BYTES = 1 << 20


def largest_n_with_room(digits_dir: str | Path) -> int:
    """The largest n whose digits (rounded up by at most 10%, then written whole beside the old file) fit on
    the disk of ``digits_dir`` now: a machine whose disk is full claims no such task until it has room."""
    free = shutil.disk_usage(digits_dir).free
    return max(0, int((free - _DISK_MARGIN_BYTES) / 1.1))


def threads_for(task: Task, places: int, free_cores: int, *, alone: Callable[[], bool]) -> int:
    """A large decimal task alone gets every free core (FLINT then computes in parallel); else one.

    With other tasks waiting or running, each gets one core, so the machine is
    never oversubscribed.

    :param alone: asked only for a large decimal task (it queries the store).
    """
    if task["radix"] == DECIMAL and places >= PARALLEL_FROM_N and alone():
        return max(1, free_cores)
    return 1


def compute_command(
    task_id: int,
    *,
    module: str,
    database_url: str,
    digits_dir: str,
    max_n: int,
    threads: int,
    parent: int,
    shared_digits: bool = False,
) -> list[str]:
    """The command line of the process that computes task ``task_id`` (tasks.runners.compute_process)."""
    command = [sys.executable, "-m", module, "--database-url", database_url, "--digits-dir", digits_dir]
    command += ["--max-n", str(max_n), "--threads", str(threads), "--parent", str(parent)]
    return [*command, *(["--shared-digits"] if shared_digits else []), str(task_id)]


def allowed_silence(task: Task, stall_seconds: float) -> float:
    """How long a running task's process may go without a progress report before it is killed.

    Every wait in a compute process reports (the C path's series each second,
    a wait for another task four times a second), but FLINT's long single
    calls cannot: so a task may be silent for twice its estimate, if that is longer.
    """
    return max(stall_seconds, 2 * (task["estimate_seconds"] or 0.0))


def stalled_for(task: Task, stall_seconds: float, now: float | None = None) -> float | None:
    """The silence allowed, if the task has been silent longer (kill its process); else None."""
    allowed = allowed_silence(task, stall_seconds)
    silent = (time.time() if now is None else now) - task["updated_at"]
    return allowed if silent > allowed else None


def retry_or_fail(store: TaskStore, task: Task, why: str) -> Literal["requeued", "failed", "unchanged"]:
    """A compute process ended without recording an outcome: requeue its task, or fail it after MAX_ATTEMPTS.

    :param why: the end of a sentence (exit_reason), kept in the failure's reason.
    """
    if task["attempts"] >= MAX_ATTEMPTS:
        return "failed" if store.fail(task["id"], given_up(task, why)) else "unchanged"
    return "requeued" if store.requeue(task["id"]) else "unchanged"


def given_up(task: Task, why: str) -> str:
    """The reason a task fails with once its process stopped MAX_ATTEMPTS times."""
    return reason(GIVEN_UP, attempts=task["attempts"], why=why)


def exit_reason(exit_code: int, oom_killed: bool = False) -> str:
    """What a compute process's end says, as the end of a sentence: "killed by signal 9 (SIGKILL)"."""
    if exit_code >= 0:
        return reason(EXITED, code=exit_code)
    try:
        name = signal.Signals(-exit_code).name
    except ValueError:
        name = "unknown signal"
    if oom_killed:
        return reason(OUT_OF_MEMORY, signal=name)
    return reason(KILLED, number=-exit_code, signal=name)


def oom_kills() -> int | None:
    """How many processes the kernel's OOM killer has killed (Linux 4.13+); None where it does not say.

    A SIGKILL while that count rose is the OOM killer's, not a person's.
    """
    try:
        with open("/proc/vmstat") as vmstat:
            for line in vmstat:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def oom_killed_since(count_before: int | None) -> bool:
    """Whether the OOM killer killed a process since ``oom_kills()`` said ``count_before``."""
    now = oom_kills()
    return count_before is not None and now is not None and now > count_before
