"""The task table at a million tasks: what one visit transfers and what the server spends.

    python bench/table.py                      # 10^6 tasks, SQLite and PostgreSQL
    python bench/table.py --tasks 100000 --databases sqlite
    python bench/table.py --browser            # and the first rows' time and bytes in headless Chromium,
                                               # on loopback and on an emulated 10 Mbit/s home link

Fills a fresh store with tasks (bulk insert: about 40 s for PostgreSQL at 10^6),
then drives the real app in-process through Flask's test client, as the page
does: the HTML page, Dash's layout and dependencies, the grid's first page (the
infinite row model's request), a page deep in the table sorted by n, the status
filter, and the one-second refresh poll, idle and after a change on the shown
page. Static files (Dash's and AG Grid's JavaScript, Bootstrap's CSS) are
cached by the browser and counted apart. Times are server times (the median of
--repeat calls); sizes are response bodies.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from tasks.store import schema  # noqa: E402
from tasks.store.tables import connect  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMNS = (
    "n, status, digit, progress, attempts, created_at, started_at, finished_at, updated_at, revision, owner, client"
)


def fill(url: str, count: int) -> None:
    """``count`` tasks: all done but the newest 20 (running and queued), as after months of use."""
    engine = connect(url)
    schema.upgrade(engine)
    start = time.time() - count
    rows = []
    for i in range(1, count + 1):
        status = "done" if i <= count - 20 else ("running" if i % 2 else "queued")
        done = status == "done"
        created = start + i
        rows.append(
            (
                i * 7919 % 10**9 + 1,
                status,
                str(i % 10) if done else None,
                1.0 if done else 0.3,
                1,
                created,
                created + 0.1 if status != "queued" else None,
                created + 0.5 if done else None,
                created + 0.5,
                i,
                f"owner{i % 500}",
                f"10.0.{i % 250}.{i % 200}",
            )
        )
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY tasks ({COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(COLUMNS.split(",")))
            cursor.executemany(f"INSERT INTO tasks ({COLUMNS}) VALUES ({marks})", rows)
        cursor.execute(f"UPDATE task_revision SET value = {count}")
        raw.commit()
    finally:
        raw.close()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(sa.text("VACUUM ANALYZE tasks"))
    engine.dispose()
    print(f"  filled {count:,} tasks in {time.perf_counter() - began:.1f} s", file=sys.stderr)


def callback(
    client: Any, output: str, outputs: list[tuple[str, str]], inputs: list[dict[str, Any]], state: list[dict[str, Any]]
) -> Any:
    body = {
        "output": output,
        "outputs": [{"id": element, "property": prop} for element, prop in outputs],
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": state,
    }
    return client.post("/_dash-update-component", json=body)


def rows_request(client: Any, request: dict[str, Any]) -> Any:
    return callback(
        client,
        "..tasks-grid.getRowsResponse...grid-shown.data..",
        [("tasks-grid", "getRowsResponse"), ("grid-shown", "data")],
        [{"id": "tasks-grid", "property": "getRowsRequest", "value": request}],
        [],
    )


def poll(client: Any, shown: dict[str, Any], seen: dict[str, Any] | None) -> Any:
    return callback(
        client,
        "..grid-updates.data...grid-seen.data..",
        [("grid-updates", "data"), ("grid-seen", "data")],
        [
            {"id": "tasks-refresh", "property": "n_intervals", "value": 1},
            {"id": "tasks-changed", "property": "data", "value": None},
        ],
        [
            {"id": "grid-shown", "property": "data", "value": shown},
            {"id": "grid-seen", "property": "data", "value": seen},
        ],
    )


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
        assert result.status_code in (200, 204), result.get_data(as_text=True)[:300]
    return statistics.median(times), result


def measure(url: str, data_dir: Path, repeat: int) -> list[tuple[str, str, str]]:
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "START_RUNNER": False}, environ={})
    client = app.server.test_client()
    results: list[tuple[str, str, str]] = []
    visit_bytes = 0
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):

        def get(path: str = path) -> Any:
            return client.get(path)

        ms, response = timed(get, repeat)
        visit_bytes += len(response.get_data())
        results.append((f"GET {path}", f"{ms:.1f}", f"{len(response.get_data()):,}"))
    first = {"startRow": 0, "endRow": 50, "sortModel": [], "filterModel": {}}
    ms, response = timed(lambda: rows_request(client, first), repeat)
    visit_bytes += len(response.get_data())
    results.append(("first page (50 rows, newest first)", f"{ms:.1f}", f"{len(response.get_data()):,}"))
    shown = response.get_json()["response"]["grid-shown"]["data"]
    results.append(("a visit, static files aside", "", f"{visit_bytes:,}"))
    deep = {"startRow": 500_000, "endRow": 500_050, "sortModel": [{"colId": "n", "sort": "asc"}], "filterModel": {}}
    ms, response = timed(lambda: rows_request(client, deep), repeat)
    results.append(("page at row 500,000 sorted by n", f"{ms:.1f}", f"{len(response.get_data()):,}"))
    running = {"startRow": 0, "endRow": 50, "filterModel": {"status": {"type": "equals", "filter": "running"}}}
    ms, response = timed(lambda: rows_request(client, running), repeat)
    results.append(("status filter: running", f"{ms:.1f}", f"{len(response.get_data()):,}"))
    # Idle poll on a page without running tasks: the newest-first page has some, so use page 2.
    second = {"startRow": 50, "endRow": 100, "sortModel": [], "filterModel": {}}
    second_shown = rows_request(client, second).get_json()["response"]["grid-shown"]["data"]
    ms, response = timed(lambda: poll(client, second_shown, None), repeat)
    results.append(("refresh poll, nothing changed", f"{ms:.2f}", f"{len(response.get_data()):,}"))
    ms, response = timed(lambda: poll(client, shown, None), repeat)
    results.append(("refresh poll, shown page running", f"{ms:.2f}", f"{len(response.get_data()):,}"))
    engine = app.server.extensions["pi"].store.engine
    with engine.begin() as db:
        db.execute(sa.text("UPDATE task_revision SET value = value + 1"))
        db.execute(
            sa.text(
                "UPDATE tasks SET revision = (SELECT value FROM task_revision), progress = 0.5 "
                f"WHERE id = {second_shown['ids'][3]}"
            )
        )
    ms, response = timed(lambda: poll(client, second_shown, None), repeat)
    results.append(("refresh poll, one shown row changed", f"{ms:.2f}", f"{len(response.get_data()):,}"))
    app.server.extensions["pi"].runner.stop()
    engine.dispose()
    return results


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# A home connection: 10 Mbit/s down, 5 up, 40 ms each way (Chromium's network emulation).
HOME_LINK = {"latency": 40, "download_throughput": 10_000_000 // 8, "upload_throughput": 5_000_000 // 8}


def first_rows_in_browser(
    url: str, data_dir: Path, visits: int, link: dict[str, int] | None = None
) -> tuple[float, float, int, int]:
    """The grid's first row in headless Chromium against the real server (waitress): seconds and bytes on the wire.

    The first visit is a fresh profile's, so it loads every static file; the later ones are a returning visitor's
    (the median time, the last visit's bytes). Bytes are the Resource Timing API's ``transferSize`` (headers and
    the encoded bodies, as the network carried them) of the page and everything it fetched by a second after
    its first row showed.
    """
    import threading

    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from waitress.server import create_server

    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(data_dir), "START_RUNNER": False}, environ={})
    port = free_port()
    server = create_server(app.server, host="127.0.0.1", port=port, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    if link:
        driver.set_network_conditions(offline=False, **link)
    on_the_wire = (
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".reduce((sum, entry) => sum + entry.transferSize, 0)"
    )
    try:
        times, sizes = [], []
        for _ in range(visits):
            began = time.perf_counter()
            driver.get(f"http://127.0.0.1:{port}/")
            while not driver.find_elements(By.CSS_SELECTOR, "#tasks-grid .ag-center-cols-container .ag-row[row-id]"):
                time.sleep(0.01)
            times.append(time.perf_counter() - began)
            time.sleep(1)
            sizes.append(int(driver.execute_script(on_the_wire)))
        return times[0], statistics.median(times[1:]), sizes[0], sizes[-1]
    finally:
        driver.quit()
        server.close()
        app.server.extensions["pi"].runner.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--browser", action="store_true", help="also time the first rows in headless Chromium")
    args = parser.parse_args()
    for database in args.databases:
        with tempfile.TemporaryDirectory() as folder:
            data_dir = Path(folder)
            if database == "sqlite":
                url = f"sqlite:///{data_dir / 'tasks.sqlite3'}"
                drop: Callable[[], None] = lambda: None  # noqa: E731
            else:
                name = f"bench_{uuid.uuid4().hex[:8]}"
                admin = sa.create_engine(POSTGRES)
                with admin.begin() as db:
                    db.execute(sa.text(f"CREATE SCHEMA {name}"))
                url = f"{POSTGRES}?options=-csearch_path%3D{name}"

                def drop(name: str = name, admin: sa.Engine = admin) -> None:
                    with admin.begin() as db:
                        db.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
                    admin.dispose()

            try:
                fill(url, args.tasks)
                results = measure(url, data_dir, args.repeat)
                if args.browser:
                    cold, warm, cold_bytes, warm_bytes = first_rows_in_browser(url, data_dir, 6)
                    results.append(("first rows in Chromium, first visit", f"{cold * 1000:.0f}", f"{cold_bytes:,}"))
                    results.append(("first rows in Chromium, next visits", f"{warm * 1000:.0f}", f"{warm_bytes:,}"))
                    cold, warm, _, _ = first_rows_in_browser(url, data_dir, 4, HOME_LINK)
                    results.append(("the same over 10 Mbit/s, 40 ms: first visit", f"{cold * 1000:.0f}", ""))
                    results.append(("the same over 10 Mbit/s, 40 ms: next visits", f"{warm * 1000:.0f}", ""))
            finally:
                drop()
        print(f"\n{database}, {args.tasks:,} tasks (median of {args.repeat})")
        print(f"{'what':<40} {'server ms':>10} {'bytes':>12}")
        for what, ms, size in results:
            print(f"{what:<40} {ms:>10} {size:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
