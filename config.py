"""Every setting in one place: defaults, then PI_* environment variables, then
what a caller (a test) passes to create_app.

Each setting is documented in the README; tests/test_config.py keeps the two in
step. Only the settings listed here are read from the environment, each with
its own parser, so a value that cannot work stops the start with its name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from compute.engine_info import expected_engine
from compute.planning import default_max_n

PROJECT_ROOT = Path(__file__).resolve().parent

# Settings only a test may pass to create_app; never read from the environment,
# so no deployment can select them. WORKER_MODULE picks the process the runner
# starts per task (tests.held_worker holds a task running until released).
# SEARCH_SCAN_PAUSE holds each chunk of the search page's background count (seconds), so a
# browser test can cancel it midway; SEARCH_SCAN_CHUNK is the places per chunk.
TEST_ONLY_DEFAULTS: dict[str, Any] = {
    "WORKER_MODULE": "tasks.runners.compute_process",
    "SEARCH_SCAN_PAUSE": 0.0,
    "SEARCH_SCAN_CHUNK": 10_000_000,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _whole_number(lowest: int, highest: int | None = None) -> Callable[[object], int]:
    def parse(value: object) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not (isinstance(value, int) or (text.isascii() and text.isdigit())):
            raise ValueError(f"must be a whole number, not {value!r}")
        number = int(text)
        if number < lowest or (highest is not None and number > highest):
            bounds = f"from {lowest} to {highest}" if highest is not None else f"at least {lowest}"
            raise ValueError(f"must be {bounds}, not {number}")
        return number

    return parse


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"must be true or false (also 1/0, yes/no, on/off), not {value!r}")


def _text(value: object) -> str:
    return str(value).strip()


def _engine(value: object) -> str:
    text = _text(value).lower()
    if text not in {"auto", "native", "portable"}:
        raise ValueError(f"must be auto, native or portable, not {value!r}")
    return text


def _default_max_n() -> int:
    # The largest n this machine's memory holds with a quarter to spare, for the
    # engine its workers will load (compute/planning.py): 2 x 10^9 on 24 GiB
    # with `make native`, 1.1 x 10^9 without.
    return default_max_n(psutil.virtual_memory().total, expected_engine().c_path)


@dataclass(frozen=True)
class Setting:
    """One configurable value, read from the environment as PI_<name>."""

    name: str
    default: Any
    help: str
    parse: Callable[[object], Any] = _text


SETTINGS = (
    Setting("DATA_DIR", str(PROJECT_ROOT / "data"), "Folder for the task database and the stored digits."),
    Setting("DATABASE_URL", "", "SQLAlchemy URL of the task store; empty means SQLite in PI_DATA_DIR."),
    Setting("MAX_N", _default_max_n(), "Largest n accepted.", _whole_number(1)),
    Setting("WORKERS", os.cpu_count() or 1, "How many tasks compute at once (worker processes).", _whole_number(1)),
    Setting("HOST", "127.0.0.1", "Address the server listens on."),
    Setting("PORT", 8050, "Port the server listens on.", _whole_number(1, 65535)),
    Setting("REFRESH_MS", 1000, "How often open pages poll for task updates, in milliseconds.", _whole_number(1)),
    Setting(
        "STALL_SECONDS",
        120,
        "A worker silent this long (or twice its task's estimate, if longer) is killed and its task retried.",
        _whole_number(1),
    ),
    Setting("START_RUNNER", True, "Whether this process runs tasks (false for a read-only front end).", _boolean),
    Setting("SUBMISSIONS_PER_MINUTE", 60, "Submissions one client may make a minute.", _whole_number(1)),
    Setting("ACTIVE_TASKS_PER_CLIENT", 20, "Tasks one client may have queued or running.", _whole_number(1)),
    Setting(
        "QUEUED_SECONDS_PER_CLIENT",
        3600,
        "Estimated seconds of computing one client may have queued or running.",
        _whole_number(1),
    ),
    Setting("LIMITS_STORAGE", "memory://", "Where the per-minute counts are kept (a `limits` storage URI)."),
    Setting("SECRET_KEY", "", "Signs the owner cookie; empty: a random key kept in PI_DATA_DIR/secret.key."),
    Setting("ADMIN_TOKEN", "", "An operator sending `Authorization: Bearer <token>` may cancel any task; empty: none."),
    Setting("PROXY_HOPS", 0, "Trusted proxies in front; their X-Forwarded-For names the client.", _whole_number(0)),
    Setting(
        "BROKER_URL",
        "",
        "Scaled-out mode: the Redis URL of Celery's broker; tasks go to `make worker`s. Empty: the local runner.",
    ),
    Setting("WEB_PROCESSES", os.cpu_count() or 1, "`make web`: how many gunicorn processes serve.", _whole_number(1)),
    Setting(
        "LEASE_SECONDS",
        30,
        "Scaled-out mode: a worker that has not renewed its task's lease this long is taken for dead.",
        _whole_number(1),
    ),
    Setting(
        "SEARCH_INDEX_PLACES",
        200_000_000,
        "Search: how many leading places the index covers (4 bytes a place on disk); the rest is scanned.",
        _whole_number(0),
    ),
    # Read by compute/engine_info.py in every process, straight from the environment.
    Setting("ENGINE", "auto", "auto: the native build if `make native` built it, else the portable wheel.", _engine),
)


def load(environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The settings: defaults, then PI_<name> from ``environ``, then ``overrides``.

    :raises ValueError: naming the variable, on a value that cannot work.
    """
    settings = {setting.name: setting.default for setting in SETTINGS} | TEST_ONLY_DEFAULTS
    for setting in SETTINGS:
        if f"PI_{setting.name}" in environ:
            settings[setting.name] = _parsed(setting, environ[f"PI_{setting.name}"])
    for name, value in (overrides or {}).items():
        known = next((setting for setting in SETTINGS if setting.name == name), None)
        settings[name] = _parsed(known, value) if known else value
    return settings


def _parsed(setting: Setting, value: object) -> Any:
    try:
        return setting.parse(value)
    except ValueError as error:
        raise ValueError(f"PI_{setting.name} {error}") from None


def database_url(settings: Mapping[str, Any]) -> str:
    """The configured database URL, or SQLite inside the data folder."""
    return settings["DATABASE_URL"] or f"sqlite:///{Path(settings['DATA_DIR']) / 'tasks.sqlite3'}"
