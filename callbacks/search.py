"""Search page: the answer as you type (the index, milliseconds), and the count over every stored place.

The count is a Dash background callback (DiskcacheManager): it runs in its own
process while the page shows its progress, and Cancel stops it. It is not a
task: it belongs to the visitor who asked, and nobody else needs its result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dash
from dash import Input
from dash import Output
from dash import State
from dash import html

import i18n
from compute.digit_search import BadQuery
from compute.messages import N_
from dashboard import ids
from dashboard.search_results import results_view
from i18n import explain
from i18n import translate
from tasks.service import EXTENSION
from tasks.service import TaskService
from tasks.service import current as service

FIRST_PLACES = 20


def as_you_type(query: str | None) -> Any:
    """The first places of what is typed so far, from the index."""
    if not query or not query.strip():
        return ""
    try:
        result = service().search_indexed(query.strip(), FIRST_PLACES)
    except BadQuery as error:
        return html.Div(explain(error), className="text-danger")
    return results_view(result, complete=False)


def count_everywhere(
    found: TaskService, pause: float
) -> Callable[[Callable[[tuple[int, str]], None], int | None, str | None, str | None, str | None], Any]:
    """The background count, bound to the app's service (its process has no Flask app to ask)."""

    def count(
        set_progress: Callable[[tuple[int, str]], None],
        _clicks: int | None,
        query: str | None,
        _session: str | None,
        language: str | None,
    ) -> Any:
        with i18n.speaking(language):

            def on_progress(done: int, total: int) -> bool:
                set_progress((round(100 * done / total), f"{i18n.number(done)} / {i18n.number(total)}"))
                if pause:
                    time.sleep(pause)  # a test's seam: time to press Cancel
                return True

            try:
                result = found.search_everywhere(query and query.strip(), FIRST_PLACES, on_progress)
            except BadQuery as error:
                return html.Div(explain(error), className="text-danger")
            if result is None:
                return dash.no_update
            return html.Div(results_view(result, complete=True), className="alert alert-light")

    return count


def count_refused(args: list[Any]) -> Any:
    """The count's result when no job may start now (callbacks/background_jobs.py): busy, try again.

    :param args: the count's arguments, as Dash passes them: clicks, query, session, language.
    """
    with i18n.speaking(args[3] if len(args) > 3 else None):
        return html.Div(
            translate(
                N_(
                    "The server is busy with other counts (yours or other visitors'); try again in a moment. "
                    "The first places above need no count."
                )
            ),
            className="text-warning",
        )


def register(app: dash.Dash) -> None:
    """Attach this page's callbacks to ``app``."""
    app.callback(Output(ids.SEARCH_RESULTS, "children"), Input(ids.SEARCH_INPUT, "value"))(as_you_type)
    app.callback(
        Output(ids.SEARCH_COUNT, "children"),
        Input(ids.SEARCH_BUTTON, "n_clicks"),
        State(ids.SEARCH_INPUT, "value"),
        State(ids.SEARCH_SESSION, "data"),
        State(ids.PAGE_LANGUAGE, "data"),
        background=True,
        running=[
            (Output(ids.SEARCH_BUTTON, "disabled"), True, False),
            (Output(ids.SEARCH_CANCEL, "disabled"), False, True),
            (Output(ids.SEARCH_PROGRESS, "className"), "mt-2", "d-none mt-2"),
        ],
        progress=[Output(ids.SEARCH_PROGRESS, "value"), Output(ids.SEARCH_PROGRESS, "label")],
        progress_default=[0, ""],
        cancel=[Input(ids.SEARCH_CANCEL, "n_clicks")],
        prevent_initial_call=True,
    )(count_everywhere(app.server.extensions[EXTENSION], app.server.config["SEARCH_SCAN_PAUSE"]))
