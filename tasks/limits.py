"""Limits per client, so one visitor cannot fill the server's queue for everyone else.

Three limits, each a setting (docs/configuration.md):
- submissions a minute (every submission, answered at once or queued): a
  moving window kept by the ``limits`` library, the engine of Flask-Limiter,
  applied here in the service so that the page and the API share it;
- tasks queued or running at once;
- queued work, in estimated seconds of computing, so a client may queue
  many small tasks but only a few huge ones.
The queue itself is served round-robin across clients (tasks/store/queries.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from compute.engine_info import expected_engine
from compute.messages import N_
from compute.messages import Explained
from compute.planning import estimated_hex_seconds
from compute.planning import estimated_seconds
from compute.planning import places_to_compute
from tasks.records import DECIMAL
from tasks.store.queries import TaskStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientLimits:
    """The per-client limits; see the module's docstring."""

    submissions_per_minute: int
    active_tasks: int
    queued_seconds: int
    storage_uri: str = "memory://"
    people_per_address: int = 1


class OverLimit(Explained):
    """A client asked for more than a limit allows: answered with 429 and Retry-After."""

    status = 429

    def __init__(self, template: str, retry_after: int, **params: object) -> None:
        super().__init__(template, **params)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class NeverFits(Explained):
    """One task alone is more work than a client may queue: waiting cannot help, so not a 429."""

    status = 422


class _PerMinute:
    """Moving one-minute windows of counts in the limits' storage (``limits``, the engine of Flask-Limiter).

    While a shared storage (Redis) is down, each process counts on its own, as Flask-Limiter's in-memory
    fallback does: the limit holds per process.
    """

    def __init__(self, storage_uri: str) -> None:
        self._shared = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._local = MovingWindowRateLimiter(storage_from_string("memory://"))

    def hit(self, most: int, key: str) -> int | None:
        """Count one for ``key``: None if that is within ``most`` a minute, else the seconds until it would be."""
        rate = RateLimitItemPerMinute(most)
        window = self._shared
        try:
            admitted = window.hit(rate, key)
        except (ConnectionError, OSError, RedisError) as error:
            log.warning("the limits' storage is down (%s): counting in this process meanwhile", error)
            window = self._local
            admitted = window.hit(rate, key)
        if admitted:
            return None
        return max(1, math.ceil(window.get_window_stats(rate, key).reset_time - time.time()))


@dataclass(frozen=True)
class _Scope:
    """Whose submissions a limit counts: one person (owner cookie), or everyone behind one address."""

    key: str
    times: int  # the limits, times this many people
    person: bool


class Fairness:
    """Admits a client's submission, or says which limit it would break.

    Each person (their owner cookie) has the limits; everyone behind one address (a classroom behind one
    NAT, or a script that drops its cookies) has them times ``people_per_address`` together.
    """

    def __init__(self, limits: ClientLimits, store: TaskStore, max_n: int) -> None:
        self.limits = limits
        self._store = store
        self._max_n = max_n
        self._per_minute = _PerMinute(limits.storage_uri)

    def admit(
        self, client: str, n: int, answered_at_once: bool, radix: int = DECIMAL, owner: str | None = None
    ) -> None:
        """Count a submission of ``n`` by ``owner`` (a person; None: known by address alone) from address ``client``.

        :param answered_at_once: its digit is stored, so it queues no work.
        :raises OverLimit: naming the limit, if the submission would break one.
        :raises NeverFits: if the task alone is more work than one person may ever queue.
        """
        scopes = [_Scope(f"address:{client}", self.limits.people_per_address if owner else 1, owner is None)]
        if owner is not None:
            scopes.insert(0, _Scope(f"owner:{owner}", 1, True))
        for scope in scopes:
            self._count_submission(scope)
        if answered_at_once:
            return
        build = expected_engine().build  # once: it looks at files
        alone = self.estimate(n, build, radix)
        if alone > self.limits.queued_seconds:
            raise NeverFits(
                N_(
                    "That task alone is about {work} s of computing; this server queues at most {most} s per "
                    "client, so it can never be admitted here. Ask for a smaller n."
                ),
                work=round(alone),
                most=self.limits.queued_seconds,
            )
        for scope in scopes:
            active = self._store.active_for(owner=owner if scope.person else None, client=client)
            if len(active) >= self.limits.active_tasks * scope.times:
                if not scope.person:
                    raise _address_over_limit(30)
                raise OverLimit(
                    N_(
                        "You have {count} tasks queued or running, the most this server keeps for one client; "
                        "wait for one to finish, or cancel one."
                    ),
                    30,
                    count=len(active),
                )
            work = alone + sum(self.estimate(int(task["n"]), build, task["radix"]) for task in active)
            if work > self.limits.queued_seconds * scope.times:
                if not scope.person:
                    raise _address_over_limit(60)
                raise OverLimit(
                    N_(
                        "That would give you about {work} s of computing in the queue; this server keeps at most "
                        "{most} s per client. Ask for a smaller n, or wait for your tasks to finish."
                    ),
                    60,
                    work=round(work),
                    most=self.limits.queued_seconds,
                )

    def _count_submission(self, scope: _Scope) -> None:
        retry_after = self._per_minute.hit(self.limits.submissions_per_minute * scope.times, scope.key)
        if retry_after is None:
            return
        if not scope.person:
            raise _address_over_limit(retry_after)
        raise OverLimit(
            N_(
                "You have sent {count} submissions in the last minute, the most this server takes from one "
                "client; try again in a moment."
            ),
            retry_after,
            count=self.limits.submissions_per_minute,
        )

    def estimate(self, n: int, build: str | None = None, radix: int = DECIMAL) -> float:
        """Seconds a fresh task for place n is expected to take, on one core (with ``build``, or the expected one)."""
        build = build or expected_engine().build
        if radix != DECIMAL:
            return estimated_hex_seconds(n, build)
        return estimated_seconds(places_to_compute(n, self._max_n), 1, build)


def _address_over_limit(retry_after: int) -> OverLimit:
    return OverLimit(
        N_(
            "The people behind your network address have together reached what this server takes from one "
            "address; try again in a moment."
        ),
        retry_after,
    )


class Busy(Explained):
    """The server is doing as much of this as it does at once: try again in a few seconds."""

    status = 503

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


SCAN_LIMITS = "pi-scan-limits"  # where app.py keeps the app's ScanLimits (Flask's extensions)


class ScanLimits:
    """Full scans of the stored digits (``GET /api/search``): so many a minute per client, so many at once.

    A scan of 10^9 places reads a gigabyte; unbounded, one client's burst slows every other visitor.
    """

    def __init__(self, per_minute: int, at_once: int, storage_uri: str = "memory://") -> None:
        self._per_minute = _PerMinute(storage_uri)
        self._slots = threading.BoundedSemaphore(at_once)
        self.per_minute = per_minute

    @contextmanager
    def scan(self, client: str) -> Iterator[None]:
        """Hold a slot for one scan by ``client``.

        :raises OverLimit: past the client's scans a minute.
        :raises Busy: while every slot is taken.
        """
        if self._per_minute.hit(self.per_minute, f"scan:{client}") is not None:
            raise OverLimit(
                N_("You have searched every stored place {count} times in the last minute; try again in a moment."),
                60,
                count=self.per_minute,
            )
        if not self._slots.acquire(blocking=False):
            raise Busy(N_("The server is busy searching for other visitors; try again in a few seconds."))
        try:
            yield
        finally:
            self._slots.release()
