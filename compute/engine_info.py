"""Which digit engine a worker will load, told without loading it.

The web process shows the engine in the page footer and in ``GET /api/engine``,
but must not import FLINT, numpy and the native libraries just for that: they
cost memory and start-up time in every web process, and only workers compute.
This module looks at the files ``make native`` builds and at ``PI_ENGINE``
instead; ``compute.engine`` names itself with the same function, so the two
cannot drift apart (tests/test_engine_builds.py checks it per build).
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from compute.messages import N_
from compute.messages import english

NATIVE = Path(__file__).resolve().parent.parent / "native"
NATIVE_PYTHON = NATIVE / "python"
C_PATH_LIBRARY = NATIVE / "lib" / "libpinative.so"
CHECK_KERNEL_LIBRARY = NATIVE / "lib" / "libpibbp.so"
_NATIVE_FLINT_PC = NATIVE / "flint" / "lib" / "pkgconfig" / "flint.pc"
ENGINE_CHOICES = ("auto", "native", "portable")


@dataclass(frozen=True)
class EngineInfo:
    """What computes: ``build`` is "native" or "portable"; ``name`` is for people."""

    build: str
    c_path: bool
    name: str


def wanted_engine() -> str:
    """PI_ENGINE as given (auto, native or portable).

    :raises ValueError: on any other value, naming the variable.
    """
    wanted = os.environ.get("PI_ENGINE", "auto").strip().lower()
    if wanted not in ENGINE_CHOICES:
        raise ValueError(f"PI_ENGINE must be auto, native or portable, not {wanted!r}")
    return wanted


def native_built() -> bool:
    """Whether ``make native`` built python-flint against the native FLINT."""
    return (NATIVE_PYTHON / "flint").is_dir()


NATIVE_C_PATH = N_("native Chudnovsky in C (pi_native.c) on FLINT {flint}")
NATIVE_PYTHON_FLINT = N_("native python-flint {python_flint} on FLINT {flint}")
PORTABLE = N_("portable python-flint {python_flint} (the wheel's generic FLINT)")


def engine_name(build: str, c_path: bool) -> str:
    """The engine's name as the API shows it (in English)."""
    template, params = engine_name_parts(build, c_path)
    return english(template, params)


def engine_name_parts(build: str, c_path: bool) -> tuple[str, dict[str, object]]:
    """The engine's name as a message template and its fields, for the pages to translate."""
    if build == "native":
        if c_path:
            return NATIVE_C_PATH, {"flint": _native_flint_version()}
        return NATIVE_PYTHON_FLINT, {"python_flint": _python_flint_version(), "flint": _native_flint_version()}
    return PORTABLE, {"python_flint": _python_flint_version()}


def expected_engine() -> EngineInfo:
    """The engine a worker started now would load (cheap: reads a few file names)."""
    wanted = wanted_engine()
    build = "native" if wanted != "portable" and native_built() else "portable"
    c_path = build == "native" and C_PATH_LIBRARY.exists()
    return EngineInfo(build, c_path, engine_name(build, c_path))


@functools.cache
def _python_flint_version() -> str:
    # Installed packages do not change under a running process; reading the
    # metadata costs 1.5 ms, and the fairness check asks once per queued task.
    return metadata.version("python-flint")


def _native_flint_version() -> str:
    try:
        found = re.search(r"^Version:\s*(\S+)", _NATIVE_FLINT_PC.read_text(), re.MULTILINE)
    except OSError:
        found = None
    return found.group(1) if found else "(unknown version)"
