"""Hexadecimal places of pi from its decimal places (one big-number conversion).

Place p counts as in decimal: place 1 is the first hex digit after the point.
"""

from __future__ import annotations

import math

_HEX_PER_DECIMAL = math.log(10) / math.log(16)


def hex_from_decimal(decimal_places: str) -> str:
    """The hex places of pi that ``decimal_places`` (the decimal places from place 1) pin down.

    The decimal places truncate pi to within 10^-D, so the hex expansion they
    give is pi's own except where a carry could still reach it: the trailing
    run of F's and the digit before it are dropped.
    """
    if not decimal_places:
        return ""
    length = len(decimal_places)
    hex_places = int(length * _HEX_PER_DECIMAL)
    import flint  # here: loading it takes a good part of a second, which most callers never need

    # FLINT converts the text in quasi-linear time (Python's int() is quadratic and capped).
    truncated = flint.fmpz(decimal_places)
    scaled = truncated * flint.fmpz(16) ** hex_places // flint.fmpz(10) ** length
    text = f"{int(scaled):0{hex_places}X}"
    certain = len(text.rstrip("F")) - 1
    return text[: max(0, certain)]
