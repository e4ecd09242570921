"""Main page: submit a task, cancel one, and keep the table live."""

from __future__ import annotations

import secrets
import time
from typing import Any

import dash
from dash import ClientsideFunction
from dash import Input
from dash import Output
from dash import State
from dash import html

from compute.messages import N_
from compute.validation import InvalidN
from dashboard import ids
from dashboard.task_table import GridQuery
from dashboard.task_table import grid_query
from dashboard.task_table import grid_row
from i18n import explain
from i18n import translate
from requester import current_requester
from tasks.errors import NotYourTask
from tasks.errors import TaskFinished
from tasks.errors import TaskNotFound
from tasks.limits import NeverFits
from tasks.limits import OverLimit
from tasks.records import DECIMAL
from tasks.records import HEXADECIMAL
from tasks.records import RUNNING
from tasks.service import current as service

# (answered at once, a hex place) -> what the page says
_SUBMITTED = {
    (True, False): N_("Place {n} is {digit} (already known, task {task_id})."),
    (True, True): N_("Hex place {n} is {digit} (already known, task {task_id})."),
    (False, False): N_("Task {task_id} queued: the digit at place {n}."),
    (False, True): N_("Task {task_id} queued: the hex digit at place {n}."),
}


def submit(_clicks: int | None, _enter: int | None, raw_n: str | None, radix: object) -> tuple[Any, ...]:
    """Add a task for what was typed, or say why not; nothing is stored on bad input."""
    try:
        task = service().submit(raw_n, current_requester(create_owner=True), DECIMAL if radix is None else radix)
    except (InvalidN, NeverFits) as error:
        return explain(error), "form-text text-danger", True, dash.no_update
    except OverLimit as error:
        return explain(error), "form-text text-warning", False, dash.no_update
    template = _SUBMITTED[(task["status"] == "done", task["radix"] == HEXADECIMAL)]
    message = translate(template, n=task["n"], digit=task["digit"], task_id=task["id"])
    return message, "form-text text-success", False, task["id"]


def cancel(clicked: dict[str, Any] | None) -> tuple[Any, ...]:
    """Cancel the task whose Cancel button was pressed in the table."""
    if not clicked or clicked.get("colId") != "cancel":
        return dash.no_update, dash.no_update
    task_id = int(clicked["rowId"])
    try:
        service().cancel(task_id, current_requester())
    except (TaskFinished, TaskNotFound, NotYourTask) as error:
        return html.Div(explain(error), className="text-warning"), dash.no_update
    return html.Div(
        translate(N_("Task {task_id} cancelled."), task_id=task_id), className="text-secondary"
    ), time.time()


def rows(request: dict[str, Any] | None) -> tuple[Any, Any]:
    """Answer the grid's request for one page of tasks, and remember which page is shown."""
    if not request:
        return dash.no_update, dash.no_update
    query = grid_query(request)
    # Read before the rows: they reflect at least this revision, so the next
    # poll looks for changes after it and misses none.
    revision = service().revision()
    tasks = service().page(**query.as_dict())
    viewer, now = current_requester(), time.time()
    shown = {
        "query": query.as_dict(),
        "ids": [task["id"] for task in tasks],
        "running": any(task["status"] == RUNNING for task in tasks),
        "revision": revision,
        "fetch": secrets.token_hex(4),
    }
    response = {"rowData": [grid_row(task, viewer, now) for task in tasks], "rowCount": service().count(query.statuses)}
    return response, shown


def refresh(_tick: int, _changed: Any, shown: dict[str, Any] | None, seen: dict[str, Any] | None) -> tuple[Any, Any]:
    """Send the grid the rows of the shown page that changed since the last poll.

    The revision only grows and is handed out in commit order, so "changed
    after revision r" misses nothing. A page whose ids are no longer the same
    (a new task at the top, a filtered row leaving) is fetched again whole.
    """
    if not shown:
        return dash.no_update, dash.no_update
    query = GridQuery.from_dict(shown["query"])  # checked: it came back from the browser
    since = seen["revision"] if seen and seen.get("fetch") == shown["fetch"] else shown["revision"]
    revision = service().revision()
    if revision == since and not shown["running"]:
        return dash.no_update, dash.no_update  # one indexed read per idle poll
    tasks = service().page(**query.as_dict())
    next_seen = {"fetch": shown["fetch"], "revision": revision}
    if [task["id"] for task in tasks] != shown["ids"]:
        return {"refetch": True, "revision": revision}, next_seen
    viewer, now = current_requester(), time.time()
    # Running rows go every time: their progress between reports is an estimate that moves.
    changed = [grid_row(task, viewer, now) for task in tasks if task["revision"] > since or task["status"] == RUNNING]
    if not changed:
        return dash.no_update, next_seen
    return {"rows": changed, "revision": revision}, next_seen


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
        State(ids.RADIX_SWITCH, "value"),
        prevent_initial_call=True,
    )(submit)
    app.callback(
        Output(ids.ACTION_MESSAGE, "children"),
        Output(ids.TASKS_CHANGED, "data", allow_duplicate=True),
        Input(ids.TASKS_GRID, "cellRendererData"),
        prevent_initial_call=True,
    )(cancel)
    app.callback(
        Output(ids.TASKS_GRID, "getRowsResponse"),
        Output(ids.GRID_SHOWN, "data"),
        Input(ids.TASKS_GRID, "getRowsRequest"),
        prevent_initial_call=True,
    )(rows)
    app.callback(
        Output(ids.GRID_UPDATES, "data"),
        Output(ids.GRID_SEEN, "data"),
        Input(ids.TASKS_REFRESH, "n_intervals"),
        Input(ids.TASKS_CHANGED, "data"),
        State(ids.GRID_SHOWN, "data"),
        State(ids.GRID_SEEN, "data"),
        prevent_initial_call=True,
    )(refresh)
    app.clientside_callback(
        # Push (assets/taskGridLive.js): follows the shown page, and keeps the poll off while the stream is open.
        ClientsideFunction(namespace="taskGridLive", function_name="follow"),
        Output(ids.TASKS_REFRESH, "disabled"),
        Input(ids.GRID_SHOWN, "data"),
        State(ids.TASKS_GRID, "id"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction(namespace="taskGrid", function_name="apply"),
        Output(ids.GRID_APPLIED, "data"),
        Output(ids.OWN_TASKS_SPOKEN, "children"),
        Input(ids.GRID_UPDATES, "data"),
        State(ids.TASKS_GRID, "id"),
        prevent_initial_call=True,
    )
