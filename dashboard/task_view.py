"""Pieces of the task page, shared by its layout and its refresh callbacks."""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import dcc
from dash import html
from dash.development.base_component import Component

from dashboard import ids
from dashboard.digits_view import WINDOW
from dashboard.digits_view import render_digits
from dashboard.digits_view import window_ending_at
from tasks.service import DigitsBeingRepaired
from tasks.service import DigitsGone
from tasks.service import TaskNotDone
from tasks.service import current as service
from tasks.service import describe
from tasks.store import CANCELLED
from tasks.store import DONE
from tasks.store import ERROR
from tasks.store import RUNNING
from tasks.store import Task

BADGE_COLOURS = {"queued": "secondary", RUNNING: "primary", DONE: "success", ERROR: "danger", CANCELLED: "warning"}


def status_badge(task: Task) -> html.Div:
    """The status as a badge, with a progress bar while running and the reason on error."""
    public = describe(task)
    children: list[Component] = [dbc.Badge(task["status"], color=BADGE_COLOURS[task["status"]], className="fs-6")]
    if task["status"] == RUNNING:
        percent = round(public["progress"] * 100)
        label = f"{task['phase'] or 'starting'} · {'≈' if public['progress_is_estimate'] else ''}{percent}%"
        children.append(dbc.Progress(value=percent, label=label, striped=True, animated=True, className="mt-2"))
        if public["progress_is_estimate"]:
            children.append(
                html.Div("progress is estimated from the time similar n took", className="small text-muted")
            )
    if task["status"] == ERROR:
        children.append(html.Div(task["error"], className="text-danger mt-1"))
    return html.Div(children)


def timings(task: Task) -> html.Div:
    """Submitted, started and finished times, with durations."""
    lines = [f"submitted {_clock(task['created_at'])}"]
    if task["started_at"]:
        lines.append(f"started {_clock(task['started_at'])} (waited {task['started_at'] - task['created_at']:.2f} s)")
    if task["finished_at"] and task["started_at"]:
        lines.append(f"finished {_clock(task['finished_at'])} (took {task['finished_at'] - task['started_at']:.2f} s)")
    return html.Div([html.Div(line) for line in lines], className="small")


def _clock(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def digits_area(task: Task) -> Component:
    """Pi to n places once the task is done; a note before that."""
    n = int(task["n"])
    start = window_ending_at(n)
    try:
        shown = render_digits(service().task_digits(task, start, WINDOW), start, n)
    except TaskNotDone:
        note = {
            ERROR: "This task failed, so there are no digits to show.",
            CANCELLED: "This task was cancelled before it finished.",
        }.get(task["status"], "π to this place appears here as soon as the task is done.")
        return html.Div(html.P(note, className="text-muted"), id=ids.PI_DIGITS)
    except (DigitsGone, DigitsBeingRepaired) as unavailable:
        return html.P(str(unavailable), id=ids.PI_DIGITS)
    download = html.A(
        f"Download all {n:,} places (pi-{n}.txt)", href=f"/api/tasks/{task['id']}/pi.txt", id=ids.DOWNLOAD_LINK
    )
    heading = html.H2(f"π to {n:,} decimal places", className="h5")
    if n <= WINDOW:
        return html.Div([heading, shown, html.P(download, className="mt-3")])
    return html.Div(
        [
            heading,
            _window_controls(start, n),
            html.Div(shown, id=ids.WINDOW_VIEW),
            html.P(download, className="mt-3"),
            dcc.Store(id=ids.WINDOW_START, data=start),
        ]
    )


def window_label(start: int, n: int) -> str:
    """Which places the window shows."""
    return f"places {start:,}–{min(start + WINDOW - 1, n):,} of {n:,}"


def _window_controls(start: int, n: int) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dbc.ButtonGroup(
                    [
                        dbc.Button("← earlier", id=ids.WINDOW_PREVIOUS, outline=True, color="secondary", size="sm"),
                        dbc.Button("later →", id=ids.WINDOW_NEXT, outline=True, color="secondary", size="sm"),
                    ]
                ),
                width="auto",
            ),
            dbc.Col(html.Span(window_label(start, n), id=ids.WINDOW_LABEL, className="small text-muted"), width="auto"),
            dbc.Col(
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id=ids.JUMP_INPUT, type="text", inputmode="numeric", placeholder="go to place", size="sm"
                        ),
                        dbc.Button("Go", id=ids.JUMP_BUTTON, size="sm"),
                    ],
                    size="sm",
                ),
                width=3,
            ),
            dbc.Col(html.Span(id=ids.JUMP_MESSAGE, className="small text-danger"), width="auto"),
        ],
        className="g-2 align-items-center mb-2",
    )


def not_found(message: str) -> html.Div:
    """What an unknown task (or page) shows instead of an error."""
    return html.Div(
        [
            html.H1("Not found", className="h3"),
            html.P(message, id="not-found-message"),
            dcc.Link("See all tasks", href="/"),
        ]
    )
