"""Pieces of the task page, shared by its layout and its refresh callbacks."""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import dcc
from dash import html
from dash.development.base_component import Component

from compute.messages import N_
from dashboard import ids
from dashboard.digits_view import WINDOW
from dashboard.digits_view import render_digits
from dashboard.digits_view import window_ending_at
from dashboard.labels import phase_label
from dashboard.labels import reason_label
from dashboard.labels import status_label
from dashboard.statistics import statistics_section
from i18n import _
from i18n import explain
from i18n import number
from i18n import translate
from tasks.errors import DigitsBeingRepaired
from tasks.errors import DigitsGone
from tasks.errors import TaskNotDone
from tasks.records import CANCELLED
from tasks.records import DONE
from tasks.records import ERROR
from tasks.records import HEXADECIMAL
from tasks.records import RUNNING
from tasks.records import Task
from tasks.service import current as service
from tasks.service import describe

BADGE_COLOURS = {"queued": "secondary", RUNNING: "primary", DONE: "success", ERROR: "danger", CANCELLED: "warning"}


def task_heading(task: Task) -> str:
    """The page's title line: which place, in which base."""
    if task["radix"] == HEXADECIMAL:
        return translate(N_("Task {task_id}: hexadecimal place {n} of π"), task_id=task["id"], n=task["n"])
    return translate(N_("Task {task_id}: place {n} of π"), task_id=task["id"], n=task["n"])


def status_badge(task: Task) -> html.Div:
    """The status as a badge, with a progress bar while running and the reason on error."""
    public = describe(task)
    children: list[Component] = [
        # text-bg-*: Bootstrap picks the text colour that reads on that background (white on yellow did not).
        dbc.Badge(
            status_label(task["status"]),
            color=BADGE_COLOURS[task["status"]],
            className=f"fs-6 text-bg-{BADGE_COLOURS[task['status']]}",
        )
    ]
    if task["status"] == RUNNING:
        percent = round(public["progress"] * 100)
        label = f"{phase_label(task['phase'])} · {'≈' if public['progress_is_estimate'] else ''}{percent}%"
        # Bootstrap's progress bar, with the name a screen reader says (axe: aria-progressbar-name).
        bar = html.Div(
            label, className="progress-bar progress-bar-striped progress-bar-animated", style={"width": f"{percent}%"}
        )
        aria = {"aria-label": label, "aria-valuenow": percent, "aria-valuemin": 0, "aria-valuemax": 100}
        children.append(html.Div(bar, className="progress mt-2", role="progressbar", **aria))
        if public["progress_is_estimate"]:
            children.append(
                html.Div(_("progress is estimated from the time similar n took"), className="small text-muted")
            )
    if task["status"] == ERROR:
        children.append(html.Div(reason_label(task["error"]), className="text-danger mt-1"))
    return html.Div(children)


def timings(task: Task) -> html.Div:
    """Submitted, started and finished times, with durations."""
    lines = [_("submitted {time}").format(time=_clock(task["created_at"]))]
    if task["started_at"]:
        waited = number(task["started_at"] - task["created_at"], decimals=2)
        lines.append(_("started {time} (waited {seconds} s)").format(time=_clock(task["started_at"]), seconds=waited))
    if task["finished_at"] and task["started_at"]:
        took = number(task["finished_at"] - task["started_at"], decimals=2)
        lines.append(_("finished {time} (took {seconds} s)").format(time=_clock(task["finished_at"]), seconds=took))
    return html.Div([html.Div(line) for line in lines], className="small")


def _clock(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def digits_area(task: Task) -> Component:
    """Pi to n places and their statistics once the task is done; a note before that."""
    if task["radix"] == HEXADECIMAL:
        return _hex_area(task)
    n = int(task["n"])
    start = window_ending_at(n)
    try:
        shown = render_digits(service().task_digits(task, start, WINDOW), start, n)
    except TaskNotDone:
        return html.Div(html.P(_not_done_note(task), className="text-muted"), id=ids.PI_DIGITS)
    except (DigitsGone, DigitsBeingRepaired) as unavailable:
        return html.P(explain(unavailable), id=ids.PI_DIGITS)
    download = html.A(
        translate(N_("Download all {n} places (pi-{file_n}.txt)"), n=n, file_n=str(n)),
        href=f"/api/tasks/{task['id']}/pi.txt",
        id=ids.DOWNLOAD_LINK,
    )
    heading = html.H2(translate(N_("π to {n} decimal places"), n=n), className="h5")
    if n <= WINDOW:
        digits = html.Div([heading, shown, html.P(download, className="mt-3")])
    else:
        digits = html.Div(
            [
                heading,
                _window_controls(start, n),
                html.Div(shown, id=ids.WINDOW_VIEW),
                html.P(download, className="mt-3"),
                dcc.Store(id=ids.WINDOW_START, data=start),
            ]
        )
    return html.Div([digits, statistics_section(n)])


def _not_done_note(task: Task) -> str:
    notes = {
        ERROR: N_("This task failed, so there are no digits to show."),
        CANCELLED: N_("This task was cancelled before it finished."),
    }
    return _(notes.get(task["status"], N_("π to this place appears here as soon as the task is done.")))


def _hex_area(task: Task) -> Component:
    # Bellard's formula gives the digits from place n on, not the ones before it.
    if not task["hex_digits"]:
        return html.Div(html.P(_not_done_note(task), className="text-muted"), id=ids.PI_DIGITS)
    n = int(task["n"])
    digits = str(task["hex_digits"])
    return html.Div(
        [
            html.H2(
                translate(N_("The {count} hexadecimal digits of π from place {n}"), count=len(digits), n=n),
                className="h5",
            ),
            html.Div(
                ["…", html.Mark(digits[0], className="nth-digit"), digits[1:], "…"],
                id=ids.HEX_DIGITS,
                className="pi-digits",
            ),
            html.P(
                _(
                    "Computed with Bellard's BBP-type formula, which gives hexadecimal digits at a place without "
                    "the digits before it."
                ),
                className="text-muted small mt-2",
            ),
        ],
        id=ids.PI_DIGITS,
    )


def window_label(start: int, n: int) -> str:
    """Which places the window shows."""
    return translate(N_("places {first}–{last} of {n}"), first=start, last=min(start + WINDOW - 1, n), n=n)


def _window_controls(start: int, n: int) -> dbc.Row:
    return dbc.Row(
        [
            dbc.Col(
                dbc.ButtonGroup(
                    [
                        dbc.Button(_("← earlier"), id=ids.WINDOW_PREVIOUS, outline=True, color="secondary", size="sm"),
                        dbc.Button(_("later →"), id=ids.WINDOW_NEXT, outline=True, color="secondary", size="sm"),
                    ]
                ),
                width="auto",
            ),
            dbc.Col(html.Span(window_label(start, n), id=ids.WINDOW_LABEL, className="small text-muted"), width="auto"),
            dbc.Col(
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id=ids.JUMP_INPUT,
                            type="text",
                            inputmode="numeric",
                            placeholder=_("go to place"),
                            size="sm",
                        ),
                        dbc.Button(_("Go"), id=ids.JUMP_BUTTON, size="sm"),
                    ],
                    size="sm",
                ),
                xs=12,
                md=3,
            ),
            dbc.Col(html.Span(id=ids.JUMP_MESSAGE, className="small text-danger"), width="auto"),
        ],
        className="g-2 align-items-center mb-2",
    )


def not_found(message: str) -> html.Div:
    """What an unknown task (or page) shows instead of an error."""
    return html.Div(
        [
            html.H1(_("Not found"), className="h3"),
            html.P(message, id="not-found-message"),
            dcc.Link(_("See all tasks"), href="/"),
        ]
    )
