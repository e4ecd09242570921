"""A reader of the live updates (server-sent events at ``/api/events``), as a browser's EventSource reads them."""

from __future__ import annotations

import json
import time
from http.client import HTTPConnection
from http.client import HTTPResponse
from typing import Any


class EventStream:
    """One open stream: its events one by one, and the id of the last, to resume from as a browser does."""

    def __init__(
        self, port: int, last_event_id: int | None = None, since: int | None = None, forwarded_for: str = ""
    ) -> None:
        self.connection = HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        if forwarded_for:  # as a proxy in front says who the client is
            headers["X-Forwarded-For"] = forwarded_for
        self.connection.request("GET", "/api/events" + (f"?since={since}" if since is not None else ""), None, headers)
        self.response: HTTPResponse = self.connection.getresponse()
        self.last_id = last_event_id
        self.comments: list[str] = []
        self.retry_ms: int | None = None
        if self.response.status == 200:  # its first lines: how long to wait before reconnecting, and who serves it
            while line := self.response.readline().decode().rstrip("\n"):
                if line.startswith("retry:"):
                    self.retry_ms = int(line.removeprefix("retry:"))
                elif line.startswith(":"):
                    self.comments.append(line[1:].strip())

    @property
    def process(self) -> str:
        """The token of the web process serving this stream (from its first comment)."""
        return self.comments[0].rsplit(" ", 1)[-1]

    def next(self) -> dict[str, Any] | None:
        """The next event (its ``event`` name, ``id`` and parsed ``data``), or None when the stream ended."""
        fields: dict[str, str] = {}
        while True:
            try:
                line = self.response.readline().decode()
            except ConnectionResetError:  # the server's process was killed with data in flight
                return None
            if not line:
                return None
            line = line.rstrip("\n")
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            elif "data" in fields:
                if "id" in fields:
                    self.last_id = int(fields["id"])
                return {
                    "event": fields.get("event", "message"),
                    "id": fields.get("id"),
                    "data": json.loads(fields["data"]),
                }

    def until(self, done: Any, timeout: float = 30) -> list[dict[str, Any]]:
        """The tasks of every event up to the first after which ``done(tasks seen so far by id)`` holds."""
        seen: dict[int, dict[str, Any]] = {}
        events = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = self.next()
            assert event is not None, "the stream ended"
            events.append(event)
            for task in event["data"].get("tasks", []):
                seen[task["id"]] = task
            if done(seen):
                return events
        raise AssertionError(f"not seen within {timeout} s; last tasks: {seen}")

    def close(self) -> None:
        self.connection.close()
