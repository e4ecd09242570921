"""The independent check: hex digits by Bellard's formula, and what happens when a check fails."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import gmpy2
import psutil
import pytest

import compute.engine
from compute.bbp import hex_digits_of
from compute.bbp import pi_hex_digits
from compute.bbp import pi_hex_fraction
from compute.digit_store import DigitStore
from compute.engine import CHECK_HEX_DIGITS
from compute.engine import CheckFailed
from compute.engine import pi_digits
from compute.engine_info import CHECK_KERNEL_LIBRARY
from tasks.records import DONE
from tasks.records import ERROR
from tasks.records import FINISHED
from tasks.runners.compute_process import run_task
from tasks.store.queries import TaskStore
from tests.conftest import service_of
from tests.conftest import stored
from tests.conftest import wait_for


def hex_from_decimal_reference(reference_digits: str, position: int, count: int = 6) -> str:
    """Hex places position+1.. of pi, from the decimal reference alone (exact integer arithmetic).

    GMP's integers (gmpy2): Python's own int() of 500,000 digits takes seconds.
    """
    # Enough decimal places for the bits wanted, and 30 more so the cut cannot carry into them.
    places = int((position + count) * 4 * 0.30103) + 30
    decimal = gmpy2.mpz("3" + reference_digits[:places])
    scaled = decimal * gmpy2.mpz(16) ** (position + count) // gmpy2.mpz(10) ** places
    return format(int(scaled % 16**count), f"0{count}x")


# The numpy implementation always; the C kernel too when `make native` built it.
IMPLEMENTATIONS = ["numpy", "kernel"] if CHECK_KERNEL_LIBRARY.exists() else ["numpy"]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
# 400,000: more terms than one numpy chunk holds.
@pytest.mark.parametrize("position", [0, 1, 7, 8, 1000, 99_999, 250_000, 400_000])
def test_bbp_agrees_with_the_reference(position: int, implementation: str, reference_digits: str) -> None:
    found = pi_hex_digits(position, use_kernel=implementation == "kernel")
    assert found == hex_from_decimal_reference(reference_digits, position)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("position", [0, 7, 99_999, 400_000])
def test_bbp_summed_in_shares_agrees_with_the_reference(
    position: int, parts: int, implementation: str, reference_digits: str
) -> None:
    # The check's helpers each sum a share of the terms (one a thread); the shares add up, mod 1.
    kernel = implementation == "kernel"
    fraction = sum(pi_hex_fraction(position, kernel, part, parts) for part in range(parts)) % 1.0
    assert hex_digits_of(fraction, 6) == hex_from_decimal_reference(reference_digits, position)


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
    assert failed["status"] == ERROR and "independent check" in str(failed["error"])
    assert len(digits) == 0


def test_a_killed_check_helper_is_noticed_and_the_check_still_runs() -> None:
    # Hex position 1,500,000: most of a second of work for the helper, killed at once.
    # Two helpers, each summing half the terms: one is killed, and its half is summed in the worker.
    spot = compute.engine._SpotCheck((1_500_000 + 8) * 4, helpers=2)
    killed = spot.helpers[1]
    assert len(spot.helpers) == 2 and killed.pid is not None
    os.kill(killed.pid, signal.SIGKILL)
    killed.join()
    assert killed.exitcode == -signal.SIGKILL  # killed before it could answer
    try:
        spot.expected = pi_hex_digits(spot.position, CHECK_HEX_DIGITS)
        spot.verify()  # returns: the worker checks for itself instead of waiting forever
        spot.expected = "000000"
        with pytest.raises(CheckFailed):
            spot.verify()  # and it really checks
    finally:
        spot.close()


@pytest.mark.slow
def test_a_task_whose_check_helper_is_killed_still_finishes(app: Any, checkpoints: dict[str, Any]) -> None:
    # 10^7 places, not 10^6: the helper must still be working when it is killed. It
    # lives as long as the computation beside it (1.3 s with `make native`, 5 s
    # without); at 10^6 the native build's 0.15 s was over, the helper a zombie,
    # before the test could find it.
    service = service_of(app)
    task_id = service.submit(10_000_000)["id"]
    worker = psutil.Process(wait_for(lambda: service.get(task_id)["worker_pid"], timeout=30))
    helper = wait_for(lambda: worker.children(), timeout=30)[0]
    assert helper.status() != psutil.STATUS_ZOMBIE
    helper.kill()
    done = wait_for(lambda: (t := service.get(task_id))["status"] in FINISHED and t, timeout=120)
    assert done["status"] == DONE and done["digit"] == checkpoints["digit_at"]["10000000"]
