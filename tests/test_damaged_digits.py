"""A damaged digit store, as the server sees it: never a wrong digit, never a 500, and repaired by a task."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_of
from tests.conftest import wait_for


def damage(data_dir: Path, place: int, byte: bytes) -> None:
    with open(data_dir / "digits" / "pi.digits", "r+b") as raw:
        raw.seek(place + 1)
        raw.write(byte)


def done(client: Any, task_id: int) -> dict[str, Any]:
    task: dict[str, Any] = wait_for(
        lambda: (t := client.get(f"/api/tasks/{task_id}").get_json())["status"] in {"done", "error"} and t,
        timeout=60,
    )
    return task


@pytest.mark.parametrize("byte", [b"0", b"\xff"], ids=["changed-digit", "0xff-byte"])
def test_damaged_digits_are_never_served_and_a_task_repairs_them(
    make_app: Any, tmp_path: Path, reference_digits: str, byte: bytes
) -> None:
    data_dir = tmp_path / "data"
    first = make_app()
    client = first.server.test_client()
    stored = client.post("/api/tasks", json={"n": 20_000}).get_json()
    assert done(client, stored["id"])["digit"] == reference_digits[19_999]
    service_of(first).runner.stop()  # the server stops; someone's disk changes a byte

    place = 15_000 if reference_digits[14_999] != byte.decode("latin-1") else 15_001
    damage(data_dir, place, byte)

    second = make_app()  # the server starts again on the same folder
    client = second.server.test_client()
    for _ in range(3):  # whether or not the start-up check got there first
        pi = client.get(f"/api/pi?start={place}&count=1")
        assert pi.status_code in (200, 404, 503) and pi.is_json
        if pi.status_code == 200:
            assert pi.get_json()["digits"] == reference_digits[place - 1]
        download = client.get(f"/api/tasks/{stored['id']}/pi.txt")
        assert download.status_code in (200, 410, 503)
        if download.status_code == 200:
            assert download.get_data() == b"3." + reference_digits[:20_000].encode()
    asked = client.post("/api/tasks", json={"n": place}).get_json()
    assert done(client, asked["id"])["digit"] == reference_digits[place - 1]

    # The repair task brings every stored place back, right.
    wait_for(lambda: client.get("/api/engine").get_json()["stored_places"] >= 20_000, timeout=60)
    assert client.get(f"/api/pi?start={place}&count=1").get_json()["digits"] == reference_digits[place - 1]
    assert client.get(f"/api/tasks/{stored['id']}/pi.txt").get_data() == b"3." + reference_digits[:20_000].encode()
    listing = client.get("/api/tasks?limit=1000").get_json()["tasks"]
    assert all(task["digit"] == reference_digits[task["n"] - 1] for task in listing if task["status"] == "done")


def test_a_read_that_finds_damage_says_the_digits_are_being_repaired(make_app: Any, tmp_path: Path) -> None:
    app = make_app(START_RUNNER=False)
    for thread in threading.enumerate():  # the start-up check of the (empty) store is over first
        if thread.name == "pi-digit-check":
            thread.join()
    service = service_of(app)
    service.digits.extend("1415926535" * 2000)  # a store to damage (its digits do not matter here)
    client = app.server.test_client()
    assert client.get("/api/pi?start=5&count=3").status_code == 200
    damage(tmp_path / "data", 5, b"x")
    answer = client.get("/api/pi?start=5&count=3")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
    assert "being repaired" in answer.get_json()["error"]
    assert service.stored_places() == 0  # cut back to the good blocks: here, none
    repair = service.page(limit=1)[0]
    assert repair["n"] == 20_000 and repair["status"] == "queued"  # and a task queued to recompute them
