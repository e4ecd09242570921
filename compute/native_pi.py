"""The native engine's C path (compute/pi_native.c), loaded when `make native` built it.

One call computes pi, proves the floor of pi * 10**n, and writes the digits
straight into a buffer: the series is split into one block per thread, and no
Python object holds the big numbers (see the C file for why this is faster
than python-flint's arb.pi on the same FLINT).
"""

from __future__ import annotations

import ctypes
import mmap
import warnings
from collections.abc import Callable

from compute.engine_info import C_PATH_LIBRARY as LIBRARY_PATH

_OK, _AMBIGUOUS = 0, 1
_PHASES = {0: "series", 1: "final", 2: "converting"}
_ProgressFunction = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_double)


_LIBRARY: ctypes.CDLL | None = None


def load() -> bool:
    """Load the C path; False if it is not built or does not load.

    Only for the native build: the library links the native FLINT, which must
    not be loaded beside the wheel's.
    """
    global _LIBRARY
    if _LIBRARY is None and LIBRARY_PATH.exists():
        try:
            _LIBRARY = _declare(ctypes.CDLL(str(LIBRARY_PATH)))
        except OSError as error:
            # Built against a FLINT that is gone: python-flint computes instead, more slowly.
            warnings.warn(f"the native engine's C path does not load ({error}); using python-flint", stacklevel=2)
            return False
    return _LIBRARY is not None


def _declare(library: ctypes.CDLL) -> ctypes.CDLL:
    library.pi_native_digits.restype = ctypes.c_int
    library.pi_native_digits.argtypes = [
        ctypes.c_int64,  # places
        ctypes.c_int64,  # precision in bits
        ctypes.c_int,  # threads
        ctypes.c_int64,  # hex position
        ctypes.c_int,  # hex count
        ctypes.c_void_p,  # digits out
        ctypes.c_char_p,  # hex out
        _ProgressFunction,
    ]
    return library


class NativeResult:
    """What one call returns: the digits and the hex digits for the Bellard check."""

    def __init__(self, digits: str | None, hex_digits: str | None) -> None:
        self.digits = digits  # None: the ball straddles an integer, retry with more precision
        self.hex_digits = hex_digits  # None: the ball does not pin them down


def pi_digits_at(
    places: int,
    precision: int,
    threads: int,
    hex_position: int,
    hex_count: int,
    on_progress: Callable[[str, float], None],
) -> NativeResult:
    """The first ``places`` decimal places of pi computed at ``precision`` bits.

    Also the hex digits at places ``hex_position + 1 ..`` of the same ball.
    ``on_progress`` gets "series" with the share of its terms summed (at the
    start, then every second), then its merges' products done; "final" as it
    starts, after each step of the square root, its product and each step of
    the division; and "converting" through its top split, then with the share
    of digits written, every second. A product made in pieces reports each
    piece, at most once a second.
    """
    if not load():
        raise RuntimeError("the native engine's C path is not built: run `make native`")
    assert _LIBRARY is not None
    # An anonymous mapping the C code writes into: unlike a bytearray, its pages
    # take memory only as the digits reach them, at the end, not through the
    # whole computation (a gigabyte at 10^9 places). The digits are copied once, into the str.
    buffer = mmap.mmap(-1, places + 3)
    try:
        target = (ctypes.c_char * len(buffer)).from_buffer(buffer)
        hex_digits = ctypes.create_string_buffer(hex_count + 1)
        callback = _ProgressFunction(lambda phase, done: on_progress(_PHASES[phase], done))
        status = _LIBRARY.pi_native_digits(
            places, precision, max(1, threads), hex_position, hex_count, ctypes.addressof(target), hex_digits, callback
        )
        del target  # the mapping cannot be closed while ctypes holds it
        if status not in (_OK, _AMBIGUOUS):
            raise ValueError(f"pi_native_digits refused its arguments (status {status})")
        if status == _AMBIGUOUS:
            return NativeResult(None, None)
        if buffer[0:1] != b"3" or buffer[places + 1] != 0 or buffer.find(b"\0", 1, places + 1) != -1:
            raise ArithmeticError(f"pi_native_digits wrote something other than 3 and {places:,} places")
        with memoryview(buffer) as whole, whole[1 : places + 1] as digits:
            text = str(digits, "ascii")
    finally:
        buffer.close()
    return NativeResult(text, hex_digits.value.decode("ascii") or None)
