"""The memory model the runner admits tasks by, and PI_MAX_N's default drawn from it."""

from __future__ import annotations

import pytest

from compute.planning import MEMORY_MARGIN
from compute.planning import default_max_n
from compute.planning import estimated_peak_bytes
from compute.planning import largest_n_fitting
from compute.planning import places_to_compute

GIB = 2**30


@pytest.mark.parametrize("c_path", [True, False])
@pytest.mark.parametrize("total", [2 * GIB, 24 * GIB, 256 * GIB])
def test_default_max_n_is_the_largest_that_fits_with_a_quarter_to_spare(total: int, c_path: bool) -> None:
    n = default_max_n(total, c_path)
    step = 10 ** max(0, len(str(n)) - 2)  # two significant digits
    assert n % step == 0

    def needs(n: int, max_n: int) -> float:
        # What a task of n computes (rounded up, never past max_n, as the runner does), with the margin.
        return estimated_peak_bytes(places_to_compute(n, max_n), c_path) * (1 + MEMORY_MARGIN)

    assert needs(n, n) <= total and needs(n - 1, n) <= total
    # The next two-digit value up would not fit, or n is the largest the model was measured at.
    assert needs(n + step, n + step) > total or (c_path and n == 3 * 10**9)


def test_the_c_path_fits_more_places_than_python_flint() -> None:
    # The C path makes its largest products in pieces (docs/performance.md, "Where the memory goes").
    assert default_max_n(24 * GIB, c_path=True) > default_max_n(24 * GIB, c_path=False)
    assert estimated_peak_bytes(10**9, c_path=True) < 7 * 10**9  # measured: 5.9 GB
    assert largest_n_fitting(estimated_peak_bytes(10**9, c_path=True), c_path=True) < 10**9
