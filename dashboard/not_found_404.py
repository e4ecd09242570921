"""Any unknown address: a friendly page rather than an error."""

from __future__ import annotations

import dash
from dash import html

from dashboard.task_view import not_found
from i18n import _

dash.register_page(__name__, path="/404", title=lambda **_query: _("π · not found"))


def layout(**_query: str) -> html.Div:
    """The not-found page."""
    return not_found(_("There is no page at this address."))
