"""Hexadecimal places of pi at any place, by Bellard's formula.

Place p counts as in decimal: place 1 is the first hex digit after the point
(pi = 3.243F6A88... in base 16, so place 1 is 2).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

from compute.bbp import has_kernel
from compute.bbp import pi_hex_fraction
from compute.validation import HEX_MAX_N
from compute.validation import HEX_WINDOW as WINDOW

# The formula's error grows with the place: about 1.2e-17 times the place in
# float64 (numpy), measured here from 10^3 to 10^6; less with the C kernel's
# long double. Ten times that is allowed for, and each evaluation yields as
# many hex places as keeps 16^places times the error below 1/40.
_ERROR_PER_PLACE = 1.2e-16
_LARGEST_PIECE = 8


class PrecisionLost(ArithmeticError):
    """Two evaluations of the formula disagree: no digit is given rather than a wrong one."""


def hex_digits_at(place: int, count: int = WINDOW, on_progress: Callable[[float], None] | None = None) -> str:
    """``count`` hex digits of pi from ``place`` (1-based), upper case, each one certain.

    Each evaluation gives 8 digits whose last may be off by one; the next
    evaluation, 8 places on, says what the carry into them is, so every
    digit returned is exact (and the two must agree to within rounding).
    """
    if not 1 <= place <= HEX_MAX_N:
        raise ValueError(f"hex place must be from 1 to {HEX_MAX_N:,}")
    piece = _piece(place + count)
    pieces = -(-count // piece)
    fractions = []
    for index in range(pieces + 1):
        fractions.append(pi_hex_fraction(place - 1 + index * piece))
        if on_progress is not None:
            on_progress((index + 1) / (pieces + 1))
    blocks = []
    for here, after in itertools.pairwise(fractions):
        scaled = here * 16**piece - after  # a whole number, up to rounding
        whole = round(scaled)
        if abs(scaled - whole) > 0.25:
            raise PrecisionLost(f"Bellard's formula lost precision at hex place {place:,}")
        blocks.append(f"{whole % 16**piece:0{piece}X}")
    return "".join(blocks)[:count]


def _piece(place: int) -> int:
    error = _ERROR_PER_PLACE * max(place, 1000) * (0.01 if has_kernel() else 1.0)
    return max(1, min(_LARGEST_PIECE, int(math.log(1 / (40 * error), 16))))
