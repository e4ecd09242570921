"""Pi's hexadecimal places derived from the stored decimal places, kept in memory, for /api/pi?radix=16.

Deriving is one big-number conversion (about 1 s for 10^7 decimal places), done
on the first request and again when the store has grown; up to DERIVED_FROM
decimal places, so the copy stays small (8.3 MB) and the conversion short.
Places beyond it come from hex tasks (Bellard's formula).
"""

from __future__ import annotations

import threading

from compute.digit_store import DigitStore
from compute.hex_conversion import hex_from_decimal

DERIVED_FROM = 10_000_000


class HexExpansion:
    """The hex places that the stored decimal places pin down."""

    def __init__(self, digits: DigitStore, derived_from: int = DERIVED_FROM) -> None:
        self._digits = digits
        self._derived_from = derived_from
        self._lock = threading.Lock()
        self._source_length = 0
        self._hex = ""

    def read(self, start: int, count: int) -> str:
        """Up to ``count`` hex places from place ``start`` (1-based); shorter where the expansion ends."""
        text = self._current()
        return text[start - 1 : start - 1 + count]

    def places(self) -> int:
        """How many hex places are known."""
        return len(self._current())

    def _current(self) -> str:
        wanted = min(len(self._digits), self._derived_from)
        with self._lock:
            if wanted != self._source_length:
                # DigitsDamaged propagates: the service repairs, nothing is derived from bad digits.
                self._hex = hex_from_decimal(self._digits.read(1, wanted)) if wanted else ""
                self._source_length = wanted
            return self._hex
