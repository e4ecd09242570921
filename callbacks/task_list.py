"""Main page: submit a task, cancel one, and keep the table live."""

from __future__ import annotations

import time
from typing import Any

import dash
from dash import Input
from dash import Output
from dash import State
from dash import html

from compute.validation import InvalidN
from dashboard import ids
from dashboard.task_table import grid_row
from tasks.fairness import OverLimit
from tasks.requester import current_requester
from tasks.service import NotYourTask
from tasks.service import TaskFinished
from tasks.service import TaskNotFound
from tasks.service import current as service

# Re-read rows changed this long before the last poll: a worker may commit a
# change stamped a moment before the poll that missed it.
OVERLAP_SECONDS = 2.0


def submit(_clicks: int | None, _enter: int | None, raw_n: str | None) -> tuple[Any, ...]:
    """Add a task for what was typed, or say why not; nothing is stored on bad input."""
    try:
        task = service().submit(raw_n, current_requester(create_owner=True))
    except InvalidN as error:
        return str(error), "form-text text-danger", True, dash.no_update
    except OverLimit as error:
        return str(error), "form-text text-warning", False, dash.no_update
    n = task["n"]
    if task["status"] == "done":
        message = f"Place {n:,} is {task['digit']} (already known, task {task['id']})."
    else:
        message = f"Task {task['id']} queued: the digit at place {n:,}."
    return message, "form-text text-success", False, task["id"]


def cancel(clicked: dict[str, Any] | None) -> tuple[Any, ...]:
    """Cancel the task whose Cancel button was pressed in the table."""
    if not clicked or clicked.get("colId") != "cancel":
        return dash.no_update, dash.no_update
    task_id = int(clicked["rowId"])
    try:
        service().cancel(task_id, current_requester())
    except (TaskFinished, TaskNotFound, NotYourTask) as error:
        return html.Div(str(error), className="text-warning"), dash.no_update
    return html.Div(f"Task {task_id} cancelled.", className="text-secondary"), time.time()


def refresh(_tick: int, _changed: Any, cursor: dict[str, Any]) -> tuple[Any, Any]:
    """Send the grid only the rows that changed since the last poll."""
    now = time.time()
    rows = service().changed_since(cursor["since"] - OVERLAP_SECONDS)
    next_cursor = {"since": now, "max_id": cursor["max_id"]}
    if not rows:
        return dash.no_update, next_cursor
    viewer = current_requester()
    added = [grid_row(task, viewer, now) for task in rows if task["id"] > cursor["max_id"]]
    updated = [grid_row(task, viewer, now) for task in rows if task["id"] <= cursor["max_id"]]
    next_cursor["max_id"] = max(cursor["max_id"], rows[-1]["id"])
    return {"add": added, "update": updated, "async": False}, next_cursor


def register(app: dash.Dash) -> None:
    """Attach this page's callbacks to ``app``."""
    app.callback(
        Output(ids.INPUT_MESSAGE, "children"),
        Output(ids.INPUT_MESSAGE, "className"),
        Output(ids.N_INPUT, "invalid"),
        Output(ids.TASKS_CHANGED, "data"),
        Input(ids.SUBMIT_BUTTON, "n_clicks"),
        Input(ids.N_INPUT, "n_submit"),
        State(ids.N_INPUT, "value"),
        prevent_initial_call=True,
    )(submit)
    app.callback(
        Output(ids.ACTION_MESSAGE, "children"),
        Output(ids.TASKS_CHANGED, "data", allow_duplicate=True),
        Input(ids.TASKS_GRID, "cellRendererData"),
        prevent_initial_call=True,
    )(cancel)
    app.callback(
        Output(ids.TASKS_GRID, "rowTransaction"),
        Output(ids.GRID_CURSOR, "data"),
        Input(ids.TASKS_REFRESH, "n_intervals"),
        Input(ids.TASKS_CHANGED, "data"),
        State(ids.GRID_CURSOR, "data"),
        prevent_initial_call=True,
    )(refresh)
