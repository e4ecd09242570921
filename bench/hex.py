"""Hexadecimal digits at a place: what a hex task costs, by Bellard's formula.

    python bench/hex.py                    # places 10^6, 10^7, 10^8
    python bench/hex.py --large            # and 10^9 (about 10 minutes with `make native`)

Times the 14 hex digits from each place (compute.hex_digits.hex_digits_at:
three or four evaluations of the formula) with the C kernel of `make native`
and, as the peer in the same run, with the portable numpy code (up to 10^7:
past that it takes minutes). Checks each result against the published values
(Bailey, Borwein and Plouffe) where there are some. Also times deriving the
hex places from 10^7 stored decimal places (what /api/pi?radix=16 serves).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import compute.bbp  # noqa: E402
from compute.hex_conversion import hex_from_decimal  # noqa: E402
from compute.hex_digits import hex_digits_at  # noqa: E402

PUBLISHED = {
    1_000_000: "26C65E52CB4593",
    10_000_000: "17AF5863EFED8D",
    100_000_000: "ECB840E21926EC",
    1_000_000_000: "85895585A0428B",
}
PORTABLE_UP_TO = 10_000_000


def timed(place: int, kernel: bool) -> tuple[float, str]:
    saved = compute.bbp._KERNEL
    if not kernel:
        compute.bbp._KERNEL = None
    try:
        began = time.perf_counter()
        digits = hex_digits_at(place)
        return time.perf_counter() - began, digits
    finally:
        compute.bbp._KERNEL = saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="also place 10^9")
    args = parser.parse_args()
    places = [10**6, 10**7, 10**8] + ([10**9] if args.large else [])
    native = compute.bbp.has_kernel()
    print(f"C kernel (make native): {'built' if native else 'not built: native column skipped'}")
    print(f"{'place':>15} {'native s':>10} {'portable s':>11} {'ratio':>7}  hex digits from the place   published")
    for place in places:
        native_s, digits = timed(place, kernel=True) if native else (float("nan"), "")
        portable_s, portable_digits = timed(place, kernel=False) if place <= PORTABLE_UP_TO else (float("nan"), "")
        digits = digits or portable_digits
        assert not (digits and portable_digits) or digits == portable_digits, (digits, portable_digits)
        published = PUBLISHED.get(place)
        check = "" if published is None else ("agrees" if digits == published else f"DIFFERS: {published}")
        ratio = portable_s / native_s if native and place <= PORTABLE_UP_TO else float("nan")
        print(f"{place:>15,} {native_s:>10.2f} {portable_s:>11.2f} {ratio:>6.1f}x  {digits:<26} {check}")
        sys.stdout.flush()
    reference = (ROOT / "tests" / "reference" / "pi-1e6.txt").read_text()
    began = time.perf_counter()
    derived = hex_from_decimal(reference)
    print(f"\nhex places from 10^6 stored decimal places: {len(derived):,} in {time.perf_counter() - began:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
