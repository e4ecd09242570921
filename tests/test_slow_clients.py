"""Clients that start a large download and never read it hold no server thread."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from compute.digit_store import DigitStore
from config import PROJECT_ROOT
from tasks.store import schema
from tasks.store.queries import TaskStore
from tasks.store.tables import connect
from tests.conftest import wait_for
from tests.servers import Server
from tests.servers import free_port

PLACES = 30_000_000  # 30 MB: more than waitress buffers (16 MB) and the kernel's socket buffers


@pytest.fixture
def server_with_a_large_task(tmp_path: Path, reference_digits: str) -> Iterator[tuple[Server, int]]:
    """A real server whose data folder holds a done task of n = 3×10^7.

    The stored places are the reference repeated (this test is about sending
    bytes, not about which bytes): computing 3×10^7 real ones would take 15 s.
    """
    data_dir = tmp_path / "data"
    DigitStore(data_dir / "digits").extend((reference_digits * (PLACES // len(reference_digits) + 1))[:PLACES])
    engine = connect(f"sqlite:///{data_dir / 'tasks.sqlite3'}")
    schema.upgrade(engine)
    task_id = int(TaskStore(engine).create(PLACES, digit=reference_digits[PLACES % len(reference_digits) - 1])["id"])
    engine.dispose()
    server = Server(data_dir, workers=1)
    server.start()
    yield server, task_id
    server.stop()


def stalled_download(port: int, task_id: int) -> socket.socket:
    """Ask for the download, read a little of it, then never read again."""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.sendall(f"GET /api/tasks/{task_id}/pi.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert client.recv(64).startswith(b"HTTP/1.1 200")
    return client


def test_fifty_stalled_downloads_leave_the_site_answering(server_with_a_large_task: tuple[Server, int]) -> None:
    server, task_id = server_with_a_large_task
    clients = [stalled_download(server.port, task_id) for _ in range(50)]  # more than the server's 8 threads
    try:
        slowest = 0.0
        for _ in range(10):
            started = time.monotonic()
            engine = server.get("/api/engine")
            slowest = max(slowest, time.monotonic() - started)
            assert engine["stored_places"] == PLACES
        # Blocked threads would make these wait until the clients leave (forever);
        # the figure itself (tens of milliseconds here) is in docs/performance.md.
        assert slowest < 2.0, f"/api/engine took {slowest:.3f} s with 50 stalled downloads"
    finally:
        for client in clients:
            client.close()
    # And a client that reads gets exactly "3." and the stored places: waitress's
    # file wrapper stops at Content-Length, never sending the checksums stored after them.
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/tasks/{task_id}/pi.txt", timeout=30) as response:
        assert response.headers["Content-Length"] == str(PLACES + 2)
        body = response.read()
    assert body == b"3." + DigitStore(server.data_dir / "digits").read(1, PLACES).encode()


class Tricklers:
    """``count`` connections that send a request's headers one byte every ``every`` seconds, and never finish."""

    def __init__(self, port: int, count: int, every: float = 2.0) -> None:
        self.sockets = []
        for _ in range(count):
            trickler = socket.create_connection(("127.0.0.1", port), timeout=10)
            trickler.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            self.sockets.append(trickler)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(self.every):
            for trickler in self.sockets:
                with contextlib.suppress(OSError):  # the server may have given up on it: fine
                    trickler.send(b"a")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for trickler in self.sockets:
            trickler.close()


def slowest_probe(port: int, probes: int = 10) -> float:
    """The slowest of ``probes`` fresh visitors' GET /healthz, in seconds (each must answer 200)."""
    slowest = 0.0
    for _ in range(probes):
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            assert response.status == 200
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.2)  # spread over a few of the tricklers' beats
    return slowest


def test_make_run_answers_others_while_200_clients_trickle_their_headers(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", workers=1)
    server.start()
    tricklers = Tricklers(server.port, 200)  # twice waitress's default connection limit
    try:
        slowest = slowest_probe(server.port)
        assert slowest < 1.0, f"/healthz took {slowest:.3f} s beside 200 trickling clients"
    finally:
        tricklers.close()
        server.stop()


def nginx_in_front(folder: Path, listen: int, upstream: int, events: int = 8051) -> subprocess.Popen[bytes]:
    """nginx with deploy/nginx.conf, its ports replaced, as a public server runs it."""
    conf = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
    assert "listen 8080;" in conf and "server 127.0.0.1:8050;" in conf and "server 127.0.0.1:8051;" in conf
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    conf = conf.replace("server 127.0.0.1:8050;", f"server 127.0.0.1:{upstream};")
    conf = conf.replace("server 127.0.0.1:8051;", f"server 127.0.0.1:{events};")
    folder.mkdir()
    (folder / "nginx.conf").write_text(conf)
    log = open(folder / "nginx.log", "wb")  # noqa: SIM115 - closed when the process is
    nginx = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return nginx


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_make_web_behind_deploy_nginx_answers_others_while_200_clients_trickle(tmp_path: Path) -> None:
    web = Server(tmp_path / "data", workers=1, command=("-m", "gunicorn", "wsgi:application"))
    web.env.update(PI_PROXY_HOPS="1")
    (tmp_path / "data").mkdir()
    web.start()
    front = free_port()
    nginx = nginx_in_front(tmp_path / "nginx", front, web.port, web.events_port)
    try:
        wait_for(lambda: answers(front), timeout=10)
        # Straight at gunicorn, 16 trickling clients hold its 2 x 4 threads: the site would be down.
        tricklers = Tricklers(front, 200)
        try:
            slowest = slowest_probe(front)
            assert slowest < 1.0, f"/healthz through nginx took {slowest:.3f} s beside 200 trickling clients"
        finally:
            tricklers.close()
    finally:
        nginx.terminate()
        nginx.wait(10)
        web.stop()
