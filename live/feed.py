"""The change feed of one web process: what changed in the task store, made once into a server-sent event.

It reads the store's revision (one row) a few times a second; when the revision moved, it reads the tasks
changed since and makes of them one event, serialized once, that every open page gets. Reading the store
rather than being told by its writers makes one design for every mode: a task changed by this process's
runner, by another gunicorn process or by a Celery worker on another machine is in the store all the same,
and a feed that missed nothing by construction needs no redelivery (docs/architecture.md, Live updates).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy.exc

import i18n
from dashboard.task_table import public_row
from dashboard.task_table import row_labels
from tasks.records import RUNNING
from tasks.records import Task
from tasks.store.queries import TaskStore

log = logging.getLogger(__name__)

# At most this many tasks in one event: a burst of changes goes out in several.
TASKS_PER_EVENT = 200


@dataclass(frozen=True)
class Event:
    """One server-sent event: the revision it brings a page to, and its bytes as they go on the wire.

    ``kept`` is False for the running tasks' estimated progress, which changes nothing in the store and is
    not replayed to a page that reconnects.
    """

    revision: int
    data: bytes
    kept: bool = True


def serialized(revision: int, tasks: list[Task], now: float, name: str = "") -> bytes:
    """The event for ``tasks``: each as every viewer's grid shows it, its texts in every language.

    ``name`` is the event's type (none: a change; "progress": the running tasks' estimates, which change no row's
    status and make no page fetch its rows).
    """
    rows: list[dict[str, Any]] = []
    for task in tasks:
        row = public_row(task, now)
        labels = {}
        for code in i18n.LANGUAGES:
            with i18n.speaking(code):
                labels[code] = row_labels(task)
        row["labels"] = labels
        rows.append(row)
    data = json.dumps({"revision": revision, "tasks": rows}, ensure_ascii=False, separators=(",", ":"))
    kind = f"event: {name}\n" if name else ""
    return f"id: {revision}\n{kind}data: {data}\n\n".encode()


class ChangeFeed:
    """Reads the store every ``interval`` seconds and hands each change, as an Event, to ``publish``."""

    def __init__(
        self,
        store: TaskStore,
        publish: Callable[[Event], None],
        revision: int,
        interval: float,
        running_every: float = 1.0,
    ) -> None:
        self.store = store
        self.publish = publish
        self.revision = revision  # the last one published: the feed goes on from there, skipping none
        self.interval = interval
        self.running_every = running_every
        self._running_sent = 0.0

    def start(self) -> None:
        """Read in a thread of its own for as long as the process lives."""
        threading.Thread(target=self._run, name="pi-change-feed", daemon=True).start()

    def _run(self) -> None:
        while True:
            time.sleep(self.interval)
            try:
                self.read()
            except sqlalchemy.exc.SQLAlchemyError as error:
                # The database is away (restarting): pages keep what they show, and the next read catches up.
                log.warning("change feed: cannot read the task store: %s", error)
            except Exception:  # the feed must outlive any one bad read, or every page would freeze
                log.exception("change feed: a read failed")

    def read(self) -> None:
        """Publish what changed since the last read, and every second the running tasks' moving estimates."""
        now = time.time()
        current = self.store.revision()
        if current > self.revision:
            changed = self.store.changed_after(self.revision, current, TASKS_PER_EVENT)
            # A full batch may stop short of the current revision: the next read goes on from its last task.
            through = current if len(changed) < TASKS_PER_EVENT else changed[-1]["revision"]
            self.revision = through
            self.publish(Event(through, serialized(through, changed, now)))
        if now - self._running_sent >= self.running_every:
            self._running_sent = now
            running = self.store.with_status(RUNNING)[:TASKS_PER_EVENT]
            if running:
                # Read after the changes above, but named by the revision published: a page at that revision
                # may take it, no page behind (live/streams.py).
                self.publish(Event(self.revision, serialized(self.revision, running, now, "progress"), kept=False))
