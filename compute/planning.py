"""How many places to compute for a request, and how long that should take."""

from __future__ import annotations

import math

# Below this, computing is a few milliseconds: do at least this much at once.
SMALLEST_COMPUTATION = 10_000

# Seconds = C * n * log2(n)**2, fitted per engine build and thread count on this
# project's 2-core machine with bench/engine.py (see docs/performance.md). It
# includes the spot check, which runs beside the computation.
# 10^7 and 10^8 gave constants within 5% of each other for native (C path).
# The wheel's is fitted to whole tasks on an idle machine (docs/performance.md,
# "Estimates against measured times"): within 10% of 10^6 and 10^7.
# A task's process starts and loads FLINT and numpy before computing: 0.35 s.
_TASK_START_SECONDS = 0.35
_SECONDS_PER_UNIT = {("portable", 1): 1.25e-9, ("native", 1): 4.6e-10, ("native", 2): 2.6e-10}


def places_to_compute(n: int, max_n: int) -> int:
    """Round n up so that nearby requests share one computation.

    Rounds to two significant digits (at most 10% more work) and to at least
    SMALLEST_COMPUTATION, never past ``max_n``: a series of growing requests
    (1000, 1050, 1100, ...) then computes once instead of every time.
    """
    target = max(n, SMALLEST_COMPUTATION)
    step: int = 10 ** max(0, len(str(target)) - 2)
    rounded = -(-target // step) * step
    return max(n, min(rounded, max_n))


def estimated_seconds(places: int, threads: int = 1, build: str = "portable") -> float:
    """A rough wall-clock estimate for computing ``places`` digits from scratch.

    :param build: "native" or "portable", as compute.engine.BUILD says.
    """
    if places < 2:
        return 0.0
    key = (build, min(threads, 2)) if (build, min(threads, 2)) in _SECONDS_PER_UNIT else (build, 1)
    per_unit = _SECONDS_PER_UNIT.get(key, _SECONDS_PER_UNIT[("portable", 1)])
    return _TASK_START_SECONDS + per_unit * places * math.log2(places) ** 2


# One evaluation of Bellard's formula at hex place p takes about C * p seconds
# (bench/hex.py): numpy here, the C kernel with `make native`. A hex task makes
# three or four of them (compute/hex_digits.py). numpy's is fitted to whole hex
# tasks (docs/performance.md, "Estimates against measured times").
_HEX_SECONDS_PER_PLACE = {"portable": 5.3e-7, "native": 1.0e-7}
HEX_EVALUATIONS = 4


def estimated_hex_seconds(place: int, build: str = "portable") -> float:
    """A rough wall-clock estimate for the hex digits at ``place``, on one core."""
    return HEX_EVALUATIONS * _HEX_SECONDS_PER_PLACE.get(build, _HEX_SECONDS_PER_PLACE["portable"]) * place


# Peak resident memory of a fresh computation (the worker and its Bellard
# helper), measured on this project's machine, docs/performance.md, "Where the memory goes".
# The C path of `make native`: 5.9 GB at 10^9 places (bench/engine.py) and
# 17.3 GB at 3 x 10^9 (once; its products are capped at 2^25 FFT coefficients up
# to 10^9 places and grow with the numbers past it, compute/pi_native.c): the
# line through them, 5.7 bytes a place over 0.25 GB. Since then 10^9 places take
# 5.1 GB (the top merge's scratch halved, the division holding less); 3 x 10^9
# was not measured again, so the line stays, an upper bound at 10^9. Then the C
# path began to keep freed blocks for reuse, up to 640 MiB (compute/big_blocks.c):
# the base grew by as much, to 1 GiB: 10^8 places are then put at 1,568 MiB,
# where the bench measured 1,539 to 1,595. python-flint's arb.pi (the
# portable engine, and the native build without its C path) is not measured
# past 10^8 (0.8 GB): FLINT's one-piece products at 10^9 hold 8.6 GB of FFT
# scratch alone, so it keeps the older, safer 17 bytes a place.
_BYTES_PER_PLACE = {True: 5.7, False: 17.0}  # by whether the C path computes
_BASE_BYTES = {True: 2**30, False: 100 * 2**20}
# The line holds for the C path up to the largest n measured: past about
# 3.4 x 10^9 places its products' cap doubles again (4.3 GB more scratch), so
# PI_MAX_N's default goes no further without a measurement there.
_LARGEST_MEASURED = {True: 3 * 10**9, False: None}
# PI_MAX_N's default leaves this share of the machine's memory spare.
MEMORY_MARGIN = 0.25


def estimated_peak_bytes(places: int, c_path: bool = False) -> int:
    """A rough estimate of a worker's peak memory for computing ``places`` digits.

    :param c_path: whether the native build's C path computes (compute.engine_info.EngineInfo.c_path).
    """
    return int(_BASE_BYTES[c_path] + _BYTES_PER_PLACE[c_path] * places)


def _places_fitting(free_bytes: float, c_path: bool) -> float:
    # estimated_peak_bytes, inverted.
    return (free_bytes - _BASE_BYTES[c_path]) / _BYTES_PER_PLACE[c_path]


def largest_n_fitting(free_bytes: int, c_path: bool = False) -> int:
    """The largest n whose computation (rounded up, as places_to_compute does) is expected to fit in ``free_bytes``."""
    # places_to_compute rounds n up by at most 10%.
    return max(0, int(_places_fitting(free_bytes, c_path) / 1.1))


def default_max_n(total_bytes: int, c_path: bool = False) -> int:
    """PI_MAX_N's default: the largest n that fits in ``total_bytes`` with MEMORY_MARGIN to spare,
    rounded down to two significant digits (2,000,000,000 rather than 2,017,358,126), and not
    past the largest n the memory model was measured at."""
    # No allowance for places_to_compute's rounding up: it never goes past PI_MAX_N,
    # and a two-digit n is not rounded at all.
    fits = int(_places_fitting(total_bytes / (1 + MEMORY_MARGIN), c_path))
    step: int = 10 ** max(0, len(str(fits)) - 2)
    largest = _LARGEST_MEASURED[c_path]
    return max(1, min(fits // step * step, largest if largest is not None else fits))
