"""Task page: follow a running task, and move the window of digits."""

from __future__ import annotations

from typing import Any

import dash
from dash import ClientsideFunction
from dash import Input
from dash import Output
from dash import State
from dash import ctx

from compute.messages import N_
from compute.validation import InvalidN
from compute.validation import parse_n
from dashboard import ids
from dashboard.digits_view import WINDOW
from dashboard.digits_view import render_digits
from dashboard.digits_view import window_around
from dashboard.labels import status_label
from dashboard.task_view import digits_area
from dashboard.task_view import status_badge
from dashboard.task_view import timings
from dashboard.task_view import window_label
from i18n import explain
from i18n import translate
from tasks.errors import DigitsUnavailable
from tasks.records import FINISHED
from tasks.service import current as service


def refresh_task(_tick: int, task_id: int) -> tuple[Any, ...]:
    """Status, digit and timings of a task still in progress; the digits once done."""
    task = service().get(task_id)
    finished = task["status"] in FINISHED
    area = digits_area(task) if finished else dash.no_update
    spoken = status_label(task["status"])  # the same text each second: nothing new for a screen reader to say
    return status_badge(task), spoken, task["digit"] or "–", timings(task), area, finished


def move_window(
    _earlier: int | None,
    _later: int | None,
    _go: int | None,
    _enter: int | None,
    start: int,
    jump_to: str | None,
    task_id: int,
) -> tuple[Any, ...]:
    """Show the previous or next WINDOW places, or the window around a place."""
    task = service().get(task_id)
    n = int(task["n"])
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= n:
        # The page only ever sends a place of this task: anything else is crafted (the guard answers 400).
        raise ValueError(f"window start {start!r} is not a place from 1 to {n}")
    highlight = None
    if ctx.triggered_id == ids.WINDOW_PREVIOUS:
        start = max(1, start - WINDOW)
    elif ctx.triggered_id == ids.WINDOW_NEXT:
        start = start + WINDOW if start + WINDOW <= n else start
    else:
        try:
            highlight = parse_n(jump_to, n)
        except InvalidN:
            return dash.no_update, dash.no_update, dash.no_update, translate(N_("Enter a place from 1 to {n}."), n=n)
        start = window_around(highlight, n)
    try:
        digits = service().task_digits(task, start, WINDOW)
    except DigitsUnavailable as unavailable:  # gone, or a damaged block being repaired
        return dash.no_update, dash.no_update, dash.no_update, explain(unavailable)
    return render_digits(digits, start, n, highlight), start, window_label(start, n), ""


def register(app: dash.Dash) -> None:
    """Attach this page's callbacks to ``app``."""
    app.callback(
        Output(ids.TASK_STATUS, "children"),
        Output(ids.TASK_STATUS_SPOKEN, "children"),
        Output(ids.TASK_DIGIT, "children"),
        Output(ids.TASK_TIMINGS, "children"),
        Output(ids.DIGITS_AREA, "children"),
        Output(ids.TASK_REFRESH, "disabled"),
        Input(ids.TASK_REFRESH, "n_intervals"),
        State(ids.TASK_ID, "data"),
        prevent_initial_call=True,
    )(refresh_task)
    app.clientside_callback(
        # Push (assets/taskPageLive.js): a change of this task refreshes the page; the poll waits meanwhile.
        ClientsideFunction(namespace="taskPageLive", function_name="follow"),
        Output(ids.TASK_REFRESH, "interval"),
        Input(ids.TASK_EVENTS, "data"),
        State(ids.TASK_ID, "data"),
    )
    app.callback(
        Output(ids.WINDOW_VIEW, "children"),
        Output(ids.WINDOW_START, "data"),
        Output(ids.WINDOW_LABEL, "children"),
        Output(ids.JUMP_MESSAGE, "children"),
        Input(ids.WINDOW_PREVIOUS, "n_clicks"),
        Input(ids.WINDOW_NEXT, "n_clicks"),
        Input(ids.JUMP_BUTTON, "n_clicks"),
        Input(ids.JUMP_INPUT, "n_submit"),
        State(ids.WINDOW_START, "data"),
        State(ids.JUMP_INPUT, "value"),
        State(ids.TASK_ID, "data"),
        prevent_initial_call=True,
    )(move_window)
