"""Bad input gets a clear message; good input becomes n."""

from __future__ import annotations

import pytest

from compute.validation import InvalidN
from compute.validation import parse_n

MAX_N = 1_000_000


@pytest.mark.parametrize(
    ("raw", "n"),
    [("1", 1), ("6", 6), (" 1000 ", 1000), ("007", 7), (1000, 1000), (str(MAX_N), MAX_N)],
)
def test_accepts_whole_numbers(raw: object, n: int) -> None:
    assert parse_n(raw, MAX_N) == n


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "Enter n"),
        ("", "Enter n"),
        ("   ", "Enter n"),
        ("0", "at least 1"),
        (0, "at least 1"),
        ("-5", "at least 1"),
        (-5, "at least 1"),
        ("2.5", "fractional part"),
        (2.5, "fractional part"),
        (1e300, r"digits 0-9, not 1e\+300"),
        (2.0**53 + 2, "digits 0-9"),
        (-6.0, "at least 1"),
        ("6.0", "fractional part"),
        (float("inf"), "whole number"),
        (float("nan"), "whole number"),
        ("1e3", "scientific notation"),
        ("abc", "not one"),
        ("١٢٣", "digits 0-9"),
        ("１２３", "digits 0-9"),
        ("1 000", "digits 0-9"),
        ("1,000", "digits 0-9"),
        ("2,5", "digits 0-9"),
        ("1000001", "at most 1,000,000"),
        (10**30, "at most 1,000,000"),
        ("9" * 500, "far too large"),
        ("1; DROP TABLE tasks", "not one"),
        ("<script>alert(1)</script>", "not one"),
        (True, "not true or false"),
        ([6], "whole number"),
        ({"n": 6}, "whole number"),
    ],
)
def test_rejects_bad_input_with_a_message(raw: object, message: str) -> None:
    with pytest.raises(InvalidN, match=message):
        parse_n(raw, MAX_N)


def test_long_input_is_not_echoed_whole() -> None:
    with pytest.raises(InvalidN) as error:
        parse_n("x" * 10_000, MAX_N)
    assert len(str(error.value)) < 200


@pytest.mark.parametrize("raw", [6.0, 1e3, 2.0**53])
def test_a_json_number_with_nothing_after_the_point_is_a_whole_number(raw: float) -> None:
    # JSON has one kind of number (JSON Schema calls 6.0 an integer); exact in a float up to 2^53.
    assert parse_n(raw, 2**60) == int(raw)
