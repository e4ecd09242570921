"""Requests no page would send: each gets a clear 4xx (or 503 for a full disk), never a 500 or a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fill
from tests.conftest import service_of
from tests.conftest import small_disk

BIG = 2**63


def assert_nothing_stored(app: Any) -> None:
    assert service_of(app).count() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"n": 1e300}', "digits 0-9"),
        (b'{"n": 6.5}', "fractional part"),
        (b'{"n": true}', "not true or false"),
        (b'{"n": 1' + b"0" * 400 + b"}", "at most"),
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
        (b'{"n": 6', "JSON object"),
    ],
)
def test_bad_task_bodies_are_400(make_app: Any, body: bytes, message: str) -> None:
    app = make_app(START_RUNNER=False)
    response = app.server.test_client().post("/api/tasks", data=body, content_type="application/json")
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert_nothing_stored(app)


def test_a_body_over_64_kib_is_413(make_app: Any) -> None:
    app = make_app(START_RUNNER=False)
    client = app.server.test_client()
    for body in (b'{"n": 6, "pad": "' + b"x" * 70_000 + b'"}', b"[" * 100_000 + b"]" * 100_000):
        response = client.post("/api/tasks", data=body, content_type="application/json")
        assert response.status_code == 413 and "64 KiB" in response.get_json()["error"]
    assert_nothing_stored(app)


@pytest.mark.parametrize(
    ("method", "address", "status"),
    [
        ("get", f"/api/tasks/{BIG}", 404),
        ("delete", f"/api/tasks/{BIG}", 404),
        ("get", f"/api/tasks/{BIG}/pi.txt", 404),
        ("get", "/api/tasks/" + "9" * 5000, 404),
        ("get", "/api/tasks/0", 404),
        ("get", f"/api/tasks?offset={BIG}", 400),
        ("get", f"/api/tasks?offset={BIG - 1}", 200),
        ("get", "/api/tasks?limit=" + "5" * 5000, 400),
        ("get", "/api/tasks?limit=-1", 400),
        ("get", f"/api/pi?start={BIG}", 400),
        ("get", "/api/pi?start=" + "7" * 5000, 400),
        ("get", "/api/pi?count=" + "1" * 30, 400),
    ],
)
def test_numbers_out_of_range_are_json_4xx(client: Any, method: str, address: str, status: int) -> None:
    response = getattr(client, method)(address)
    assert response.status_code == status
    assert response.is_json
    if status != 200:
        assert response.get_json()["error"]


@pytest.fixture
def callback_client(make_app: Any, caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """A client for Dash's callback endpoint; no traceback may be logged meanwhile."""
    app = make_app(START_RUNNER=False)
    with caplog.at_level(logging.WARNING):
        yield app.server.test_client()
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert tracebacks == []


REFRESH = "..grid-updates.data...grid-seen.data.."
REFRESH_INPUTS = [
    {"id": "tasks-refresh", "property": "n_intervals", "value": 1},
    {"id": "tasks-changed", "property": "data", "value": None},
]
QUERY: dict[str, Any] = {"offset": 0, "limit": 50, "sort": "id", "descending": True, "statuses": None}
SHOWN: dict[str, Any] = {
    "query": QUERY,
    "ids": [],
    "running": False,
    "revision": 0,
    "fetch": "0",
}


def refresh_payload(shown: object, seen: object = None) -> dict[str, Any]:
    return {
        "output": REFRESH,
        "outputs": [{"id": "grid-updates", "property": "data"}, {"id": "grid-seen", "property": "data"}],
        "inputs": REFRESH_INPUTS,
        "changedPropIds": ["tasks-refresh.n_intervals"],
        "state": [
            {"id": "grid-shown", "property": "data", "value": shown},
            {"id": "grid-seen", "property": "data", "value": seen},
        ],
    }


def rows_payload(request: object) -> dict[str, Any]:
    return {
        "output": "..tasks-grid.getRowsResponse...grid-shown.data..",
        "outputs": [{"id": "tasks-grid", "property": "getRowsResponse"}, {"id": "grid-shown", "property": "data"}],
        "inputs": [{"id": "tasks-grid", "property": "getRowsRequest", "value": request}],
        "changedPropIds": ["tasks-grid.getRowsRequest"],
    }


def test_the_real_refresh_payload_is_answered(callback_client: Any) -> None:
    response = callback_client.post("/_dash-update-component", json=refresh_payload(SHOWN))
    assert response.status_code in (200, 204)


def test_the_real_rows_request_is_answered(callback_client: Any) -> None:
    request = {"startRow": 0, "endRow": 50, "sortModel": [{"colId": "n", "sort": "asc"}], "filterModel": {}}
    response = callback_client.post("/_dash-update-component", json=rows_payload(request))
    assert response.status_code == 200
    assert response.get_json()["response"]["tasks-grid"]["getRowsResponse"] == {"rowData": [], "rowCount": 0}


TASK_OUTPUTS = [("task-status", "children"), ("task-status-spoken", "children"), ("task-digit", "children")]
TASK_OUTPUTS += [("task-timings", "children")]
TASK_OUTPUTS += [("digits-area", "children"), ("task-refresh", "disabled")]


def task_refresh_payload(task_id: object, outputs: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "output": "".join(f"..{element}.{prop}." for element, prop in TASK_OUTPUTS) + ".",
        "outputs": [{"id": element, "property": prop} for element, prop in TASK_OUTPUTS]
        if outputs is None
        else outputs,
        "inputs": [{"id": "task-refresh", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["task-refresh.n_intervals"],
        "state": [{"id": "task-id", "property": "data", "value": task_id}],
    }


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"output": "no-such.children", "inputs": [], "changedPropIds": []},
        refresh_payload("not a page"),
        refresh_payload({**SHOWN, "query": {**QUERY, "sort": "digit; DROP TABLE tasks"}}),
        refresh_payload({**SHOWN, "query": {**QUERY, "limit": "all"}}),
        refresh_payload({**SHOWN, "query": {**QUERY, "statuses": ["lost"]}}),
        refresh_payload(SHOWN, seen="yesterday"),
        rows_payload({"startRow": -1, "endRow": 50}),
        rows_payload({"startRow": 0, "endRow": 10**6}),
        rows_payload({"startRow": 0, "endRow": 50, "sortModel": [{"colId": "digit", "sort": "asc"}]}),
        rows_payload({"startRow": 0, "endRow": 50, "filterModel": {"n": {"type": "equals", "filter": 5}}}),
        rows_payload({"startRow": 0, "endRow": 50, "filterModel": {"status": {"type": "regex", "filter": ".*"}}}),
        rows_payload({"startRow": 0.5, "endRow": 50}),
        rows_payload("everything"),
        task_refresh_payload(BIG * 4, outputs=[]),
        task_refresh_payload(BIG * 4),
        task_refresh_payload(12345),
        task_refresh_payload("1; DROP TABLE tasks"),
    ],
    ids=[
        "empty",
        "unknown-output",
        "shown-text",
        "sort-injection",
        "limit-text",
        "unknown-status",
        "seen-text",
        "rows-negative-start",
        "rows-a-million",
        "rows-sort-digit",
        "rows-filter-n",
        "rows-filter-regex",
        "rows-fraction",
        "rows-text",
        "wrong-outputs",
        "huge-task-id",
        "unknown-task",
        "task-id-text",
    ],
)
def test_crafted_callback_payloads_are_400(callback_client: Any, payload: dict[str, Any]) -> None:
    response = callback_client.post("/_dash-update-component", json=payload)
    assert response.status_code == 400
    assert "callback" in response.get_json()["error"]


def test_a_callback_body_that_is_not_json_is_400(callback_client: Any) -> None:
    response = callback_client.post("/_dash-update-component", data=b"{{{", content_type="application/json")
    assert response.status_code == 400


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system of the test's own (tmpfs), unmounted afterwards."""
    with small_disk(tmp_path / "tiny", "1m") as mount_point:
        yield mount_point


def test_a_full_disk_is_503_with_a_message_and_changes_nothing(make_app: Any, tiny_disk: Path) -> None:
    app = make_app(DATA_DIR=str(tiny_disk / "data"), START_RUNNER=False)
    client = app.server.test_client()
    assert client.post("/api/tasks", json={"n": 5}).status_code == 201
    fill(tiny_disk)
    for n in range(6, 1000):  # SQLite may fit a few rows in pages it already has
        response = client.post("/api/tasks", json={"n": n})
        if response.status_code != 201:
            break
    assert response.status_code == 503
    assert response.get_json() == {"error": "the server's disk is full"}
    (tiny_disk / "filler").unlink()
    # Space again: the app recovers by itself, and every stored task reads back.
    assert client.post("/api/tasks", json={"n": 7}).status_code == 201
    listing = client.get("/api/tasks?limit=1000").get_json()
    assert listing["total"] == len(listing["tasks"]) and json.dumps(listing)


@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("/", 200),
        ("/search?q=14159", 200),
        ("/digits?place=3", 200),
        ("/task/1", 200),
        ("/task/2", 404),
        ("/task/abc", 404),
        ("/task/99999999999999999999", 404),
        ("/no-such-page", 404),
        ("/404", 404),
    ],
)
def test_a_page_that_shows_not_found_answers_404(make_app: Any, address: str, status: int) -> None:
    # The same HTML either way (Dash draws the page in the browser); crawlers and monitors read the status.
    app = make_app(START_RUNNER=False)
    client = app.server.test_client()
    assert client.post("/api/tasks", json={"n": 5}).status_code == 201
    page = client.get(address)
    assert page.status_code == status and page.mimetype == "text/html" and b"react-entry-point" in page.data
