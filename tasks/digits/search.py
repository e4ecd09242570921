"""Search the stored digits: the index answers for the first INDEX_PLACES places, a scan counts the rest.

The index (compute/digit_search.py) lives beside the digit store and is
extended when the store has grown past it: at once while that is small, in a
background thread when it is large (meanwhile the older index answers, and
the answer says how far it searched). Every position given out is read back
through the digit store, which checks its blocks: a damaged store never
yields a wrong place.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from compute.digit_search import DigitText
from compute.digit_search import Found
from compute.digit_search import SearchIndex
from compute.digit_search import scan
from compute.digit_store import DigitStore

INDEX_PLACES = 200_000_000  # Pi-Search's range; 800 MB of index
BUILD_AT_ONCE_BELOW = 10_000_000  # about a second to index: the first search waits for it
SCAN_CHUNK = 10_000_000
_HEADER = 2  # the digit file starts with "3."

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchResult:
    """A string's first places (checked), how often it occurs in the places searched, and how many those were."""

    query: str
    positions: list[int]
    count: int
    searched: int
    stored: int


class DigitSearch:
    """The index of a digit store, kept up to date, and scans past it."""

    def __init__(self, digits: DigitStore, index_places: int = INDEX_PLACES, scan_chunk: int = SCAN_CHUNK) -> None:
        self.digits = digits
        self.index_places = index_places
        self.scan_chunk = scan_chunk
        self.index = SearchIndex(digits.folder / "search-index")
        self._lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._mapped: tuple[tuple[int, int], DigitText] | None = None

    def indexed(self, query: str, limit: int) -> SearchResult:
        """Where ``query`` occurs among the indexed places (milliseconds)."""
        stored = len(self.digits)
        self._keep_index_up_to_date(stored)
        found = self.index.find(query, self._text(), limit)
        return self._checked(query, found, stored)

    def everywhere(
        self, query: str, limit: int, on_progress: Callable[[int, int], bool] | None = None
    ) -> SearchResult | None:
        """Where ``query`` occurs in all stored places: the index, then a scan of the rest.

        :param on_progress: told (places searched, places to search) after each chunk; False cancels.
        :returns: None if cancelled.
        """
        first = self.indexed(query, limit)
        stored = len(self.digits)
        if first.searched >= stored:
            return first
        cancelled = False

        def progress(last_place: int) -> bool:
            nonlocal cancelled
            cancelled = on_progress is not None and not on_progress(last_place, stored)
            return not cancelled

        # The scan starts where a match could begin past the indexed ones: len - 1 places before the end.
        start = max(1, first.searched - len(query) + 2)
        wanted = max(0, limit - len(first.positions))
        count, positions = scan(self.digits.read, query, start, stored, self.scan_chunk, progress, wanted)
        if cancelled:
            return None
        return SearchResult(
            query,
            (first.positions + self._checked_positions(query, positions))[:limit],
            first.count + count,
            stored,
            stored,
        )

    def _checked(self, query: str, found: Found, stored: int) -> SearchResult:
        return SearchResult(query, self._checked_positions(query, found.positions), found.count, found.searched, stored)

    def _checked_positions(self, query: str, positions: list[int]) -> list[int]:
        # Read through the digit store (it verifies the blocks): a position whose digits do not
        # read back as the query is a fault of the index or the mapping, and is not given out.
        return [place for place in positions if self.digits.read(place, len(query)) == query]

    def _text(self) -> DigitText:
        identity = _identity(self.digits)
        with self._lock:
            if self._mapped is None or self._mapped[0] != identity:
                self._mapped = (identity, _map(self.digits))
            return self._mapped[1]

    def _keep_index_up_to_date(self, stored: int) -> None:
        wanted = min(stored, self.index_places)
        if self.index.places >= wanted or wanted == 0:
            return
        if wanted < BUILD_AT_ONCE_BELOW:
            self._build(wanted)
            return
        with self._lock:
            if self._building is None or not self._building.is_alive():
                self._building = threading.Thread(
                    target=self._build, args=(wanted,), name="pi-search-index", daemon=True
                )
                self._building.start()

    def _build(self, places: int) -> None:
        with self._build_lock():
            self.index.reload()
            if self.index.places >= places:
                return  # another process built it meanwhile
            log.info("indexing the first %s places for search", f"{places:,}")
            self.index.build(self.digits.read(1, places).encode("ascii"))

    @contextmanager
    def _build_lock(self) -> Iterator[None]:
        # One builder at a time, across the web processes of a machine.
        self.index.folder.mkdir(parents=True, exist_ok=True)
        with (self.index.folder / "build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _identity(digits: DigitStore) -> tuple[int, int]:
    try:
        status = os.stat(digits.path)
    except FileNotFoundError:
        return (0, 0)
    return (status.st_ino, status.st_size)


def _map(digits: DigitStore) -> DigitText:
    places = len(digits)
    if places == 0:
        return DigitText(b"", 0, 0)
    with open(digits.path, "rb") as file:
        # The store is replaced (renamed over), never written in place: this mapping stays valid.
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    return DigitText(mapped, _HEADER, min(places, len(mapped) - _HEADER))
