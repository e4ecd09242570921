"""Live updates pushed as server-sent events (live/), through the real servers: `make run`'s and `make web`'s."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from compute.digit_store import DigitStore
from dashboard import ids
from tasks.store.queries import TaskStore
from tasks.store.tables import connect
from tests.conftest import HeldWorkers
from tests.conftest import wait_for
from tests.event_stream import EventStream
from tests.servers import Server
from tests.servers import free_port
from tests.test_slow_clients import answers
from tests.test_slow_clients import nginx_in_front

KNOWN = 100_000  # places stored: a task up to there is done as it is submitted
TOKEN = "operator-token-for-live-tests"


def with_known_digits(data: Path, reference_digits: str, command: tuple[str, ...] = ("app.py",)) -> Server:
    """A real server (not started) whose store holds 10^5 places: tasks up to there are done as submitted."""
    DigitStore(data / "digits").extend(reference_digits[:KNOWN])
    return Server(data, workers=1, command=command)


def all_done(task_ids: list[int]) -> Any:
    return lambda seen: all(seen.get(task_id, {}).get("status") == "done" for task_id in task_ids)


@pytest.fixture(scope="module")
def run_server(tmp_path_factory: pytest.TempPathFactory, reference_digits: str) -> Iterator[Server]:
    """`make run` (waitress, with its events server) with held workers, 10^5 places stored, at most 3 streams
    per address."""
    server = with_known_digits(tmp_path_factory.mktemp("live") / "data", reference_digits, ("-m", "tests.held_server"))
    # Pages poll only every minute here: what they show within seconds came by push.
    server.env.update(PI_EVENTS_PER_ADDRESS="3", PI_REFRESH_MS="60000", PI_ADMIN_TOKEN=TOKEN)
    server.start()
    yield server
    server.stop()


def test_an_open_stream_gets_every_change_and_a_reconnect_resumes_after_its_last_event(
    run_server: Server, reference_digits: str
) -> None:
    stream = EventStream(run_server.events_port)
    assert stream.response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert stream.retry_ms is not None and 1000 <= stream.retry_ms <= 5000  # each stream its own wait
    places = (6, 762, 5000)
    submitted = [run_server.post("/api/tasks", {"n": n})["id"] for n in places]
    events = stream.until(all_done(submitted))
    seen = {task["id"]: task for event in events for task in event["data"]["tasks"]}
    for task_id, n in zip(submitted, places, strict=True):
        assert seen[task_id]["digit"] == reference_digits[n - 1]
        assert seen[task_id]["labels"]["ru"]["status_label"] == "готово"
    assert [int(event["id"]) for event in events] == sorted(int(event["id"]) for event in events)
    last = stream.last_id
    assert last is not None
    stream.close()

    # Changes while the page was away: its reconnect (EventSource sends Last-Event-ID) brings them, and no older.
    missed = [run_server.post("/api/tasks", {"n": n})["id"] for n in (7, 8)]
    again = EventStream(run_server.events_port, last_event_id=last)
    events = again.until(all_done(missed))
    assert all(int(event["id"]) > last for event in events)
    assert not {task["id"] for event in events for task in event["data"]["tasks"]} & set(submitted)
    again.close()


def test_bad_requests_and_too_many_streams_get_a_clear_answer_and_the_page_polls(run_server: Server) -> None:
    base = f"http://127.0.0.1:{run_server.events_port}"
    for path, method, status in (
        ("/api/events?since=abc", "GET", 400),
        ("/api/events?since=" + "9" * 30, "GET", 400),
        ("/api/events", "POST", 405),
        ("/no/such/address", "GET", 404),
    ):
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(urllib.request.Request(base + path, method=method), timeout=10)
        assert answer.value.code == status
        assert "error" in json.loads(answer.value.read())
    streams = [EventStream(run_server.events_port) for _ in range(3)]
    refused = EventStream(run_server.events_port)
    assert refused.response.status == 503 and refused.response.getheader("Retry-After") == "60"
    assert "pages poll" in json.loads(refused.response.read())["error"]
    refused.close()
    for stream in streams:
        stream.close()
    # A closed stream frees its place (the server saw the client go).
    wait_for(lambda: opens(run_server.events_port), timeout=10, interval=0.2)
    # Before any request: one address holds at most twice its streams' worth of connections; past that, closed.
    idle = [socket.create_connection(("127.0.0.1", run_server.events_port), timeout=10) for _ in range(6)]
    with socket.create_connection(("127.0.0.1", run_server.events_port), timeout=10) as one_too_many:
        assert one_too_many.recv(1) == b""
    for connection in idle:
        connection.close()


def test_a_stream_for_a_revision_the_feed_never_reaches_is_reset_and_only_the_apps_pages_may_read_it(
    run_server: Server,
) -> None:
    # A page that names a revision far ahead (the database restored to an older copy since): told to start over.
    ahead = EventStream(run_server.events_port, since=10**15)
    reset = ahead.next()
    assert reset is not None and reset["event"] == "reset"
    ahead.close()
    for origin, allowed in (
        (f"http://127.0.0.1:{run_server.port}", True),  # the app's page, on its own port
        ("https://elsewhere.example", False),
    ):
        request = urllib.request.Request(
            f"http://127.0.0.1:{run_server.events_port}/api/events", method="HEAD", headers={"Origin": origin}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert (answer.headers.get("Access-Control-Allow-Origin") == origin) is allowed


def opens(port: int) -> bool:
    stream = EventStream(port)
    try:
        return stream.response.status == 200
    finally:
        stream.close()


def test_after_a_restart_a_page_resumes_or_if_it_missed_changes_is_told_to_fetch_its_rows_again(
    tmp_path: Path, reference_digits: str
) -> None:
    data = tmp_path / "data"
    server = with_known_digits(data, reference_digits)
    server.start()
    try:
        stream = EventStream(server.events_port)
        stream.until(all_done([server.post("/api/tasks", {"n": 6})["id"]]))
        last = stream.last_id
        stream.close()
        server.kill()
        server.start()
        # Nothing changed while it was down: the page goes on from its last event.
        again = EventStream(server.events_port, last_event_id=last)
        again.until(all_done([server.post("/api/tasks", {"n": 7})["id"]]))
        last = again.last_id
        again.close()
        server.kill()
        # A change while this server was down (another machine's worker finishing a task, say): the new
        # process's feed starts after it, so the page cannot catch up change by change.
        store = TaskStore(connect(f"sqlite:///{data / 'tasks.sqlite3'}"))
        store.create(8, digit=reference_digits[7])
        store.engine.dispose()
        server.start()
        behind = EventStream(server.events_port, last_event_id=last)
        reset = behind.next()
        assert reset is not None and reset["event"] == "reset" and reset["data"] == {}
        behind.close()
    finally:
        server.stop()


def test_both_make_web_processes_deliver_every_change_and_a_killed_ones_pages_resume(
    tmp_path: Path, reference_digits: str
) -> None:
    web = with_known_digits(tmp_path / "data", reference_digits, ("-m", "gunicorn", "wsgi:application"))
    web.env["PI_WEB_PROCESSES"] = "2"
    web.start()
    try:
        streams: list[EventStream] = []

        def both_serve() -> bool:  # once both processes have booted, the kernel spreads the streams over them
            streams.append(EventStream(web.events_port))
            return len(streams) >= 16 and len({stream.process for stream in streams[-16:]}) == 2

        wait_for(both_serve, timeout=30, interval=0.1)
        for stream in streams[:-16]:
            stream.close()
        streams = streams[-16:]
        first = web.post("/api/tasks", {"n": 6})["id"]
        for stream in streams:
            stream.until(all_done([first]))
        # Kill the process serving the first stream: its pages lose their stream and reconnect from their last event.
        victim_token = streams[0].process
        victims = [stream for stream in streams if stream.process == victim_token]
        survivors = [stream for stream in streams if stream.process != victim_token]
        assert web.process is not None
        victim = serving(psutil.Process(web.process.pid).children(), victims[0])
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        assert all(stream.next() is None for stream in victims)  # their streams ended with the process
        for stream in victims:
            stream.close()
        second = web.post("/api/tasks", {"n": 7})["id"]
        for stream in survivors:
            stream.until(all_done([second]))
        for stream in victims:
            again = EventStream(web.events_port, last_event_id=stream.last_id)
            event = again.next()
            assert event is not None
            # Either the change itself, or (from a process started after it) the word to fetch the rows again.
            got = event["event"] == "reset" or any(t["id"] == second for t in event["data"]["tasks"])
            if not got:
                again.until(all_done([second]))
            again.close()
        for stream in survivors:
            stream.close()
    finally:
        web.stop()


def serving(processes: list[psutil.Process], stream: EventStream) -> psutil.Process:
    """Which of ``processes`` holds the server's end of ``stream``'s connection."""
    client_port = stream.connection.sock.getsockname()[1]
    for process in processes:
        if any(c.raddr and c.raddr.port == client_port for c in process.net_connections(kind="tcp")):
            return process
    raise AssertionError(f"no process serves the stream from port {client_port}")


def test_brws017_the_table_shows_new_tasks_progress_and_cancels_by_push(
    dash_br: Any, run_server: Server, reference_digits: str
) -> None:
    dash_br.server_url = f"http://127.0.0.1:{run_server.port}"
    dash_br.wait_for_page(f"{dash_br.server_url}/")
    dash_br.wait_for_element(f"#{ids.TASKS_GRID}")

    def cell(task_id: int, column: str) -> str:
        return f'#{ids.TASKS_GRID} .ag-row[row-id="{task_id}"] .ag-cell[col-id="{column}"]'

    # Every change within seconds, though this server's pages poll once a minute: they came by push.
    running = run_server.post("/api/tasks", {"n": 80_000_000})["id"]
    workers = HeldWorkers(run_server.data_dir)
    workers.process(running)
    workers.report(running, 0.3, places=80_000_000)
    wait_for(lambda: "30%" in dash_br.find_element(cell(running, "status")).text, timeout=10)
    cancel = urllib.request.Request(
        f"{dash_br.server_url}/api/tasks/{running}", method="DELETE", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    urllib.request.urlopen(cancel, timeout=10).close()
    dash_br.wait_for_text_to_equal(cell(running, "status"), "cancelled", timeout=10)
    known = run_server.post("/api/tasks", {"n": 31})["id"]
    dash_br.wait_for_text_to_equal(cell(known, "digit"), reference_digits[30], timeout=10)
    assert dash_br.get_logs() == []


def test_brws018_a_running_task_page_shows_its_progress_and_its_end_by_push(
    dash_br: Any, run_server: Server, reference_digits: str
) -> None:
    task = run_server.post("/api/tasks", {"n": 80_000_000})
    workers = HeldWorkers(run_server.data_dir)
    workers.process(task["id"])
    dash_br.server_url = f"http://127.0.0.1:{run_server.port}"
    dash_br.wait_for_page(f"{dash_br.server_url}/task/{task['id']}")
    dash_br.wait_for_contains_text(f"#{ids.TASK_STATUS}", "running", timeout=10)
    workers.report(task["id"], 0.5, places=80_000_000)
    dash_br.wait_for_contains_text(f"#{ids.TASK_STATUS}", "50%", timeout=10)  # a poll would take a minute
    cancel = urllib.request.Request(
        f"{dash_br.server_url}/api/tasks/{task['id']}", method="DELETE", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    urllib.request.urlopen(cancel, timeout=10).close()
    dash_br.wait_for_text_to_equal(f"#{ids.TASK_STATUS}", "cancelled", timeout=10)
    assert dash_br.get_logs() == []


def test_brws019_behind_deploy_nginx_pages_get_the_stream_on_the_sites_own_address(
    dash_br: Any, tmp_path: Path
) -> None:
    web = Server(tmp_path / "data", workers=1, command=("-m", "gunicorn", "wsgi:application"))
    # One process: the limit per address is counted in each process.
    web.env.update(PI_PROXY_HOPS="1", PI_EVENTS_URL="/api/events", PI_EVENTS_PER_ADDRESS="2", PI_REFRESH_MS="60000")
    web.env["PI_WEB_PROCESSES"] = "1"
    (tmp_path / "data").mkdir()
    DigitStore(tmp_path / "data" / "digits").extend("1415926535")
    web.start()
    front = free_port()
    nginx = nginx_in_front(tmp_path / "nginx", front, web.port, web.events_port)
    try:
        wait_for(lambda: answers(front), timeout=10)
        page = urllib.request.urlopen(f"http://127.0.0.1:{front}/", timeout=10)
        assert "connect-src 'self';" in page.headers["Content-Security-Policy"]  # nothing from another origin
        dash_br.server_url = f"http://127.0.0.1:{front}"
        dash_br.wait_for_page(f"{dash_br.server_url}/")
        dash_br.wait_for_element(f"#{ids.TASKS_GRID}")
        stream = EventStream(front)  # through nginx, unbuffered
        task = json.load(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{front}/api/tasks",
                    data=b'{"n": 5}',
                    headers={"Content-Type": "application/json"},
                ),
                timeout=10,
            )
        )
        stream.until(all_done([task["id"]]), timeout=15)
        stream.close()
        # The page got it the same way, from its own origin (a CSP refusal would be in its console).
        cell = f'#{ids.TASKS_GRID} .ag-row[row-id="{task["id"]}"] .ag-cell[col-id="digit"]'
        dash_br.wait_for_text_to_equal(cell, "9", timeout=10)
        assert dash_br.get_logs() == []
        # The limit per address counts the client nginx names, not nginx: three clients, each under it.
        for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            streams = [EventStream(web.events_port, forwarded_for=client) for _ in range(2)]
            assert all(stream.response.status == 200 for stream in streams)
            refused = EventStream(web.events_port, forwarded_for=client)
            assert refused.response.status == 503
            for stream in (*streams, refused):
                stream.close()
    finally:
        nginx.terminate()
        nginx.wait(10)
        web.stop()


def test_make_run_holds_two_thousand_streams_delivers_to_each_and_still_serves_pages(
    tmp_path: Path, reference_digits: str
) -> None:
    # Past 1,024 descriptors waitress's select() loop died (ValueError): it polls now.
    server = with_known_digits(tmp_path / "data", reference_digits)
    server.env["PI_EVENTS_PER_ADDRESS"] = "5000"
    server.start()
    try:
        delivered = asyncio.run(crowd(server, 2000))
        assert delivered == 2000
    finally:
        server.stop()


async def crowd(server: Server, viewers: int) -> int:
    """Open ``viewers`` streams, then submit a task: how many streams said it was done, while pages answered."""
    loop = asyncio.get_running_loop()
    opened = [await asyncio.open_connection("127.0.0.1", server.events_port) for _ in range(viewers)]
    for _, writer in opened:
        writer.write(b"GET /api/events HTTP/1.0\r\n\r\n")
    for reader, _ in opened:  # each stream's first lines, up to its hello comment
        while not (await reader.readline()).startswith(b": revision"):
            pass
    assert (await loop.run_in_executor(None, server.get, "/healthz"))["status"] == "ok"
    task = await loop.run_in_executor(None, server.post, "/api/tasks", {"n": 6})
    mark = f'{{"id":{task["id"]},'.encode()

    async def told(reader: asyncio.StreamReader) -> bool:
        while line := await reader.readline():
            if line.startswith(b"data:") and mark in line and b'"status":"done"' in line:
                return True
        return False

    results = await asyncio.wait_for(asyncio.gather(*(told(reader) for reader, _ in opened)), timeout=30)
    for _, writer in opened:
        writer.close()
    return sum(results)
