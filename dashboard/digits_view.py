"""Pi's digits as the task page shows them: a window of places, the n-th marked.

A page with millions of places must not send them all to the browser, so it
shows WINDOW places at a time (aligned to groups of ten, as printed digit
tables are) and offers the whole as a download.
"""

from __future__ import annotations

from dash import html

from compute.messages import N_
from dashboard import ids
from i18n import translate

WINDOW = 2000
GROUP = 10


def window_ending_at(place: int) -> int:
    """First place of the window that ends with ``place`` (the default view).

    Aligned up, not down: a window aligned down would end up to nine places
    before ``place``, and the n-th digit would not be on the page.
    """
    return max(1, _align_up(place - WINDOW + 1))


def window_around(place: int, n: int) -> int:
    """First place of the window that shows ``place`` near its middle (and never stops short of n)."""
    return max(1, min(_align(place - WINDOW // 2), _align_up(n - WINDOW + 1)))


def _align(start: int) -> int:
    return (start - 1) // GROUP * GROUP + 1


def _align_up(start: int) -> int:
    return -(-(start - 1) // GROUP) * GROUP + 1


def render_digits(
    digits: str, first_place: int, n: int, highlight: int | None = None, match: range | None = None
) -> html.Div:
    """Digits from ``first_place`` on; place n gets <mark>, ``highlight`` a ring, the places in ``match`` a search mark.

    :param digits: the digits, place ``first_place`` first, none past n (n = 0: no n-th place to mark).
    """
    pieces: list[str | html.Span | html.Mark] = ["3." if first_place == 1 else "…"]
    place = first_place
    for offset in range(0, len(digits), GROUP):
        group = digits[offset : offset + GROUP]
        last = place + len(group) - 1
        pieces.append(
            html.Span(
                _marked(group, place, n, highlight, match or range(0)),
                title=translate(N_("places {first}–{last}"), first=place, last=last),
                className="digit-group",
            )
        )
        place = last + 1
    if place <= n or n == 0:
        pieces.append("…")
    return html.Div(pieces, id=ids.PI_DIGITS, className="pi-digits")


def _marked(group: str, place: int, n: int, highlight: int | None, match: range) -> list[str | html.Mark]:
    special = {p for p in (n, highlight, *match) if p is not None and place <= p < place + len(group)}
    if not special:
        return [group]
    parts: list[str | html.Mark] = []
    cursor = place
    for target in sorted(special):
        if target > cursor:
            parts.append(group[cursor - place : target - place])
        css = "nth-digit" if target == n else "search-match" if target in match else "jump-target"
        parts.append(html.Mark(group[target - place], className=css, title=translate(N_("place {n}"), n=target)))
        cursor = target + 1
    if cursor < place + len(group):
        parts.append(group[cursor - place :])
    return parts
