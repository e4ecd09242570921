"""The JSON API, as a script sees it."""

from __future__ import annotations

from typing import Any

import pytest

from config import SETTINGS
from tests.conftest import wait_for


def test_submit_returns_201_and_the_task(any_client: Any) -> None:
    response = any_client.post("/api/tasks", json={"n": 6})
    assert response.status_code == 201
    task = response.get_json()
    assert task["n"] == 6 and task["status"] in {"queued", "running", "done"}
    assert response.headers["Location"].endswith(f"/api/tasks/{task['id']}")
    done = wait_for(lambda: (t := any_client.get(f"/api/tasks/{task['id']}").get_json())["status"] == "done" and t)
    assert done["digit"] == "2"
    assert done["url"] == f"/task/{task['id']}"


def test_known_digit_is_answered_in_the_submit_response(any_client: Any) -> None:
    first = any_client.post("/api/tasks", json={"n": 100}).get_json()
    wait_for(lambda: any_client.get(f"/api/tasks/{first['id']}").get_json()["status"] == "done")
    again = any_client.post("/api/tasks", json={"n": 762})
    assert again.status_code == 201
    assert again.get_json()["status"] == "done" and again.get_json()["digit"] == "9"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"n": 0}, "at least 1"),
        ({"n": -5}, "at least 1"),
        ({"n": 2.5}, "fractional part"),
        ({"n": "1e3"}, "scientific notation"),
        ({"n": "abc"}, "not one"),
        ({"n": "١٢٣"}, "digits 0-9"),
        ({"n": 10**12}, "at most"),
        ({"n": None}, "Enter n"),
        ({"n": "1'; DROP TABLE tasks; --"}, "not one"),
        ({"m": 6}, "JSON object"),
        ([6], "JSON object"),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_stores_nothing(client: Any, body: Any, message: str) -> None:
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert client.get("/api/tasks").get_json()["total"] == 0


def test_not_json_is_a_400(client: Any) -> None:
    response = client.post("/api/tasks", data="n=6", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]


def test_list_is_paginated_newest_first(any_client: Any) -> None:
    ids = [any_client.post("/api/tasks", json={"n": n}).get_json()["id"] for n in range(1, 6)]
    page = any_client.get("/api/tasks?limit=2&offset=1").get_json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [task["id"] for task in page["tasks"]] == [ids[3], ids[2]]
    assert any_client.get("/api/tasks?limit=0").status_code == 400
    assert any_client.get("/api/tasks?limit=abc").status_code == 400


def test_unknown_task_is_a_404(client: Any) -> None:
    response = client.get("/api/tasks/999")
    assert response.status_code == 404 and "no task 999" in response.get_json()["error"]
    assert client.delete("/api/tasks/999").status_code == 404


def test_cancel_and_cancel_again(make_app: Any) -> None:
    client = make_app(START_RUNNER=False).server.test_client()
    task = client.post("/api/tasks", json={"n": 60_000_000}).get_json()
    response = client.delete(f"/api/tasks/{task['id']}")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    again = client.delete(f"/api/tasks/{task['id']}")
    assert again.status_code == 409 and "already finished" in again.get_json()["error"]


def test_pi_digits_endpoint(any_client: Any, reference_digits: str) -> None:
    assert any_client.get("/api/pi?start=1&count=5").status_code == 404  # nothing computed yet
    task = any_client.post("/api/tasks", json={"n": 20_000}).get_json()
    wait_for(lambda: any_client.get(f"/api/tasks/{task['id']}").get_json()["status"] == "done")
    body = any_client.get("/api/pi?start=762&count=6").get_json()
    assert body["digits"] == "999999" and body["start"] == 762 and body["count"] == 6
    assert body["stored"] >= 20_000
    assert any_client.get("/api/pi?start=19991&count=10").get_json()["digits"] == reference_digits[19990:20000]
    assert any_client.get("/api/pi?start=0").status_code == 400
    assert any_client.get("/api/pi?count=2000000").status_code == 400


def test_download_streams_pi_to_n_places(any_client: Any, reference_digits: str) -> None:
    task = any_client.post("/api/tasks", json={"n": 54_321}).get_json()
    wait_for(lambda: any_client.get(f"/api/tasks/{task['id']}").get_json()["status"] == "done")
    response = any_client.get(f"/api/tasks/{task['id']}/pi.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert 'filename="pi-54321.txt"' in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == "3." + reference_digits[:54_321]


def test_download_of_unfinished_task_is_a_409(make_app: Any) -> None:
    client = make_app(START_RUNNER=False).server.test_client()
    task = client.post("/api/tasks", json={"n": 10}).get_json()
    response = client.get(f"/api/tasks/{task['id']}/pi.txt")
    assert response.status_code == 409 and "queued" in response.get_json()["error"]


def test_engine_says_which_build_computes(any_client: Any) -> None:
    body = any_client.get("/api/engine").get_json()
    assert body["build"] in {"native", "portable"}
    assert body["build"] in body["name"] and "FLINT" in body["name"]
    default_max_n = next(setting.default for setting in SETTINGS if setting.name == "MAX_N")
    assert body["max_n"] == default_max_n and body["workers"] == 2


def test_unknown_api_address_is_a_json_404(client: Any) -> None:
    response = client.get("/api/nothing/here")
    assert response.status_code == 404 and "no API endpoint" in response.get_json()["error"]
    assert client.put("/api/tasks/1/nothing", json={}).status_code == 404
