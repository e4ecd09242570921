"""The digit store: the longest prefix of pi's decimal places computed so far, verified where it rests.

One file, ``pi.digits``: the text "3." and the digits (so place p is the byte
at offset p + 1, and a download of pi to n places is the file's first n + 2
bytes, which the server can send without a thread), then a trailer: the
SHA-256 of every block of BLOCK places, and a footer with the length and a
hash of the trailer itself. The file only grows, and it is replaced
atomically (temporary file, fsync, rename), digits and checksums together.

Every read first checks the blocks it touches, once per block for as long as
the file stays the same file (same inode, size and modification time): a
block whose checksum fails is never served (DigitsDamaged), and ``repair()``
cuts the store back to the good blocks before it, for a task to recompute.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import os
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

BLOCK = 1 << 20  # places per checksum: checking one costs about 2 ms
CHUNK_BYTES = 1 << 20
_PREFIX = b"3."
_MAGIC = b"PIDIGIT2"
# magic, length (places), block size, SHA-256 of (the block checksums + length + block size)
_FOOTER = struct.Struct("<8sQQ32s")
_SUM = 32
_LEGACY_NAME = "pi-digits.txt"  # before checksums: digits only, nothing to verify them by


class DigitsDamaged(RuntimeError):
    """A stored block does not match its checksum: its digits must not be served."""

    def __init__(self, first_bad_place: int) -> None:
        super().__init__(f"the stored digits are damaged from place {first_bad_place:,}")
        self.first_bad_place = first_bad_place


@dataclass
class _Layout:
    """What the footer of one version of the file says, and which of its blocks passed."""

    identity: tuple[int, int, int]
    length: int
    block: int
    sums: list[bytes]
    verified: set[int] = field(default_factory=set)


class DigitStore:
    """Read, verify, extend and repair the stored prefix of pi's digits in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str], block: int = BLOCK) -> None:
        """:param block: places per checksum in files this store writes (any size is read)."""
        self.folder = Path(folder)
        self.block = block
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "pi.digits"
        self._lock_path = self.folder / "pi-digits.lock"
        self._layout: _Layout | None = None
        self._set_aside_legacy_file()

    def __len__(self) -> int:
        """How many places are stored (0 if the file's own footer is damaged)."""
        with self._open() as (_, layout):
            return layout.length

    def covers(self, place: int) -> bool:
        """Whether place ``place`` (1-based) is stored."""
        return 1 <= place <= len(self)

    def read(self, start: int, count: int) -> str:
        """Up to ``count`` verified digits from place ``start`` (1-based) on.

        Shorter than ``count`` where the stored prefix ends; empty past it.

        :raises DigitsDamaged: if a block they lie in fails its checksum.
        """
        if start < 1 or count < 1:
            return ""
        with self._open() as (digits, layout):
            end = min(layout.length, start + count - 1)
            if end < start:
                return ""
            self._verify_places(digits, layout, start, end)
            digits.seek(start + 1)
            return digits.read(end - start + 1).decode("ascii")

    def digit(self, place: int) -> str | None:
        """The digit at ``place``, or None if it is not stored.

        :raises DigitsDamaged: if its block fails its checksum.
        """
        return self.read(place, 1) or None

    def open_text(self, places: int) -> BinaryIO:
        """The file, at its start: its first ``places + 2`` bytes are "3." and the places, verified.

        The caller sends those bytes and closes the file; a later replacement of
        the store does not change what this open file holds.

        :raises LookupError: if fewer than ``places`` places are stored.
        :raises DigitsDamaged: if a block among them fails its checksum.
        """
        digits = open(self.path, "rb")  # noqa: SIM115 - the caller closes it
        try:
            layout = self._layout_of(digits)
            if layout.length < places:
                raise LookupError(f"only {layout.length:,} places are stored")
            self._verify_places(digits, layout, 1, places)
            digits.seek(0)
            return digits
        except BaseException:
            digits.close()
            raise

    def damaged_from(self) -> int | None:
        """Check every block; the first place of the first bad one, or None if all pass."""
        with self._open() as (digits, layout):
            for block in range(len(layout.sums)):
                if not self._block_passes(digits, layout, block):
                    return block * layout.block + 1
            return None

    def repair(self) -> tuple[int, int]:
        """Cut the store back to the blocks before the first bad one.

        Returns (places stored before, places kept), equal if nothing was bad.
        """
        with self._locked():
            with self._open() as (digits, layout):
                before = layout.length
                bad = next(
                    (block for block in range(len(layout.sums)) if not self._block_passes(digits, layout, block)),
                    None,
                )
                if bad is None:
                    return before, before
                kept = bad * layout.block
                digits.seek(len(_PREFIX))
                self._write(first_bytes(digits, kept), kept)
            log.warning("digit store damaged at place %s: cut back from %s to %s places", kept + 1, before, kept)
            return before, kept

    def extend(self, digits: str) -> bool:
        """Store ``digits`` (places 1..len) if they are longer than what is kept.

        Returns whether the store grew. Callers pass a proven prefix: this only
        checks that it agrees with the last good block already stored. Blocks
        that fail their checksum are replaced, not compared.
        """
        with self._locked():
            for abandoned in self.folder.glob(".pi-digits-*.tmp"):
                abandoned.unlink(missing_ok=True)  # holding the lock: a killed writer's
            with self._open() as (stored, layout):
                if len(digits) <= layout.length:
                    return False
                good = 0
                for block in range(len(layout.sums)):
                    if not self._block_passes(stored, layout, block):
                        break
                    good = min(layout.length, (block + 1) * layout.block)
                overlap = min(good, 4096)
                if overlap:
                    stored.seek(len(_PREFIX) + good - overlap)
                    if stored.read(overlap).decode("ascii") != digits[good - overlap : good]:
                        raise ValueError("new digits disagree with the stored prefix")
            # Encoded a chunk at a time: a billion digits at once would be a second copy.
            chunks = (digits[at : at + CHUNK_BYTES].encode("ascii") for at in range(0, len(digits), CHUNK_BYTES))
            self._write(chunks, len(digits))
            return True

    # -- the file ------------------------------------------------------------

    @contextmanager
    def _open(self) -> Iterator[tuple[BinaryIO, _Layout]]:
        try:
            digits = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            yield io.BytesIO(), _Layout((0, 0, 0), 0, self.block, [])  # nothing stored: nothing will be read
            return
        with digits:
            yield digits, self._layout_of(digits)

    def _layout_of(self, digits: BinaryIO) -> _Layout:
        status = os.fstat(digits.fileno())
        identity = (status.st_ino, status.st_size, status.st_mtime_ns)
        if self._layout is None or self._layout.identity != identity:
            self._layout = _read_layout(digits, identity)
        return self._layout

    def _verify_places(self, digits: BinaryIO, layout: _Layout, first: int, last: int) -> None:
        for block in range((first - 1) // layout.block, (last - 1) // layout.block + 1):
            if not self._block_passes(digits, layout, block):
                raise DigitsDamaged(block * layout.block + 1)

    def _block_passes(self, digits: BinaryIO, layout: _Layout, block: int) -> bool:
        if block in layout.verified:
            return True
        start = block * layout.block
        digits.seek(len(_PREFIX) + start)
        data = digits.read(min(layout.block, layout.length - start))
        if hashlib.sha256(data).digest() != layout.sums[block]:
            return False
        layout.verified.add(block)
        return True

    def _write(self, chunks: Iterator[bytes], length: int) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".pi-digits-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(_PREFIX)
                sums = _BlockSums(self.block)
                for chunk in chunks:
                    out.write(chunk)
                    sums.add(chunk)
                out.write(sums.trailer(length))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _set_aside_legacy_file(self) -> None:
        # Digits stored before checksums cannot be verified: keep them aside,
        # never serve them; tasks recompute what is asked for.
        legacy = self.folder / _LEGACY_NAME
        if legacy.exists():
            legacy.replace(legacy.with_suffix(".unverified"))
            log.warning("set aside %s (stored without checksums); digits are recomputed on demand", legacy)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Several worker processes may finish at once; one writer at a time.
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class _BlockSums:
    """SHA-256 of each BLOCK places of a stream of digits, fed in chunks of any size."""

    def __init__(self, block: int) -> None:
        self.block = block
        self.sums: list[bytes] = []
        self._current = hashlib.sha256()
        self._filled = 0

    def add(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.block - self._filled)
            self._current.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self.block:
                self.sums.append(self._current.digest())
                self._current, self._filled = hashlib.sha256(), 0

    def trailer(self, length: int) -> bytes:
        if self._filled:
            self.sums.append(self._current.digest())
            self._current, self._filled = hashlib.sha256(), 0
        body = b"".join(self.sums)
        seal = hashlib.sha256(body + struct.pack("<QQ", length, self.block)).digest()
        return body + _FOOTER.pack(_MAGIC, length, self.block, seal)


def _read_layout(digits: BinaryIO, identity: tuple[int, int, int]) -> _Layout:
    """The footer's length and checksums; length 0 if the footer or the "3." is damaged."""
    damaged = _Layout(identity, 0, BLOCK, [])
    size = identity[1]
    if size < len(_PREFIX) + _FOOTER.size:
        return damaged
    digits.seek(size - _FOOTER.size)
    magic, length, block, seal = _FOOTER.unpack(digits.read(_FOOTER.size))
    count = -(-length // block) if block > 0 else -1
    if magic != _MAGIC or count < 0 or len(_PREFIX) + length + count * _SUM + _FOOTER.size != size:
        log.warning("digit store footer is damaged: treating the store as empty")
        return damaged
    digits.seek(len(_PREFIX) + length)
    body = digits.read(count * _SUM)
    digits.seek(0)
    if hashlib.sha256(body + struct.pack("<QQ", length, block)).digest() != seal or digits.read(2) != _PREFIX:
        log.warning("digit store checksums are damaged: treating the store as empty")
        return damaged
    return _Layout(identity, length, block, [body[i : i + _SUM] for i in range(0, len(body), _SUM)])


def first_bytes(source: BinaryIO, length: int) -> Iterator[bytes]:
    """The next ``length`` bytes of ``source``, in chunks; OSError if it ends sooner."""
    left = length
    while left > 0:
        chunk = source.read(min(CHUNK_BYTES, left))
        if not chunk:
            raise OSError("the digit store ended early while it was read")
        left -= len(chunk)
        yield chunk
