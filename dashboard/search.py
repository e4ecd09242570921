"""The search page: where a string of digits occurs in π, as you type, and a count over every stored place."""

from __future__ import annotations

import secrets

import dash
import dash_bootstrap_components as dbc
from dash import dcc
from dash import html

import i18n
from compute.digit_search import LONGEST_QUERY
from dashboard import ids
from i18n import _

dash.register_page(__name__, path="/search", title=lambda **_query: _("π · search"), name="Search")


def layout(q: str | None = None, **_query: str) -> html.Div:
    """The search box (filled from ``?q=``), its answer, and the count with its progress and Cancel."""
    return html.Div(
        [
            html.H1(_("Find a string of digits in π"), className="h3"),
            html.P(
                _(
                    "Type up to 120 digits: their first places appear as you type, searched in the indexed "
                    "places; the button counts them in every stored place."
                ),
                className="text-muted",
            ),
            dbc.InputGroup(
                [
                    dbc.Input(
                        id=ids.SEARCH_INPUT,
                        type="text",
                        inputmode="numeric",
                        value=q or "",
                        placeholder=_("e.g. 14159 or 999999"),
                        autocomplete="off",
                        autofocus=True,
                        # Longer than allowed, so that a pasted 121 digits gets its message.
                        maxLength=LONGEST_QUERY * 2,
                    ),
                    dbc.Button(_("Count everywhere"), id=ids.SEARCH_BUTTON, color="primary"),
                    dbc.Button(_("Cancel"), id=ids.SEARCH_CANCEL, color="secondary", outline=True, disabled=True),
                ],
                style={"maxWidth": "44rem"},
            ),
            dbc.Progress(id=ids.SEARCH_PROGRESS, value=0, className="d-none mt-2", style={"maxWidth": "44rem"}),
            html.Div(id=ids.SEARCH_COUNT, className="mt-2", role="status"),
            html.Div(id=ids.SEARCH_RESULTS, className="mt-3", role="status"),
            # Each visitor's own count: two visitors counting the same string never share (or cancel) a job.
            dcc.Store(id=ids.SEARCH_SESSION, data=secrets.token_hex(8)),
            dcc.Store(id=ids.PAGE_LANGUAGE, data=i18n.language()),
        ]
    )
