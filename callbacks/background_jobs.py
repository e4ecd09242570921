"""Dash's DiskcacheManager with a bound: so many background jobs per client, and so many in all.

Each background callback (the search page's "Count everywhere") forks a process that scans every
stored place. Unbounded, one visitor's 200 clicks forked 21 of them (2.3 GB) and slowed every other
visitor's pages 400-fold. Past either bound the click starts nothing: its result is at once a "busy,
try again" message, which Dash shows like any other result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
import diskcache
import psutil

from requester import client_address

_JOBS = "pi-background-jobs"  # {pid: client} of the jobs started, shared by the machine's web processes


class BoundedDiskcacheManager(dash.DiskcacheManager):
    """Starts a background job only while the client and the machine are under their bounds."""

    def __init__(self, cache: diskcache.Cache, *, per_client: int, in_all: int, busy: Callable[[Any], Any]) -> None:
        """:param busy: the callback's output when a job is refused, from the callback's arguments."""
        super().__init__(cache)  # type: ignore[no-untyped-call]  # Dash's managers are not annotated
        self.per_client, self.in_all, self.busy = per_client, in_all, busy

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> int:
        client = client_address()
        with diskcache.Lock(self.handle, f"{_JOBS}-lock", expire=30):
            jobs = {pid: owner for pid, owner in self.handle.get(_JOBS, {}).items() if _running(pid)}
            mine = sum(owner == client for owner in jobs.values())
            if mine >= self.per_client or len(jobs) >= self.in_all:
                self.handle.set(key, self.busy(args))  # the result, ready at the first poll
                self.handle.set(_JOBS, jobs)
                return 0  # no process: Dash treats job 0 as one that has ended
            pid = int(super().call_job_fn(key, job_fn, args, context))  # type: ignore[no-untyped-call]
            jobs[pid] = client
            self.handle.set(_JOBS, jobs)
            return pid


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
