"""A page that shows "not found" answers HTTP 404, so crawlers, link checkers and monitors see what a person sees.

Dash serves the same HTML for every address and draws the page in the browser, so an unknown address or a
task that does not exist came back 200. After Dash has answered a page's address, this asks Dash's page
registry which page it is, and the page whether what its address names exists (a page module's
``found(**path_variables)``); the body stays Dash's, the status becomes 404.
"""

from __future__ import annotations

import sys

import dash
import flask
from dash import _pages  # Dash's own address-to-page lookup, the one its router uses

NOT_FOUND_PAGE = "dashboard.not_found_404"
# The endpoints Dash serves pages from: its index and its catch-all.
_PAGE_ENDPOINTS = {"/", "/<path:path>"}


def register(app: dash.Dash) -> None:
    """Attach the status check to ``app``'s server."""
    server: flask.Flask = app.server

    @server.after_request
    def not_found_is_404(response: flask.Response) -> flask.Response:
        if (
            flask.request.endpoint in _PAGE_ENDPOINTS
            and response.status_code == 200
            and not _exists(flask.request.path)
        ):
            response.status_code = 404
        return response


def _exists(path: str) -> bool:
    page, variables = _pages._path_to_page(path.strip("/"))  # Dash's router's own lookup
    if not page or page["module"] == NOT_FOUND_PAGE:
        return False
    found = getattr(sys.modules[page["module"]], "found", None)
    return bool(found(**(variables or {}))) if callable(found) else True
