"""What the task service refuses, and why: each kind knows its HTTP status (compute/messages.py's Explained)."""

from __future__ import annotations

from compute.messages import N_
from compute.messages import Explained


class TaskNotFound(Explained, LookupError):
    """No task has this id."""

    status = 404


class NotYourTask(Explained, PermissionError):
    """Only the submitter of a task (or an operator) may cancel it."""

    status = 403


class TaskFinished(Explained, RuntimeError):
    """The task has already finished, so it cannot be cancelled."""

    status = 409


class DigitsUnavailable(Explained, LookupError):
    """The task's digits cannot be read."""

    status = 404


class TaskNotDone(DigitsUnavailable):
    """The task is queued, running, failed or cancelled: it has no digits (yet)."""

    status = 409


class HexTask(TaskNotDone):
    """The task asked for a hexadecimal place: it has its 14 hex digits, not a decimal expansion."""


class DigitsGone(DigitsUnavailable):
    """The task is done but the stored digits no longer reach its n."""

    status = 410


class DigitsBeingRepaired(DigitsUnavailable):
    """A stored block failed its checksum: the store was cut back and a task recomputes it."""

    status = 503

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "60"}

    def __init__(self) -> None:
        super().__init__(
            N_(
                "The stored digits are being repaired: a damaged block was found and a task is recomputing it. "
                "Try again when it is done."
            )
        )
