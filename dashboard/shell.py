"""The frame around every page: navigation bar, page container, footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from tasks.service import current as service


def shell_layout() -> html.Div:
    """The app's top-level layout."""
    return html.Div(
        [
            dbc.NavbarSimple(
                [
                    dbc.NavItem(dbc.NavLink("Tasks", href="/")),
                    dbc.NavItem(dbc.NavLink("JSON API", href="/api/tasks", external_link=True)),
                ],
                brand="π digits",
                brand_href="/",
                color="dark",
                dark=True,
                className="mb-4",
            ),
            dbc.Container(dash.page_container, fluid="lg"),
            html.Footer(
                dbc.Container(
                    [
                        html.Span(f"Engine: {service().engine()['name']}", id="engine-name"),
                        " · every result proven by ball arithmetic and spot-checked by Bellard's BBP-type formula.",
                    ]
                ),
                className="text-muted small py-4",
            ),
        ]
    )
