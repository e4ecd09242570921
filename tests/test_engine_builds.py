"""Each engine build (portable always; native when `make native` built it),
in a process of its own since a process loads one build. The native build has
two routes: the C path (compute/pi_native.c) and python-flint on native FLINT."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compute.engine_info import C_PATH_LIBRARY as LIBRARY_PATH
from compute.engine_info import NATIVE
from compute.engine_info import NATIVE_PYTHON
from config import PROJECT_ROOT

# (PI_ENGINE, route): "default" is what the build uses by itself.
BUILDS = [("portable", "default")]
if (NATIVE_PYTHON / "flint").is_dir():
    BUILDS.append(("native", "default"))
    if LIBRARY_PATH.exists():
        BUILDS.append(("native", "python-flint"))
PLACES = [1, 2, 6, 761, 762, 767, 768, 10_000, 1_000_000]

# Each script's first argument picks the route: "python-flint" turns the C path off.
ROUTE = """
import json, sys
from compute import engine
if sys.argv[1] == "python-flint":
    engine.USES_C_PATH = False
"""

SCRIPT = (
    ROUTE
    + """
from compute.engine_info import expected_engine
places = json.loads(sys.argv[2])
longest = engine.pi_digits(max(places), threads=2)
digits = [engine.pi_digits(p)[-1] for p in places]
print(json.dumps({
    "build": engine.BUILD, "c_path": engine.USES_C_PATH, "digits": digits, "longest": longest,
    "name": engine.ENGINE_NAME, "expected_name": expected_engine().name,
}))
"""
)


def run_in_build(script: str, build: str, route: str, *args: str) -> Any:
    """Run ``script`` in a fresh process on ``build`` and ``route``; its JSON output."""
    result = subprocess.run(
        [sys.executable, "-c", script, route, *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PI_ENGINE": build},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def uses_c_path(build: str, route: str) -> bool:
    return build == "native" and route == "default" and LIBRARY_PATH.exists()


def run_engine(build: str, places: list[int], route: str = "default") -> dict[str, Any]:
    result: dict[str, Any] = run_in_build(SCRIPT, build, route, json.dumps(places))
    return result


@pytest.mark.parametrize(("build", "route"), BUILDS)
def test_build_matches_reference(build: str, route: str, reference_digits: str) -> None:
    result = run_engine(build, PLACES, route)
    assert result["build"] == build
    assert result["c_path"] == uses_c_path(build, route)
    assert result["digits"] == [reference_digits[place - 1] for place in PLACES]
    assert result["longest"] == reference_digits[: max(PLACES)]
    if route == "default":
        # What the web process says computes (without loading it) is what does.
        assert result["expected_name"] == result["name"]


def test_unknown_engine_setting_is_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as failure:
        run_engine("fastest", [1])
    assert "PI_ENGINE must be auto, native or portable" in failure.value.stderr


PROGRESS_SCRIPT = (
    ROUTE
    + """
reports = []
engine.pi_digits(int(sys.argv[2]), lambda phase, done: reports.append([phase, done]), threads=2)
print(json.dumps(reports))
"""
)


@pytest.mark.parametrize(("build", "route"), BUILDS)
def test_progress_goes_through_named_phases_in_order(build: str, route: str) -> None:
    c_path = uses_c_path(build, route)
    # The C path reports the series every second: give it a few seconds of series.
    places = 20_000_000 if c_path else 100_000
    reports = run_in_build(PROGRESS_SCRIPT, build, route, str(places))
    phases = [phase for phase, _ in reports]
    if c_path:
        # Each phase in turn, each reported as it starts and then as it goes, never backwards.
        order = ["series", "final", "converting", "checking"]
        assert [phase for index, phase in enumerate(phases) if index == 0 or phases[index - 1] != phase] == order
        for phase in order:
            shares = [done for name, done in reports if name == phase]
            assert shares == sorted(shares) and shares[0] == 0.0 and shares[-1] <= 1.0, phase
        series = [done for phase, done in reports if phase == "series"]
        assert any(0.0 < done < 1.0 for done in series), "no report while the series was being summed"
        assert any(0.0 < done < 1.0 for phase, done in reports if phase == "final"), "no step of the division reported"
    else:
        assert phases == ["computing", "converting", "checking"]


CHECKPOINT_SCRIPT = (
    ROUTE
    + """
import hashlib
digits = engine.pi_digits(int(sys.argv[2]), threads=2)
checkpoints = json.loads(sys.argv[3])
found = {
    "digit_at": {place: digits[int(place) - 1] for place in checkpoints["digit_at"] if int(place) <= len(digits)},
    "window_ending_at": {
        place: digits[int(place) - len(window) : int(place)]
        for place, window in checkpoints["window_ending_at"].items()
        if int(place) <= len(digits)
    },
    "sha256_of_first": {
        place: hashlib.sha256(digits[: int(place)].encode()).hexdigest()
        for place in checkpoints["sha256_of_first"]
        if int(place) <= len(digits)
    },
}
print(json.dumps(found))
"""
)

# Every checkpoint of the reference up to 10^8, on each build, and 10^9 on the
# native build: minutes each (10^8: a minute portable, 20 s native; 10^9: 5
# minutes and 14 GB native; portable would take half an hour and is not
# offered), so they run in `make test-full`. The default suite checks every
# checkpoint up to 10^7 (tests/test_engine.py).
native_built = pytest.mark.skipif(not LIBRARY_PATH.exists(), reason="the native engine is not built (make native)")
CHECKPOINT_RUNS = [
    pytest.param("portable", 10**8, marks=pytest.mark.full, id="portable-1e8"),
    pytest.param("native", 10**8, marks=[pytest.mark.full, native_built], id="native-1e8"),
    pytest.param("native", 10**9, marks=[pytest.mark.full, native_built], id="native-1e9"),
]


@pytest.mark.parametrize(("build", "places"), CHECKPOINT_RUNS)
def test_engine_matches_every_checkpoint_up_to(build: str, places: int, checkpoints: dict[str, Any]) -> None:
    found = run_in_build(CHECKPOINT_SCRIPT, build, "default", str(places), json.dumps(checkpoints))
    for kind in ("digit_at", "window_ending_at", "sha256_of_first"):
        expected = {place: value for place, value in checkpoints[kind].items() if int(place) <= places}
        assert found[kind] == expected, kind
    assert str(places) in found["digit_at"]


LEAN_SCRIPT = """
import json, sys
from pathlib import Path
from compute import native_pi
native_pi.LIBRARY_PATH = Path(sys.argv[1])  # before compute.engine loads it
from compute import engine
assert engine.USES_C_PATH
digits = {}
for places in json.loads(sys.argv[2]):
    reports = []  # the last size's are printed
    digits[str(places)] = engine.pi_digits(places, lambda phase, done: reports.append([phase, done]), threads=2)
print(json.dumps({"digits": digits, "reports": reports}))
"""


@native_built
def test_products_in_pieces_and_split_blocks_give_the_same_digits(tmp_path: Path, reference_digits: str) -> None:
    # At 10^9 places the largest products (and the square root's) are made in
    # pieces that skip what lies below the precision kept, and each thread
    # leaves its blocks' top merges to the calling thread (compute/pi_native.c);
    # a build with that cap 7,000 times lower takes the same paths at 10^5 to
    # 10^6 places, in seconds, and must give the same digits. It reports every
    # step, not once a second, so that the reports within the steps show.
    library = tmp_path / "libpinative-lean.so"
    build_against_native_flint(
        library, PROJECT_ROOT / "compute" / "pi_native.c",
        "-shared", "-fPIC", "-DCAPPED_PRODUCT_BITS=400000", "-DPI_TRACE_PIECES", "-DREPORT_EVERY_SECONDS=0",
    )  # fmt: skip
    places = [99_999, 262_145, 1_000_000]  # the first on one thread, the others on two
    result = subprocess.run(
        [sys.executable, "-c", LEAN_SCRIPT, str(library), json.dumps(places)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PI_ENGINE": "native", "PI_NATIVE_TRACE": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    # The paths were taken: products in pieces, and on two threads several blocks each, merged in two levels or more.
    assert max(int(count) for count in re.findall(r"x.s run \d+ of (\d+)", result.stderr)) > 1
    assert result.stderr.count("a level of merges") >= 2 * 2
    found = json.loads(result.stdout)
    for count in places:
        assert found["digits"][str(count)] == reference_digits[:count], count
    # The square root now opens the final phase: its steps are reported, in order, as the division's are.
    phases = [phase for phase, _ in found["reports"]]
    starts = [phase for index, phase in enumerate(phases) if index == 0 or phases[index - 1] != phase]
    assert starts == ["series", "final", "converting", "checking"]
    final = [done for phase, done in found["reports"] if phase == "final"]
    assert final == sorted(final) and len([done for done in final if 0.0 < done < 1.0]) >= 5
    # The merges report after each product and each piece, not only at the end of
    # each level (one level takes 35 s at 10^9 places): more than three reports a level.
    last_size = result.stderr.rsplit("series: the merges report from ", 1)[1]
    merges_from = float(last_size.split()[0])
    levels = last_size.count("a level of merges")
    series = [done for phase, done in found["reports"] if phase == "series"]
    assert series == sorted(series) and series[-1] == 1.0
    assert len([done for done in series if merges_from < done]) > 3 * levels >= 3
    # The conversion's top split reports its pieces before the halves report digits: still in order.
    converting = [done for phase, done in found["reports"] if phase == "converting"]
    assert converting == sorted(converting) and len(converting) >= 3


@native_built
def test_capped_products_square_root_and_inverse_hold_the_exact_values(tmp_path: Path) -> None:
    # capped_mul, capped_addmul, capped_sqrt_ui and capped_inv against FLINT's exact
    # arithmetic, with a cap of 4,000 bits so that every product is made in pieces,
    # some of them dropped: the exact product (or z + x y) must lie in each ball, no
    # ball far wider than arb_mul's (arb_addmul's), sqrt(10005) in its ball at full accuracy, and 1/y in its ball as
    # accurate as arb_inv's (tests/capped_mul_check.c).
    assert run_c_check(tmp_path, "capped_mul_check", "-DCAPPED_PRODUCT_BITS=4000") == "checked 615"


@native_built
def test_merges_sharing_transforms_give_flints_products(tmp_path: Path) -> None:
    # The series' merges transform each operand once and sum T1 Q2 + P1 T2
    # before transforming back (compute/shared_transforms.c): on the series' own
    # blocks (both signs of the sum, exact and rounded) and on random integers
    # with trailing zeros, the results must be FLINT's exact products, or balls
    # that hold them (tests/merge_check.c).
    assert run_c_check(tmp_path, "merge_check") == "checked 108"


@native_built
def test_leaves_take_out_common_factors_as_the_gcd_would(tmp_path: Path) -> None:
    # The smallest ranges, summed in limbs on the stack, must give the P, Q and T
    # of the series' definition (every size, from the first term to both sides of
    # the largest k they take), and their additions fmpz_add's sums. The series'
    # exact leaves take out of P1 and Q2 what they share, found from
    # the terms' factorizations (compute/common_factors.c): on leaves from the
    # first to those of 3 x 10^9 places, P, Q and T must be the plain ones divided
    # by one integer, and exactly those of the same merges taking out gcd(P1, Q2)
    # computed from the numbers (tests/leaf_check.c).
    assert run_c_check(tmp_path, "leaf_check") == "checked 682"


@native_built
def test_big_blocks_keep_their_contents_and_go_back_where_they_came_from(tmp_path: Path) -> None:
    # The engine's memory functions for FLINT map blocks of a megabyte and more
    # themselves, keep freed ones for reuse and grow or shrink them in place
    # (compute/big_blocks.c): on two threads at once, random blocks of 1 byte to
    # 24 MB, allocated, reallocated and freed through FLINT, must keep their
    # contents, calloc's must be zero even when reused, the registry must hold
    # every block of ours and no other, glibc's blocks must go back to glibc, and
    # no more than the limit may be kept (tests/big_blocks_check.c).
    assert run_c_check(tmp_path, "big_blocks_check") == "checked 2379"


def run_c_check(tmp_path: Path, name: str, *flags: str) -> str:
    """Build tests/<name>.c against the engine's sources and run it: what it printed, once it exited 0."""
    program = tmp_path / name
    build_against_native_flint(program, PROJECT_ROOT / "tests" / f"{name}.c", *flags)
    result = subprocess.run([str(program)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    return result.stdout.strip()


def build_against_native_flint(output: Path, source: Path, *flags: str) -> None:
    """Compile C that includes compute/pi_native.c, as scripts/build-native.sh
    does: with its flags, against native/'s FLINT, and the FLINT source file
    compute/shared_transforms.c includes."""
    flint = NATIVE / "flint"
    build_flags = (NATIVE / "lib" / "pinative.cflags").read_text().split()
    subprocess.run(
        ["gcc", *build_flags, *flags, "-o", str(output), str(source),
         f"-I{flint / 'include'}", f"-I{flint / 'include' / 'flint'}", f"-I{flint / 'source'}",
         f"-L{flint / 'lib'}", f"-Wl,-rpath,{flint / 'lib'}", "-lflint", "-lgmp", "-lpthread", "-lm"],
        check=True,
    )  # fmt: skip
