"""The digit engine: decimal digits of pi, truncated, with a proven error bound.

How it works: python-flint's ``arb.pi()`` returns a ball [m - r, m + r] that is
guaranteed to contain pi (FLINT computes it with the Chudnovsky series and
binary splitting, O(n log^3 n)). We multiply the ball by 10**n and take the
floor of every point in it. If the floor is the same integer everywhere in the
ball, that integer is floor(pi * 10**n) exactly, whatever rounding happened
inside FLINT: its decimal string is "3" followed by the first n places, cut,
never rounded. If the ball straddles an integer (it never has, but nothing
forbids it) we retry with more guard bits instead of guessing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import flint

# Extra binary places beyond the n decimal places asked for: enough that the
# ball is far narrower than one unit in the n-th place, so the floor is unique.
GUARD_BITS = 64
MAX_ATTEMPTS = 4

ENGINE_NAME = f"python-flint {flint.__version__} (arb, FLINT {flint.__FLINT_VERSION__})"

ProgressCallback = Callable[[str], None]


class AmbiguousFloor(ArithmeticError):
    """The error ball straddles an integer even with the largest guard tried."""


def pi_digits(places: int, on_phase: ProgressCallback | None = None) -> str:
    """Return the first ``places`` decimal places of pi, truncated, without "3.".

    ``pi_digits(6) == "141592"``: place 1 is "1", place 6 is "2".

    :param places: how many places after the decimal point, at least 1.
    :param on_phase: called with "computing" and "converting" as work starts.
    """
    if places < 1:
        raise ValueError("places must be at least 1")
    report = on_phase or (lambda phase: None)
    report("computing")
    guard = GUARD_BITS
    for _ in range(MAX_ATTEMPTS):
        floor = _floor_as_fmpz(places, guard)
        if floor is not None:
            report("converting")
            text = str(floor)
            return text[1:]  # drop the leading "3"
        guard *= 4
    raise AmbiguousFloor(f"could not pin down place {places} of pi")


def _floor_as_fmpz(places: int, guard_bits: int) -> flint.fmpz | None:
    # Stays an fmpz on purpose: FLINT's decimal conversion is subquadratic,
    # Python's int -> str is quadratic (and capped at 4300 digits by default).
    precision = math.ceil(places * math.log2(10)) + guard_bits
    old_precision = flint.ctx.prec
    try:
        flint.ctx.prec = precision
        scaled = flint.arb.pi() * flint.fmpz(10) ** places
        return scaled.floor().unique_fmpz()
    finally:
        flint.ctx.prec = old_precision
