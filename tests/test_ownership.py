"""Whose task is it: the submitter (by its signed cookie) or an operator may cancel it; no other site may act."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import service_of


@pytest.fixture
def app(make_app: Any) -> Any:
    """An app that runs nothing, so tasks stay queued for as long as a test looks at them."""
    return make_app(START_RUNNER=False, ADMIN_TOKEN="operator-secret")


def test_only_the_submitter_may_cancel(app: Any) -> None:
    alice, bob = app.server.test_client(), app.server.test_client()  # two cookie jars: two visitors
    task = alice.post("/api/tasks", json={"n": 1000}).get_json()
    refused = bob.delete(f"/api/tasks/{task['id']}")
    assert refused.status_code == 403
    assert refused.get_json() == {
        "error": f"Only the browser or script that submitted task {task['id']} may cancel it."
    }
    assert bob.get(f"/api/tasks/{task['id']}").get_json()["status"] == "queued"  # everyone still sees it
    assert alice.delete(f"/api/tasks/{task['id']}").get_json()["status"] == "cancelled"


def test_the_owner_cookie_is_signed_and_kept_from_scripts(app: Any) -> None:
    alice = app.server.test_client()
    response = alice.post("/api/tasks", json={"n": 1000})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    task_id = response.get_json()["id"]
    forger = app.server.test_client()
    value = alice.get_cookie("session")
    assert value is not None
    forger.set_cookie("session", value.value[:-2] + ("AA" if not value.value.endswith("AA") else "BB"))
    assert forger.delete(f"/api/tasks/{task_id}").status_code == 403


def test_an_operator_token_may_cancel_any_task(app: Any) -> None:
    task = app.server.test_client().post("/api/tasks", json={"n": 1000}).get_json()
    operator = app.server.test_client()
    wrong = operator.delete(f"/api/tasks/{task['id']}", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 403
    right = operator.delete(f"/api/tasks/{task['id']}", headers={"Authorization": "Bearer operator-secret"})
    assert right.status_code == 200 and right.get_json()["status"] == "cancelled"


def test_owners_keep_their_tasks_across_a_restart(make_app: Any) -> None:
    first = make_app(START_RUNNER=False)
    alice = first.server.test_client()
    task = alice.post("/api/tasks", json={"n": 1000}).get_json()
    second = make_app(START_RUNNER=False)  # same data folder: the same kept secret key
    again = second.server.test_client()
    cookie = alice.get_cookie("session")
    assert cookie is not None
    again.set_cookie("session", cookie.value)
    assert again.delete(f"/api/tasks/{task['id']}").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page.html"}],
    ids=["origin", "referer"],
)
def test_requests_from_another_site_are_refused(app: Any, headers: dict[str, str]) -> None:
    alice = app.server.test_client()
    submitted = alice.post("/api/tasks", json={"n": 1000}, headers=headers)
    assert submitted.status_code == 403 and "this site's own pages" in submitted.get_json()["error"]
    assert service_of(app).count() == 0
    task = alice.post("/api/tasks", json={"n": 1000}).get_json()
    assert alice.delete(f"/api/tasks/{task['id']}", headers=headers).status_code == 403
    callback = alice.post("/_dash-update-component", json={}, headers=headers)
    assert callback.status_code == 403
    same_site = alice.delete(f"/api/tasks/{task['id']}", headers={"Origin": "http://localhost"})
    assert same_site.status_code == 200


def test_pages_forbid_framing_sniffing_and_foreign_scripts(app: Any) -> None:
    page = app.server.test_client().get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
