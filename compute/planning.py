"""How many places to compute for a request, and how long that should take."""

from __future__ import annotations

import math

# Below this, computing is a few milliseconds: do at least this much at once.
SMALLEST_COMPUTATION = 10_000

# Seconds = C * n * log2(n)**2 for the portable python-flint wheel, fitted on
# this project's 2-core machine (bench/engine.py): 10^6 in 0.3 s, 10^7 in 4.7 s.
_SECONDS_PER_UNIT = 8.7e-10


def places_to_compute(n: int, max_n: int) -> int:
    """Round n up so that nearby requests share one computation.

    Rounds to two significant digits (at most 10% more work) and to at least
    SMALLEST_COMPUTATION, never past ``max_n``: a series of growing requests
    (1000, 1050, 1100, ...) then computes once instead of every time.
    """
    target = max(n, SMALLEST_COMPUTATION)
    step = 10 ** max(0, len(str(target)) - 2)
    rounded = -(-target // step) * step
    return max(n, min(rounded, max_n))


def estimated_seconds(places: int) -> float:
    """A rough wall-clock estimate for computing ``places`` digits from scratch."""
    if places < 2:
        return 0.0
    return _SECONDS_PER_UNIT * places * math.log2(places) ** 2
