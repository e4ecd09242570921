"""Hexadecimal digits of pi at any position, by the Bailey–Borwein–Plouffe formula.

    pi = sum_k 16^-k (4/(8k+1) - 2/(8k+4) - 1/(8k+5) - 1/(8k+6))

Multiplying by 16^d and keeping fractional parts gives the hex digits after
position d without computing the ones before it (Bailey, Borwein and Plouffe,
Math. Comp. 66, 1997). It shares nothing with the Chudnovsky series the engine
uses, which makes it an independent spot check of the engine's last digits.
Cost: O(d log d) machine-integer operations: in C (compute/bbp_kernel.c,
built by `make native`, about 3x faster) when built, else vectorised numpy.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

KERNEL_PATH = Path(__file__).resolve().parent.parent / "native" / "lib" / "libpibbp.so"


def _load_kernel() -> ctypes.CDLL | None:
    if not KERNEL_PATH.exists():
        return None
    kernel = ctypes.CDLL(str(KERNEL_PATH))
    kernel.bbp_partial_sum.restype = ctypes.c_double
    kernel.bbp_partial_sum.argtypes = [ctypes.c_uint64, ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64]
    return kernel


_KERNEL = _load_kernel()

_CHUNK = 1 << 17  # fits in cache better than larger chunks; measured fastest here
HEX = "0123456789abcdef"


def pi_hex_digits(position: int, count: int = 6, use_kernel: bool = True) -> str:
    """Hex digits of pi at places ``position + 1`` .. ``position + count`` after the point.

    ``pi_hex_digits(0) == "243f6a"`` (pi = 3.243f6a8885... in base 16). Reliable
    for ``count`` up to about 8; float64 rounding limits it beyond that.
    """
    series = _kernel_series if use_kernel and _KERNEL is not None else _series
    fraction = (4 * series(1, position) - 2 * series(4, position) - series(5, position) - series(6, position)) % 1.0
    digits = []
    for _ in range(count):
        fraction *= 16
        digit = int(fraction)
        digits.append(HEX[digit])
        fraction -= digit
    return "".join(digits)


def _kernel_series(j: int, d: int) -> float:
    assert _KERNEL is not None
    return (_KERNEL.bbp_partial_sum(d, j, 0, d + 1) + _tail(j, d)) % 1.0


def _series(j: int, d: int) -> float:
    """Fractional part of sum_k 16^(d-k) / (8k+j)."""
    total = 0.0
    one = np.uint64(1)
    for first in range(0, d + 1, _CHUNK):
        k = np.arange(first, min(first + _CHUNK, d + 1), dtype=np.uint64)
        modulus = 8 * k + np.uint64(j)  # below 2^32 for d < 5e8, so products fit in 64 bits
        exponent = np.uint64(d) - k
        power = one % modulus
        base = np.uint64(16) % modulus
        product = np.empty_like(power)
        # Right-to-left binary powering, in place to spare memory traffic.
        while True:
            np.multiply(power, base, out=product)
            np.remainder(product, modulus, out=product)
            np.copyto(power, product, where=(exponent & one).astype(bool))
            exponent >>= one
            if not exponent.any():
                break
            np.multiply(base, base, out=base)
            np.remainder(base, modulus, out=base)
        total = (total + float(np.sum(power / modulus))) % 1.0
    return (total + _tail(j, d)) % 1.0


def _tail(j: int, d: int) -> float:
    # The terms k > d, where 16^(d-k) is a fraction: a few reach float precision.
    k = np.arange(d + 1, d + 20, dtype=np.float64)
    return float(np.sum(16.0 ** (d - k) / (8 * k + j)))
