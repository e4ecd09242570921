"""The task page's window of digits: the n-th place is always on it."""

from __future__ import annotations

import pytest

from dashboard.digits_view import GROUP
from dashboard.digits_view import WINDOW
from dashboard.digits_view import window_around
from dashboard.digits_view import window_ending_at


@pytest.mark.parametrize("n", [1, 6, 1999, 2000, 2001, 2009, 31_415, 10**7, 10**7 + 3])
def test_the_default_window_shows_place_n_and_starts_on_a_group(n: int) -> None:
    start = window_ending_at(n)
    assert start <= n <= start + WINDOW - 1
    assert (start - 1) % GROUP == 0
    assert start == 1 or n - start >= WINDOW - GROUP  # nearly a whole window of places before n


@pytest.mark.parametrize(("place", "n"), [(1, 31_415), (762, 31_415), (31_000, 31_415), (31_415, 31_415), (5, 9)])
def test_a_jump_shows_the_place_and_stops_at_n(place: int, n: int) -> None:
    start = window_around(place, n)
    assert start <= place <= start + WINDOW - 1
    assert start + WINDOW - 1 >= n or place + WINDOW // 2 <= start + WINDOW - 1
    assert (start - 1) % GROUP == 0
