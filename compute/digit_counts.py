"""How often each digit 0-9 occurs in places 1..n, for any n, in milliseconds at 10^9.

The counts of every full block of BLOCK places are kept beside the digit store
(``pi.counts.npy``, made once from verified digits, extended as the store
grows), so places 1..n cost a sum of block counts and one count of at most
BLOCK places.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import mpmath
import numpy as np
import numpy.typing as npt

from compute.digit_store import DigitStore

BLOCK = 1_000_000  # places per kept count: powers of ten from 10^6 on fall on block edges
_ZERO = ord("0")

Counts = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Uniformity:
    """Pearson's chi-square test of "each digit is as likely": the statistic (9 degrees of freedom) and its p-value."""

    chi_square: float
    p_value: float


def count_digits(text: str | bytes) -> Counts:
    """How often each digit 0-9 occurs in ``text``."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    return np.bincount(np.frombuffer(raw, dtype=np.uint8) - _ZERO, minlength=10).astype(np.int64)


def uniformity(counts: Counts) -> Uniformity:
    """Chi-square of ``counts`` against 1/10 each, and the chance of one at least that large."""
    total = int(counts.sum())
    expected = total / 10
    chi_square = float(((counts - expected) ** 2).sum() / expected) if total else 0.0
    # The chi-square distribution's upper tail with 9 degrees of freedom: Q(9/2, x/2).
    p_value = float(mpmath.gammainc(4.5, chi_square / 2, mpmath.inf, regularized=True))
    return Uniformity(chi_square, p_value)


def growth_points(n: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to n, and n: where the convergence chart samples the shares."""
    points = []
    scale = 1
    while scale <= n:
        points += [step * scale for step in (1, 2, 5) if step * scale < n]
        scale *= 10
    return [*points, n]


class DigitCounts:
    """The kept block counts of a digit store, and the counts of places 1..n from them."""

    def __init__(self, digits: DigitStore, block: int = BLOCK) -> None:
        self._digits = digits
        self._block = block
        self._path = digits.folder / "pi.counts.npy"
        self._lock = threading.Lock()
        self._blocks: Counts | None = None

    def counts(self, n: int) -> Counts:
        """How often each digit occurs in places 1..n (all stored; DigitsDamaged if one is damaged)."""
        return self.counts_at([n])[0]

    def counts_at(self, places: list[int]) -> list[Counts]:
        """The counts of places 1..p for each p in ``places`` (ascending)."""
        cumulative = np.vstack([np.zeros(10, dtype=np.int64), np.cumsum(self._kept(max(places)), axis=0)])
        found: list[Counts] = []
        head: tuple[int, Counts] = (0, cumulative[0])  # counts of places 1..p for the last p read in block 0
        for place in places:
            full = place // self._block
            if full == 0:
                # Within the first block: count on from the previous point.
                done, so_far = head
                so_far = so_far + count_digits(self._digits.read(done + 1, place - done))
                head = (place, so_far)
                found.append(so_far)
                continue
            rest = place - full * self._block
            partial = count_digits(self._digits.read(full * self._block + 1, rest)) if rest else 0
            found.append(cumulative[full] + partial)
        return found

    def _kept(self, n: int) -> Counts:
        """Counts of every full block within places 1..n, counting the new ones now."""
        wanted = n // self._block
        with self._lock:
            blocks = self._blocks if self._blocks is not None else self._load()
            if len(blocks) < wanted:
                new = [
                    count_digits(self._digits.read(index * self._block + 1, self._block))
                    for index in range(len(blocks), wanted)
                ]
                blocks = np.vstack([blocks, *new])
                self._save(blocks)
            self._blocks = blocks
            return blocks[:wanted]

    def _load(self) -> Counts:
        empty = np.zeros((0, 10), dtype=np.int64)
        try:
            blocks = np.load(self._path, allow_pickle=False)
        except (OSError, ValueError):
            return empty
        # Derived data: a file that is not what this code writes is counted again.
        stored_blocks = len(self._digits) // self._block
        if blocks.ndim != 2 or blocks.shape[1] != 10 or not (blocks.sum(axis=1) == self._block).all():
            return empty
        return np.asarray(blocks[:stored_blocks], dtype=np.int64)

    def _save(self, blocks: Counts) -> None:
        draft = Path(f"{self._path}.{os.getpid()}.{threading.get_ident()}.npy")
        np.save(draft, blocks, allow_pickle=False)
        os.replace(draft, self._path)
