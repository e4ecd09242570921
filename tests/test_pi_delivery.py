"""Scripts written for Google's Pi Delivery API work against this server with only their base URL changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from compute.digit_store import DigitStore
from tests.servers import Server

# Published: the first hex digits of pi (OEIS A062964), 3 at position 0.
HEX_START = "3243f6a8885a308d313198a2e0370734"


def pi_delivery(base_url: str, start: int, number_of_digits: int | None = None, **extra: int | str) -> str:
    """A client the way public Pi Delivery scripts are written (requests, params, .json()['content'])."""
    params: dict[str, int | str] = {"start": start, **extra}
    if number_of_digits is not None:
        params["numberOfDigits"] = number_of_digits
    response = requests.get(f"{base_url}/v1/pi", params=params, timeout=10)
    response.raise_for_status()
    content: str = response.json()["content"]
    return content


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, reference_digits: str) -> Iterator[str]:
    """``make run``'s server (waitress) on a data folder holding the first 10^6 places."""
    data = tmp_path_factory.mktemp("pi-delivery") / "data"
    DigitStore(data / "digits").extend(reference_digits)
    server = Server(data, workers=1)
    server.env["PI_START_RUNNER"] = "false"
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def test_position_zero_is_the_three_then_the_places(base_url: str, reference_digits: str) -> None:
    assert pi_delivery(base_url, 0, 10) == "3141592653"
    assert pi_delivery(base_url, 1, 5) == "14159" == reference_digits[:5]
    assert pi_delivery(base_url, 0) == "3" + reference_digits[:99]  # 100 by default
    assert pi_delivery(base_url, 999_001, 1000) == reference_digits[999_000:]  # the last 1,000 stored
    assert pi_delivery(base_url, 762, 6) == "999999"  # the Feynman point


def test_hexadecimal_from_position_zero(base_url: str) -> None:
    assert pi_delivery(base_url, 0, 32, radix=16) == HEX_START
    assert pi_delivery(base_url, 1, 8, radix=16) == HEX_START[1:9]


@pytest.mark.parametrize(
    "params",
    [
        {"start": 0, "numberOfDigits": 0},
        {"start": 0, "numberOfDigits": 1001},
        {"start": -1, "numberOfDigits": 10},
        {"start": "abc"},
        {"start": 0, "numberOfDigits": 10, "radix": 8},
    ],
)
def test_out_of_range_input_is_400_with_a_message(base_url: str, params: dict[str, int | str]) -> None:
    response = requests.get(f"{base_url}/v1/pi", params=params, timeout=10)
    assert response.status_code == 400 and response.json()["error"]


def test_beyond_the_stored_places_is_404_naming_the_task_to_submit(base_url: str) -> None:
    response = requests.get(f"{base_url}/v1/pi", params={"start": 999_995, "numberOfDigits": 10}, timeout=10)
    assert response.status_code == 404
    assert 'POST /api/tasks {"n": 1000004}' in response.json()["error"]
    response = requests.get(f"{base_url}/v1/pi", params={"start": 0, "numberOfDigits": 1, "radix": 16}, timeout=10)
    assert response.json() == {"content": "3"} and response.headers["Access-Control-Allow-Origin"] == "*"
