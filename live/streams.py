"""``GET /api/events``: the change feed as a stream of server-sent events, one per open page (an ASGI app).

Publishing an event wakes every stream (each has its own asyncio.Event: waking n streams is n cheap calls,
and a stream that goes costs nothing but its removal from a set), and each writes what it has not sent yet:
the kept events after its last one, the running tasks' latest progress if it is up to date, or, on the
keep-alive tick, a comment. A page that was slow to read (or reconnects, with ``Last-Event-ID``) gets what it
missed from the events kept; one too far behind is told to fetch its rows again (``event: reset``).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import random
import secrets
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from live.feed import Event

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = "/api/events"
# A comment this often keeps proxies from closing an idle stream, and finds the dead ones.
KEEP_ALIVE_SECONDS = 15.0
# A browser waits this long (each stream its own draw) before reconnecting, so a crowd does not come back at once.
RETRY_MS = (1000, 5000)
KEPT_EVENTS = 2000
# A page may be ahead of this process's feed by one read: it waits that long before being called lost.
AHEAD_GRACE_SECONDS = 1.0


class Stream:
    """One open stream's wake-up call, and whether its client went."""

    __slots__ = ("gone", "wake")

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.gone = False


class Broadcast:
    """The events for every stream of this process: the last ones kept, the latest progress, the streams.

    Used on the server's event loop only; the feed's thread hands events over with ``publish_threadsafe``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, revision: int) -> None:
        self.loop = loop
        self.revision = revision
        self.streams: set[Stream] = set()
        # The kept events are every change after ``_floor``: a page that has seen less is too far behind.
        self._floor = revision
        self._revisions: list[int] = []
        self._events: list[Event] = []
        self.progress: Event | None = None
        self.progress_count = 0
        self.keep_alive_count = 0
        loop.call_later(KEEP_ALIVE_SECONDS, self._keep_alive)

    def publish_threadsafe(self, event: Event) -> None:
        self.loop.call_soon_threadsafe(self.publish, event)

    def publish(self, event: Event) -> None:
        if event.kept:
            self.revision = event.revision
            self._revisions.append(event.revision)
            self._events.append(event)
            if len(self._events) > 2 * KEPT_EVENTS:
                self._floor = self._revisions[KEPT_EVENTS - 1]
                del self._revisions[:KEPT_EVENTS], self._events[:KEPT_EVENTS]
        else:
            self.progress = event
            self.progress_count += 1
        self._wake_all()

    def _keep_alive(self) -> None:
        self.keep_alive_count += 1
        self._wake_all()
        self.loop.call_later(KEEP_ALIVE_SECONDS, self._keep_alive)

    def _wake_all(self) -> None:
        for stream in self.streams:
            stream.wake.set()

    def after(self, revision: int) -> list[Event] | None:
        """The kept events after ``revision``, or None when some of them are no longer kept."""
        if revision >= self.revision:
            return []
        if revision < self._floor:
            return None
        return self._events[bisect.bisect_right(self._revisions, revision) :]

    def reset(self) -> bytes:
        """The event that tells a page to fetch its rows again, from the current revision on."""
        return f"id: {self.revision}\nevent: reset\ndata: {{}}\n\n".encode()


class Streams:
    """The ASGI app: one stream of events per request to ``/api/events``, within the limits."""

    def __init__(self, broadcast: Broadcast, limit: int, per_address: int, proxy_hops: int = 0) -> None:
        self.broadcast = broadcast
        self.limit = limit
        self.per_address = per_address
        self.proxy_hops = proxy_hops
        self.open: Counter[str] = Counter()  # streams per client address
        self.total = 0
        self.process = secrets.token_hex(4)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != PATH:
            await _answer(send, 404, {"error": f"no such address: {scope['path']}"})
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, {"error": "only GET"}, ((b"allow", b"GET, HEAD"),))
            return
        try:
            since = _resume_point(scope)
        except ValueError as error:
            await _answer(send, 400, {"error": str(error)})
            return
        address = _address(scope, self.proxy_hops)
        if self.total >= self.limit or self.open[address] >= self.per_address:
            busy = {"error": "too many open streams here; pages poll instead"}
            await _answer(send, 503, busy, ((b"retry-after", b"60"),))
            return
        self.open[address] += 1
        self.total += 1
        try:
            await self._stream(scope, since, receive, send)
        finally:
            self.total -= 1
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]

    async def _stream(self, scope: Scope, since: int | None, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
            *_cross_origin(scope),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        broadcast = self.broadcast
        # Which process serves the stream (a token, not its pid) and from which revision: for people and tests.
        hello = f"retry: {random.randint(*RETRY_MS)}\n: revision {broadcast.revision}, process {self.process}\n\n"
        await _write(send, hello.encode())
        stream = Stream()
        broadcast.streams.add(stream)
        watcher = asyncio.ensure_future(_watch(receive, stream))
        try:
            last = await self._start_from(send, since)
            progress_seen, keep_alive_seen = broadcast.progress_count, broadcast.keep_alive_count
            while not stream.gone:
                stream.wake.clear()
                last, wrote = await self._catch_up(send, last)
                if broadcast.progress_count != progress_seen:
                    progress_seen = broadcast.progress_count
                    # Only for a page at the progress's own revision: an older read must not undo a newer row.
                    if broadcast.progress is not None and broadcast.progress.revision == last:
                        await _write(send, broadcast.progress.data)
                        wrote = True
                if broadcast.keep_alive_count != keep_alive_seen:
                    keep_alive_seen = broadcast.keep_alive_count
                    if not wrote:
                        await _write(send, b": keep-alive\n\n")
                await stream.wake.wait()
        finally:
            broadcast.streams.discard(stream)
            watcher.cancel()

    async def _start_from(self, send: Send, since: int | None) -> int:
        """The revision the page has seen: from ``since``, from now, or (a page the feed never catches up with,
        such as after a database restored to an older copy) from a reset."""
        broadcast = self.broadcast
        if since is None:
            return broadcast.revision
        if since > broadcast.revision:
            await asyncio.sleep(AHEAD_GRACE_SECONDS)
            if since > broadcast.revision:
                await _write(send, broadcast.reset())
                return broadcast.revision
        return since

    async def _catch_up(self, send: Send, last: int) -> tuple[int, bool]:
        missed = self.broadcast.after(last)
        if missed is None:
            await _write(send, self.broadcast.reset())
            return self.broadcast.revision, True
        wrote = False
        for event in missed:
            if event.revision > last:
                await _write(send, event.data)
                last, wrote = event.revision, True
        return last, wrote


def _resume_point(scope: Scope) -> int | None:
    """Where the page's stream resumes: ``Last-Event-ID`` on a reconnect, else ``?since=``; None: from now.

    :raises ValueError: for anything but a revision.
    """
    given = dict(scope["headers"]).get(b"last-event-id", b"").decode("latin-1")
    if not given:
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("since", [""])[-1]
    if not given:
        return None
    if not (given.isascii() and given.isdigit() and len(given) <= 19):
        raise ValueError("since (or Last-Event-ID) must be a revision: a whole number of at most 19 digits")
    return int(given)


def _cross_origin(scope: Scope) -> list[tuple[bytes, bytes]]:
    """Let the app's own pages (same host, the app's port) read the stream, and no other site's."""
    headers = dict(scope["headers"])
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = urlsplit("//" + headers.get(b"host", b"").decode("latin-1")).hostname
    if origin and host and urlsplit(origin).hostname == host:
        return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
    return []


def _address(scope: Scope, proxy_hops: int) -> str:
    """The client's address: behind ``proxy_hops`` trusted proxies, the one they put in X-Forwarded-For
    (as werkzeug's ProxyFix reads it for the pages); otherwise the connection's."""
    if proxy_hops:
        header: bytes = dict(scope["headers"]).get(b"x-forwarded-for", b"")
        forwarded = [hop.strip() for hop in header.decode("latin-1").split(",")]
        if len(forwarded) >= proxy_hops and forwarded[-proxy_hops]:
            return forwarded[-proxy_hops]
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _watch(receive: Receive, stream: Stream) -> None:
    """Wait for the client to go, and wake its stream to end."""
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.gone = True
    stream.wake.set()


async def _write(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _answer(send: Send, status: int, body: dict[str, str], headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    payload = json.dumps(body).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": payload})
