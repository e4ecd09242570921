"""Where a string of digits occurs in pi's stored places: an index for the first places, a scan for the rest.

The index lists every place of the first ``places`` by the 5 digits starting
there (the places of each 5-digit key in order, and where each key's list
starts), in two files beside the digit store. A string of 5 or more digits is
then looked up among the places of its first 5 (about places / 100,000 of
them) and checked digit by digit; a shorter one is found by scanning from the
start (it occurs every 10^length places or so) and counted from the key lists.
At 2 * 10^8 places the index takes 800 MB on disk, mapped, not read.

Places beyond the index are counted by ``count_occurrences`` over chunks of
text (the search page's background count).
"""

from __future__ import annotations

import json
import math
import mmap
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from compute.messages import N_
from compute.messages import Explained

KEY_DIGITS = 5
KEYS = 10**KEY_DIGITS
LONGEST_QUERY = 120
_ZERO = ord("0")
_FORMAT = 1


class BadQuery(Explained, ValueError):
    """Not a string of 1 to LONGEST_QUERY ASCII digits."""


@dataclass(frozen=True)
class Found:
    """What the index says about a string: its first places, and how often it occurs in the places searched."""

    positions: list[int]
    count: int
    searched: int


@dataclass(frozen=True)
class Chance:
    """How many occurrences chance alone would give in the places searched, and the probability of at least one."""

    expected: float
    probability: float


def chance(length: int, places: int) -> Chance:
    """For a string of ``length`` digits in ``places`` random digits (as Pi-Search reports it)."""
    starts = max(0, places - length + 1)
    each = 10.0**-length
    expected = starts * each
    # 1 - (1 - 10^-L)^starts, without losing it to rounding when 10^-L is tiny.
    probability = -math.expm1(starts * math.log1p(-each)) if each < 1 else (1.0 if starts else 0.0)
    return Chance(expected, probability)


def check_query(query: object) -> str:
    """The query, if it is 1 to 120 ASCII digits and nothing else (the page strips what a person typed around them).

    :raises BadQuery: with a message for people.
    """
    if not isinstance(query, str) or not query.strip():
        raise BadQuery(N_("Type the digits to look for, such as 14159."))
    text = query
    if not (text.isascii() and text.isdigit()):
        raise BadQuery(N_("Search for digits 0-9 only, such as 14159."))
    if len(text) > LONGEST_QUERY:
        raise BadQuery(
            N_("Search for at most {most} digits at a time; that was {length}."), most=LONGEST_QUERY, length=len(text)
        )
    return text


def occurrences(text: bytes | DigitText, pattern: bytes, limit: int | None = None) -> list[int]:
    """Offsets in ``text`` where ``pattern`` starts, overlapping ones included ("99" twice in "999")."""
    found: list[int] = []
    start = text.find(pattern)
    while start >= 0 and (limit is None or len(found) < limit):
        found.append(start)
        start = text.find(pattern, start + 1)
    return found


def count_only(text: bytes, pattern: bytes) -> int:
    """How often ``pattern`` starts in ``text``, overlapping ones included."""
    if not _overlaps_itself(pattern):
        return text.count(pattern)  # no two occurrences can overlap: the fast count is exact
    return len(occurrences(text, pattern))


def _overlaps_itself(pattern: bytes) -> bool:
    return any(pattern[:size] == pattern[-size:] for size in range(1, len(pattern)))


class DigitText:
    """Places of pi in a buffer (a mapped digit file): place p is ``array[p - 1]``; find() as bytes.find."""

    def __init__(self, buffer: bytes | mmap.mmap, base: int, places: int) -> None:
        self._buffer = buffer
        self._base = base
        self.places = places
        self.array: npt.NDArray[np.uint8] = np.frombuffer(buffer, dtype=np.uint8, count=places, offset=base)

    def find(self, pattern: bytes, start: int = 0) -> int:
        """The first offset from ``start`` where ``pattern`` starts within the places, or -1."""
        found = self._buffer.find(pattern, self._base + start, self._base + self.places)
        return found - self._base if found >= 0 else -1


class SearchIndex:
    """The index of the first places of a digit file, kept in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._opened: tuple[int, npt.NDArray[np.uint32], npt.NDArray[np.uint64]] | None = None

    @property
    def places(self) -> int:
        """How many places the index covers (0 if none is built)."""
        opened = self._open()
        return opened[0] if opened else 0

    def build(self, digits: bytes | memoryview) -> None:
        """Index ``digits`` (place 1 first), replacing the index on disk."""
        places = len(digits)
        self.folder.mkdir(parents=True, exist_ok=True)
        values = np.frombuffer(digits, dtype=np.uint8)
        starts = max(0, places - KEY_DIGITS + 1)
        keys = np.zeros(starts, dtype=np.uint32)
        for offset in range(KEY_DIGITS):
            keys *= 10
            keys += values[offset : offset + starts] - _ZERO
        order = np.argsort(keys, kind="stable").astype(np.uint32)  # places of each key stay in order
        offsets = np.zeros(KEYS + 1, dtype=np.uint64)
        offsets[1:] = np.cumsum(np.bincount(keys, minlength=KEYS))
        del keys
        suffix = f".{os.getpid()}.{threading.get_ident()}"
        _write_array(self.folder / f"positions.u32{suffix}", order)
        _write_array(self.folder / f"offsets.u64{suffix}", offsets)
        (self.folder / f"meta.json{suffix}").write_text(json.dumps({"format": _FORMAT, "places": places}))
        # The metadata last: an index whose files do not all match it is not used.
        for name in ("positions.u32", "offsets.u64", "meta.json"):
            os.replace(self.folder / f"{name}{suffix}", self.folder / name)
        with self._lock:
            self._opened = None

    def find(self, query: str, text: DigitText, limit: int) -> Found:
        """The first ``limit`` places of ``query`` among the indexed places, and how often it occurs there.

        :param text: the digits, at least as many as are indexed.
        """
        opened = self._open()
        if opened is None:
            return Found([], 0, 0)
        places, positions, offsets = opened
        if text.places < places:
            return Found([], 0, 0)  # the store was cut back (a repair): the index no longer applies
        digits = text.array
        length = len(query)
        if length >= KEY_DIGITS:
            key = int(query[:KEY_DIGITS])
            candidates = positions[int(offsets[key]) : int(offsets[key + 1])].astype(np.int64)
            candidates = candidates[candidates + length <= places]
            for offset, digit in enumerate(query.encode("ascii")):
                if not len(candidates):
                    break
                candidates = candidates[digits[candidates + offset] == digit]
            return Found([int(place) + 1 for place in candidates[:limit]], len(candidates), places)
        # Short strings: every key that starts with them, and the last few places, where no key starts.
        low = int(query) * 10 ** (KEY_DIGITS - length)
        high = (int(query) + 1) * 10 ** (KEY_DIGITS - length)
        count = int(offsets[high] - offsets[low])
        tail = bytes(digits[max(0, places - KEY_DIGITS + 1) : places])
        count += len(occurrences(tail, query.encode("ascii")))
        first = [offset for offset in occurrences(text, query.encode("ascii"), limit) if offset + length <= places]
        return Found([offset + 1 for offset in first], count, places)

    def reload(self) -> None:
        """Read the index files again at the next use (another process may have rebuilt them)."""
        with self._lock:
            self._opened = None

    def _open(self) -> tuple[int, npt.NDArray[np.uint32], npt.NDArray[np.uint64]] | None:
        with self._lock:
            if self._opened is None:
                self._opened = self._read()
            return self._opened if self._opened and self._opened[0] else None

    def _read(self) -> tuple[int, npt.NDArray[np.uint32], npt.NDArray[np.uint64]] | None:
        try:
            meta = json.loads((self.folder / "meta.json").read_text())
            places = int(meta["places"]) if meta.get("format") == _FORMAT else 0
            positions = np.memmap(self.folder / "positions.u32", dtype=np.uint32, mode="r")
            offsets = np.memmap(self.folder / "offsets.u64", dtype=np.uint64, mode="r")
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if places < KEY_DIGITS or len(offsets) != KEYS + 1 or len(positions) != places - KEY_DIGITS + 1:
            return None  # not what build() writes: searched as if there were no index
        if int(offsets[-1]) != len(positions):
            return None
        return places, positions, offsets


def scan(
    read: Callable[[int, int], str],
    pattern: str,
    first: int,
    last: int,
    chunk: int,
    on_progress: Callable[[int], bool] | None = None,
    limit: int = 100,
) -> tuple[int, list[int]]:
    """Count ``pattern`` in places ``first``..``last`` read in chunks (each overlapping the next by len - 1).

    :param read: reads ``count`` places from a place (verified by the digit store).
    :param on_progress: told the last place scanned after each chunk; returning False stops the scan.
    :returns: how many occurrences, and where the first ``limit`` start.
    """
    needle = pattern.encode("ascii")
    total, positions = 0, list[int]()
    start = first
    while start <= last - len(needle) + 1:
        end = min(last, start + chunk - 1)
        text = read(start, end - start + 1 + len(needle) - 1)[: last - start + 1].encode("ascii")
        # Occurrences starting in start..end only, so none is counted twice.
        window = text[: end - start + len(needle)]
        if len(positions) < limit:
            positions += [start + offset for offset in occurrences(window, needle, limit - len(positions))]
        total += count_only(window, needle)
        start = end + 1
        if on_progress is not None and not on_progress(end):
            break
    return total, positions


def _write_array(path: Path, values: npt.NDArray[np.generic]) -> None:
    with path.open("wb") as out:
        values.tofile(out)
        out.flush()
        os.fsync(out.fileno())
