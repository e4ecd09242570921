"""``GET /api/events``: the change feed as a stream of server-sent events, one per open page (an ASGI app).

Every stream waits on the same future; publishing an event resolves it, so an event costs one wake-up and
one write per page, and nothing per page while nothing changes but a keep-alive comment. A page that was
slow to read (or reconnects, with ``Last-Event-ID``) gets the events it missed from the last ones kept; one
too far behind is told to fetch its rows again (``event: reset``).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import secrets
from collections import Counter
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from live.feed import Event

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = "/api/events"
# A comment this often keeps proxies from closing an idle stream and shows a dead client.
KEEP_ALIVE_SECONDS = 15.0
# How long a browser waits before reconnecting after the stream broke.
RETRY_MS = 2000
KEPT_EVENTS = 2000
RESET = b"event: reset\ndata: {}\n\n"


class Broadcast:
    """The events for every stream of this process: the last ones kept, and a future for the next.

    Used on the server's event loop only; the feed's thread hands events over with ``publish_threadsafe``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, revision: int) -> None:
        self.loop = loop
        self.revision = revision
        self.next: asyncio.Future[Event] = loop.create_future()
        # The kept events are every change after ``_floor``: a page that has seen less is too far behind.
        self._floor = revision
        self._revisions: list[int] = []
        self._events: list[Event] = []

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
        done, self.next = self.next, self.loop.create_future()
        done.set_result(event)

    def after(self, revision: int) -> list[Event] | None:
        """The kept events after ``revision``, or None when some of them are no longer kept.

        A page may be ahead of this process's feed (its rows were read after the feed's last read): it has
        nothing to catch up on, and skips the events up to its revision.
        """
        if revision >= self.revision:
            return []
        if revision < self._floor:
            return None
        return self._events[bisect.bisect_right(self._revisions, revision) :]


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
            await self._stream(since, receive, send, head=scope["method"] == "HEAD")
        finally:
            self.total -= 1
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]

    async def _stream(self, since: int | None, receive: Receive, send: Send, head: bool) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
            (b"access-control-allow-origin", b"*"),  # public data, no credentials: pages on the app's port read it
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        # Which process serves the stream (a token, not its pid) and from which revision: for people and tests.
        hello = f"retry: {RETRY_MS}\n: revision {self.broadcast.revision}, process {self.process}\n\n"
        await _write(send, hello.encode())
        last = self.broadcast.revision if since is None else since
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            while True:
                last = await self._catch_up(send, last)
                waiting = self.broadcast.next
                either: set[asyncio.Future[Any]] = {waiting, gone}
                done, _ = await asyncio.wait(either, timeout=KEEP_ALIVE_SECONDS, return_when="FIRST_COMPLETED")
                if gone in done:
                    return
                if waiting in done:
                    event = waiting.result()
                    if not event.kept and last >= event.revision:  # the running tasks' estimates, for a page up to date
                        await _write(send, event.data)
                else:
                    await _write(send, b": keep-alive\n\n")
        finally:
            gone.cancel()

    async def _catch_up(self, send: Send, last: int) -> int:
        missed = self.broadcast.after(last)
        if missed is None:
            await _write(send, RESET)
            return self.broadcast.revision
        for event in missed:
            if event.revision > last:
                await _write(send, event.data)
                last = event.revision
        return last


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


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _write(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


async def _answer(send: Send, status: int, body: dict[str, str], headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    payload = json.dumps(body).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": payload})
