"""The task table (dash-ag-grid), the rows it shows, and the page of tasks a grid request asks for.

dash_table is deprecated in Dash 4. AG Grid's infinite row model asks the
server for one page at a time, sorted and filtered in SQL, so the page costs
the same at a million tasks as at ten; row ids let live updates set only the
rows that changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

import dash_ag_grid as dag
import flask

import i18n
from dashboard import ids
from dashboard.labels import phase_label
from dashboard.labels import reason_label
from dashboard.labels import status_label
from i18n import _
from requester import Requester
from tasks.records import RUNNING
from tasks.records import STATUSES
from tasks.records import Task
from tasks.service import describe
from tasks.store.queries import SORTABLE

PAGE_SIZE = 50


def columns() -> list[dict[str, Any]]:
    """The grid's columns, headed in the visitor's language. Id, n, digit and status come first:
    on a phone they are what fits, and the digit is the answer."""
    return [
        {
            "field": "id",
            "headerName": _("Task"),
            "cellRenderer": "TaskLink",
            "suppressKeyboardEvent": {"function": "pressOnEnter(params)"},  # Enter opens the task's page
            "sort": "desc",
            "width": 80,
        },
        {
            "field": "n",
            "headerName": _("n (place)"),
            "valueFormatter": {"function": "formatPlace(params)"},
            # n and status share what the fixed columns leave; on a phone, their least fits.
            "flex": 1,
            "minWidth": 100,
        },
        {"field": "digit", "headerName": _("Digit"), "width": 66, "cellClass": "digit-cell", "sortable": False},
        {
            "field": "status",
            "headerName": _("Status"),
            "cellRenderer": "TaskStatus",
            # AG Grid redraws a cell only when its value changes: make the value carry
            # the phase and progress too, or a running task's bar would never move.
            "valueGetter": {
                "function": "params.data ? params.data.status + ' ' + (params.data.phase || '') + ' '"
                " + params.data.progress : ''"
            },
            # Filtered in SQL: the text is matched against the five statuses' names (in either language).
            "filter": "agTextColumnFilter",
            "filterParams": {
                "filterOptions": ["equals", "notEqual", "contains", "startsWith"],
                "maxNumConditions": 1,
                "buttons": ["reset"],
            },
            "flex": 2,
            "minWidth": 104,
        },
        {
            "field": "seconds",
            "headerName": _("Took"),
            "valueFormatter": {"function": "formatSeconds(params)"},
            "width": 110,
            "sortable": False,
        },
        {
            "field": "created_at",
            "headerName": _("Submitted"),
            "valueFormatter": {"function": "localTime(params)"},
            "width": 200,
        },
        {
            "field": "cancel",
            # A header a screen reader can say (axe: empty-table-header); the column holds Cancel buttons.
            "headerName": _("Cancel"),
            "cellRenderer": "CancelButton",
            "suppressKeyboardEvent": {"function": "pressOnEnter(params)"},
            # Its value is the status, so the button goes when the task finishes (see above).
            "valueGetter": {"function": "params.data ? params.data.status : ''"},
            "width": 110,
            "sortable": False,
        },
    ]


def grid_row(task: Task, viewer: Requester, now: float | None = None) -> dict[str, Any]:
    """What the grid needs of a task: its public description, trimmed, with its texts in the
    visitor's language, and whether ``viewer`` may cancel it."""
    row = public_row(task, now)
    row.update(row_labels(task))
    row["mine"] = viewer.may_cancel(task["owner"])
    return row


def public_row(task: Task, now: float | None = None) -> dict[str, Any]:
    """What every viewer's grid shows of a task, whoever they are and whatever their language."""
    row = describe(task, now)
    del row["url"], row["started_at"], row["finished_at"], row["worker"]
    row["revision"] = task["revision"]  # a page keeps the newest of two reads of a row (assets/taskGridLive.js)
    return row


def row_labels(task: Task) -> dict[str, str | None]:
    """A task's row's texts in the language being spoken."""
    return {
        "status_label": status_label(task["status"]),
        "phase_label": phase_label(task["phase"]) if task["status"] == RUNNING else None,
        "error_label": reason_label(task["error"]) if task["error"] else None,
    }


def task_grid() -> dag.AgGrid:
    """The grid of tasks, newest first; it asks the server for each page it shows."""
    return dag.AgGrid(
        id=ids.TASKS_GRID,
        rowModelType="infinite",
        columnDefs=columns(),
        getRowId="params.data.id",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            # One page per request, and only the shown page kept: the live
            # updates then concern exactly the rows on screen.
            "cacheBlockSize": PAGE_SIZE,
            "maxBlocksInCache": 1,
            "paginationPageSizeSelector": False,
            "animateRows": False,
            "localeText": grid_locale_text(),
            # The cell renderers' own words, and how this language writes numbers.
            "context": {
                "cancel": _("Cancel"),
                "seconds": _("{seconds} s"),
                "starting": phase_label(None),
                "locale": i18n.language(),
                # Said (a live region) when one of the visitor's own tasks changes status.
                "ownStatus": _("Your task {id}: {status}."),
                "ownDone": _("Your task {id} is done: the digit is {digit}."),
                # Where this page's live updates come from (assets/taskGridLive.js); None: it polls.
                "events": events_url(),
            },
            "domLayout": "autoHeight",
        },
        className="ag-theme-quartz",
    )


def events_url() -> str | None:
    """The address of this process's live updates for the page being drawn, or None when it serves none.

    The events server (live/) registers itself on the app; the pages only ask it for its address.
    """
    live = flask.current_app.extensions.get("pi.live")
    if live is None:
        return None
    url: str = live.url_for(flask.request)
    return url


def grid_locale_text() -> dict[str, str]:
    """AG Grid's own words that this grid shows (pager, loading, the status filter)."""
    return {
        "noRowsToShow": _("No tasks yet: ask for a digit above."),
        "loadingOoo": _("Loading…"),
        "page": _("Page"),
        "of": _("of"),
        "to": _("to"),
        "more": _("more"),
        "firstPage": _("First Page"),
        "previousPage": _("Previous Page"),
        "nextPage": _("Next Page"),
        "lastPage": _("Last Page"),
        "filterOoo": _("Filter…"),
        "equals": _("Equals"),
        "notEqual": _("Does not equal"),
        "contains": _("Contains"),
        "startsWith": _("Starts with"),
        "resetFilter": _("Reset"),
        "pageSizeSelectorLabel": _("Page size:"),
        "ariaFilterInput": _("Filter input"),
        "ariaFilteringOperator": _("Filtering operator"),
    }


class BadGridRequest(ValueError):
    """A grid request this table cannot answer (only a hand-made one can be)."""


@dataclass(frozen=True)
class GridQuery:
    """One page of the task table, as the task store's page() takes it."""

    offset: int
    limit: int
    sort: str = "id"
    descending: bool = True
    statuses: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """For a dcc.Store."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GridQuery:
        """From what as_dict gave (read back from the browser: checked again)."""
        statuses = data.get("statuses")
        return cls(
            offset=_count(data.get("offset")),
            limit=_count(data.get("limit")),
            sort=_sort_key(data.get("sort")),
            descending=bool(data.get("descending")),
            statuses=None if statuses is None else _known_statuses(statuses),
        )


def grid_query(request: dict[str, Any]) -> GridQuery:
    """The page an AG Grid ``getRowsRequest`` asks for.

    :raises BadGridRequest: for rows out of range, an unknown sort column or filter.
    """
    start, end = _count(request.get("startRow")), _count(request.get("endRow"))
    if not start < end <= start + 10 * PAGE_SIZE:
        raise BadGridRequest("startRow and endRow must give at most 500 rows")
    sort, descending = "id", True
    for item in request.get("sortModel") or []:
        sort, descending = _sort_key(item.get("colId")), item.get("sort") != "asc"
        break  # one column at a time; ties go by id
    return GridQuery(start, end - start, sort, descending, _status_filter(request.get("filterModel") or {}))


def _status_filter(model: dict[str, Any]) -> tuple[str, ...] | None:
    if not model:
        return None
    if set(model) != {"status"}:
        raise BadGridRequest("only the status column can be filtered")
    kind, text = model["status"].get("type"), str(model["status"].get("filter") or "").strip().lower()
    matches: dict[str, Callable[[str], bool]] = {
        "equals": lambda name: name == text,
        "notEqual": lambda name: name != text,
        "contains": lambda name: text in name,
        "startsWith": lambda name: name.startswith(text),
    }
    if kind not in matches:
        raise BadGridRequest(f"unknown status filter {kind!r}")
    # A visitor reading Russian types Russian names: match the status's own name or the shown one.
    if kind == "notEqual":
        return tuple(s for s in STATUSES if matches[kind](s) and matches[kind](status_label(s).lower()))
    return tuple(s for s in STATUSES if matches[kind](s) or matches[kind](status_label(s).lower()))


def _sort_key(column: object) -> str:
    if column not in SORTABLE:
        raise BadGridRequest(f"the table cannot be sorted by {column!r}")
    return str(column)


def _known_statuses(statuses: object) -> tuple[str, ...]:
    if not isinstance(statuses, list) or not set(statuses) <= set(STATUSES):
        raise BadGridRequest("unknown statuses")
    return tuple(statuses)


def _count(value: object) -> int:
    if type(value) is not int or not 0 <= value < 2**63:
        raise BadGridRequest(f"not a row number: {value!r}")
    return value
