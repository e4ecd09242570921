"""Time the project's digit engine against its peers, each in its own process.

    python bench/engine.py                # n = 10^5 to 10^8 (minutes)
    python bench/engine.py --large        # and 10^9, the native engine on two cores alone (8 minutes, 10 GB)
    python bench/engine.py --sizes 1e6    # just these
    python bench/engine.py --large --repeat 3   # median of 3 rounds

Prints a table: wall seconds, peak memory (max RSS of the process), and the
ratio to python-flint's arb.pi on one thread (the portable wheel) measured in
the same run. The project rows time the whole fresh path of a task: compute,
convert to decimal, spot check, write the digit store; "-wheel" uses the
portable python-flint wheel, "-native" the build of `make native` (1 thread,
or 2 with "-2t"), shown only when it is built. The peers: python-flint's
arb.pi, mpmath with gmpy2, MPFR through gmpy2, and CLN's `pi` program when it
is installed (`make bench` installs it as root). Every engine's digits are
hashed, and the table says whether they all agree. Then times digit-store
lookups (p50 and p99 over 10,000 random places).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PEER = "flint-arb"
# The largest n each engine runs at: past these they take from many minutes to
# hours, or more memory than the machine has (the peer at 10^9: half an hour and
# 14 GB), so the table leaves them out.
UP_TO = {
    "project-wheel": 10**8,
    "project-native": 10**8,
    PEER: 10**8,
    "mpmath+gmpy2": 10**7,
    "mpfr": 10**7,
    "cln-pi": 10**7,
}


# Where a project engine's process writes the phase it is in, for the parent to sample its memory by.
PHASE_FILE = os.environ.get("PI_BENCH_PHASE_FILE")


def enter_phase(phase: str, _done: float = 0.0) -> None:
    if PHASE_FILE is None:
        return
    # Written aside and renamed into place: the sampler never reads a half-written name.
    draft = f"{PHASE_FILE}.draft"
    with open(draft, "w") as file:
        file.write(phase)
    os.replace(draft, PHASE_FILE)


def project(places: int, threads: int = 1) -> str:
    # The whole fresh path a task takes: compute, convert, spot check, write the store.
    from compute.digit_store import DigitStore
    from compute.engine import pi_digits

    digits = pi_digits(places, enter_phase, threads=threads)
    enter_phase("saving")
    with tempfile.TemporaryDirectory() as folder:
        DigitStore(folder).extend(digits)
    return digits


def project_two_threads(places: int) -> str:
    return project(places, threads=2)


def flint_arb(places: int) -> str:
    # The peer: python-flint's own decimal printing of arb.pi (one thread).
    import flint

    flint.ctx.prec = int(places * 3.3219280948873626) + 64
    text = flint.arb.pi().str(places + 10, radius=False)
    return text[2 : places + 2]


def mpmath_gmpy2(places: int) -> str:
    import gmpy2
    from mpmath.libmp import libelefun

    precision = int(places * 3.3219280948873626) + 64
    scaled = (gmpy2.mpz(libelefun.pi_fixed(precision)) * gmpy2.mpz(10) ** places) >> precision
    return str(scaled.digits()[1:])


def mpfr(places: int) -> str:
    import gmpy2

    gmpy2.get_context().precision = int(places * 3.3219280948873626) + 64
    scaled = gmpy2.floor(gmpy2.const_pi() * gmpy2.mpz(10) ** places)
    return str(gmpy2.mpz(scaled).digits()[1:])


def cln_pi(places: int) -> str:
    # CLN's `pi` program (Debian package `pi`): it prints "3." and one digit
    # fewer than asked for, truncated, on one line.
    printed = subprocess.run(["pi", str(places + 1)], capture_output=True, text=True, check=True).stdout
    return printed.strip()[2 : places + 2]


# name -> (function, PI_ENGINE for its process)
ENGINES = {
    "project-wheel": (project, "portable"),
    "project-native": (project, "native"),
    "project-nat-2t": (project_two_threads, "native"),
    PEER: (flint_arb, "portable"),
    "mpmath+gmpy2": (mpmath_gmpy2, "portable"),
    "mpfr": (mpfr, "portable"),
    "cln-pi": (cln_pi, "portable"),
}


def run_one(engine: str, places: int) -> None:
    started = time.perf_counter()
    digits = ENGINES[engine][0](places)
    seconds = time.perf_counter() - started
    print(f"{seconds} {hashlib.sha256(digits.encode()).hexdigest()}")


PHASE_PEAKS: dict[tuple[str, int], dict[str, int]] = {}
PHASE_SECONDS: dict[tuple[str, int], dict[str, float]] = {}


def measure(engine: str, places: int) -> tuple[float, float, str]:
    """Seconds, peak MiB and digest of one engine at one size, in a fresh process.

    Meanwhile samples the resident memory of the process and its children (the
    Bellard helper) every 20 ms, by the phase the process says it is in: from
    outside, since FLINT's long calls hold the process's interpreter.
    """
    with tempfile.NamedTemporaryFile("w+", suffix=".phase") as phase_file, tempfile.TemporaryFile("w+") as errors:
        command = [sys.executable, __file__, "--one", engine, str(places)]
        environment = {**os.environ, "PI_ENGINE": ENGINES[engine][1], "PI_BENCH_PHASE_FILE": phase_file.name}
        child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=None if "PI_NATIVE_TRACE" in os.environ else errors,
            text=True,
            env=environment,
        )
        peaks: dict[str, int] = {}
        phase = "starting"
        process = psutil.Process(child.pid)
        family: list[psutil.Process] = [process]
        started = time.perf_counter()
        looked_for_children = -math.inf
        entered = {phase: 0.0}
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            try:
                # Finding the children scans every process on the machine (1.2 ms a look
                # here, 6% of a core at every 20 ms, taken from the engine measured): twice
                # a second is enough for the Bellard helpers, which live as long as the task.
                if time.perf_counter() - looked_for_children >= 0.5:
                    family = [process, *process.children(recursive=True)]
                    looked_for_children = time.perf_counter()
                resident = sum(member.memory_info().rss for member in family)
            except psutil.Error:
                looked_for_children = -math.inf  # a child that ended between two looks
                continue
            phase = Path(phase_file.name).read_text() or phase
            entered.setdefault(phase, time.perf_counter() - started)
            peaks[phase] = max(peaks.get(phase, 0), resident)
            time.sleep(0.02)
        output = child.stdout.read().split() if child.stdout else []
        if status != 0 or len(output) != 2:
            errors.seek(0)
            print(f"{engine} at {places:,} failed (wait status {status}): {errors.read()[-2000:]}", file=sys.stderr)
            return float("nan"), float("nan"), "failed"
    if engine.startswith("project"):
        PHASE_PEAKS[(engine, places)] = peaks
        # Each phase lasts until the next one is first seen, the last until the process ends.
        order = sorted(entered.items(), key=lambda item: item[1])
        ends = [begun for _, begun in order[1:]] + [time.perf_counter() - started]
        PHASE_SECONDS[(engine, places)] = {name: end - begun for (name, begun), end in zip(order, ends, strict=True)}
    return float(output[0]), usage.ru_maxrss / 1024, output[1]


def phase_table(sizes: list[int], engines: list[str]) -> None:
    """Peak memory of the process and its children in each phase of a task (sampled every 20 ms)."""
    order = ["starting", "series", "computing", "final", "converting", "checking", "saving"]
    rows = [(engine, size) for size in sizes for engine in engines if (engine, size) in PHASE_PEAKS]
    if not rows:
        return
    print("\npeak MiB per phase (the process and its Bellard helper, sampled every 20 ms), and seconds in it")
    print(f"{'engine':<15} {'n':>12} " + " ".join(f"{phase:>16}" for phase in order))
    for engine, size in rows:
        peaks = PHASE_PEAKS[(engine, size)]
        seconds = PHASE_SECONDS[(engine, size)]
        cells = [
            f"{peaks[phase] / 2**20:>8.0f} {seconds[phase]:>6.1f}s" if phase in peaks else f"{'':>16}"
            for phase in order
        ]
        print(f"{engine:<15} {size:>12,} " + " ".join(cells))


def engine_table(sizes: list[int], engines: list[str], repeat: int = 1) -> None:
    label = "seconds" if repeat == 1 else f"median/{repeat}"
    print(f"{'engine':<15} {'n':>12} {label:>9} {'peak MiB':>9} {'vs ' + PEER:>13}  digits")
    for places in sizes:
        # Rounds of every engine in turn, so a slow spell on a shared machine
        # hits all of them alike; each engine's median round is reported.
        running = [engine for engine in engines if places <= UP_TO.get(engine, places)]
        rounds = [{engine: measure(engine, places) for engine in running} for _ in range(repeat)]
        results = {engine: _median_round([one[engine] for one in rounds]) for engine in running}
        peer_seconds = results[PEER][0] if PEER in results else float("nan")
        digests = {digest for _, _, digest in results.values() if digest != "failed"}
        for engine, (seconds, peak, digest) in results.items():
            agree = "agree" if len(digests) == 1 and digest != "failed" else digest[:12]
            # No ratio without the peer in this run (bench-large runs the engine alone at 10^9).
            measured = peer_seconds == peer_seconds and seconds == seconds and seconds > 0
            ratio = f"{peer_seconds / seconds:.2f}x" if measured else "-"
            print(f"{engine:<15} {places:>12,} {seconds:>9.3f} {peak:>9.0f} {ratio:>13}  {agree}")


def _median_round(runs: list[tuple[float, float, str]]) -> tuple[float, float, str]:
    """The run with the median time; a failed run makes the whole result failed."""
    if any(digest == "failed" for _, _, digest in runs):
        return float("nan"), float("nan"), "failed"
    return sorted(runs)[(len(runs) - 1) // 2]


def lookup_table(stored: int = 1_000_000, lookups: int = 10_000) -> None:
    from compute.digit_store import DigitStore
    from compute.engine import pi_digits

    with tempfile.TemporaryDirectory() as folder:
        store = DigitStore(folder)
        store.extend(pi_digits(stored))
        places = [random.randint(1, stored) for _ in range(lookups)]
        timings = []
        for place in places:
            started = time.perf_counter()
            store.digit(place)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p99 = timings[int(0.99 * len(timings))]
        print(f"\ndigit-store lookup, {lookups:,} random places in {stored:,}: p50 {p50:.4f} ms, p99 {p99:.4f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="include n = 10^9")
    parser.add_argument("--sizes", nargs="*", type=float, help="sizes to run, e.g. 1e5 1e6")
    parser.add_argument("--engines", nargs="*", choices=list(ENGINES), help="engines to run (default: all available)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per size; the median is reported")
    parser.add_argument("--one", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one[0], int(args.one[1]))
        return
    sizes = [int(size) for size in args.sizes] if args.sizes else [10**5, 10**6, 10**7, 10**8]
    if args.large:
        sizes.append(10**9)
    native_built = (ROOT / "native" / "python" / "flint").is_dir()
    available = {
        name
        for name, (_, build) in ENGINES.items()
        if (build != "native" or native_built) and (name != "cln-pi" or shutil.which("pi"))
    }
    engines = args.engines or [name for name in ENGINES if name in available]
    if PEER not in engines:
        engines.append(PEER)
    engine_table(sizes, engines, max(1, args.repeat))
    phase_table(sizes, engines)
    lookup_table()


if __name__ == "__main__":
    main()
