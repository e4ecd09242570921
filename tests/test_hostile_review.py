"""What a hostile review of the public server found (issue 26), each through the server users run.

One ``make run`` server (waitress, app.main) for the module, its compute processes held
(tests.held_server) so that no test waits on a computation: every request here is one a stranger can
send it, and each answer is what that stranger gets.
"""

from __future__ import annotations

import http.cookiejar
import json
import multiprocessing
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.store import schema
from tasks.store.tables import connect
from tests.conftest import HeldWorkers
from tests.conftest import wait_for
from tests.servers import Server

# Long enough that the window moves: three windows of 2,000 places.
N = 6_000


def call(server: Server, path: str, body: object = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Status and decoded JSON body of one request (POST when there is a body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}",
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("hostile")
    running = Server(folder / "data", workers=2, command=("-m", "tests.held_server"))
    running.env.update(PI_ADMIN_TOKEN="s3cret-token-for-tests", PI_QUEUED_SECONDS_PER_CLIENT="60")
    # Counts that scan (only the first 1,000 places indexed), each held 3 s: they run side by side.
    running.env.update(PI_TEST_SEARCH_SCAN_PAUSE="3", PI_SEARCH_INDEX_PLACES="1000")
    running.start()
    yield running
    running.stop()
    assert "Traceback" not in running.log.read_text()


def finished(server: Server, task_id: int) -> dict[str, Any]:
    """The task once it is done."""
    found: dict[str, Any] = wait_for(
        lambda: (task := call(server, f"/api/tasks/{task_id}")[1])["status"] == "done" and task, timeout=60
    )
    return found


@pytest.fixture(scope="module")
def done_task(server: Server) -> dict[str, Any]:
    status, task = call(server, "/api/tasks", {"n": N})
    assert status == 201
    HeldWorkers(server.data_dir).release(task["id"])
    return finished(server, task["id"])


def move_window(task_id: object, start: object, pressed: str = "window-next") -> dict[str, Any]:
    """The task page's request to move its window of digits, as the browser sends it."""
    outputs = [("window-view", "children"), ("window-start", "data"), ("window-label", "children")]
    outputs.append(("jump-message", "children"))
    buttons = [("window-previous", "n_clicks"), ("window-next", "n_clicks"), ("jump-button", "n_clicks")]
    buttons.append(("jump-input", "n_submit"))
    return {
        "output": "".join(f"..{element}.{prop}." for element, prop in outputs) + ".",
        "outputs": [{"id": element, "property": prop} for element, prop in outputs],
        "inputs": [
            {"id": element, "property": prop, "value": 1 if element == pressed else None} for element, prop in buttons
        ],
        "changedPropIds": [f"{pressed}.n_clicks"],
        "state": [
            {"id": "window-start", "property": "data", "value": start},
            {"id": "jump-input", "property": "value", "value": None},
            {"id": "task-id", "property": "data", "value": task_id},
        ],
    }


def test_row_8_a_crafted_window_start_is_400_not_a_traceback(server: Server, done_task: dict[str, Any]) -> None:
    status, moved = call(server, "/_dash-update-component", move_window(done_task["id"], 1))
    assert status == 200 and moved["response"]["window-start"]["data"] == 2_001
    for start in (10**30, -5, 0, N + 1, 1.5, "1", True, None):
        status, answer = call(server, "/_dash-update-component", move_window(done_task["id"], start))
        assert status == 400, (start, answer)
        assert "callback" in answer["error"]


@pytest.mark.parametrize("body", [{"n": 10**9}, {"n": 10**9, "radix": 16}])
def test_rows_6_and_7_a_task_no_wait_can_admit_is_422_and_says_so(server: Server, body: dict[str, int]) -> None:
    # 60 s of queued computing per client here: either task alone is far more, on any build.
    status, answer = call(server, "/api/tasks", body)
    assert status == 422 and "can never be admitted" in answer["error"] and "at most 60 s" in answer["error"]


def test_row_3_a_task_whose_places_another_is_computing_waits_for_it(
    server: Server, reference_digits: str, done_task: dict[str, Any]
) -> None:
    # Both plan 110,000 places (two significant digits); the older one is claimed first and held.
    workers = HeldWorkers(server.data_dir)
    first = call(server, "/api/tasks", {"n": 110_000})[1]
    second = call(server, "/api/tasks", {"n": 109_500})[1]
    workers.process(first["id"])
    workers.release(second["id"])  # its own computation starts at once ...

    def waiting() -> bool:
        task = call(server, f"/api/tasks/{second['id']}")[1]
        assert task["status"] == "running", f"it did not wait: {task}"
        return bool(task["phase"] == f"waiting for task {first['id']}")

    wait_for(waiting, timeout=30)  # ... and waits for the places the first is making
    workers.release(first["id"])
    for task, n in ((first, 110_000), (second, 109_500)):
        assert finished(server, task["id"])["digit"] == reference_digits[n - 1]


def count_from(page_session: str) -> dict[str, Any]:
    """The search page's "Count everywhere" click, from one page (each page load has its own session)."""
    return {**COUNT, "state": [{**COUNT["state"][0]}, {**COUNT["state"][1], "value": page_session}, COUNT["state"][2]]}


COUNT: dict[str, Any] = {
    "output": "search-count.children",
    "outputs": {"id": "search-count", "property": "children"},
    "inputs": [{"id": "search-button", "property": "n_clicks", "value": 1}],
    "state": [
        {"id": "search-input", "property": "value", "value": "14159"},
        {"id": "search-session", "property": "data", "value": "a-page"},
        {"id": "page-language", "property": "data", "value": "en"},
    ],
    "changedPropIds": ["search-button.n_clicks"],
}


def test_row_4_twenty_count_clicks_from_one_client_start_two_jobs(server: Server, done_task: dict[str, Any]) -> None:
    started = [call(server, "/_dash-update-component", count_from(f"tab-{tab}"))[1] for tab in range(20)]
    assert all("cacheKey" in job for job in started)
    running = [job for job in started if not job["job"].startswith("0~")]
    assert len(running) == 2  # PI_BACKGROUND_JOBS_PER_CLIENT; each job is a process scanning every place
    # Meanwhile another visitor's pages answer.
    assert call(server, "/api/tasks?limit=5")[0] == 200
    for tab, job in enumerate(started):
        if job in running:
            continue
        poll = f"/_dash-update-component?cacheKey={job['cacheKey']}&job={job['job']}"
        assert "The server is busy with other counts" in json.dumps(call(server, poll, count_from(f"tab-{tab}"))[1])


def page(server: Server, path: str, search: str) -> str:
    """The text of a page as Dash's router renders it for the browser (its layout's strings)."""
    status, routed = call(
        server,
        "/_dash-update-component",
        {
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": path},
                {"id": "_pages_location", "property": "search", "value": search},
            ],
            "changedPropIds": ["_pages_location.pathname"],
        },
    )
    assert status == 200
    return json.dumps(routed["response"]["_pages_content"]["children"], ensure_ascii=False)


@pytest.mark.parametrize("query", ["%2014159", "14159%20", "1%0A", "%091", "%EF%BC%91"])
def test_row_10_search_takes_ascii_digits_and_nothing_around_them(
    server: Server, done_task: dict[str, Any], query: str
) -> None:
    status, answer = call(server, f"/api/search?q={query}")
    assert status == 400 and "digits 0-9 only" in answer["error"]


def test_row_10_search_of_digits_answers(server: Server, done_task: dict[str, Any]) -> None:
    status, answer = call(server, "/api/search?q=14159")
    assert status == 200 and answer["first"] == 1


@pytest.mark.parametrize("length", ["abc", "0", "121", "-1", "1.5"])
def test_row_10_a_garbage_window_length_gets_a_message(server: Server, done_task: dict[str, Any], length: str) -> None:
    shown = page(server, "/digits", f"?place=10&length={length}")
    assert "Give a length from 1 to 120 places." in shown


def test_row_10_a_good_window_length_marks_the_match(server: Server, done_task: dict[str, Any]) -> None:
    shown = page(server, "/digits", "?place=10&length=3")
    assert "Places 10–12 of π" in shown and "Give a length" not in shown


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_row_10_the_bearer_scheme_is_case_insensitive(server: Server, scheme: str) -> None:
    status, task = call(server, "/api/tasks", {"n": 10**7})  # held running, or queued behind another
    assert status == 201
    headers = {"Authorization": f"{scheme} s3cret-token-for-tests"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/tasks/{task['id']}", method="DELETE", headers=headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.load(response)["status"] == "cancelled"


def test_row_10_a_wrong_token_is_not_an_operator(server: Server) -> None:
    status, task = call(server, "/api/tasks", {"n": 10**7})
    assert status == 201
    for given in ("Bearer wrong", "Basic s3cret-token-for-tests", "s3cret-token-for-tests", "Bearer"):
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/tasks/{task['id']}", method="DELETE", headers={"Authorization": given}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        with refused.value:
            assert refused.value.code == 403, given
    assert call(server, f"/api/tasks/{task['id']}")[1]["status"] in ("queued", "running")
    cancel = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/tasks/{task['id']}",
        method="DELETE",
        headers={"Authorization": "Bearer s3cret-token-for-tests"},
    )
    urllib.request.urlopen(cancel, timeout=10).close()


def _upgrade_when_all_are_ready(url: str, ready: Any, failures: Any) -> None:
    ready.wait()
    try:
        schema.upgrade(connect(url))
    except Exception as error:  # noqa: BLE001 - reported to the test
        failures.put(f"{type(error).__name__}: {error}")


def test_row_11_processes_starting_together_migrate_one_at_a_time(tmp_path: Path) -> None:
    # What make web's processes do at start, eight at the same instant: the race made deterministic.
    url = f"sqlite:///{tmp_path / 'tasks.sqlite3'}"
    context = multiprocessing.get_context("fork")
    ready, failures = context.Barrier(8), context.Queue()
    starting = [context.Process(target=_upgrade_when_all_are_ready, args=(url, ready, failures)) for _ in range(8)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(60)
    found = [failures.get(timeout=1) for _ in range(failures.qsize())]
    assert found == [] and all(process.exitcode == 0 for process in starting)
    engine = connect(url)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()


def test_row_11_make_web_on_a_fresh_sqlite_folder_migrates_once_and_serves(tmp_path: Path) -> None:
    # Two gunicorn processes (make web's default here) start at once on a data folder that does not exist yet.
    web = Server(tmp_path / "data", workers=1, command=("-m", "gunicorn", "wsgi:application"))
    web.env.update(PI_WEB_PROCESSES="2")
    web.start()
    try:
        booted = wait_for(lambda: web.log.read_text().count("Booting worker") >= 2 and web.log.read_text(), timeout=30)
        assert call(web, "/api/tasks")[0] == 200
    finally:
        web.stop()
    log = web.log.read_text()
    assert "Traceback" not in log and "Worker failed to boot" not in log, booted


def test_row_1_a_classroom_behind_one_address_can_each_submit(server: Server) -> None:
    # 25 pupils, one address, each browser with its own cookie: more than one person's 20 active tasks.
    submitted = []
    for pupil in range(25):
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/tasks",
            data=json.dumps({"n": 10**7 + pupil}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with browser.open(request, timeout=10) as response:
            assert response.status == 201, pupil
            submitted.append(json.load(response)["id"])
    for task_id in submitted:  # the operator tidies up: the module's server runs on
        cancel = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/tasks/{task_id}",
            method="DELETE",
            headers={"Authorization": "Bearer s3cret-token-for-tests"},
        )
        urllib.request.urlopen(cancel, timeout=10).close()


def test_row_4_api_search_is_under_a_per_client_limit(server: Server, done_task: dict[str, Any]) -> None:
    # 30 a minute by default; the module's other tests have made some of them already.
    answers = [call(server, "/api/search?q=2653") for _ in range(31)]
    refused = [index for index, (status, _) in enumerate(answers) if status == 429]
    assert refused and refused == list(range(refused[0], 31))  # once refused, refused for the rest of the minute
    assert "30 times in the last minute" in answers[-1][1]["error"]
