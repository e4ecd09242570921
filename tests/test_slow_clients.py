"""Clients that start a large download and never read it hold no server thread."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from compute.digit_store import DigitStore
from tasks.store import schema
from tasks.store.queries import TaskStore
from tasks.store.tables import connect
from tests.servers import Server

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
