"""Behind PI_PROXY_HOPS trusted proxies, each visitor is the address the proxy forwarded, through the real servers.

waitress (make run) drops X-Forwarded-For unless told to keep it, which Flask's
test client never shows; gunicorn (make web) passes it on. Each server here runs
as users run it, with one active task allowed per client and no runner, so every
task stays queued and counts against its client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import Server

SERVERS = {"waitress": ("app.py",), "gunicorn": ("-m", "gunicorn", "wsgi:application")}


def submit_as(server: Server, forwarded_for: str, n: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/tasks",
        data=json.dumps({"n": n}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("server_name", SERVERS)
def test_behind_one_trusted_proxy_two_visitors_are_two_clients(server_name: str, tmp_path: Path) -> None:
    server = Server(tmp_path / "data", workers=1, command=SERVERS[server_name])
    # Scripts without cookies, one person per address: only the address tells them apart.
    server.env.update(PI_PROXY_HOPS="1", PI_START_RUNNER="false", PI_WEB_PROCESSES="1")
    server.env.update(PI_ACTIVE_TASKS_PER_CLIENT="1", PI_PEOPLE_PER_ADDRESS="1")
    (tmp_path / "data").mkdir()
    server.start()
    try:
        # The left part of the header is the client's own to forge; the proxy appended the right part.
        assert submit_as(server, "192.0.2.1, 198.51.100.7", 1_000) == 201
        assert submit_as(server, "192.0.2.1, 198.51.100.7", 1_001) == 429  # that visitor's one active task
        assert submit_as(server, "192.0.2.1, 203.0.113.9", 1_002) == 201  # another visitor is not locked out
    finally:
        server.stop()
