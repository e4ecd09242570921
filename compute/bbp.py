"""Hexadecimal digits of pi at any position, by Bellard's BBP-type formula.

    pi = 2^-6 sum_n (-1)^n 2^(-10n) (-2^5/(4n+1) - 1/(4n+3) + 2^8/(10n+1)
                                     - 2^6/(10n+3) - 2^2/(10n+5) - 2^2/(10n+7) + 1/(10n+9))

Multiplying by 16^d and keeping fractional parts gives the hex digits after
position d without computing the ones before it (Bailey, Borwein and Plouffe,
Math. Comp. 66, 1997; this formula is Bellard's, 1997, which needs 30% fewer
terms than BBP's own and keeps every modulus below 2^32 up to 10^9 decimal
places). It shares nothing with the Chudnovsky series the engine uses, which
makes it an independent spot check of the engine's last digits.
Cost: O(d log d) machine-integer operations: in C (compute/bbp_kernel.c,
built by `make native`) when built, else vectorised numpy.
"""

from __future__ import annotations

import ctypes

import numpy as np

from compute.engine_info import CHECK_KERNEL_LIBRARY as KERNEL_PATH

# (sign, power of two, a, b): the term sign * 2^power / (a n + b) of the formula.
_TERMS = ((-1, 5, 4, 1), (-1, 0, 4, 3), (1, 8, 10, 1), (-1, 6, 10, 3), (-1, 2, 10, 5), (-1, 2, 10, 7), (1, 0, 10, 9))


def _load_kernel() -> ctypes.CDLL | None:
    if not KERNEL_PATH.exists():
        return None
    kernel = ctypes.CDLL(str(KERNEL_PATH))
    kernel.bellard_partial_sum.restype = ctypes.c_double
    kernel.bellard_partial_sum.argtypes = [ctypes.c_uint64] * 5
    return kernel


_KERNEL = _load_kernel()

_CHUNK = 1 << 17  # fits in cache better than larger chunks; measured fastest here
HEX = "0123456789abcdef"


def pi_hex_digits(position: int, count: int = 6, use_kernel: bool = True) -> str:
    """Hex digits of pi at places ``position + 1`` .. ``position + count`` after the point.

    ``pi_hex_digits(0) == "243f6a"`` (pi = 3.243f6a8885... in base 16). Reliable
    for ``count`` up to about 8; float64 rounding limits it beyond that (the
    last one may be one off: compute.hex_digits corrects it with the next ones).
    """
    return hex_digits_of(pi_hex_fraction(position, use_kernel), count)


def hex_digits_of(fraction: float, count: int) -> str:
    """The first ``count`` hex digits of a fraction in [0, 1)."""
    digits = []
    for _ in range(count):
        fraction *= 16
        digit = int(fraction)
        digits.append(HEX[digit])
        fraction -= digit
    return "".join(digits)


def pi_hex_fraction(position: int, use_kernel: bool = True, part: int = 0, parts: int = 1) -> float:
    """The fractional part of 16^position * pi, to about 1e-13.

    With ``parts`` > 1, the share ``part`` of the formula's terms only, so that
    several processes can sum them: the shares add up to it, mod 1.
    """
    series = _kernel_series if use_kernel and _KERNEL is not None else _series
    shift = 4 * position - 6  # 16^position times the formula's 2^-6
    fraction: float = sum(sign * series(a, b, shift + power, part, parts) for sign, power, a, b in _TERMS) % 1.0
    return fraction


def has_kernel() -> bool:
    """Whether the C kernel (``make native``) is built."""
    return _KERNEL is not None


def _share(shift: int, part: int, parts: int) -> tuple[int, int, bool]:
    """The whole terms [first, end) of one share, and whether the terms after them (the tail) are its too."""
    whole = _whole_terms(shift)
    last = part + 1 == parts
    # Shares start at even n: _series takes even places as +, odd as -.
    first = (whole * part // parts) & ~1
    end = whole if last else (whole * (part + 1) // parts) & ~1
    return first, end, last


def _kernel_series(a: int, b: int, shift: int, part: int = 0, parts: int = 1) -> float:
    assert _KERNEL is not None
    first, end, last = _share(shift, part, parts)
    head = _KERNEL.bellard_partial_sum(shift, a, b, first, end) if end > first else 0.0
    return (head + (_tail(a, b, shift) if last else 0.0)) % 1.0


def _series(a: int, b: int, shift: int, part: int = 0, parts: int = 1) -> float:
    """Fractional part of sum_n (-1)^n 2^(shift - 10n) / (a n + b) (over one share of n)."""
    total = 0.0
    one = np.uint64(1)
    start, whole, last = _share(shift, part, parts)
    for first in range(start, whole, _CHUNK):
        n = np.arange(first, min(first + _CHUNK, whole), dtype=np.uint64)
        modulus = np.uint64(a) * n + np.uint64(b)  # below 2^32 up to 10^9 places, so products fit in 64 bits
        exponent = np.uint64(shift) - np.uint64(10) * n
        power = one % modulus
        base = np.uint64(2) % modulus
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
        terms = power / modulus
        # Chunks start at even n (shares and the chunk size are even): even places are +, odd -.
        total = (total + float(np.sum(terms[0::2])) - float(np.sum(terms[1::2]))) % 1.0
    return (total + (_tail(a, b, shift) if last else 0.0)) % 1.0


def _whole_terms(shift: int) -> int:
    """How many terms, from n = 0, have 2^(shift - 10n) a whole number."""
    return shift // 10 + 1 if shift >= 0 else 0


def _tail(a: int, b: int, shift: int) -> float:
    # The terms where 2^(shift - 10n) is a fraction: a few reach float precision.
    first = _whole_terms(shift)
    return float(sum((-1) ** n * 2.0 ** (shift - 10 * n) / (a * n + b) for n in range(first, first + 8)))
