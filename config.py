"""Every setting in one place: defaults, then PI_* environment variables, then
what a caller (a test) passes to create_app.

Each setting is documented in the README; tests/test_config.py keeps the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Setting:
    """One configurable value, read from the environment as PI_<name>."""

    name: str
    default: Any
    help: str


SETTINGS = (
    Setting("DATA_DIR", str(PROJECT_ROOT / "data"), "Folder for the task database and the stored digits."),
    Setting("DATABASE_URL", "", "SQLAlchemy URL of the task store; empty means SQLite in PI_DATA_DIR."),
    Setting("MAX_N", 1_000_000_000, "Largest n accepted."),
    Setting("WORKERS", os.cpu_count() or 1, "How many tasks compute at once (worker processes)."),
    Setting("HOST", "127.0.0.1", "Address the server listens on."),
    Setting("PORT", 8050, "Port the server listens on."),
    Setting("REFRESH_MS", 1000, "How often open pages poll for task updates, in milliseconds."),
    Setting("START_RUNNER", True, "Whether this process runs tasks (false for a read-only front end)."),
    # Read by compute/native.py in every worker process, straight from the environment.
    Setting("ENGINE", "auto", "auto: the native FLINT build if `make native` built it, else the portable wheel."),
)


def defaults() -> dict[str, Any]:
    """The settings' default values, keyed by name."""
    return {setting.name: setting.default for setting in SETTINGS}


def check(config: dict[str, Any]) -> None:
    """Fail at start-up, with the setting's name, on a value that cannot work."""
    for name in ("MAX_N", "WORKERS", "PORT", "REFRESH_MS"):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"PI_{name} must be a whole number of at least 1, not {value!r}")


def database_url(config: dict[str, Any]) -> str:
    """The configured database URL, or SQLite inside the data folder."""
    return config["DATABASE_URL"] or f"sqlite:///{Path(config['DATA_DIR']) / 'tasks.sqlite3'}"
