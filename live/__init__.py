"""Live updates: the task store's changes pushed to open pages as server-sent events (docs/architecture.md).

Each web process (``make run``'s, and every gunicorn process of ``make web``) serves ``/api/events`` on a port
of its own, PI_EVENTS_PORT, beside the app's: uvicorn on an asyncio loop in a thread of the process, since
holding ten thousand open streams takes an event loop, not a thread each, and waitress and gunicorn's threads
stay for the pages. gunicorn's processes share the port (SO_REUSEPORT): the kernel hands each new stream to
one of them, and when one is killed its pages reconnect to the others.
"""

from __future__ import annotations

import asyncio
import logging
import re
import resource
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import flask
import uvicorn
import uvloop

from live.connections import guarded_protocol
from live.feed import ChangeFeed
from live.streams import PATH
from live.streams import Broadcast
from live.streams import Streams

EXTENSION = "pi.live"
_HOST_NAME = re.compile(r"[A-Za-z0-9.:-]{1,253}")
SPARE_FDS = 512
BACKLOG = 4096  # a crowd arriving at once (the kernel caps it at net.core.somaxconn)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Live:
    """A process's events server, as its pages need to know it: its port, and PI_EVENTS_URL."""

    port: int
    configured_url: str

    def url_for(self, request: flask.Request) -> str:
        """Where the page answering ``request`` opens its stream: PI_EVENTS_URL if given, else the host the
        page was asked from, at the events port."""
        if self.configured_url:
            return self.configured_url
        host = urlsplit(f"//{request.host}").hostname or ""
        if not _HOST_NAME.fullmatch(host):  # it goes into the page's CSP: nothing but a host name's characters
            host = "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"{request.scheme}://{host}:{self.port}{PATH}"


def listening_socket(host: str, port: int, shared: bool = False) -> socket.socket:
    """The events port, bound; ``shared`` by all of gunicorn's processes (SO_REUSEPORT).

    Shared that way, the kernel spreads new streams evenly over the processes. One socket opened before the
    fork would do too, but every stream then goes to whichever process wakes first: all 16 of 16 in a test.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    # Listening from now: a page that connects before uvicorn's loop runs waits in the backlog, not refused.
    sock.listen(BACKLOG)
    return sock


def streams_limit(configured: int, page_connections: int) -> int:
    """How many streams this process may hold: ``configured``, within its file descriptors.

    The soft limit is raised to the hard one first (20,000 on this project's machines); a stream is one
    descriptor, and the pages' connections (PI_CONNECTION_LIMIT) and SPARE_FDS more stay for the pages, the
    database and the digit files.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    room = soft - page_connections - SPARE_FDS
    if room < configured:
        log.warning(
            "live updates: %s streams at most (file descriptors: %s, pages' connections %s)",
            room,
            soft,
            page_connections,
        )
    return max(1, min(configured, room))


def start(app: flask.Flask, sock: socket.socket | None = None) -> Live | None:
    """Serve the change feed of ``app``'s task store on the events port (None: PI_EVENTS_PORT is 0, pages poll)."""
    settings = app.config
    if not settings["EVENTS_PORT"] and sock is None:
        return None
    sock = sock or listening_socket(settings["HOST"], settings["EVENTS_PORT"])
    store = app.extensions["pi"].store
    revision = store.revision()  # here, not in the thread: a database that is down fails the start, loudly
    limit = streams_limit(settings["EVENTS_LIMIT"], settings["CONNECTION_LIMIT"])
    proxied = bool(settings["PROXY_HOPS"])
    started = threading.Event()

    async def serve() -> None:
        broadcast = Broadcast(asyncio.get_running_loop(), revision)
        streams = Streams(broadcast, limit, settings["EVENTS_PER_ADDRESS"], settings["PROXY_HOPS"])
        config = uvicorn.Config(
            streams,
            # A deadline for each request's headers, and (unless behind a proxy) a cap on one address's
            # connections before any request is read (live/connections.py).
            http=guarded_protocol(None if proxied else 2 * settings["EVENTS_PER_ADDRESS"]),
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            backlog=BACKLOG,
            # Past this, uvicorn answers 503 itself: the streams never take the descriptors the pages need.
            limit_concurrency=limit + 64,
        )
        interval = settings["EVENTS_READ_MS"] / 1000
        ChangeFeed(store, broadcast.publish_threadsafe, broadcast.revision, interval).start()
        started.set()
        await uvicorn.Server(config).serve(sockets=[sock])

    def run() -> None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # uvloop: about twice asyncio's writes
            runner.run(serve())

    threading.Thread(target=run, name="pi-events", daemon=True).start()
    if not started.wait(30):
        raise RuntimeError("the live updates did not start within 30 s")
    live = Live(port=sock.getsockname()[1], configured_url=settings["EVENTS_URL"])
    app.extensions[EXTENSION] = live
    log.info("live updates on port %s (%s)", live.port, PATH)
    return live
