"""The digit store: the longest prefix of pi's decimal places computed so far.

One ASCII file of digits after the point (no "3."), so place p is the byte at
offset p - 1 and any lookup inside the prefix is one seek and one read. The
file only ever grows, and it is replaced atomically (write a temporary file in
the same folder, fsync, rename), so a crash mid-write leaves the old prefix.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK_BYTES = 1 << 20


class DigitStore:
    """Read and extend the stored prefix of pi's digits in ``folder``."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "pi-digits.txt"
        self._lock_path = self.folder / "pi-digits.lock"

    def __len__(self) -> int:
        """How many places are stored."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def covers(self, place: int) -> bool:
        """Whether place ``place`` (1-based) is stored."""
        return 1 <= place <= len(self)

    def read(self, start: int, count: int) -> str:
        """Return up to ``count`` digits from place ``start`` (1-based) on.

        Shorter than ``count`` where the stored prefix ends; empty past it.
        """
        if start < 1 or count < 1:
            return ""
        try:
            with open(self.path, "rb") as digits:
                digits.seek(start - 1)
                return digits.read(count).decode("ascii")
        except FileNotFoundError:
            return ""

    def digit(self, place: int) -> str | None:
        """The digit at ``place``, or None if it is not stored."""
        return self.read(place, 1) or None

    def stream(self, places: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
        """Yield "3." and then the first ``places`` digits, in chunks.

        :raises LookupError: if fewer than ``places`` digits are stored.
        """
        if len(self) < places:
            raise LookupError(f"only {len(self):,} places are stored")
        # Open now, not on the first next(): the caller checked the length
        # against this very file, and a later rename must not change that.
        digits = open(self.path, "rb")  # noqa: SIM115 - closed by the generator below

        def chunks() -> Iterator[str]:
            with digits:
                yield "3."
                left = places
                while left > 0:
                    block = digits.read(min(chunk_bytes, left))
                    left -= len(block)
                    yield block.decode("ascii")

        return chunks()

    def extend(self, digits: str) -> bool:
        """Store ``digits`` (places 1..len) if they are longer than what is kept.

        Returns whether the store grew. Callers must pass a correct prefix:
        this checks only that it agrees with what is already stored.
        """
        with self._locked():
            # Holding the lock, any temporary file is one a killed writer left.
            for abandoned in self.folder.glob(".pi-digits-*.tmp"):
                abandoned.unlink(missing_ok=True)
            current = len(self)
            if len(digits) <= current:
                return False
            overlap = min(current, 4096)
            if overlap and self.read(current - overlap + 1, overlap) != digits[current - overlap : current]:
                raise ValueError("new digits disagree with the stored prefix")
            self._replace(digits)
            return True

    def _replace(self, digits: str) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".pi-digits-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                # In chunks: encoding a billion digits at once would copy them all.
                for start in range(0, len(digits), CHUNK_BYTES):
                    out.write(digits[start : start + CHUNK_BYTES].encode("ascii"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # Several worker processes may finish at once; one writer at a time.
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
