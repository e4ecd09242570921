"""The task table (dash-ag-grid) and the rows it shows.

dash_table is deprecated in Dash 4; AG Grid also gives us row ids, so live
updates are sent as small transactions (only the rows that changed) instead of
the whole table every second.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

from dashboard import ids
from tasks.requester import Requester
from tasks.service import describe
from tasks.store import Task

PAGE_SIZE = 50

COLUMNS: list[dict[str, Any]] = [
    {"field": "id", "headerName": "Task", "cellRenderer": "TaskLink", "sort": "desc", "width": 100},
    {
        "field": "n",
        "headerName": "n (place)",
        "valueFormatter": {"function": "d3.format(',')(params.value)"},
        "filter": "agNumberColumnFilter",
        "width": 140,
    },
    {
        "field": "status",
        "headerName": "Status",
        "cellRenderer": "TaskStatus",
        # AG Grid redraws a cell only when its value changes: make the value carry
        # the phase and progress too, or a running task's bar would never move.
        "valueGetter": {
            "function": "params.data.status + ' ' + (params.data.phase || '') + ' ' + params.data.progress"
        },
        "flex": 1,
        "minWidth": 260,
    },
    {"field": "digit", "headerName": "Digit", "width": 90, "cellClass": "digit-cell"},
    {
        "field": "seconds",
        "headerName": "Took",
        "valueFormatter": {"function": "params.value == null ? '' : params.value.toFixed(2) + ' s'"},
        "width": 110,
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
        "valueGetter": {"function": "params.data.status"},
        "width": 110,
        "sortable": False,
    },
]


def grid_row(task: Task, viewer: Requester, now: float | None = None) -> dict[str, Any]:
    """What the grid needs of a task: its public description, trimmed, and whether ``viewer`` may cancel it."""
    row = describe(task, now)
    del row["url"], row["started_at"], row["finished_at"]
    row["mine"] = viewer.may_cancel(task["owner"])
    return row


def task_grid(rows: list[dict[str, Any]]) -> dag.AgGrid:
    """The grid of tasks, newest first, paginated so 10,000 rows stay fast."""
    return dag.AgGrid(
        id=ids.TASKS_GRID,
        rowData=rows,
        columnDefs=COLUMNS,
        getRowId="params.data.id",
        defaultColDef={"sortable": True, "resizable": True},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": PAGE_SIZE,
            "paginationPageSizeSelector": [20, 50, 100, 500],
            "animateRows": False,
            "localeText": {"noRowsToShow": "No tasks yet: ask for a digit above."},
            "domLayout": "autoHeight",
        },
        className="ag-theme-quartz",
    )
