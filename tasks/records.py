"""What every layer passes around: a task's record, its statuses and radixes.

A Task is one row of the task store (tasks/store/queries.py), typed so that
mypy checks each lookup; the store is what makes them.
"""

from __future__ import annotations

from typing import TypedDict

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
ERROR = "error"
CANCELLED = "cancelled"
FINISHED = (DONE, ERROR, CANCELLED)
STATUSES = (QUEUED, RUNNING, DONE, ERROR, CANCELLED)
DECIMAL = 10
HEXADECIMAL = 16
RADIXES = (DECIMAL, HEXADECIMAL)


class Task(TypedDict):
    """One task, as the store keeps it (a column each)."""

    id: int
    n: int
    radix: int
    status: str
    # While running: the phase and its progress (0..1), the time expected, the places being computed.
    phase: str | None
    progress: float
    estimate_seconds: float | None
    places: int | None
    # Done: the digit at place n (a hex task's also the hex digits from n); error: why, in words.
    digit: str | None
    hex_digits: str | None
    error: str | None
    # Times its process ended without an outcome; the process (local runner) or Celery lease holding it.
    attempts: int
    worker_pid: int | None
    lease_owner: str | None
    lease_expires: float | None
    created_at: float
    started_at: float | None
    finished_at: float | None
    updated_at: float
    # Who submitted it (a hash of the owner cookie's key) and from which client address.
    owner: str | None
    client: str | None
    # Taken from the store's revision sequence with every change: the live table's "what changed since".
    revision: int
