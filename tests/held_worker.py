"""A worker for tests: it holds its task running until the test says what happens next.

Selected with ``create_app({"COMPUTE_MODULE": "tests.held_worker"})`` (a test
setting: it is never read from the environment). The runner starts it exactly
as it starts ``tasks.runners.compute_process``, with the same arguments; it then waits for
commands, one per line, in ``<data folder>/held-workers/<task id>-<attempt>``
(each attempt at a task has its own, so a worker that replaces a killed one
does not obey the command that killed it):

    report <progress> <places> <phase ...>   record progress, as a computing worker would
    release                                   run the real worker's code: compute, store, finish
    die                                       SIGKILL itself, as the kernel's OOM killer would
    exit <code>                               exit with that code without finishing the task

So a test holds a task "running" as long as it needs without computing
millions of places, and every outcome it then asserts is the real code's.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from compute.processes import die_with_parent
from tasks.runners import compute_process

POLL_SECONDS = 0.01


def control_folder(digits_dir: str | os.PathLike[str]) -> Path:
    """Where the test writes commands: beside the digit store, in the test's data folder."""
    return Path(digits_dir).parent / "held-workers"


def main(argv: list[str] | None = None) -> int:
    """Wait for the test's commands, then act on them."""
    args = compute_process.parse_args(argv)
    die_with_parent(args.parent)
    tasks = compute_process.open_task_store(args.database_url)
    task = tasks.get(args.task_id)
    assert task is not None, f"the runner started a worker for task {args.task_id}, which does not exist"
    folder = control_folder(args.digits_dir)
    folder.mkdir(exist_ok=True)
    commands = folder / f"{args.task_id}-{task['attempts']}"
    started = commands.with_suffix(".pid")
    started.with_suffix(".tmp").write_text(str(os.getpid()))
    started.with_suffix(".tmp").replace(started)
    done = 0
    while True:
        # Only whole lines: the test may be halfway through appending one.
        lines = commands.read_text().split("\n")[:-1] if commands.exists() else []
        for line in lines[done:]:
            verb, _, rest = line.partition(" ")
            if verb == "report":
                progress, places, phase = rest.split(" ", 2)
                tasks.report(args.task_id, phase, float(progress), places=int(places))
            elif verb == "release":
                return compute_process.run(args, tasks)
            elif verb == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            elif verb == "exit":
                return int(rest)
        done = len(lines)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
