"""The events port's connections, guarded before a request is read.

uvicorn starts no timer on a new connection (only after a response), and its limits apply once a request's
headers have arrived: a client that opens thousands of connections and sends nothing would hold as many file
descriptors of the web process, pages included. Here a connection must finish its headers within
HEADER_SECONDS, and one peer may hold at most ``per_peer`` connections (not counted behind a proxy, whose
address is every client's; the proxy's own limits hold there).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_SECONDS = 10.0


def guarded_protocol(per_peer: int | None) -> type[HttpToolsProtocol]:
    """uvicorn's HTTP protocol with a deadline for the headers and, unless None, at most ``per_peer``
    connections from one address. Each server gets its own class, with its own counts."""
    open_per_peer: Counter[str] = Counter()

    class Guarded(HttpToolsProtocol):
        _peer = ""
        _headers_due: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._peer = self.client[0] if self.client else "unknown"
            open_per_peer[self._peer] += 1
            if per_peer is not None and open_per_peer[self._peer] > per_peer:
                transport.close()
                return
            self._headers_due = self.loop.call_later(HEADER_SECONDS, transport.close)

        def on_headers_complete(self) -> None:
            if self._headers_due is not None:
                self._headers_due.cancel()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._headers_due is not None:
                self._headers_due.cancel()
            open_per_peer[self._peer] -= 1
            if open_per_peer[self._peer] <= 0:
                del open_per_peer[self._peer]
            super().connection_lost(exc)

    return Guarded
