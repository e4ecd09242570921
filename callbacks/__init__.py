"""Dash callbacks, wired to one app at a time by register(app).

Callbacks are plain module-level functions attached with app.callback, not
@dash.callback: Dash hands globally declared callbacks to the first app that
serves a request, which would break a second app in the same process (tests).
"""

from __future__ import annotations

import dash

from callbacks import search
from callbacks import task_list
from callbacks import task_page
from callbacks.guard import guard_dispatch


def register(app: dash.Dash) -> None:
    """Attach every callback to ``app``."""
    task_list.register(app)
    search.register(app)
    task_page.register(app)
    guard_dispatch(app)
