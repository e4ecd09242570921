"""The search page's answer: where a string first occurs, how often, how far the search went, and the odds."""

from __future__ import annotations

from dash import dcc
from dash import html
from dash.development.base_component import Component

from compute.digit_search import chance
from compute.messages import N_
from i18n import _
from i18n import approximate
from i18n import fill
from i18n import ngettext
from i18n import number
from i18n import translate
from tasks.digits.search import SearchResult


def results_view(result: SearchResult, complete: bool) -> html.Div:
    """Where the string was found, how often, how far the search went, and what chance alone would give.

    :param complete: every stored place was searched (the count), not just the indexed ones.
    """
    quoted = f"“{result.query}”"
    odds = chance(len(result.query), result.searched)
    lines: list[Component] = []
    if result.positions:
        lines.append(
            html.P(
                [
                    translate(N_("{query} first occurs at place {place}."), query=quoted, place=result.positions[0]),
                    " ",
                    fill(
                        ngettext(
                            "It occurs {count} time in the first {searched} places.",
                            "It occurs {count} times in the first {searched} places.",
                            result.count,
                        ),
                        count=result.count,
                        searched=result.searched,
                    ),
                ],
                className="mb-1 search-found",
            )
        )
    else:
        lines.append(
            html.P(
                translate(
                    N_("{query} does not occur in the first {searched} places."), query=quoted, searched=result.searched
                ),
                className="mb-1 search-not-found",
            )
        )
    lines.append(
        html.P(
            translate(
                N_(
                    "Chance alone would give {expected} occurrences in that many places; the probability of at "
                    "least one is {probability}."
                ),
                expected=approximate(odds.expected),
                probability=_percent(odds.probability),
            ),
            className="small text-muted mb-1",
        )
    )
    if not complete and result.searched < result.stored:
        lines.append(
            html.P(
                translate(
                    N_("{rest} more places are stored: “Count everywhere” searches them too."),
                    rest=result.stored - result.searched,
                ),
                className="small text-muted mb-1",
            )
        )
    if result.positions:
        lines.append(
            html.Div(
                [
                    html.Span(_("First places:"), className="me-2"),
                    *[
                        dcc.Link(number(place), href=f"/digits?place={place}&length={len(result.query)}")
                        for place in result.positions
                    ],
                ],
                className="search-positions small",
            )
        )
    return html.Div(lines)


def _percent(probability: float) -> str:
    if 0 < probability < 0.0001:
        return f"{approximate(probability * 100)} %"
    return number(probability * 100, decimals=2) + " %"
