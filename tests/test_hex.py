"""Hexadecimal places: Bellard's formula against published values and against the decimal reference."""

from __future__ import annotations

import random
import sys
from typing import Any

import pytest

from compute.hex_conversion import hex_from_decimal
from compute.hex_digits import hex_digits_at
from tests.conftest import service_of
from tests.conftest import wait_for

# Bailey, Borwein and Plouffe (Math. Comp. 66, 1997), table 3: the hex digits from each place.
PUBLISHED = {1: "243F6A8885A308", 1_000_000: "26C65E52CB4593", 10_000_000: "17AF5863EFED8D"}
DECIMAL_PLACES_USED = 100_000


@pytest.fixture(scope="module")
def hex_from_reference(reference_digits: str) -> str:
    """Hex places derived from the decimal reference with Python's own integers (no FLINT, no formula)."""
    sys.set_int_max_str_digits(0)
    decimal = reference_digits[:DECIMAL_PLACES_USED]
    hex_places = DECIMAL_PLACES_USED * 4 // 5  # below log(10)/log(16) = 0.83 places: a margin for carries
    scaled = int(decimal) * 16 ** (hex_places + 8) // 10**DECIMAL_PLACES_USED
    return f"{scaled:0{hex_places + 8}X}"[:hex_places]


@pytest.mark.parametrize("place", [1, 1_000_000])
def test_bellard_gives_the_published_hex_digits(place: int) -> None:
    assert hex_digits_at(place) == PUBLISHED[place]


@pytest.mark.full
def test_bellard_gives_the_published_hex_digits_at_ten_million() -> None:
    assert hex_digits_at(10_000_000) == PUBLISHED[10_000_000]


def test_bellard_agrees_with_the_decimal_reference_at_random_places(hex_from_reference: str) -> None:
    places = random.Random(16).sample(range(1, len(hex_from_reference) - 14), 12)
    for place in [1, 2, 3, *places]:
        assert hex_digits_at(place) == hex_from_reference[place - 1 : place + 13], place


def test_hex_derived_from_stored_decimals_matches_python_integers(
    reference_digits: str, hex_from_reference: str
) -> None:
    derived = hex_from_decimal(reference_digits[:DECIMAL_PLACES_USED])
    assert len(derived) >= len(hex_from_reference)
    assert derived.startswith(hex_from_reference)


@pytest.mark.parametrize("decimal", ["0999999999", "5", "0625", "9999", "1415926535897932384626433832795"])
def test_only_hex_places_no_carry_can_change_are_given(decimal: str) -> None:
    # The decimal places pin pi between x and x + 10^-D: what is given must be the hex of both.
    derived = hex_from_decimal(decimal)
    for numerator in (int(decimal), int(decimal) + 1):
        exact = f"{numerator * 16 ** len(decimal) // 10 ** len(decimal):0{len(decimal)}X}"
        assert exact.startswith(derived)
    assert len(derived) >= len(decimal) * 0.83 - 12


def test_api_serves_hex_places_from_the_stored_decimals(make_app: Any, reference_digits: str) -> None:
    app = make_app()
    service_of(app).digits.extend(reference_digits[:DECIMAL_PLACES_USED])
    client = app.server.test_client()
    first = client.get("/api/pi?radix=16&start=1&count=16").get_json()
    assert first["digits"] == "243F6A8885A308D3" and first["radix"] == 16
    at = client.get("/api/pi?radix=16&start=50000&count=14").get_json()
    assert at["digits"] == hex_digits_at(50_000)
    assert client.get("/api/pi?radix=16&start=1&count=1000").get_json()["count"] == 1000
    capped = client.get("/api/pi?radix=16&count=1001").get_json()  # at most 1,000 hex places a call
    assert (
        capped["count"] == 1000 and capped["digits"] == client.get("/api/pi?radix=16&count=1000").get_json()["digits"]
    )
    past = client.get("/api/pi?radix=16&start=90000")
    assert past.status_code == 404 and '"radix": 16' in past.get_json()["error"]
    assert client.get("/api/pi?radix=8").status_code == 400


def test_a_hex_task_is_answered_at_once_when_the_decimals_give_it(make_app: Any, reference_digits: str) -> None:
    app = make_app()
    service_of(app).digits.extend(reference_digits[:DECIMAL_PLACES_USED])
    response = app.server.test_client().post("/api/tasks", json={"n": 1000, "radix": 16})
    assert response.status_code == 201
    task = response.get_json()
    assert task["status"] == "done" and task["radix"] == 16
    assert task["hex_digits"] == hex_digits_at(1000) and task["digit"] == task["hex_digits"][0]


def test_a_hex_task_is_computed_by_bellards_formula(any_client: Any) -> None:
    response = any_client.post("/api/tasks", json={"n": 1_000_000, "radix": "16"})
    assert response.status_code == 201, response.get_json()
    task_id = response.get_json()["id"]
    done = wait_for(lambda: (t := any_client.get(f"/api/tasks/{task_id}").get_json())["status"] == "done" and t)
    assert done["hex_digits"] == PUBLISHED[1_000_000] and done["digit"] == "2"
    download = any_client.get(f"/api/tasks/{task_id}/pi.txt")
    assert download.status_code == 409 and "hexadecimal" in download.get_json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"n": 5, "radix": 8}, "radix must be 10"),
        ({"n": 5, "radix": True}, "radix must be 10"),
        ({"n": 5, "radix": 16.0}, "radix must be 10"),
        ({"n": 1_000_000_001, "radix": 16}, "at most 1,000,000,000"),
        ({"n": 0, "radix": 16}, "at least 1"),
    ],
)
def test_bad_hex_requests_are_refused_with_a_message(client: Any, body: dict[str, Any], message: str) -> None:
    before = client.get("/api/tasks").get_json()["total"]
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]
    assert client.get("/api/tasks").get_json()["total"] == before
