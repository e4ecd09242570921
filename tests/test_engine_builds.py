"""Each engine build (portable always; native when `make native` built it),
in a process of its own since a process loads one build. The native build has
two routes: the C path (compute/pi_native.c) and python-flint on native FLINT."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from compute.native import NATIVE_PYTHON
from compute.native_pi import LIBRARY_PATH
from config import PROJECT_ROOT

# (PI_ENGINE, route): "default" is what the build uses by itself.
BUILDS = [("portable", "default")]
if (NATIVE_PYTHON / "flint").is_dir():
    BUILDS.append(("native", "default"))
    if LIBRARY_PATH.exists():
        BUILDS.append(("native", "python-flint"))
PLACES = [1, 2, 6, 761, 762, 767, 768, 10_000, 1_000_000]

SCRIPT = """
import json, sys
from compute import engine
if sys.argv[2] == "python-flint":
    engine.USES_C_PATH = False
places = json.loads(sys.argv[1])
longest = engine.pi_digits(max(places), threads=2)
digits = [engine.pi_digits(p)[-1] for p in places]
print(json.dumps({"build": engine.BUILD, "c_path": engine.USES_C_PATH, "digits": digits, "longest": longest}))
"""


def run_engine(build: str, places: list[int], route: str = "default") -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(places), route],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PI_ENGINE": build},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(("build", "route"), BUILDS)
def test_build_matches_reference(build: str, route: str, reference_digits: str) -> None:
    result = run_engine(build, PLACES, route)
    assert result["build"] == build
    assert result["c_path"] == (build == "native" and route == "default" and LIBRARY_PATH.exists())
    assert result["digits"] == [reference_digits[place - 1] for place in PLACES]
    assert result["longest"] == reference_digits[: max(PLACES)]


def test_unknown_engine_setting_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        run_engine("fastest", [1])
    assert "PI_ENGINE must be auto, native or portable" in failure.value.stderr
