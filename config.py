"""Every setting in one place: defaults, then PI_* environment variables, then
what a caller (a test) passes to create_app.

Each setting's help is its documentation: docs/configuration.md's table is made
from SETTINGS when the site is built (scripts/docs_hooks.py). Only the settings
listed here are read from the environment, each with its own parser, so a value
that cannot work stops the start with its name.
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
# so no deployment can select them. COMPUTE_MODULE picks the process the runner
# starts per task (tests.held_worker holds a task running until released).
# SEARCH_SCAN_PAUSE holds each chunk of the search page's background count (seconds), so a
# browser test can cancel it midway; SEARCH_SCAN_CHUNK is the places per chunk.
TEST_ONLY_DEFAULTS: dict[str, Any] = {
    "COMPUTE_MODULE": "tasks.runners.compute_process",
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


def _address_or_path(value: object) -> str:
    text = _text(value)
    if text and not text.startswith(("/", "http://", "https://")):
        raise ValueError(f"must be a path (/api/events) or an http(s) address, not {value!r}")
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
    # What it does, for people: docs/configuration.md is made from these (scripts/docs_hooks.py).
    help: str
    parse: Callable[[object], Any] = _text
    # The default as the docs say it, where the value depends on the machine or the folder.
    shown_default: str = ""


SETTINGS = (
    Setting(
        "DATA_DIR",
        str(PROJECT_ROOT / "data"),
        "folder of the SQLite task database and the stored digits",
        shown_default="`data/` in the project",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "SQLAlchemy URL of the task store, e.g. `postgresql+psycopg://user@host/db`",
        shown_default="empty: SQLite in `PI_DATA_DIR`",
    ),
    Setting(
        "MAX_N",
        _default_max_n(),
        "largest n accepted",
        _whole_number(1),
        shown_default=(
            "what this machine's memory holds with a quarter to spare, up to the largest n measured: "
            "3,000,000,000 on 24 GiB with `make native`, 1,100,000,000 without"
        ),
    ),
    Setting(
        "WORKERS",
        os.cpu_count() or 1,
        "how many tasks compute at once (one process each)",
        _whole_number(1),
        shown_default="number of cores",
    ),
    Setting(
        "HOST",
        "127.0.0.1",
        "address the server listens on",
    ),
    Setting(
        "PORT",
        8050,
        "port the server listens on",
        _whole_number(1, 65535),
    ),
    Setting(
        "REFRESH_MS",
        1000,
        "how often open pages poll for changes",
        _whole_number(1),
    ),
    Setting(
        "STALL_SECONDS",
        120,
        (
            "a worker that reports no progress for this long (or for twice its task's estimated time, if that is "
            "longer: FLINT's long single calls cannot report) is killed and its task retried"
        ),
        _whole_number(1),
    ),
    Setting(
        "START_RUNNER",
        True,
        "whether this server process runs tasks",
        _boolean,
        shown_default="true",
    ),
    Setting(
        "SUBMISSIONS_PER_MINUTE",
        60,
        "submissions one client may make in any minute (answered at once or queued)",
        _whole_number(1),
    ),
    Setting(
        "ACTIVE_TASKS_PER_CLIENT",
        20,
        "tasks one client may have queued or running at once",
        _whole_number(1),
    ),
    Setting(
        "QUEUED_SECONDS_PER_CLIENT",
        3600,
        "estimated seconds of computing one client may have queued or running: many small tasks, or a few of n = 10^9",
        _whole_number(1),
    ),
    Setting(
        "BACKGROUND_JOBS",
        4,
        (
            "background jobs (the search page's counts, each a process) one machine runs at once, and "
            "`GET /api/search` scans one web process runs at once; past it, a click says busy, the API 503"
        ),
        _whole_number(1),
    ),
    Setting(
        "SEARCHES_PER_MINUTE",
        30,
        "searches of every stored place (`GET /api/search`) one client may make in any minute",
        _whole_number(1),
    ),
    Setting(
        "BACKGROUND_JOBS_PER_CLIENT",
        2,
        "background jobs one client address may have running at once (two: two people behind one address)",
        _whole_number(1),
    ),
    Setting(
        "CONNECTION_LIMIT",
        2000,
        (
            "connections `make run` (waitress) keeps open at once, slow clients included; past it, new "
            "visitors wait. `make web` leaves this to the proxy in front (docs/scale-out.md)"
        ),
        _whole_number(1, 100_000),
    ),
    Setting(
        "EVENTS_PORT",
        8051,
        (
            "port of the live updates (server-sent events at `/api/events`), served by each web process beside "
            "the app's port; 0 turns push off and pages poll every `PI_REFRESH_MS`"
        ),
        _whole_number(0, 65535),
    ),
    Setting(
        "EVENTS_URL",
        "",
        (
            "where pages open the live updates, when a proxy in front serves them on the app's own address "
            "(`/api/events`, deploy/nginx.conf)"
        ),
        _address_or_path,
        shown_default="empty: the page's host at `PI_EVENTS_PORT`",
    ),
    Setting(
        "EVENTS_READ_MS",
        250,
        "how often each web process reads the task store's changes for its live updates",
        _whole_number(10, 10_000),
    ),
    Setting(
        "EVENTS_LIMIT",
        10_000,
        "open live-update streams in each web process; past it, pages poll instead",
        _whole_number(1, 1_000_000),
    ),
    Setting(
        "EVENTS_PER_ADDRESS",
        100,
        (
            "open live-update streams per client address in each web process (tabs behind one NAT share it); "
            "past it, pages poll instead"
        ),
        _whole_number(1, 1_000_000),
    ),
    Setting(
        "PEOPLE_PER_ADDRESS",
        30,
        (
            "the limits above are per person (their owner cookie); everyone behind one address (a classroom "
            "behind one NAT, or a script without cookies) shares this many times them"
        ),
        _whole_number(1),
    ),
    Setting(
        "LIMITS_STORAGE",
        "memory://",
        (
            "where the per-minute counts live, as a storage URI of the `limits` library "
            "(`redis://127.0.0.1:6379` when several web processes share them)"
        ),
    ),
    Setting(
        "SECRET_KEY",
        "",
        "signs the owner cookie; give every web process the same one when several serve one database",
        shown_default="empty: a random key kept in `PI_DATA_DIR/secret.key`",
    ),
    Setting(
        "ADMIN_TOKEN",
        "",
        "a request with `Authorization: Bearer <token>` may cancel any task",
        shown_default="empty: no operator",
    ),
    Setting(
        "PROXY_HOPS",
        0,
        (
            "how many trusted proxies stand in front; the client is then the address they put in "
            "`X-Forwarded-For` (otherwise that header is ignored)"
        ),
        _whole_number(0),
    ),
    Setting(
        "BROKER_URL",
        "",
        (
            "scaled out: the Redis URL of Celery's broker (e.g. `redis://127.0.0.1:6379/0`); tasks then go to "
            "`make worker`s, see [Scale out](scale-out.md)"
        ),
        shown_default="empty: the local runner",
    ),
    Setting(
        "WEB_PROCESSES",
        os.cpu_count() or 1,
        "`make web`: how many gunicorn processes serve",
        _whole_number(1),
        shown_default="number of cores",
    ),
    Setting(
        "LEASE_SECONDS",
        30,
        (
            "scaled out: a worker that has not renewed its task's lease for this long is taken for dead, and its "
            "task goes back to the queue"
        ),
        _whole_number(1),
    ),
    Setting(
        "SEARCH_INDEX_PLACES",
        200_000_000,
        (
            "search: how many leading places the index covers (4 bytes a place on disk, built in the background "
            "when the store grows); places past it are scanned by the search page's count and `GET /api/search`"
        ),
        _whole_number(0),
    ),
    # Read by compute/engine_info.py in every process, straight from the environment.
    Setting(
        "ENGINE",
        "auto",
        (
            "`auto`: the native FLINT build when `make native` has built it, else the portable wheel; `native` or"
            " `portable` to insist"
        ),
        _engine,
    ),
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
