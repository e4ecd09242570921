"""The page of one task: its status and pi to n places, the n-th digit marked, and their statistics."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import dcc
from dash import html

from dashboard import ids
from dashboard.labels import status_label
from dashboard.task_table import events_url
from dashboard.task_view import digits_area
from dashboard.task_view import not_found
from dashboard.task_view import status_badge
from dashboard.task_view import task_heading
from dashboard.task_view import timings
from i18n import _
from tasks.errors import TaskNotFound
from tasks.records import FINISHED
from tasks.records import Task
from tasks.service import current as service


def _title(task_id: str | None = None, **_query: Any) -> str:
    return _("π · task {task_id}").format(task_id=task_id) if task_id else _("π · task")


dash.register_page(__name__, path="/task/none", path_template="/task/<task_id>", title=_title, name="Task")


def _task_named(task_id: str | None) -> Task | None:
    if task_id is None or not (task_id.isascii() and task_id.isdigit() and len(task_id) < 19):
        return None
    try:
        return service().get(int(task_id))
    except TaskNotFound:
        return None


def found(task_id: str | None = None, **_query: str) -> bool:
    """Whether the address names a task (page_status.py answers 404 when not)."""
    return _task_named(task_id) is not None


def layout(task_id: str | None = None, **_query: str) -> html.Div:
    """The task's page, or a friendly not-found page."""
    task = _task_named(task_id)
    if task is None:
        return not_found(
            _("There is no task {task_id}.").format(task_id=task_id) if task_id else _("No task was named.")
        )
    finished = task["status"] in FINISHED
    return html.Div(
        [
            dcc.Store(id=ids.TASK_ID, data=task["id"]),
            dcc.Interval(id=ids.TASK_REFRESH, interval=flask.current_app.config["REFRESH_MS"], disabled=finished),
            # While it runs, the page follows the live updates from the revision it was drawn at
            # (assets/taskPageLive.js), and polls only while no stream is open.
            dcc.Store(id=ids.TASK_EVENTS, data=None if finished else live_updates()),
            dcc.Link(_("← all tasks"), href="/", className="small"),
            html.H1(task_heading(task), className="h3 mt-2"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(_("Status"), className="text-muted small"),
                            html.Div(status_badge(task), id=ids.TASK_STATUS),
                            # The badge and its progress change every second; this only when the status does.
                            html.Div(
                                status_label(task["status"]),
                                id=ids.TASK_STATUS_SPOKEN,
                                role="status",
                                className="visually-hidden",
                            ),
                        ],
                        md=5,
                    ),
                    dbc.Col(
                        [
                            html.Div(_("Digit"), className="text-muted small"),
                            html.Div(task["digit"] or "–", id=ids.TASK_DIGIT, className="display-6"),
                        ],
                        md=3,
                    ),
                    dbc.Col(
                        [
                            html.Div(_("Timings"), className="text-muted small"),
                            html.Div(timings(task), id=ids.TASK_TIMINGS),
                        ],
                        md=4,
                    ),
                ],
                className="mb-4",
            ),
            html.Div(digits_area(task), id=ids.DIGITS_AREA),
        ]
    )


def live_updates() -> dict[str, Any] | None:
    """Where this page's live updates come from, and the revision it was drawn at (None: it polls)."""
    url = events_url()
    if url is None:
        return None
    return {"url": url, "revision": service().revision(), "pollMs": flask.current_app.config["REFRESH_MS"]}
