"""Live updates for a crowd: how many open pages get a change, how fast, and what that costs the server.

    python bench/viewers.py                                    # make bench-viewers: both modes, push and poll
    python bench/viewers.py --modes web --transports push --viewers 1000,10000

For each mode (`make run`: waitress with its events server, SQLite; `make web`: gunicorn, 2 processes,
PostgreSQL) and each transport (push: server-sent events, live/; poll: the table's one-second Dash poll, as
pages did before, the baseline), it starts the server with nothing computing (tasks stay queued), submits 20
tasks, and opens viewers: asyncio connections from this one process, loopback only, added up to each count.
At each count:

- 5 changes, each the newest queued task cancelled through the API (by the operator's token): for each, when
  each viewer had it, from the moment the cancel was sent. Lost: not within --wait seconds.
- the server's CPU (all its processes), as a share of one core: 5 s idle with every viewer connected, and from
  the first of 200 submissions (10 at a time) until 2 s after the last.
- its memory (RSS, all its processes) per viewer.
- a headless Chromium page of the table, open all along: whether it showed the first change's row cancelled.

A push viewer reads the stream as EventSource does; a poll viewer sends the grid's refresh callback every
second with the state a page keeps, and fetches its page's rows again when the answer says to, as a page does.
The viewers and the server share this machine's cores, so the figures are a floor for the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import psutil
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import Started  # noqa: E402
from bench.load import free_port  # noqa: E402
from bench.load import make_run  # noqa: E402
from bench.load import make_web  # noqa: E402

TOKEN = "bench-viewers-operator"
CHANGES = 5
API_TIMEOUT = 20  # seconds: a server that takes longer to answer the API is saturated
BURST = 200
SETTINGS = {
    "PI_START_RUNNER": "false",  # nothing computes: a task stays queued until the bench cancels it
    "PI_ADMIN_TOKEN": TOKEN,
    "PI_SUBMISSIONS_PER_MINUTE": "1000000",
    "PI_ACTIVE_TASKS_PER_CLIENT": "1000000",
    "PI_QUEUED_SECONDS_PER_CLIENT": "1000000000",
    "PI_EVENTS_LIMIT": "1000000",
    "PI_EVENTS_PER_ADDRESS": "1000000",
    "PI_EVENTS_READ_MS": os.environ.get("PI_EVENTS_READ_MS", "250"),
}
# waitress, for the poll: let it keep a connection for every viewer (push viewers use the events port instead).
POLL_SETTINGS = {"PI_CONNECTION_LIMIT": "15000"}


@dataclass
class Change:
    """One change watched for: the task cancelled, when, and when each viewer had it."""

    task_id: int
    sent: float = 0.0
    arrivals: list[float] = field(default_factory=list)


@dataclass
class Crowd:
    """The viewers, and the change they are watching for now."""

    port: int
    base: str
    watching: Change | None = None
    connected: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def saw(self, viewer_seen: set[int], task_id: int) -> None:
        change = self.watching
        if change is not None and change.task_id == task_id and task_id not in viewer_seen:
            viewer_seen.add(task_id)
            change.arrivals.append(time.perf_counter())


def cancelled_ids(tasks: list[dict[str, Any]]) -> list[int]:
    return [task["id"] for task in tasks if task.get("status") == "cancelled"]


async def push_viewer(crowd: Crowd) -> None:
    """A page's EventSource: one stream, read line by line (HTTP/1.0, so not chunked)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", crowd.port)
    writer.write(b"GET /api/events HTTP/1.0\r\nAccept: text/event-stream\r\n\r\n")
    status = await reader.readline()
    assert b" 200 " in status, status
    while (await reader.readline()).strip():
        pass
    crowd.connected += 1
    seen: set[int] = set()
    while True:  # an event at a time (its lines end with a blank one), as a browser's EventSource parses them
        try:
            event = await reader.readuntil(b"\n\n")
        except asyncio.IncompleteReadError:
            break
        change = crowd.watching
        if change is not None and f'{{"id":{change.task_id},'.encode() in event:
            data = next(line for line in event.split(b"\n") if line.startswith(b"data:"))
            for task_id in cancelled_ids(json.loads(data[5:])["tasks"]):
                crowd.saw(seen, task_id)
    writer.close()


class DashClient:
    """One keep-alive HTTP/1.1 connection posting Dash callbacks, as a page's fetch does."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        for _attempt in range(2):  # gunicorn closes an idle keep-alive connection: open a new one once
            if self.writer is None or self.writer.is_closing():
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            head = "POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            self.writer.write(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
            status = await self.reader.readline()
            if not status:
                self.writer.close()
                self.writer = None
                continue
            length = 0
            while header := (await self.reader.readline()).strip():
                name, _, value = header.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body_bytes = await self.reader.readexactly(length) if length else b""
            if b" 204 " in status or not body_bytes:
                return {}
            answer: dict[str, Any] = json.loads(body_bytes)["response"]
            return answer
        raise ConnectionError("the server closed the connection twice")


def rows_body() -> dict[str, Any]:
    request = {"startRow": 0, "endRow": 50, "sortModel": [], "filterModel": {}}
    return {
        "output": "..tasks-grid.getRowsResponse...grid-shown.data..",
        "outputs": [{"id": "tasks-grid", "property": "getRowsResponse"}, {"id": "grid-shown", "property": "data"}],
        "inputs": [{"id": "tasks-grid", "property": "getRowsRequest", "value": request}],
        "changedPropIds": ["tasks-grid.getRowsRequest"],
        "state": [],
    }


def poll_body(shown: dict[str, Any], seen: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "output": "..grid-updates.data...grid-seen.data..",
        "outputs": [{"id": "grid-updates", "property": "data"}, {"id": "grid-seen", "property": "data"}],
        "inputs": [
            {"id": "tasks-refresh", "property": "n_intervals", "value": 1},
            {"id": "tasks-changed", "property": "data", "value": None},
        ],
        "changedPropIds": ["tasks-refresh.n_intervals"],
        "state": [
            {"id": "grid-shown", "property": "data", "value": shown},
            {"id": "grid-seen", "property": "data", "value": seen},
        ],
    }


async def poll_viewer(crowd: Crowd) -> None:
    """A page polling: the table's first page, then the refresh callback every second (refetching when told)."""
    client = DashClient(crowd.port)
    seen_ids: set[int] = set()

    async def fetch_rows() -> dict[str, Any]:
        answer = await client.post(rows_body())
        for task_id in cancelled_ids(answer["tasks-grid"]["getRowsResponse"]["rowData"]):
            crowd.saw(seen_ids, task_id)
        shown: dict[str, Any] = answer["grid-shown"]["data"]
        return shown

    shown = await fetch_rows()
    seen: dict[str, Any] | None = None
    crowd.connected += 1
    await asyncio.sleep(random.random())  # pages open at different moments
    while True:
        began = time.perf_counter()
        answer = await client.post(poll_body(shown, seen))
        if answer:
            updates = answer.get("grid-updates", {}).get("data") or {}
            seen = answer.get("grid-seen", {}).get("data") or seen
            if updates.get("refetch"):
                shown, seen = await fetch_rows(), None
            for task_id in cancelled_ids(updates.get("rows") or []):
                crowd.saw(seen_ids, task_id)
        await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - began)))


def server_processes(started: Started) -> list[psutil.Process]:
    main = psutil.Process(started.server.pid)
    return [main, *main.children(recursive=True)]


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss(processes: list[psutil.Process]) -> int:
    return sum(process.memory_info().rss for process in processes if process.is_running())


def api(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=API_TIMEOUT) as answer:
        result: dict[str, Any] = json.loads(answer.read() or b"{}")
        return result


def answered(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> bool:
    """Whether the API took the request within its time (a saturated server may not)."""
    try:
        api(base, method, path, body)
        return True
    except OSError:  # urllib's errors and timeouts are OSErrors
        return False


@contextmanager
def chromium_page(base: str) -> Iterator[Any]:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(base + "/")
        yield driver
    finally:
        driver.quit()


def page_shows_cancelled(driver: Any, task_id: int, timeout: float) -> bool:
    selector = f'#tasks-grid .ag-row[row-id="{task_id}"] .ag-cell[col-id="status"]'
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = driver.execute_script(
            "const cell = document.querySelector(arguments[0]); return cell ? cell.textContent : '';", selector
        )
        if text == "cancelled":
            return True
        time.sleep(0.1)
    return False


async def measure(started: Started, transport: str, counts: list[int], wait: float) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    processes = server_processes(started)
    port = started.events_port if transport == "push" else int(started.base.rsplit(":", 1)[1])
    crowd = Crowd(port, started.base)
    viewer: Callable[[Crowd], Any] = push_viewer if transport == "push" else poll_viewer
    queued = [api(started.base, "POST", "/api/tasks", {"n": 1000 + i})["id"] for i in range(20)]
    base_rss = rss(processes)
    results = []
    with chromium_page(started.base) as driver:
        for count in counts:
            while len(crowd.tasks) < count:
                batch = min(500, count - len(crowd.tasks))
                crowd.tasks += [asyncio.ensure_future(viewer(crowd)) for _ in range(batch)]
                target = len(crowd.tasks)
                deadline = time.monotonic() + 60
                while crowd.connected < target and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            await asyncio.sleep(2)  # settled: every viewer connected and idle
            row: dict[str, Any] = {"viewers": count, "connected": crowd.connected}
            delays: list[float] = []
            lost = 0
            page_ok = None
            for number in range(CHANGES):
                change = Change(queued.pop())
                crowd.watching = change
                change.sent = time.perf_counter()
                if not await loop.run_in_executor(
                    None, answered, started.base, "DELETE", f"/api/tasks/{change.task_id}"
                ):
                    row["note"] = f"the server did not answer a cancel within {API_TIMEOUT} s: saturated"
                deadline = time.perf_counter() + wait
                while len(change.arrivals) < crowd.connected and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
                if number == 0:
                    page_ok = await loop.run_in_executor(None, page_shows_cancelled, driver, change.task_id, wait)
                crowd.watching = None
                delays += [arrival - change.sent for arrival in change.arrivals]
                lost += crowd.connected - len(change.arrivals)
            row.update(delivered=len(delays), lost=lost, page_shows_it=page_ok)
            quantiles = statistics.quantiles(delays, n=100) if len(delays) >= 2 else [float("nan")] * 99
            row.update(p50=quantiles[49], p95=quantiles[94], p99=quantiles[98])
            before, began = cpu_seconds(processes), time.perf_counter()
            await asyncio.sleep(5)
            row["idle_cpu"] = (cpu_seconds(processes) - before) / (time.perf_counter() - began)
            row["rss_per_viewer"] = (rss(processes) - base_rss) / max(count, 1)
            if "note" in row:  # saturated: a burst would only wait on timeouts
                row.update(burst_cpu=float("nan"), burst_seconds=float("nan"))
                results.append(row)
                print_row(transport, row)
                break
            before, began = cpu_seconds(processes), time.perf_counter()
            burst = [1_000_000 + random.randrange(10**6) for _ in range(BURST)]
            for start in range(0, BURST, 10):
                sent = await asyncio.gather(
                    *(
                        loop.run_in_executor(None, answered, started.base, "POST", "/api/tasks", {"n": n})
                        for n in burst[start : start + 10]
                    )
                )
                row["burst_failed"] = row.get("burst_failed", 0) + sent.count(False)
            await asyncio.sleep(2)
            row["burst_cpu"] = (cpu_seconds(processes) - before) / (time.perf_counter() - began)
            row["burst_seconds"] = time.perf_counter() - began - 2
            newest = api(started.base, "GET", "/api/tasks?limit=50")["tasks"]
            queued += [task["id"] for task in newest if task["status"] == "queued"][:CHANGES][::-1]
            results.append(row)
            print_row(transport, row)
            if row["lost"] > row["delivered"]:
                print(f"{'':<5} more than half the changes lost: the server is saturated; no larger count", flush=True)
                break
    for task in crowd.tasks:
        task.cancel()
    return results


def print_row(transport: str, row: dict[str, Any]) -> None:
    print(
        f"{transport:<5} {row['viewers']:>7,} {row['connected']:>9,} {row['delivered']:>9,} {row['lost']:>6,} "
        f"{row['p50'] * 1000:>7.0f} {row['p95'] * 1000:>7.0f} {row['p99'] * 1000:>7.0f} "
        f"{row['idle_cpu'] * 100:>8.1f}% {row['burst_cpu'] * 100:>8.1f}% {row['rss_per_viewer'] / 1024:>8.1f} "
        f"{'yes' if row['page_shows_it'] else 'NO':>5}",
        flush=True,
    )
    for note in (row.get("note"), row.get("burst_failed") and f"{row['burst_failed']} of {BURST} submissions failed"):
        if note:
            print(f"{'':<5} {note}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", default="run,web")
    parser.add_argument("--transports", default="poll,push")
    parser.add_argument("--viewers", default="1000,2000,5000,10000")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds a change may take before it counts as lost")
    args = parser.parse_args()
    counts = [int(count) for count in args.viewers.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bench-viewers-"))
    header = ("how", "viewers", "connected", "delivered", "lost", "p50 ms", "p95 ms", "p99 ms", "idle CPU")
    try:
        for mode in args.modes.split(","):
            for transport in args.transports.split(","):
                settings = {**SETTINGS, "PI_EVENTS_PORT": str(free_port())} if transport == "push" else {}
                settings = settings or {**SETTINGS, **POLL_SETTINGS, "PI_EVENTS_PORT": "0"}
                print(f"\nmake {mode}, {transport}: {CHANGES} changes at each count, CPU as a share of one core")
                print(
                    "{:<5} {:>7} {:>9} {:>9} {:>6} {:>7} {:>7} {:>7} {:>9}".format(*header)
                    + f" {'burst CPU':>9} {'KB/view':>8} {'page':>5}"
                )
                run_folder = folder / f"{mode}-{transport}"
                run_folder.mkdir()
                server = make_run(run_folder, settings) if mode == "run" else make_web(run_folder, settings, workers=0)
                with server as started:
                    uvloop.run(measure(started, transport, counts, args.wait))
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
