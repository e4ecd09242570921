"""Fair to every visitor: per-client limits, and a queue served round-robin across clients."""

from __future__ import annotations

from functools import partial
from typing import Any

from tests.conftest import is_gone
from tests.conftest import runner_of
from tests.conftest import service_of
from tests.conftest import wait_for


def client_at(app: Any, address: str) -> Any:
    """A test client whose requests come from ``address``."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_submissions_a_minute_are_limited_per_client(make_app: Any) -> None:
    app = make_app(START_RUNNER=False, SUBMISSIONS_PER_MINUTE=3)
    alice, bob = client_at(app, "10.0.0.1"), client_at(app, "10.0.0.2")
    assert [alice.post("/api/tasks", json={"n": n}).status_code for n in (10, 11, 12)] == [201, 201, 201]
    refused = alice.post("/api/tasks", json={"n": 13})
    assert refused.status_code == 429
    assert "3 submissions in the last minute" in refused.get_json()["error"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert bob.post("/api/tasks", json={"n": 13}).status_code == 201  # another visitor is not held back
    assert service_of(app).count() == 4


def test_queued_or_running_tasks_are_limited_per_client(make_app: Any) -> None:
    app = make_app(START_RUNNER=False, ACTIVE_TASKS_PER_CLIENT=2)
    alice = client_at(app, "10.0.0.1")
    first = alice.post("/api/tasks", json={"n": 1000}).get_json()
    alice.post("/api/tasks", json={"n": 2000})
    refused = alice.post("/api/tasks", json={"n": 3000})
    assert refused.status_code == 429 and "2 tasks queued or running" in refused.get_json()["error"]
    alice.delete(f"/api/tasks/{first['id']}")  # one fewer waiting: room again
    assert alice.post("/api/tasks", json={"n": 3000}).status_code == 201


def test_queued_work_is_limited_in_estimated_seconds(make_app: Any) -> None:
    app = make_app(START_RUNNER=False, QUEUED_SECONDS_PER_CLIENT=60)
    alice = client_at(app, "10.0.0.1")
    assert [alice.post("/api/tasks", json={"n": n}).status_code for n in range(1000, 1010)] == [201] * 10
    # As many tasks of 2 x 10^7 places as fit in what is left of the 60 s (each 6 to 16 s, by the build).
    fairness = service_of(app).fairness
    assert fairness is not None
    left = 60 - sum(fairness.estimate(n) for n in range(1000, 1010))
    fit = int(left // fairness.estimate(20_000_000))
    assert fit >= 2
    assert [alice.post("/api/tasks", json={"n": 20_000_000}).status_code for _ in range(fit)] == [201] * fit
    more = alice.post("/api/tasks", json={"n": 20_000_000})
    assert more.status_code == 429 and "at most 60 s per client" in more.get_json()["error"]
    assert "Retry-After" in more.headers  # waiting for those to finish will make room
    assert client_at(app, "10.0.0.2").post("/api/tasks", json={"n": 5000}).status_code == 201


def test_a_task_more_than_a_client_may_ever_queue_is_422_not_429(make_app: Any) -> None:
    app = make_app(START_RUNNER=False, QUEUED_SECONDS_PER_CLIENT=60)
    alice = client_at(app, "10.0.0.1")
    for body in ({"n": 1_000_000_000}, {"n": 500_000_000, "radix": 16}):
        huge = alice.post("/api/tasks", json=body)
        assert huge.status_code == 422 and "Retry-After" not in huge.headers  # waiting can never admit it
        assert "can never be admitted" in huge.get_json()["error"] and "at most 60 s" in huge.get_json()["error"]
    assert alice.get("/api/tasks").get_json()["total"] == 0


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(make_app: Any) -> None:
    # Scripts without cookies, one person per address: only the address tells them apart.
    limits = {"SUBMISSIONS_PER_MINUTE": 1, "PEOPLE_PER_ADDRESS": 1}
    app = make_app(START_RUNNER=False, PROXY_HOPS=1, **limits)

    def through_proxy(app: Any, forwarded: str, n: int) -> int:
        proxy = client_at(app, "127.0.0.1")  # every request comes through the proxy, with no cookie
        return int(proxy.post("/api/tasks", json={"n": n}, headers={"X-Forwarded-For": forwarded}).status_code)

    for visitor in ("198.51.100.7", "203.0.113.9"):
        assert through_proxy(app, f"192.0.2.1, {visitor}", 1000) == 201  # the client may forge the left part
    assert through_proxy(app, "203.0.113.9", 1000) == 429
    # With no trusted proxy configured, the header is ignored: all requests are one client.
    direct = make_app(START_RUNNER=False, DATA_DIR=str(app.server.config["DATA_DIR"]) + "2", **limits)
    assert through_proxy(direct, "198.51.100.7", 1) == 201
    assert through_proxy(direct, "203.0.113.9", 2) == 429


def test_a_classroom_behind_one_address_each_submits_and_the_address_has_a_looser_bound(make_app: Any) -> None:
    app = make_app(START_RUNNER=False, SUBMISSIONS_PER_MINUTE=1, ACTIVE_TASKS_PER_CLIENT=1, PEOPLE_PER_ADDRESS=30)
    pupils = [client_at(app, "192.0.2.50") for _ in range(31)]  # each browser with its own cookie
    assert [pupil.post("/api/tasks", json={"n": 1000 + i}).status_code for i, pupil in enumerate(pupils[:30])] == [
        201
    ] * 30
    again = pupils[0].post("/api/tasks", json={"n": 2000})  # one pupil's own limit
    assert again.status_code == 429 and "1 submissions in the last minute" in again.get_json()["error"]
    last = pupils[30].post("/api/tasks", json={"n": 2001})  # the address's: 30 people's worth
    assert last.status_code == 429 and "behind your network address" in last.get_json()["error"]
    assert client_at(app, "192.0.2.51").post("/api/tasks", json={"n": 2002}).status_code == 201


def test_the_queue_is_served_round_robin_across_clients(held: Any) -> None:
    app, workers = held(START_RUNNER=False, WORKERS=1)
    service, runner = service_of(app), runner_of(app)
    alice, bob = client_at(app, "10.0.0.1"), client_at(app, "10.0.0.2")
    alices = [alice.post("/api/tasks", json={"n": n}).get_json()["id"] for n in range(20_001, 20_006)]
    bobs = bob.post("/api/tasks", json={"n": 30_000}).get_json()["id"]
    started = []
    for _ in range(6):
        runner.tick()  # starts the next task: one worker, so one at a time
        (running,) = [task for task in service.page(limit=10) if task["status"] == "running"]
        started.append(running["id"])
        worker = workers.process(running["id"])
        service.cancel(running["id"])  # done with it: let the next one start
        wait_for(partial(is_gone, worker), timeout=5)
    assert started[:2] == [alices[0], bobs]  # Bob's one task starts second, not sixth
    assert started[2:] == alices[1:]  # and each client's own tasks in the order they came
