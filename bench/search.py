"""Search as you type, the count past the index, and the statistics page, on real digits of pi.

    python bench/search.py                 # 2 * 10^8 places: the index's whole range
    python bench/search.py --places 1000000000 --queries 300

Computes the places once with the engine (kept in data/bench-digits/ for the
next run), builds the search index, then drives the app in-process through
Flask's test client as the page does: the as-you-type callback for strings a
person types (prefixes of a 12-digit string, strings drawn from pi, strings
that are not in it), each timed from request to response. The peer, measured
in the same run on the same strings, is the plain way: bytes.find from the
start of the mapped digits (the first 20 places, as the page shows). Then the
"Count everywhere" scan, and the task page of a done task for every place
stored (its charts, from the kept counts).
"""

from __future__ import annotations

import argparse
import json
import mmap
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from compute.digit_store import DigitStore  # noqa: E402


def stored_digits(folder: Path, places: int) -> DigitStore:
    """The digit store in ``folder`` holding at least ``places`` places (computed now if it does not)."""
    store = DigitStore(folder)
    if len(store) < places:
        from compute.engine import pi_digits

        started = time.perf_counter()
        store.extend(pi_digits(places, threads=2))
        print(f"computed {places:,} places in {time.perf_counter() - started:.0f} s")
    return store


def typed_strings(digits: bytes, count: int) -> list[str]:
    """What people type: growing prefixes, strings found in pi, strings that are not."""
    draw = random.Random(314)
    strings: list[str] = []
    while len(strings) < count:
        kind = draw.random()
        if kind < 0.4:
            whole = "".join(draw.choice("0123456789") for _ in range(12))
            strings += [whole[:length] for length in range(1, 13)]
        elif kind < 0.8:
            start, length = draw.randrange(0, len(digits) - 20), draw.randrange(1, 16)
            strings.append(digits[start : start + length].decode())
        else:
            strings.append("".join(draw.choice("0123456789") for _ in range(draw.randrange(9, 20))))
    return strings[:count]


def callback_payload(query: str) -> dict[str, Any]:
    return {
        "output": "search-results.children",
        "outputs": {"id": "search-results", "property": "children"},
        "inputs": [{"id": "search-input", "property": "value", "value": query}],
        "changedPropIds": ["search-input.value"],
        "state": [],
    }


def p95(seconds: list[float]) -> float:
    return sorted(seconds)[int(0.95 * (len(seconds) - 1))]


def percentiles(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:8.2f} {p95(seconds) * 1000:8.2f} {max(seconds) * 1000:8.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--places", type=int, default=200_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    data = ROOT / "data" / "bench-search"
    store = stored_digits(data / "digits", args.places)
    app = create_app({"DATA_DIR": str(data), "START_RUNNER": False}, environ={})
    service = app.server.extensions["pi"]
    client = app.server.test_client()
    client.get("/search")

    started = time.perf_counter()
    service.search_indexed("1", 1)  # builds (or loads) the index
    while service.search.index.places < min(len(store), service.search.index_places):
        time.sleep(1)
    print(f"index of {service.search.index.places:,} places ready in {time.perf_counter() - started:.1f} s")

    with open(store.path, "rb") as file:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    indexed = service.search.index.places
    strings = typed_strings(mapped[2 : 2 + indexed], args.queries)
    page, peer = [], []
    for query in strings:
        began = time.perf_counter()
        response = client.post("/_dash-update-component", json=callback_payload(query))
        page.append(time.perf_counter() - began)
        assert response.status_code == 200, response.get_data(as_text=True)
    for query in strings[: max(20, args.queries // 10)]:  # the plain way is slow: a tenth of them
        began = time.perf_counter()
        needle, found, start = query.encode(), 0, 2
        while found < 20:
            at = mapped.find(needle, start, 2 + indexed)
            if at < 0:
                break
            found, start = found + 1, at + 1
        peer.append(time.perf_counter() - began)

    print(f"\nSearch as you type over the first {indexed:,} places ({len(strings)} strings typed)")
    print(f"{'':44} {'median':>8} {'p95':>8} {'max':>8}  (ms)")
    print(f"{'this app: the callback, request to response':44} {percentiles(page)}")
    print(f"{'peer: bytes.find from place 1 (20 places)':44} {percentiles(peer)}")
    print(f"p95 ratio, peer / this app: {p95(peer) / p95(page):.0f}x")

    stored = len(store)
    if stored > indexed:
        began = time.perf_counter()
        result = service.search_everywhere("14159265", 20)
        print(
            f"\nCount everywhere (14159265, {stored:,} places): {time.perf_counter() - began:.2f} s, "
            f"{result.count} occurrences"
        )

    task = service.store.create(stored, digit=store.digit(stored))
    timings = []
    for _attempt in range(6):
        began = time.perf_counter()
        response = client.post(
            "/_dash-update-component",
            json={
                "output": ".._pages_content.children..._pages_store.data..",
                "outputs": [
                    {"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"},
                ],
                "inputs": [
                    {"id": "_pages_location", "property": "pathname", "value": f"/task/{task['id']}"},
                    {"id": "_pages_location", "property": "search", "value": ""},
                ],
                "changedPropIds": ["_pages_location.pathname"],
                "state": [],
            },
        )
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200 and "digit-frequencies" in response.get_data(as_text=True)
    print(
        f"\nTask page of n = {stored:,} with its charts: first {timings[0] * 1000:.0f} ms "
        f"(counts the blocks not yet kept), then median {statistics.median(timings[1:]) * 1000:.0f} ms"
    )
    print(json.dumps({"places": stored, "indexed": indexed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
