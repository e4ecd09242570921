"""The stored digits around a place, a match marked: where a search result links."""

from __future__ import annotations

import dash
from dash import dcc
from dash import html

from compute.messages import N_
from dashboard import ids
from dashboard.digits_view import WINDOW
from dashboard.digits_view import render_digits
from dashboard.digits_view import window_around
from dashboard.task_view import not_found
from i18n import _
from i18n import explain
from i18n import translate
from tasks.errors import DigitsBeingRepaired
from tasks.service import current as service

dash.register_page(__name__, path="/digits", title=lambda **_query: _("π · digits at a place"), name="Digits")

_LONGEST_MATCH = 120


def layout(place: str | None = None, length: str | None = None, **_query: str) -> html.Div:
    """The window of WINDOW places around ``place``, places place..place + length - 1 marked."""
    stored = service().stored_places()
    where = _whole(place, stored)
    if where is None:
        return not_found(translate(N_("Give a place from 1 to {stored}."), stored=stored))
    if length is not None and _whole(length, _LONGEST_MATCH) is None:
        return not_found(translate(N_("Give a length from 1 to {most} places."), most=_LONGEST_MATCH))
    size = min(_whole(length, _LONGEST_MATCH) or 1, stored - where + 1)
    start = window_around(where, stored)
    try:
        digits = service().read_digits(start, WINDOW)
    except DigitsBeingRepaired as repairing:
        return not_found(explain(repairing))
    return html.Div(
        [
            dcc.Link(_("← search"), href="/search", className="small"),
            html.H1(
                translate(N_("Places {first}–{last} of π"), first=where, last=where + size - 1), className="h3 mt-2"
            ),
            html.P(
                translate(
                    N_("The match is marked; this window shows places {first}–{last}."),
                    first=start,
                    last=start + len(digits) - 1,
                ),
                className="text-muted small",
            ),
            html.Div(render_digits(digits, start, 0, match=range(where, where + size)), id=ids.WINDOW_PAGE_DIGITS),
        ]
    )


def _whole(text: str | None, highest: int) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= highest else None
