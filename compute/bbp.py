"""Hexadecimal digits of pi at any position, by the Bailey–Borwein–Plouffe formula.

    pi = sum_k 16^-k (4/(8k+1) - 2/(8k+4) - 1/(8k+5) - 1/(8k+6))

Multiplying by 16^d and keeping fractional parts gives the hex digits after
position d without computing the ones before it (Bailey, Borwein and Plouffe,
Math. Comp. 66, 1997). It shares nothing with the Chudnovsky series the engine
uses, which makes it an independent spot check of the engine's last digits.
Cost: O(d log d) machine-integer operations, vectorised with numpy.
"""

from __future__ import annotations

import numpy as np

_CHUNK = 1 << 20
HEX = "0123456789abcdef"


def pi_hex_digits(position: int, count: int = 6) -> str:
    """Hex digits of pi at places ``position + 1`` .. ``position + count`` after the point.

    ``pi_hex_digits(0) == "243f6a"`` (pi = 3.243f6a8885... in base 16). Reliable
    for ``count`` up to about 8; float64 rounding limits it beyond that.
    """
    fraction = (4 * _series(1, position) - 2 * _series(4, position) - _series(5, position) - _series(6, position)) % 1.0
    digits = []
    for _ in range(count):
        fraction *= 16
        digit = int(fraction)
        digits.append(HEX[digit])
        fraction -= digit
    return "".join(digits)


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
        while True:
            odd = (exponent & one).astype(bool)
            power[odd] = power[odd] * base[odd] % modulus[odd]
            exponent >>= one
            if not exponent.any():
                break
            base = base * base % modulus
        total = (total + float(np.sum(power / modulus))) % 1.0
    # The tail k > d, where 16^(d-k) is a fraction: a few terms reach float precision.
    tail = np.arange(d + 1, d + 20, dtype=np.float64)
    total += float(np.sum(16.0 ** (d - tail) / (8 * tail + j)))
    return total % 1.0
