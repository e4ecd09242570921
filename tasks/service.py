"""The service layer: everything the pages, their callbacks and the JSON API read or change.

Validation, the known-digit fast path, cancellation and the rules about stored
digits live here once, so every surface gives the same answers and the same
messages. Surfaces reach the service with ``current()`` and nothing else of
tasks/ or compute/ that holds state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any
from typing import BinaryIO

import flask

from compute.digit_counts import Counts
from compute.digit_counts import DigitCounts
from compute.digit_counts import Uniformity
from compute.digit_counts import growth_points
from compute.digit_counts import uniformity
from compute.digit_search import check_query
from compute.digit_store import DigitsDamaged
from compute.digit_store import DigitStore
from compute.engine_info import expected_engine
from compute.messages import N_
from compute.validation import HEX_MAX_N
from compute.validation import HEX_WINDOW
from compute.validation import parse_n
from compute.validation import parse_radix
from requester import Requester
from tasks.digits.hex_expansion import HexExpansion
from tasks.digits.search import DigitSearch
from tasks.digits.search import SearchResult
from tasks.errors import DigitsBeingRepaired
from tasks.errors import DigitsGone
from tasks.errors import HexTask
from tasks.errors import NotYourTask
from tasks.errors import TaskFinished
from tasks.errors import TaskNotDone
from tasks.errors import TaskNotFound
from tasks.limits import Fairness
from tasks.phases import phase_end
from tasks.records import DECIMAL
from tasks.records import DONE
from tasks.records import FINISHED
from tasks.records import RUNNING
from tasks.records import Task
from tasks.runners.base import Runner
from tasks.store.queries import TaskStore

# Ids, offsets and places are 64-bit signed integers in the database.
LARGEST_ID = 2**63 - 1

# Where the app factory keeps the service: flask.current_app.extensions[EXTENSION].
EXTENSION = "pi"

# The C path reports the series every second: a report younger than this is
# shown as measured; an older one is extrapolated.
FRESH_SECONDS = 2.0


def current() -> TaskService:
    """The task service of the app handling this request (or callback)."""
    service: TaskService = flask.current_app.extensions[EXTENSION]
    return service


class TaskService:
    """Submit, cancel and read tasks, and read the stored digits."""

    def __init__(
        self,
        store: TaskStore,
        digits: DigitStore,
        runner: Runner,
        max_n: int,
        fairness: Fairness | None = None,
        catch_up: Callable[[], bool] | None = None,
        search: DigitSearch | None = None,
    ) -> None:
        """:param fairness: the per-client limits; None: no limits (the server's own use, tests).
        :param search: the search of the stored digits (default: its default index size).
        :param catch_up: scaled out, copies the digits other machines published into ``digits`` now
            (a done task's digits may have been published a moment before this process mirrored them).
        """
        self.store = store
        self.digits = digits
        self.runner = runner
        self.max_n = max_n
        self.fairness = fairness
        self.catch_up = catch_up
        self.hex = HexExpansion(digits)
        self.counts = DigitCounts(digits)
        self.search = search or DigitSearch(digits)

    def submit(self, raw_n: object, requester: Requester | None = None, raw_radix: object = DECIMAL) -> Task:
        """Validate n and add a task; done at once if its digit is already stored.

        :param requester: who asks (they will own the task); None for the server itself.
        :param raw_radix: 10 for the decimal place n, 16 for the hexadecimal one.
        :raises compute.validation.InvalidN: with a message for people.
        :raises tasks.limits.OverLimit: if the requester's client is over a limit.
        """
        radix = parse_radix(raw_radix)
        if radix == DECIMAL:
            n = parse_n(raw_n, self.max_n)
            digit, hex_digits = self._known_decimal(n), None
        else:
            n = parse_n(raw_n, HEX_MAX_N)
            hex_digits = self._known_hex(n)
            digit = hex_digits[0] if hex_digits else None
        if requester is not None and self.fairness is not None:
            self.fairness.admit(
                requester.client, n, answered_at_once=digit is not None, radix=radix, owner=requester.owner
            )
        owner, client = (requester.owner, requester.client) if requester else (None, None)
        task = self.store.create(n, radix=radix, digit=digit, hex_digits=hex_digits, owner=owner, client=client)
        if task["status"] not in FINISHED:
            self.runner.wake()
        return task

    def _known_decimal(self, n: int) -> str | None:
        """Decimal place n if it is stored (None: a task computes it)."""
        try:
            return self.digits.digit(n) if self._covers(n) else None
        except DigitsDamaged:
            self.repair_digits()
            return None  # the task computes it

    def _covers(self, n: int) -> bool:
        """Whether places 1..n are stored here, scaled out after mirroring what other machines published."""
        if not self.digits.covers(n) and self.catch_up is not None:
            self.catch_up()  # another machine may have published them a moment ago
        return self.digits.covers(n)

    def _known_hex(self, n: int) -> str | None:
        """The HEX_WINDOW hex digits from place n if the stored decimals give them (None: Bellard's formula)."""
        with self._repairing_damage():
            known = self.hex.read(n, HEX_WINDOW)
        return known if len(known) == HEX_WINDOW else None

    def digit_statistics(self, n: int) -> tuple[list[int], list[Counts]]:
        """How often each digit occurs in places 1..p, for p = 1, 2, 5, 10, 20, ... and n.

        :raises DigitsUnavailable: if places 1..n are not stored, or being repaired.
        """
        if not self._covers(n):
            raise DigitsGone(
                N_("Places up to {n} are not stored ({stored} are); submit a task for n."), n=n, stored=len(self.digits)
            )
        points = growth_points(n)
        with self._repairing_damage():
            return points, self.counts.counts_at(points)

    @staticmethod
    def uniformity(counts: Counts) -> Uniformity:
        """The chi-square test of "every digit equally likely" for ``counts``."""
        return uniformity(counts)

    def search_indexed(self, raw_query: object, limit: int) -> SearchResult:
        """Where a string of digits occurs among the indexed places (as you type: milliseconds).

        :raises compute.digit_search.BadQuery: with a message for people.
        """
        query = check_query(raw_query)
        with self._repairing_damage():
            return self.search.indexed(query, limit)

    def search_everywhere(
        self, raw_query: object, limit: int, on_progress: Callable[[int, int], bool] | None = None
    ) -> SearchResult | None:
        """Where a string of digits occurs in every stored place (a scan past the index); None if cancelled."""
        query = check_query(raw_query)
        with self._repairing_damage():
            return self.search.everywhere(query, limit, on_progress)

    def read_hex(self, start: int, count: int) -> str:
        """Up to ``count`` hex places from place ``start``, derived from the stored decimal places."""
        with self._repairing_damage():
            return self.hex.read(start, count)

    def hex_places(self) -> int:
        """How many hex places the stored decimal places give."""
        with self._repairing_damage():
            return self.hex.places()

    def get(self, task_id: int) -> Task:
        """The task, or TaskNotFound."""
        # Ids are 64-bit in the database: a larger one names no task (and would overflow the query).
        task = self.store.get(task_id) if 1 <= task_id <= LARGEST_ID else None
        if task is None:
            raise TaskNotFound(N_("There is no task {task_id}."), task_id=task_id)
        return task

    def cancel(self, task_id: int, requester: Requester | None = None) -> Task:
        """Cancel a queued or running task (its process is stopped).

        :param requester: who asks: the task's submitter or an operator; None for the server itself.
        :raises NotYourTask: if ``requester`` may not cancel it.
        """
        task = self.get(task_id)  # TaskNotFound first
        if requester is not None and not requester.may_cancel(task["owner"]):
            raise NotYourTask(
                N_("Only the browser or script that submitted task {task_id} may cancel it."), task_id=task_id
            )
        if not self.store.cancel(task_id):
            # Read again: the status seen before the UPDATE may be stale.
            raise TaskFinished(
                N_("Task {task_id} has already finished ({status})."),
                task_id=task_id,
                status=self.get(task_id)["status"],
            )
        self.runner.cancel(task_id)
        return self.get(task_id)

    def page(
        self,
        limit: int,
        offset: int = 0,
        *,
        sort: str = "id",
        descending: bool = True,
        statuses: Sequence[str] | None = None,
    ) -> list[Task]:
        """One page of tasks (newest first by default), sorted and filtered in the database."""
        return self.store.page(limit, offset, sort=sort, descending=descending, statuses=statuses)

    def count(self, statuses: Sequence[str] | None = None) -> int:
        """How many tasks there are (in ``statuses``, if given)."""
        return self.store.count(statuses)

    def revision(self) -> int:
        """The revision of the last change to any task: it only grows."""
        return self.store.revision()

    def stored_places(self) -> int:
        """How many places of pi are stored."""
        return len(self.digits)

    def read_digits(self, start: int, count: int) -> str:
        """Up to ``count`` stored places from place ``start``; shorter where the store ends.

        :raises DigitsBeingRepaired: if they lie in a damaged block (now being recomputed).
        """
        with self._repairing_damage():
            text = self.digits.read(start, count)
            if len(text) < count and self.catch_up is not None and self.catch_up():
                text = self.digits.read(start, count)  # another machine had published more
            return text

    def task_digits(self, task: Task, start: int, count: int) -> str:
        """Places ``start``.. of a done task's n places (never past n).

        :raises DigitsUnavailable: if the task is not done, its digits are gone or being repaired.
        """
        n = self._check_digits_of(task)
        wanted = min(count, n - start + 1)
        with self._repairing_damage():
            text = self.digits.read(start, wanted)
        if len(text) < wanted:  # the store was cut back since the check
            self._check_digits_of(task)  # says why (or it has grown back: read again)
            with self._repairing_damage():
                text = self.digits.read(start, wanted)
        return text

    def pi_file(self, task: Task) -> tuple[BinaryIO, int]:
        """An open file whose first bytes are "3." and the task's n places, and how many bytes that is.

        :raises DigitsUnavailable: if the task is not done, its digits are gone or being repaired.
        """
        n = self._check_digits_of(task)
        with self._repairing_damage():
            try:
                return self.digits.open_text(n), n + 2
            except LookupError:  # the store was cut back since the check
                self._check_digits_of(task)  # says why
                raise DigitsGone(N_("These digits are no longer stored on this server; submit n again.")) from None

    def repair_digits(self) -> None:
        """Cut the digit store back to its good blocks and queue a task to recompute the rest."""
        before, kept = self.digits.repair()
        if kept < before:
            self.store.create(before)
            self.runner.wake()

    def check_stored_digits(self) -> None:
        """Check every stored block (in the background at start-up) and repair what fails."""
        if self.digits.damaged_from() is not None:
            self.repair_digits()

    @contextmanager
    def _repairing_damage(self) -> Iterator[None]:
        try:
            yield
        except DigitsDamaged:
            self.repair_digits()
            raise DigitsBeingRepaired() from None

    def engine(self) -> dict[str, Any]:
        """Which engine computes, and this server's limits (cheap: loads no engine)."""
        engine = expected_engine()
        runner = self.runner.describe()
        return {
            "build": engine.build,
            "name": engine.name,
            "max_n": self.max_n,
            "stored_places": self.stored_places(),
            "workers": runner["workers"],
            "runs_tasks": runner.get("runs_tasks", True),
            **({"note": runner["note"]} if "note" in runner else {}),
        }

    def _check_digits_of(self, task: Task) -> int:
        n = int(task["n"])
        if task["radix"] != DECIMAL:
            raise HexTask(
                N_(
                    "Task {task_id} asked for hexadecimal place {n}: its hex digits are in the task's "
                    "hex_digits, and GET /api/pi?radix=16 serves hex places."
                ),
                task_id=task["id"],
                n=n,
            )
        if task["status"] != DONE:
            raise TaskNotDone(
                N_("Task {task_id} is {status}; its digits are ready when it is done."),
                task_id=task["id"],
                status=task["status"],
            )
        if not self._covers(n):
            computing = self.store.computing_or_queued_at_least(n)
            if computing is not None:
                raise DigitsGone(
                    N_("These digits are being recomputed by task {task_id}; they are back when it is done."),
                    task_id=computing["id"],
                )
            raise DigitsGone(N_("These digits are no longer stored on this server; submit n again."))
        return n


def describe(task: Task, now: float | None = None) -> dict[str, Any]:
    """A task as people and scripts see it (JSON-ready).

    Progress is what the worker last reported. When that report is not fresh
    (a phase that cannot report, such as FLINT's one-call pi or the decimal
    conversion), it is extrapolated at the rate the time estimate predicts, up
    to the end of the phase, and flagged as an estimate.
    """
    now = time.time() if now is None else now
    progress = float(task["progress"] or 0.0)
    estimated = False
    end = phase_end(task["phase"])
    since_report = now - (task["updated_at"] or now)
    if task["status"] == RUNNING and task["estimate_seconds"] and end is not None and since_report > FRESH_SECONDS:
        guess = min(end, progress + since_report / max(task["estimate_seconds"], 0.001))
        if guess > progress:
            progress, estimated = guess, True
    started, finished = task["started_at"], task["finished_at"]
    return {
        "id": task["id"],
        "n": task["n"],
        "radix": task["radix"],
        "status": task["status"],
        "phase": task["phase"],
        "progress": round(progress, 4),
        "progress_is_estimate": estimated,
        "digit": task["digit"],
        # A hex task: the 14 hex digits from place n.
        **({"hex_digits": task["hex_digits"]} if task["radix"] != DECIMAL else {}),
        "error": task["error"],
        "created_at": _iso(task["created_at"]),
        "started_at": _iso(started),
        "finished_at": _iso(finished),
        "seconds": round(finished - started, 3) if started and finished else None,
        "url": f"/task/{task['id']}",
        # Scaled out: the Celery worker that ran (or runs) it, "pi-<pid>@<host>".
        "worker": owner.split("/")[0] if (owner := task["lease_owner"]) else None,
    }


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1000):03d}Z"
