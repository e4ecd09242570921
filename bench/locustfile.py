"""Locust's visitors of the dashboard, as the browser and scripts use it (bench/load.py runs them).

    locust -f bench/locustfile.py --host http://127.0.0.1:8050      # Locust's own web UI
    python bench/load.py                                             # make bench-load: headless, both modes

Viewers open the main page (its HTML, Dash's layout and callbacks, the grid's first rows) and leave it
open: the live table's refresh callback once a second, fetching the rows again when the page's ids
change, exactly the requests the page sends (their bodies are the page's, as tests/test_bad_requests.py
also sends them). Fewer visitors submit tasks and read them, or search.
"""

from __future__ import annotations

import random
from typing import Any

from locust import HttpUser
from locust import between
from locust import constant_pacing
from locust import task

CALLBACK = "/_dash-update-component"
FIRST_ROWS = {"startRow": 0, "endRow": 50, "sortModel": [], "filterModel": {}}


def rows_request() -> dict[str, Any]:
    """The grid asking for its first page of rows."""
    return {
        "output": "..tasks-grid.getRowsResponse...grid-shown.data..",
        "outputs": [{"id": "tasks-grid", "property": "getRowsResponse"}, {"id": "grid-shown", "property": "data"}],
        "inputs": [{"id": "tasks-grid", "property": "getRowsRequest", "value": FIRST_ROWS}],
        "changedPropIds": ["tasks-grid.getRowsRequest"],
    }


def refresh_request(tick: int, shown: Any, seen: Any) -> dict[str, Any]:
    """The page's once-a-second question: what changed among the rows shown."""
    return {
        "output": "..grid-updates.data...grid-seen.data..",
        "outputs": [{"id": "grid-updates", "property": "data"}, {"id": "grid-seen", "property": "data"}],
        "inputs": [
            {"id": "tasks-refresh", "property": "n_intervals", "value": tick},
            {"id": "tasks-changed", "property": "data", "value": None},
        ],
        "changedPropIds": ["tasks-refresh.n_intervals"],
        "state": [
            {"id": "grid-shown", "property": "data", "value": shown},
            {"id": "grid-seen", "property": "data", "value": seen},
        ],
    }


class Viewer(HttpUser):
    """Someone with the main page open."""

    weight = 20
    wait_time = constant_pacing(1.0)

    def on_start(self) -> None:
        self.client.get("/", name="page /")
        self.client.get("/_dash-layout", name="page layout")
        self.client.get("/_dash-dependencies", name="page callbacks")
        self.tick, self.seen = 0, None
        self._fetch_rows()

    def _fetch_rows(self) -> None:
        answer = self.client.post(CALLBACK, json=rows_request(), name="grid rows").json()
        self.shown, self.seen = answer["response"]["grid-shown"]["data"], None

    @task
    def poll(self) -> None:
        self.tick += 1
        with self.client.post(
            CALLBACK, json=refresh_request(self.tick, self.shown, self.seen), name="poll", catch_response=True
        ) as answer:
            if answer.status_code == 204:  # nothing changed
                answer.success()
                return
            if answer.status_code != 200:
                answer.failure(f"status {answer.status_code}")
                return
            response = answer.json()["response"]
            self.seen = response.get("grid-seen", {}).get("data", self.seen)
            updates = response.get("grid-updates", {}).get("data")
        if updates and updates.get("refetch"):  # as the page does: the rows again
            self._fetch_rows()


class Submitter(HttpUser):
    """Someone who asks for digits and reads the answer."""

    weight = 1
    wait_time = between(2, 5)

    @task
    def submit_and_read(self) -> None:
        n = random.randint(1, 100_000)
        with self.client.post("/api/tasks", json={"n": n}, name="submit", catch_response=True) as answer:
            if answer.status_code == 429:  # a limit, answered as documented: not a failure of the server
                answer.success()
                return
            if answer.status_code != 201:
                answer.failure(f"status {answer.status_code}")
                return
            task_id = answer.json()["id"]
        self.client.get(f"/api/tasks/{task_id}", name="read task")


class Searcher(HttpUser):
    """Someone who looks for their birthday in pi."""

    weight = 1
    wait_time = between(2, 5)

    @task
    def search(self) -> None:
        query = f"{random.randint(1, 12):02d}{random.randint(1, 28):02d}"
        with self.client.get(f"/api/search?q={query}", name="search", catch_response=True) as answer:
            if answer.status_code in (200, 429):  # 429: the per-client limit, as documented
                answer.success()
            else:
                answer.failure(f"status {answer.status_code}")
