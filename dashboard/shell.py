"""The frame around every page: navigation bar (with the language switch), page container, footer."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

import i18n
from compute.engine_info import engine_name_parts
from compute.engine_info import expected_engine
from dashboard import ids
from i18n import _
from i18n import translate


def shell_layout() -> html.Div:
    """The app's top-level layout, in the visitor's language."""
    return html.Div(
        [
            dbc.NavbarSimple(
                [
                    dbc.NavItem(dbc.NavLink(_("Tasks"), href="/")),
                    dbc.NavItem(dbc.NavLink(_("Search"), href="/search", id=ids.NAV_SEARCH)),
                    dbc.NavItem(dbc.NavLink(_("JSON API"), href="/api/tasks", external_link=True)),
                    dbc.NavItem(_language_switch()),
                ],
                brand=_("π digits"),
                brand_href="/",
                color="dark",
                dark=True,
                className="mb-4",
            ),
            # The landmarks a screen reader jumps between: navigation, the page's main content, the footer.
            html.Main(dbc.Container(dash.page_container, fluid="lg")),
            html.Footer(
                dbc.Container(
                    [
                        html.Span(_("Engine: {name}").format(name=_engine_name()), id="engine-name"),
                        " · ",
                        _("every result proven by ball arithmetic and spot-checked by Bellard's BBP-type formula."),
                    ]
                ),
                className="text-muted small py-4",
            ),
        ]
    )


def _engine_name() -> str:
    # The name the API gives (service().engine()), as a template this page can translate.
    engine = expected_engine()
    template, params = engine_name_parts(engine.build, engine.c_path)
    return translate(template, **params)


def _language_switch() -> html.Div:
    # Plain links, so the page reloads in the other language; the server remembers the choice.
    current = i18n.language()
    return html.Div(
        [
            html.A(
                code.upper(),
                href=f"?lang={code}",
                title=name,
                lang=code,
                id=f"lang-{code}",
                className="btn btn-sm " + ("btn-light" if code == current else "btn-outline-light"),
            )
            for code, name in i18n.LANGUAGES.items()
        ],
        id=ids.LANG_SWITCH,
        className="btn-group ms-lg-3 my-1",
        role="group",
        title=_("Language"),
    )
