"""Turn what a person typed (or a script sent) into n, or say clearly why not.

One function serves the web form and the JSON API, so both give the same
messages for the same mistakes.
"""

from __future__ import annotations

import math
import re

from compute.messages import N_
from compute.messages import Explained

# ASCII digits only: str.isdigit() and int() also accept "١٢٣" (Arabic-Indic)
# and other scripts, which would surprise a reader of the task table.
_ASCII_WHOLE_NUMBER = re.compile(r"[0-9]+")
_LOOKS_DECIMAL = re.compile(r"[+-]?[0-9]*\.[0-9]+")
_LOOKS_SCIENTIFIC = re.compile(r"[+-]?[0-9.]+[eE][+-]?[0-9]+")
_LONGEST_INPUT = 40
# Bellard's formula keeps every modulus below 2^32 up to this hex place, which
# its portable path needs (products must fit in 64 bits).
HEX_MAX_N = 1_000_000_000
# The hex digits a hex task gives from its place, like the published BBP results.
HEX_WINDOW = 14


_EXACT_IN_A_FLOAT = 2**53


class InvalidN(Explained, ValueError):
    """n is not a whole number from 1 to the configured maximum."""


def parse_n(raw: object, max_n: int) -> int:
    """Return n as an int, or raise InvalidN with a message meant for people.

    :param raw: what was typed (a str) or sent as JSON (an int, a float, ...).
    :param max_n: the largest n this installation accepts.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidN(N_("Enter n, the decimal place you want: a whole number such as 1000."))
    if isinstance(raw, bool):
        raise InvalidN(N_("n must be a whole number such as 1000, not true or false."))
    if isinstance(raw, float):
        # JSON has one kind of number: 6.0 and 1e3 are whole numbers to JSON Schema (and to a
        # JavaScript client), taken while a float holds them exactly (up to 2^53). Past that a
        # float may already have lost digits (2**63 + 1.0), so it is refused.
        if math.isfinite(raw) and not raw.is_integer():
            raise InvalidN(N_("n must be a whole number; {raw} has a fractional part."), raw=raw)
        if not math.isfinite(raw) or abs(raw) > _EXACT_IN_A_FLOAT:
            raise InvalidN(N_("n must be a whole number written with the digits 0-9, not {raw!r}."), raw=raw)
        return _in_range(int(raw), max_n)
    if isinstance(raw, int):
        return _in_range(raw, max_n)
    if not isinstance(raw, str):
        raise InvalidN(N_("n must be a whole number such as 1000."))
    return _in_range(_parse_text(raw.strip()), max_n)


def parse_radix(raw: object) -> int:
    """10 (decimal places) or 16 (hexadecimal places), from a JSON number or the text "10" or "16"."""
    if raw in (10, 16, "10", "16") and not isinstance(raw, bool | float):
        return int(str(raw))
    raise InvalidN(N_("radix must be 10 (decimal places) or 16 (hexadecimal places)."))


def _parse_text(text: str) -> int:
    shown = text if len(text) <= _LONGEST_INPUT else text[:_LONGEST_INPUT] + "…"
    if _ASCII_WHOLE_NUMBER.fullmatch(text):
        if len(text.lstrip("0")) > _LONGEST_INPUT:
            raise InvalidN(N_("n is far too large."))
        return int(text)
    if text.startswith("-") and _ASCII_WHOLE_NUMBER.fullmatch(text[1:]):
        raise InvalidN(N_("n must be at least 1: place 1 is the first digit after the decimal point."))
    if _LOOKS_DECIMAL.fullmatch(text):
        raise InvalidN(N_("n must be a whole number; “{shown}” has a fractional part."), shown=shown)
    if _LOOKS_SCIENTIFIC.fullmatch(text):
        raise InvalidN(N_("Write n out in full with the digits 0-9; “{shown}” is scientific notation."), shown=shown)
    if any(character.isdigit() for character in text) and all(
        character.isdigit() or character in " _," for character in text
    ):
        raise InvalidN(N_("Write n with the digits 0-9 only, without spaces or separators."))
    raise InvalidN(N_("n must be a whole number such as 1000; “{shown}” is not one."), shown=shown)


def _in_range(n: int, max_n: int) -> int:
    if n < 1:
        raise InvalidN(N_("n must be at least 1: place 1 is the first digit after the decimal point."))
    if n > max_n:
        raise InvalidN(N_("n can be at most {max_n} on this server."), max_n=max_n)
    return n
