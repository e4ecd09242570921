"""Other visitors' latency while one client clicks "Count everywhere" 200 times (issue 26, row 4).

    python bench/counts.py                      # this checkout
    python bench/counts.py --checkout ../old    # and another checkout, for the table's second row

Starts `make run`'s server (waitress, `python app.py`) on a data folder holding 5 x 10^7 places (the
reference digits repeated: this is about the load of scanning them, not which digits they are), with
only the first 10^6 indexed, so every count scans 49 million places. One client sends 200 count
clicks, each from its own page session, as fast as they are answered; meanwhile another visitor asks
for `GET /api/tasks` every 50 ms. Prints that visitor's p50/p95/max and the most count processes
seen running at once.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = 50_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def count_click(port: int, page: int) -> None:
    body = {
        "output": "search-count.children",
        "outputs": {"id": "search-count", "property": "children"},
        "inputs": [{"id": "search-button", "property": "n_clicks", "value": 1}],
        "state": [
            {"id": "search-input", "property": "value", "value": "31415926"},
            {"id": "search-session", "property": "data", "value": f"page-{page}"},
            {"id": "page-language", "property": "data", "value": "en"},
        ],
        "changedPropIds": ["search-button.n_clicks"],
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_dash-update-component",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def measure(checkout: Path, data: Path) -> tuple[list[float], int]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PI_")},
        "PI_DATA_DIR": str(data),
        "PI_PORT": str(port),
        "PI_EVENTS_PORT": "0",  # the bench reads the API only
        "PI_SEARCH_INDEX_PLACES": "1000000",
        "PI_START_RUNNER": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "app.py"], cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasks", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(3)  # let the start-up's own index and checks settle
        latencies: list[float] = []
        done = threading.Event()

        def visitor() -> None:
            while not done.is_set():
                started = time.monotonic()
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/tasks?limit=10", timeout=60).close()
                latencies.append(time.monotonic() - started)
                time.sleep(0.05)

        most = 0
        other = threading.Thread(target=visitor)
        other.start()
        for page in range(200):
            count_click(port, page)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            jobs = [p for p in psutil.Process(server.pid).children() if p.status() != psutil.STATUS_ZOMBIE]
            most = max(most, len(jobs))
            time.sleep(0.2)
        done.set()
        other.join()
        return latencies, most
    finally:
        for child in psutil.Process(server.pid).children(recursive=True):
            child.kill()
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, action="append", default=[], help="another checkout to compare")
    args = parser.parse_args()
    from compute.digit_store import DigitStore

    reference = (ROOT / "tests" / "reference" / "pi-1e6.txt").read_text()
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "seed"
        DigitStore(seed / "digits").extend((reference * (PLACES // len(reference) + 1))[:PLACES])
        print(f"{'checkout':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'count processes':>16}")
        for checkout in [ROOT, *args.checkout]:
            data = Path(folder) / f"data-{checkout.name}"
            subprocess.run(["cp", "-r", str(seed), str(data)], check=True)
            latencies, most = measure(checkout.resolve(), data)
            ordered = sorted(latencies)
            p95 = ordered[int(0.95 * (len(ordered) - 1))]
            print(
                f"{checkout!s:<32} {1000 * statistics.median(ordered):8.1f} {1000 * p95:8.1f} "
                f"{1000 * ordered[-1]:8.1f} {most:16d}"
            )


if __name__ == "__main__":
    main()
