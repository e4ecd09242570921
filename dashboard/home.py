"""The main page: the form to ask for a digit, and the table of every task."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import flask
from dash import dcc
from dash import html

from dashboard import ids
from dashboard.task_table import task_grid
from i18n import _
from tasks.records import DECIMAL
from tasks.records import HEXADECIMAL

dash.register_page(__name__, path="/", title=lambda **_query: _("π digits"), name="Tasks")


def layout(**_query: str) -> html.Div:
    """The grid starts empty and asks the server for the page it shows."""
    return html.Div(
        [
            html.H1(_("The digits of π"), className="h3"),
            html.P(
                _(
                    "Ask for the n-th decimal (or hexadecimal) place of π. Every request is a task that runs on "
                    "the server, whoever asked and whatever happens to this tab; the table shows them all."
                ),
                className="text-muted",
            ),
            _submit_form(),
            html.Div(id=ids.ACTION_MESSAGE, className="my-2", role="status"),
            task_grid(),
            # What a screen reader says when one of the visitor's own tasks changes status (the grid is silent).
            html.Div(id=ids.OWN_TASKS_SPOKEN, role="status", className="visually-hidden"),
            dcc.Interval(id=ids.TASKS_REFRESH, interval=flask.current_app.config["REFRESH_MS"]),
            # Which page the grid shows, the last revision applied to it, and the poll's result.
            dcc.Store(id=ids.GRID_SHOWN),
            dcc.Store(id=ids.GRID_SEEN),
            dcc.Store(id=ids.GRID_UPDATES),
            dcc.Store(id=ids.GRID_APPLIED),
            dcc.Store(id=ids.TASKS_CHANGED),
        ]
    )


def _submit_form() -> html.Div:
    return html.Div(
        [
            dbc.Label(_("Place n"), html_for=ids.N_INPUT),
            dbc.InputGroup(
                [
                    dbc.InputGroupText("n ="),
                    dbc.Input(
                        id=ids.N_INPUT,
                        type="text",
                        inputmode="numeric",
                        placeholder=_("e.g. 1000 (place 1 is the 1 in 3.1…)"),
                        autocomplete="off",
                        autofocus=True,
                    ),
                    dbc.Button(_("Compute"), id=ids.SUBMIT_BUTTON, color="primary"),
                ],
                style={"maxWidth": "32rem"},
            ),
            dbc.RadioItems(
                id=ids.RADIX_SWITCH,
                options=[
                    {"label": _("decimal"), "value": DECIMAL},
                    {"label": _("hexadecimal"), "value": HEXADECIMAL},
                ],
                value=DECIMAL,
                inline=True,
                className="mt-1 small",
            ),
            html.Div(id=ids.INPUT_MESSAGE, className="form-text", role="status"),
        ],
        className="mb-3",
    )
