"""Digit statistics: counts against a count of the reference, chi-square against hand-checked values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compute.digit_counts import DigitCounts
from compute.digit_counts import growth_points
from compute.digit_counts import uniformity
from compute.digit_store import DigitStore
from tests.conftest import service_of


def counted(text: str) -> list[int]:
    return [text.count(str(digit)) for digit in range(10)]


def test_counts_at_any_n_match_the_reference(tmp_path: Path, reference_digits: str) -> None:
    store = DigitStore(tmp_path)
    store.extend(reference_digits)
    counts = DigitCounts(store, block=1000)  # small blocks: many kept, and partial ones at each n
    for n in (1, 9, 10, 999, 1000, 1001, 12_345, 500_000, 999_999, 1_000_000):
        assert list(counts.counts(n)) == counted(reference_digits[:n]), n
    points = growth_points(777_777)
    assert points[:7] == [1, 2, 5, 10, 20, 50, 100] and points[-1] == 777_777
    assert [list(c) for c in counts.counts_at(points)] == [counted(reference_digits[:p]) for p in points]


def test_kept_counts_survive_a_restart_and_a_damaged_file_is_counted_again(
    tmp_path: Path, reference_digits: str
) -> None:
    store = DigitStore(tmp_path)
    store.extend(reference_digits[:50_000])
    assert list(DigitCounts(store, block=1000).counts(50_000)) == counted(reference_digits[:50_000])
    kept = tmp_path / "pi.counts.npy"
    blocks = np.load(kept)
    blocks[3, 0] += 1  # a count that no longer adds up to its block
    np.save(kept, blocks)
    assert list(DigitCounts(store, block=1000).counts(50_000)) == counted(reference_digits[:50_000])


@pytest.mark.parametrize(
    ("chi_square", "p_value"),
    # Upper tail of chi-square with 9 degrees of freedom, from printed tables (e.g. NIST/SEMATECH 1.3.6.7.4).
    [(16.919, 0.05), (21.666, 0.01), (8.343, 0.50), (4.168, 0.90)],
)
def test_the_p_value_matches_the_tables(chi_square: float, p_value: float) -> None:
    # Counts whose statistic is chi_square: one digit above its share, one below.
    n = 1_000_000
    delta = (chi_square * (n / 10) / 2) ** 0.5
    counts = np.full(10, n / 10)
    counts[0] += delta
    counts[1] -= delta
    found = uniformity(counts)
    assert found.chi_square == pytest.approx(chi_square, rel=1e-9)
    assert found.p_value == pytest.approx(p_value, abs=5e-4)


def test_chi_square_of_the_first_million_places_by_hand(reference_digits: str) -> None:
    counts = counted(reference_digits)
    by_hand = sum((count - 100_000) ** 2 / 100_000 for count in counts)
    found = uniformity(np.array(counts))
    assert found.chi_square == pytest.approx(by_hand)


def test_api_stats_gives_the_counts(make_app: Any, reference_digits: str) -> None:
    app = make_app()
    service_of(app).digits.extend(reference_digits[:200_000])
    client = app.server.test_client()
    answer = client.get("/api/stats?n=123456").get_json()
    assert answer["counts"] == {str(d): c for d, c in enumerate(counted(reference_digits[:123_456]))}
    assert answer["degrees_of_freedom"] == 9 and 0 <= answer["p_value"] <= 1
    assert client.get("/api/stats").get_json()["n"] == 200_000
    past = client.get("/api/stats?n=200001")
    assert past.status_code == 404 and "not stored" in past.get_json()["error"]
    assert client.get("/api/stats?n=abc").status_code == 400
    assert client.get("/api/stats?n=0").status_code == 400
