"""Each engine build (portable always; native when `make native` built it),
in a process of its own since a process loads one build."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from compute.native import NATIVE_PYTHON
from config import PROJECT_ROOT

BUILDS = ["portable", "native"] if (NATIVE_PYTHON / "flint").is_dir() else ["portable"]
PLACES = [1, 2, 6, 761, 762, 767, 768, 10_000, 1_000_000]

SCRIPT = """
import json, sys
from compute.engine import BUILD, pi_digits
places = json.loads(sys.argv[1])
longest = pi_digits(max(places), threads=2)
print(json.dumps({"build": BUILD, "digits": [pi_digits(p)[-1] for p in places], "longest": longest}))
"""


def run_engine(build: str, places: list[int]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(places)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PI_ENGINE": build},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("build", BUILDS)
def test_build_matches_reference(build: str, reference_digits: str) -> None:
    result = run_engine(build, PLACES)
    assert result["build"] == build
    assert result["digits"] == [reference_digits[place - 1] for place in PLACES]
    assert result["longest"] == reference_digits[: max(PLACES)]


def test_unknown_engine_setting_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        run_engine("fastest", [1])
    assert "PI_ENGINE must be auto, native or portable" in failure.value.stderr
