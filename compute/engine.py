"""The digit engine: decimal digits of pi, truncated, proven, and spot-checked.

How it works: a ball [m - r, m + r] that is guaranteed to contain pi (the
Chudnovsky series by binary splitting, O(n log^3 n), in FLINT's ball
arithmetic) is multiplied by 10**n, and the floor of every point in it taken.
If the floor is the same integer everywhere in the ball, that integer is
floor(pi * 10**n) exactly, whatever rounding happened inside: its decimal
string is "3" followed by the first n places, cut, never rounded. If the ball
straddles an integer (it never has, but nothing forbids it) we retry with more
guard bits instead of guessing.

Two routes compute the ball: the native build's C path (compute/pi_native.c,
through compute/native_pi.py), which does the whole computation in one call,
and python-flint's ``arb.pi()`` everywhere else.

The ball is only as good as FLINT and the hardware, so the result is also
checked by a method that shares nothing with it: hexadecimal digits near the
end of the computed binary value, recomputed by Bellard's BBP-type formula
(compute/bbp.py) in a separate process while the computation runs.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import multiprocessing.process
import os
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TypeVar

from compute import native
from compute import native_pi
from compute.engine_info import engine_name

BUILD = native.activate()  # before `import flint`: picks the native build if there is one

import flint  # noqa: E402

from compute.bbp import hex_digits_of  # noqa: E402
from compute.bbp import pi_hex_digits  # noqa: E402
from compute.bbp import pi_hex_fraction  # noqa: E402
from compute.processes import background_helper  # noqa: E402

log = logging.getLogger(__name__)

# Extra binary places beyond the n decimal places asked for: enough that the
# ball is far narrower than one unit in the n-th place, so the floor is unique.
GUARD_BITS = 64
MAX_ATTEMPTS = 4
CHECK_HEX_DIGITS = 6

# The native build computes in compute/pi_native.c when that is built too.
USES_C_PATH = BUILD == "native" and native_pi.load()
ENGINE_NAME = engine_name(BUILD, USES_C_PATH)

# Called with a phase and the share of it done (0.0 as it starts).
PhaseCallback = Callable[[str, float], None]
_Result = TypeVar("_Result")


class AmbiguousFloor(ArithmeticError):
    """The error ball straddles an integer even with the largest guard tried."""


class CheckFailed(ArithmeticError):
    """The Bellard spot check disagrees with the computed digits: nothing is stored."""


def pi_digits(places: int, on_phase: PhaseCallback | None = None, threads: int = 1, check: bool = True) -> str:
    """Return the first ``places`` decimal places of pi, truncated, without "3.".

    ``pi_digits(6) == "141592"``: place 1 is "1", place 6 is "2".

    :param places: how many places after the decimal point, at least 1.
    :param on_phase: called with a phase and the share of it done. The C path
        reports "series" (the share of terms summed every second, then the
        merges' products), "final" (the square root's steps, the product, then each
        step of the division), "converting" (the top split, then the share of
        digits written every second) and "checking"; python-flint,
        whose pi is one call, "computing", "converting" and "checking".
    :param threads: threads FLINT may use for this computation.
    :param check: run the independent spot check (Bellard's formula; raises CheckFailed).
    """
    if places < 1:
        raise ValueError("places must be at least 1")
    report = on_phase or (lambda phase, done: None)
    proven_bits = math.ceil(places * math.log2(10))
    # The check needs only the position, so it starts now and runs beside FLINT, a process a thread.
    spot_check = _SpotCheck(proven_bits, max(1, threads)) if check else None
    try:
        compute = _digits_in_c if USES_C_PATH else _digits_with_python_flint
        position = spot_check.position if spot_check is not None else 0
        text, hex_digits = compute(places, proven_bits, max(1, threads), position, report)
        if spot_check is not None:
            spot_check.expected = hex_digits
            report("checking", 0.0)
            spot_check.verify()
        return text
    finally:
        if spot_check is not None:
            spot_check.close()


def _digits_in_c(
    places: int, proven_bits: int, threads: int, hex_position: int, report: PhaseCallback
) -> tuple[str, str | None]:
    def attempt(precision: int) -> tuple[str, str | None] | None:
        result = native_pi.pi_digits_at(places, precision, threads, hex_position, CHECK_HEX_DIGITS, report)
        return None if result.digits is None else (result.digits, result.hex_digits)

    return _with_growing_guard(places, proven_bits, attempt)


def _digits_with_python_flint(
    places: int, proven_bits: int, threads: int, hex_position: int, report: PhaseCallback
) -> tuple[str, str | None]:
    flint.ctx.threads = threads
    report("computing", 0.0)

    def attempt(precision: int) -> tuple[flint.arb, flint.fmpz] | None:
        ball, floor = _pi_ball_and_floor(places, precision)
        return None if floor is None else (ball, floor)

    ball, floor = _with_growing_guard(places, proven_bits, attempt)
    scaled = _exact_floor(ball, 4 * (hex_position + CHECK_HEX_DIGITS))
    hex_digits = None if scaled is None else format(int(scaled % 16**CHECK_HEX_DIGITS), f"0{CHECK_HEX_DIGITS}x")
    report("converting", 0.0)
    # str() of an fmpz is FLINT's subquadratic conversion; Python's int -> str is quadratic.
    return str(floor)[1:], hex_digits


def _with_growing_guard(places: int, proven_bits: int, attempt: Callable[[int], _Result | None]) -> _Result:
    # A ball that straddles an integer is retried with four times the guard bits.
    guard = GUARD_BITS
    for _ in range(MAX_ATTEMPTS):
        result = attempt(proven_bits + guard)
        if result is not None:
            return result
        guard *= 4
    raise AmbiguousFloor(f"could not pin down place {places} of pi")


@contextmanager
def _working_precision(bits: int) -> Iterator[None]:
    # FLINT's precision is global to the process: set it for one step only.
    old_precision = flint.ctx.prec
    flint.ctx.prec = bits
    try:
        yield
    finally:
        flint.ctx.prec = old_precision


def _pi_ball_and_floor(places: int, precision: int) -> tuple[flint.arb, flint.fmpz | None]:
    with _working_precision(precision):
        ball = flint.arb.pi()
        return ball, (ball * _power(10, places)).floor().unique_fmpz()


def _power(base: int, exponent: int) -> flint.fmpz:
    """``base ** exponent``, the fastest way for the FLINT build loaded.

    fmpz's ``**`` is GMP's mpz_pow_ui, which uses neither FLINT's FFT nor its
    threads. With the native build, squaring by FLINT's multiplication takes
    0.22 s for 10**(10**8) on two threads against 0.66 s; with the wheel (no
    FFT) it is slower than GMP's, so the wheel keeps ``**``.
    """
    if BUILD != "native":
        return flint.fmpz(base) ** exponent
    result = flint.fmpz(1)
    for bit in bin(exponent)[2:]:
        result = result * result
        if bit == "1":
            result = result * base
    return result


class _SpotCheck:
    """Bellard hex digits at the end of the proven binary digits, computed in
    lower-priority processes (FLINT holds the GIL) while FLINT works."""

    # Below this many hex places the check takes milliseconds: no process needed.
    _IN_PROCESS_BELOW = 200_000

    def __init__(self, proven_bits: int, helpers: int = 1) -> None:
        self.position = max(0, proven_bits // 4 - CHECK_HEX_DIGITS - 2)
        self.expected: str | None = None
        self.helpers: list[multiprocessing.process.BaseProcess] = []
        self._results: list[Connection] = []
        if self.position >= self._IN_PROCESS_BELOW:
            # Lowest priority: they run in the time FLINT's threads leave idle, and
            # each sums its share of the terms, so that what is left when FLINT is
            # done takes every core. They die with their worker, so a cancelled
            # task leaves nothing running.
            context = multiprocessing.get_context("fork")
            for part in range(helpers):
                results, sender = context.Pipe(duplex=False)
                helper = context.Process(
                    target=_check_in_helper, args=(os.getpid(), sender, self.position, part, helpers)
                )
                helper.start()
                sender.close()  # the helper holds the only write end: its death reads as end of file
                self.helpers.append(helper)
                self._results.append(results)

    def verify(self) -> None:
        """Raise CheckFailed unless Bellard's formula agrees with the computed value."""
        found = self._found()
        if self.expected is None:
            raise CheckFailed(f"hex place {self.position + 1:,} is not pinned down by the computed ball")
        # float64 rounding in the formula may be off by one unit in the last hex digit.
        difference = abs(int(found, 16) - int(self.expected, 16))
        if min(difference, 16**CHECK_HEX_DIGITS - difference) > 1:
            raise CheckFailed(
                f"Bellard's formula says pi has hex digits {found} after place {self.position:,}, "
                f"the computation {self.expected}"
            )

    def _found(self) -> str:
        if not self.helpers:
            return pi_hex_digits(self.position, CHECK_HEX_DIGITS)
        fraction = 0.0
        for part, (helper, results) in enumerate(zip(self.helpers, self._results, strict=True)):
            try:
                # Returns as soon as the helper answers or dies (its end of the pipe closes).
                results.poll(None)
                share: float = results.recv()
            except EOFError:
                # Killed (by a person, or the kernel short of memory): sum its share
                # here, which costs seconds, rather than wait for an answer that never comes.
                log.warning("the check's helper process ended (exit code %s); checking in the worker", helper.exitcode)
                share = pi_hex_fraction(self.position, part=part, parts=len(self.helpers))
            fraction = (fraction + share) % 1.0
        return hex_digits_of(fraction, CHECK_HEX_DIGITS)

    def close(self) -> None:
        """Stop the check's processes, finished or not."""
        for helper in self.helpers:
            helper.kill()
            helper.join()
        for results in self._results:
            results.close()


def _check_in_helper(parent_pid: int, results: Connection, position: int, part: int, parts: int) -> None:
    background_helper(parent_pid)
    results.send(pi_hex_fraction(position, part=part, parts=parts))
    results.close()


def _exact_floor(ball: flint.arb, bits: int) -> flint.fmpz | None:
    with _working_precision(max(flint.ctx.prec, bits + 64)):
        return (ball * flint.fmpz(2) ** bits).floor().unique_fmpz()
