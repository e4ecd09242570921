"""The digits every machine reads, scaled out: published in the database, mirrored into each local store.

A worker that computed a longer prefix publishes the new places in chunks of
compute.digit_store.BLOCK places, each with its SHA-256, and the new length,
in one transaction: a reader sees the old prefix or the new one, never half.
Web processes and workers mirror what is published into their own verified
DigitStore (compute/digit_store.py), so every read stays a local file read
(milliseconds at any place) and no filesystem is shared between machines.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from compute.digit_store import BLOCK
from compute.digit_store import DigitStore
from tasks.store.tables import digit_chunks
from tasks.store.tables import digit_prefix

log = logging.getLogger(__name__)


class PublishedDigitsDamaged(RuntimeError):
    """A published chunk failed its checksum: it is not mirrored."""


class SharedDigits:
    """The published digits in the task database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def places(self) -> int:
        """How many places are published."""
        with self.engine.connect() as db:
            return int(db.execute(sa.select(digit_prefix.c.places).where(digit_prefix.c.id == 1)).scalar_one())

    def publish(self, local: DigitStore) -> int:
        """Publish the places of ``local`` past what is published; the published length after."""
        length = len(local)
        with self.engine.begin() as db:
            # Locks the prefix row: two workers publishing at once take turns.
            published = int(
                db.execute(
                    sa.update(digit_prefix)
                    .where(digit_prefix.c.id == 1)
                    .values(places=digit_prefix.c.places)
                    .returning(digit_prefix.c.places)
                ).scalar_one()
            )
            if length <= published:
                return published
            for chunk in range(published // BLOCK, -(-length // BLOCK)):
                text = local.read(chunk * BLOCK + 1, BLOCK)
                db.execute(sa.delete(digit_chunks).where(digit_chunks.c.chunk == chunk))
                db.execute(sa.insert(digit_chunks).values(chunk=chunk, digits=text, sha256=_sha(text)))
            db.execute(sa.update(digit_prefix).where(digit_prefix.c.id == 1).values(places=length))
        log.info("published places %s..%s", published + 1, length)
        return length

    def mirror_into(self, local: DigitStore) -> bool:
        """Copy what is published past ``local``'s end into it; whether it grew.

        :raises PublishedDigitsDamaged: if a chunk fails its checksum (nothing is copied).
        """
        kept = len(local)
        with self.engine.connect() as db:
            published = int(db.execute(sa.select(digit_prefix.c.places)).scalar_one())
            if published <= kept:
                return False
            first = kept // BLOCK
            rows = db.execute(
                sa.select(digit_chunks).where(digit_chunks.c.chunk >= first).order_by(digit_chunks.c.chunk)
            ).all()
        texts = []
        for expected, row in enumerate(rows, start=first):
            if row.chunk != expected or _sha(row.digits) != row.sha256:
                raise PublishedDigitsDamaged(f"published chunk {expected} is missing or fails its checksum")
            texts.append(row.digits)
        digits = (local.read(1, first * BLOCK) + "".join(texts))[:published]
        return local.extend(digits)


class Mirror:
    """A thread that mirrors what is published into a local store every ``every`` seconds."""

    def __init__(self, shared: SharedDigits, local: DigitStore, every: float = 1.0) -> None:
        self.shared, self.local, self.every = shared, local, every
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # one copy at a time: the thread, or a reader that cannot wait
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="pi-digit-mirror", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def catch_up(self, wait_seconds: float = 30.0) -> bool:
        """Mirror now (a reader needs digits just published); whether the local store grew.

        A request waits at most ``wait_seconds`` for a copy already under way
        (a billion places take about 20 s): that copy may hold the very digits
        it needs. Giving up after 2 s, as this once did, answered "not computed
        yet" for a task already shown done whenever a busy machine slowed the
        copy (tests/test_api.py's scaled /api/pi, under pytest-xdist).
        """
        if not self._lock.acquire(timeout=wait_seconds):
            return False
        try:
            return self.shared.mirror_into(self.local)
        except Exception:  # the database restarting, a damaged chunk: logged, tried again
            log.warning("could not mirror the published digits", exc_info=True)
            return False
        finally:
            self._lock.release()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.catch_up(wait_seconds=self.every)
            self._stopping.wait(self.every)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()
