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

from dashboard import ids
from tasks.requester import Requester
from tasks.service import describe
from tasks.store import SORTABLE
from tasks.store import STATUSES
from tasks.store import Task

PAGE_SIZE = 50

COLUMNS: list[dict[str, Any]] = [
    {"field": "id", "headerName": "Task", "cellRenderer": "TaskLink", "sort": "desc", "width": 100},
    {
        "field": "n",
        "headerName": "n (place)",
        "valueFormatter": {"function": "params.value == null ? '' : d3.format(',')(params.value)"},
        "width": 140,
    },
    {
        "field": "status",
        "headerName": "Status",
        "cellRenderer": "TaskStatus",
        # AG Grid redraws a cell only when its value changes: make the value carry
        # the phase and progress too, or a running task's bar would never move.
        "valueGetter": {
            "function": "params.data ? params.data.status + ' ' + (params.data.phase || '') + ' '"
            " + params.data.progress : ''"
        },
        # Filtered in SQL: the text is matched against the five statuses' names.
        "filter": "agTextColumnFilter",
        "filterParams": {
            "filterOptions": ["equals", "notEqual", "contains", "startsWith"],
            "maxNumConditions": 1,
            "buttons": ["reset"],
        },
        "flex": 1,
        "minWidth": 260,
    },
    {"field": "digit", "headerName": "Digit", "width": 90, "cellClass": "digit-cell", "sortable": False},
    {
        "field": "seconds",
        "headerName": "Took",
        "valueFormatter": {"function": "params.value == null ? '' : params.value.toFixed(2) + ' s'"},
        "width": 110,
        "sortable": False,
    },
    {
        "field": "created_at",
        "headerName": "Submitted",
        "valueFormatter": {"function": "localTime(params.value)"},
        "width": 200,
    },
    {
        "field": "cancel",
        "headerName": "",
        "cellRenderer": "CancelButton",
        # Its value is the status, so the button goes when the task finishes (see above).
        "valueGetter": {"function": "params.data ? params.data.status : ''"},
        "width": 110,
        "sortable": False,
    },
]


def grid_row(task: Task, viewer: Requester, now: float | None = None) -> dict[str, Any]:
    """What the grid needs of a task: its public description, trimmed, and whether ``viewer`` may cancel it."""
    row = describe(task, now)
    del row["url"], row["started_at"], row["finished_at"], row["worker"]
    row["mine"] = viewer.may_cancel(task["owner"])
    return row


def task_grid() -> dag.AgGrid:
    """The grid of tasks, newest first; it asks the server for each page it shows."""
    return dag.AgGrid(
        id=ids.TASKS_GRID,
        rowModelType="infinite",
        columnDefs=COLUMNS,
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
            "localeText": {"noRowsToShow": "No tasks yet: ask for a digit above."},
            "domLayout": "autoHeight",
        },
        className="ag-theme-quartz",
    )


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
        "equals": lambda status: status == text,
        "notEqual": lambda status: status != text,
        "contains": lambda status: text in status,
        "startsWith": lambda status: status.startswith(text),
    }
    if kind not in matches:
        raise BadGridRequest(f"unknown status filter {kind!r}")
    return tuple(status for status in STATUSES if matches[kind](status))


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
