"""One local runner per data folder and per task database.

Two servers started on the same data folder (or pointed at the same task
database) would each start workers: more than PI_WORKERS processes, and a
task whose worker one of them cannot see could be started twice. The runner
therefore holds a lock while it runs tasks: an flock on a file in the data
folder (and beside a SQLite database kept elsewhere), and on PostgreSQL a
session advisory lock. The kernel and PostgreSQL release them when the holder
dies, so a second server that keeps asking takes over from a first that stopped.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import sqlalchemy as sa

# pg_try_advisory_lock's key: any number no other program uses on this database.
_POSTGRES_KEY = 31415926


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: int | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            return False
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            os.close(self._file)  # closing the file releases the flock
            self._file = None

    def holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            pid = ""
        return f"process {pid}" if pid else "another process"


class _PostgresLock:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._connection: sa.Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        got = connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _POSTGRES_KEY}).scalar()
        connection.commit()
        if got:
            self._connection = connection  # the lock lives as long as this session
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._connection is not None:
            # Unlock, and drop the session rather than hand it back to the pool
            # with the lock still held.
            self._connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _POSTGRES_KEY})
            self._connection.invalidate()
            self._connection.close()
            self._connection = None

    def holder(self) -> str:
        return "another server on this database"


class RunnerLock:
    """All the locks a local runner needs; it runs tasks only while it holds every one."""

    def __init__(self, data_dir: Path, engine: sa.Engine) -> None:
        self._locks: list[_FileLock | _PostgresLock] = [_FileLock(data_dir / "runner.lock")]
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and Path(database).resolve().parent != data_dir.resolve():
            self._locks.append(_FileLock(Path(database + ".runner.lock")))
        if engine.dialect.name == "postgresql":
            self._locks.append(_PostgresLock(engine))
        self.blocked_by: str | None = None

    def acquire(self) -> bool:
        """Take every lock, or none; ``blocked_by`` then says who holds one."""
        for lock in self._locks:
            if not lock.acquire():
                self.release()
                self.blocked_by = lock.holder()
                return False
        self.blocked_by = None
        return True

    def release(self) -> None:
        """Let another runner take over."""
        for lock in self._locks:
            lock.release()
