"""One worker process: compute one task's digit and record it in the task store.

The runner starts ``python -m tasks.runners.compute_process ... TASK_ID`` for every task, so a
task can be cancelled by killing its process, and memory used by a large n is
given back to the system when the task ends. Workers import no Dash or Flask.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from compute.digit_store import DigitStore
from compute.planning import estimated_hex_seconds
from compute.planning import estimated_seconds
from compute.planning import places_to_compute
from compute.processes import die_with_parent
from tasks.digits.publishing import PublishedDigitsDamaged
from tasks.digits.publishing import SharedDigits
from tasks.phases import PHASES
from tasks.phases import SAVING
from tasks.reasons import CHECK_FAILED
from tasks.reasons import COMPUTATION_FAILED
from tasks.reasons import NOT_ENOUGH_MEMORY
from tasks.reasons import PRECISION_LOST
from tasks.reasons import WAITING_FOR
from tasks.reasons import reason
from tasks.records import HEXADECIMAL
from tasks.records import RUNNING
from tasks.runners.supervision import DISK_FULL
from tasks.runners.supervision import finish_if_known
from tasks.store.queries import TaskStore
from tasks.store.tables import connect

WAIT_POLL_SECONDS = 0.25


def run_task(
    tasks: TaskStore,
    digits: DigitStore,
    task_id: int,
    max_n: int,
    threads: int = 1,
    shared: SharedDigits | None = None,
) -> None:
    """Compute task ``task_id`` (already marked running) and record the outcome.

    :param shared: scaled out, the digits published by every machine: mirrored
        first (another machine may have computed these places), published after.
    """
    task = tasks.get(task_id)
    if task is None or task["status"] != RUNNING:
        return
    n = int(task["n"])
    if task["radix"] == HEXADECIMAL:
        _run_hex_task(tasks, task_id, n)
        return
    if shared is not None:
        _mirror(shared, digits)
    if _wait_for_a_covering_computation(tasks, digits, task_id, n, places_to_compute(n, max_n)) and shared:
        _mirror(shared, digits)  # what it waited for was computed on another machine
    if finish_if_known(tasks, digits, task):
        return
    # Imported only here: loading FLINT and numpy takes a good part of a
    # second, which a task whose digit is already stored does not need.
    from compute.engine import BUILD
    from compute.engine import CheckFailed
    from compute.engine import pi_digits

    places = places_to_compute(n, max_n)
    estimate = estimated_seconds(places, threads, BUILD)

    def on_phase(phase: str, done: float) -> None:
        name, start, end = PHASES[phase]
        tasks.report(task_id, name, start + done * (end - start), estimate, places)

    try:
        computed = pi_digits(places, on_phase, threads=threads)
    except MemoryError:
        tasks.fail(task_id, reason(NOT_ENOUGH_MEMORY, places=places))
        return
    except CheckFailed as error:
        tasks.fail(task_id, reason(CHECK_FAILED, detail=error))
        return
    tasks.report(task_id, *SAVING, estimate)
    digits.extend(computed)
    if shared is not None:
        shared.publish(digits)
    tasks.finish(task_id, computed[n - 1])


def _run_hex_task(tasks: TaskStore, task_id: int, n: int) -> None:
    # Imported only here, as above.
    from compute.engine_info import expected_engine
    from compute.hex_digits import PrecisionLost
    from compute.hex_digits import hex_digits_at

    name, start, end = PHASES["hex"]
    estimate = estimated_hex_seconds(n, expected_engine().build)

    def on_progress(done: float) -> None:
        tasks.report(task_id, name, start + done * (end - start), estimate)

    on_progress(0.0)
    try:
        digits = hex_digits_at(n, on_progress=on_progress)
    except PrecisionLost:
        tasks.fail(task_id, reason(PRECISION_LOST, place=n))
        return
    tasks.finish(task_id, digits[0], digits)


def _mirror(shared: SharedDigits, digits: DigitStore) -> None:
    try:
        shared.mirror_into(digits)
    except PublishedDigitsDamaged:
        traceback.print_exc()  # computed here instead; publishing then replaces the bad chunk


def _wait_for_a_covering_computation(
    tasks: TaskStore, digits: DigitStore, task_id: int, n: int, own_places: int
) -> bool:
    """Whether it waited: another task was already computing at least n places (claimed with them, so
    from its first moment), and this one waited for it rather than compute them again."""
    waited = False
    while not digits.covers(n):
        other = tasks.computing_at_least(n, other_than=task_id, own_places=own_places)
        if other is None:
            return waited
        if not tasks.report(task_id, reason(WAITING_FOR, task_id=other["id"]), 0.0):
            return waited  # cancelled meanwhile
        waited = True
        time.sleep(WAIT_POLL_SECONDS)
    return waited


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments the runner starts a worker with."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--digits-dir", required=True)
    parser.add_argument("--max-n", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--shared-digits", action="store_true", help="mirror and publish the database's digits")
    parser.add_argument("task_id", type=int)
    return parser.parse_args(argv)


def open_task_store(database_url: str) -> TaskStore:
    """The task store a worker reports to."""
    return TaskStore(connect(database_url))


def run(args: argparse.Namespace, tasks: TaskStore) -> int:
    """Run the task named in ``args``; any failure becomes the task's reason."""
    try:
        shared = SharedDigits(tasks.engine) if args.shared_digits else None
        run_task(tasks, DigitStore(args.digits_dir), args.task_id, args.max_n, args.threads, shared)
    except OSError as error:
        if error.errno in DISK_FULL:
            # This machine's fault, not the task's: back to the queue, the attempt given back, for a
            # machine with room (this one claims none it has no room for: largest_n_with_room).
            print(f"task {args.task_id}: the disk is full ({error}); giving the task back", file=sys.stderr)
            tasks.requeue(args.task_id, counted=False)
        else:
            traceback.print_exc()
            tasks.fail(args.task_id, reason(COMPUTATION_FAILED, detail=error.strerror or type(error).__name__))
    except Exception as error:  # noqa: BLE001 - any failure becomes the task's reason
        traceback.print_exc()
        tasks.fail(args.task_id, reason(COMPUTATION_FAILED, detail=f"{type(error).__name__}: {error}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process."""
    args = parse_args(argv)
    # If the server is killed, its workers must not live on as orphans that
    # nobody counts: the restarted server requeues their tasks instead.
    die_with_parent(args.parent)
    return run(args, open_task_store(args.database_url))


if __name__ == "__main__":
    sys.exit(main())
