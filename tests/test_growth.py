"""The digit store as tasks grow it: every prefix stays the reference's prefix."""

from __future__ import annotations

from pathlib import Path

from compute.digit_store import DigitStore
from tasks.records import DONE
from tasks.runners.compute_process import run_task
from tasks.store.queries import TaskStore
from tests.conftest import stored


def test_growing_n_extends_the_store_in_rounded_steps(
    tmp_path: Path, sqlite_task_store: TaskStore, reference_digits: str
) -> None:
    tasks = sqlite_task_store
    digits = DigitStore(tmp_path / "digits")
    for n, stored_after in [(6, 10_000), (10_000, 10_000), (10_001, 11_000), (123_457, 130_000), (999_999, 1_000_000)]:
        task = tasks.create(n)
        tasks.claim_next()
        run_task(tasks, digits, task["id"], max_n=10**9)
        done = stored(tasks, task["id"])
        assert done["status"] == DONE and done["digit"] == reference_digits[n - 1]
        assert len(digits) == stored_after
        assert digits.read(1, stored_after) == reference_digits[:stored_after]


def test_growth_stops_at_the_maximum(tmp_path: Path, sqlite_task_store: TaskStore, reference_digits: str) -> None:
    tasks = sqlite_task_store
    digits = DigitStore(tmp_path / "digits")
    task = tasks.create(12_001)
    tasks.claim_next()
    run_task(tasks, digits, task["id"], max_n=12_345)
    assert len(digits) == 12_345
    assert digits.read(1, 12_345) == reference_digits[:12_345]
