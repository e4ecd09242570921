"""Search: places and counts against the reference digits, the index and the scan agreeing, bad input refused."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path
from typing import Any

import pytest

from compute.digit_search import DigitText
from compute.digit_search import SearchIndex
from compute.digit_search import chance
from compute.digit_store import DigitStore
from tasks.digits.search import DigitSearch
from tests.conftest import service_of


def places_of(text: str, pattern: str) -> list[int]:
    """Every place where ``pattern`` starts in ``text`` (place 1 first), overlapping ones too: the plain way."""
    return [found.start() + 1 for found in re.finditer(f"(?={pattern})", text)]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, reference_digits: str) -> tuple[SearchIndex, DigitText]:
    built = SearchIndex(tmp_path_factory.mktemp("index"))
    built.build(reference_digits.encode("ascii"))
    return built, DigitText(reference_digits.encode("ascii"), 0, len(reference_digits))


def _queries(reference_digits: str) -> list[str]:
    draw = random.Random(14159)
    drawn = []
    for length in (1, 2, 3, 4, 5, 6, 7, 8, 12, 40, 120):
        start = draw.randrange(0, len(reference_digits) - length)
        drawn.append(reference_digits[start : start + length])
    return ["14159", "999999", "9999999", "0", "00", "31415926", "271828", "1" * 9, *drawn]


def test_the_index_finds_every_place_the_reference_has(
    index: tuple[SearchIndex, DigitText], reference_digits: str
) -> None:
    built, text = index
    for query in _queries(reference_digits):
        expected = places_of(reference_digits, query)
        found = built.find(query, text, limit=25)
        assert found.count == len(expected), query
        assert found.positions == expected[:25], query
        assert found.searched == len(reference_digits)


def test_a_match_at_the_first_and_the_last_places(tmp_path: Path) -> None:
    text = "1415926535897932384626433832795028841971"
    built = SearchIndex(tmp_path)
    built.build(text.encode())
    assert built.find("14159", DigitText(text.encode(), 0, len(text)), 3).positions == [1]
    assert built.find("1971", DigitText(text.encode(), 0, len(text)), 3).positions == [37]  # the last places


def test_a_scan_past_the_index_counts_the_rest(tmp_path: Path, reference_digits: str) -> None:
    store = DigitStore(tmp_path)
    store.extend(reference_digits[:200_000])
    search = DigitSearch(store, index_places=50_000, scan_chunk=7_777)
    for query in ("14159", "999", "9999", "0", "8214808651"):
        expected = places_of(reference_digits[:200_000], query)
        indexed = search.indexed(query, 5)
        assert indexed.searched == 50_000
        assert indexed.count == len([place for place in expected if place + len(query) - 1 <= 50_000])
        everywhere = search.everywhere(query, 300)
        assert everywhere is not None and everywhere.searched == 200_000
        assert everywhere.count == len(expected), query
        assert everywhere.positions == expected[:300], query


def test_a_cancelled_scan_gives_nothing(tmp_path: Path, reference_digits: str) -> None:
    store = DigitStore(tmp_path)
    store.extend(reference_digits[:100_000])
    search = DigitSearch(store, index_places=10_000, scan_chunk=10_000)
    seen: list[int] = []

    def stop_after_three(done: int, _total: int) -> bool:
        seen.append(done)
        return len(seen) < 3

    assert search.everywhere("14159", 5, stop_after_three) is None
    # The index covers 10,000 places; the scan starts 4 before its end (a match may straddle it).
    assert seen == [19_996, 29_996, 39_996]


def test_the_index_grows_with_the_store(tmp_path: Path, reference_digits: str) -> None:
    store = DigitStore(tmp_path)
    search = DigitSearch(store)
    assert search.indexed("999999", 5).positions == []
    store.extend(reference_digits[:1_000])
    assert search.indexed("999999", 5).positions == [762]
    store.extend(reference_digits[:300_000])
    assert search.indexed("999999", 5).positions == [762, 193_034]


def test_a_broken_index_file_is_not_used(tmp_path: Path, reference_digits: str) -> None:
    store = DigitStore(tmp_path)
    store.extend(reference_digits[:10_000])
    search = DigitSearch(store)
    assert search.indexed("999999", 5).positions == [762]
    positions = tmp_path / "search-index" / "positions.u32"
    positions.write_bytes(positions.read_bytes()[:-4])  # one place short: rebuilt, not trusted
    fresh = DigitSearch(store)
    assert fresh.indexed("999999", 5).positions == [762]


def test_chance_is_what_random_digits_would_give() -> None:
    odds = chance(6, 1_000_000)
    assert odds.expected == pytest.approx((1_000_000 - 5) / 10**6)
    assert odds.probability == pytest.approx(1 - (1 - 1e-6) ** (1_000_000 - 5))
    assert chance(1, 1).expected == pytest.approx(0.1) and chance(1, 1).probability == pytest.approx(0.1)
    tiny = chance(120, 200_000_000)
    assert tiny.probability == pytest.approx(2e8 * 1e-120, rel=1e-6) and tiny.probability > 0
    assert chance(7, 0) == chance(7, 3)  # fewer places than digits: no room for it
    assert math.isclose(chance(2, 100).expected, 0.99)


def test_api_search_gives_places_count_and_odds(make_app: Any, reference_digits: str) -> None:
    app = make_app(SEARCH_INDEX_PLACES=100_000)
    service_of(app).digits.extend(reference_digits)
    client = app.server.test_client()
    answer = client.get("/api/search?q=999999&limit=5").get_json()
    assert answer["first"] == 762 and answer["positions"] == places_of(reference_digits, "999999")[:5]
    assert answer["count"] == len(places_of(reference_digits, "999999"))
    assert answer["searched"] == 1_000_000
    assert answer["expected"] == pytest.approx(chance(6, 1_000_000).expected)
    missing = client.get("/api/search?q=0123456789012").get_json()
    assert missing["first"] is None and missing["count"] == 0 and missing["searched"] == 1_000_000


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Type the digits"),
        ("14a59", "digits 0-9 only"),
        ("١٢٣", "digits 0-9 only"),
        ("1" * 121, "at most 120 digits at a time; that was 121"),
        ("-14", "digits 0-9 only"),
    ],
)
def test_api_search_refuses_what_is_not_digits(client: Any, query: str, message: str) -> None:
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_api_search_takes_120_digits_and_checks_its_limit(client: Any) -> None:
    assert client.get("/api/search", query_string={"q": "1" * 120}).status_code == 200
    assert client.get("/api/search?q=1&limit=1001").status_code == 400
    assert client.get("/api/search?q=1&limit=x").status_code == 400
