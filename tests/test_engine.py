"""The digit engine against digits computed by independent programs."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import pytest

from compute import engine
from compute import native_pi
from compute.engine import pi_digits

# Where rounding and truncation differ (6), the Feynman point's six 9s
# (762-767) and its edges, and the first few places.
PLACES = [1, 2, 3, 6, 7, 761, 762, 766, 767, 768, 1000, 9999, 10_000, 123_457, 1_000_000]


@pytest.mark.parametrize("places", PLACES)
def test_digits_match_reference(places: int, reference_digits: str) -> None:
    assert pi_digits(places) == reference_digits[:places]


def test_pi_to_six_places_is_truncated_not_rounded(checkpoints: dict[str, Any]) -> None:
    case = checkpoints["truncation_check"]
    assert "3." + pi_digits(case["places"]) == case["truncated"] == "3.141592"


def test_feynman_point(checkpoints: dict[str, Any]) -> None:
    first = checkpoints["feynman_point"]["first_place"]
    digits = pi_digits(first + 5)
    assert digits[first - 1 :] == checkpoints["feynman_point"]["digits"] == "999999"
    assert pi_digits(first - 1)[-1] != "9"


@pytest.mark.parametrize("power", range(0, 7))
def test_digit_at_powers_of_ten(power: int, checkpoints: dict[str, Any]) -> None:
    place = 10**power
    assert pi_digits(place)[-1] == checkpoints["digit_at"][str(place)]


@pytest.mark.slow
def test_ten_million_places_hash(ten_million_places: str, checkpoints: dict[str, Any]) -> None:
    # Computed by the engine on two threads in the fixture, shared with the browser test that pages through them.
    assert ten_million_places[-20:] == checkpoints["window_ending_at"]["10000000"]
    assert hashlib.sha256(ten_million_places.encode()).hexdigest() == checkpoints["sha256_of_first"]["10000000"]


def test_reference_copy_is_intact(reference_digits: str, checkpoints: dict[str, Any]) -> None:
    # tests/reference is a copy of ../shared/reference: make sure it was not damaged.
    digest = hashlib.sha256(reference_digits.encode()).hexdigest()
    assert digest == checkpoints["sha256_of_first"]["1000000"]


@pytest.mark.parametrize("places", [0, -1])
def test_rejects_places_below_one(places: int) -> None:
    with pytest.raises(ValueError):
        pi_digits(places)


def test_a_ball_too_wide_to_pin_the_floor_gives_no_digits(reference_digits: str) -> None:
    # The proof at work: 30 bits short of what 1000 places need, the ball spans
    # many integers after scaling, so the engine must say so rather than guess.
    places = 1000
    short = math.ceil(places * math.log2(10)) - 30
    enough = math.ceil(places * math.log2(10)) + engine.GUARD_BITS
    if engine.USES_C_PATH:
        assert native_pi.pi_digits_at(places, short, 1, 0, 6, lambda phase, done: None).digits is None
        assert (
            native_pi.pi_digits_at(places, enough, 1, 0, 6, lambda phase, done: None).digits == reference_digits[:1000]
        )
    assert engine._pi_ball_and_floor(places, short)[1] is None
    assert str(engine._pi_ball_and_floor(places, enough)[1])[1:] == reference_digits[:1000]
