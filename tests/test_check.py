"""The independent check: hex digits by Bellard's formula, and what happens when a check fails."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import compute.engine
from compute.bbp import pi_hex_digits
from compute.digit_store import DigitStore
from compute.engine import CheckFailed
from compute.engine import pi_digits
from compute.engine_info import CHECK_KERNEL_LIBRARY
from tasks.store import ERROR
from tasks.store import TaskStore
from tasks.worker import run_task
from tests.conftest import stored


def hex_from_decimal_reference(reference_digits: str, position: int, count: int = 6) -> str:
    """Hex places position+1.. of pi, from the decimal reference alone (exact integer arithmetic)."""
    # Enough decimal places for the bits wanted, and 30 more so the cut cannot carry into them.
    places = int((position + count) * 4 * 0.30103) + 30
    old_limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        decimal = int("3" + reference_digits[:places])
    finally:
        sys.set_int_max_str_digits(old_limit)
    scaled = decimal * 16 ** (position + count) // 10**places
    return format(scaled % 16**count, f"0{count}x")


# The numpy implementation always; the C kernel too when `make native` built it.
IMPLEMENTATIONS = ["numpy", "kernel"] if CHECK_KERNEL_LIBRARY.exists() else ["numpy"]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
# 400,000: more terms than one numpy chunk holds.
@pytest.mark.parametrize("position", [0, 1, 7, 8, 1000, 99_999, 250_000, 400_000])
def test_bbp_agrees_with_the_reference(position: int, implementation: str, reference_digits: str) -> None:
    found = pi_hex_digits(position, use_kernel=implementation == "kernel")
    assert found == hex_from_decimal_reference(reference_digits, position)


def test_bbp_known_start() -> None:
    assert pi_hex_digits(0, 8) == "243f6a88"


def test_a_failed_check_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compute.engine, "pi_hex_digits", lambda position, count: "000000")
    with pytest.raises(CheckFailed, match="formula says"):
        pi_digits(1000)


def test_a_failed_check_stores_nothing(
    tmp_path: Path, sqlite_task_store: TaskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = sqlite_task_store
    digits = DigitStore(tmp_path / "digits")
    task = tasks.create(500)
    tasks.claim_next()
    monkeypatch.setattr(compute.engine, "pi_hex_digits", lambda position, count: "abcdef")
    run_task(tasks, digits, task["id"], max_n=10**6)
    failed = stored(tasks, task["id"])
    assert failed["status"] == ERROR and "independent check" in failed["error"]
    assert len(digits) == 0
