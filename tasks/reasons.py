"""Why a task failed, and what a running task is doing: the texts the task store keeps.

They are stored in English (the JSON API shows them as they are); the pages
translate them by matching these templates (dashboard/labels.py).
"""

from __future__ import annotations

from compute.messages import N_
from compute.messages import english

NOT_ENOUGH_MEMORY = N_("Not enough memory on the server to compute {places} places.")
CHECK_FAILED = N_("The independent check of the result failed, so nothing was stored: {detail}")
PRECISION_LOST = N_("Bellard's formula lost precision at hex place {place}, so no digit was given.")
COMPUTATION_FAILED = N_("The computation failed: {detail}")
GIVEN_UP = N_("The worker stopped {attempts} times; the last time it was {why}.")
# The end of GIVEN_UP's sentence:
EXITED = N_("exited with code {code} before recording a result")
OUT_OF_MEMORY = N_("killed by the kernel's out-of-memory killer ({signal}): the server ran out of memory")
KILLED = N_("killed by signal {number} ({signal})")
STALLED = N_("killed after {seconds} s without a progress report")
NO_WORKER = N_("no worker was started")
SERVER_STOPPED = N_("its server stopped")
# A running task's phase, besides tasks.phases.PHASES:
STARTING = N_("starting")
WAITING_FOR = N_("waiting for task {task_id}")

REASONS = (NOT_ENOUGH_MEMORY, CHECK_FAILED, PRECISION_LOST, COMPUTATION_FAILED, GIVEN_UP)
ENDINGS = (EXITED, OUT_OF_MEMORY, KILLED, STALLED, NO_WORKER, SERVER_STOPPED)


def reason(template: str, **params: object) -> str:
    """The stored (English) text of a reason or phase."""
    return english(template, params)
