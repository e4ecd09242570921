"""Dash's callback endpoint answers a payload it cannot use with 400, not a 500.

Dash's dispatch trusts the JSON the page sends: a crafted or stale body (no
"output", an unknown callback, a State of the wrong type) raises KeyError or
TypeError deep inside it, which Flask would log with a traceback and answer
with 500. Those are the client's mistake, so they get 400 and one log line.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import dash
import flask

log = logging.getLogger(__name__)

DISPATCH_PATH = "_dash-update-component"
# What a malformed payload raises inside Dash's dispatch or our callbacks
# (LookupError covers KeyError, IndexError and an unknown task's TaskNotFound;
# Dash raises CallbackException for outputs that do not match the callback; ArithmeticError covers
# a number too large for formatting, decimal.InvalidOperation in Babel and OverflowError).
PAYLOAD_ERRORS = (
    ArithmeticError,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    RecursionError,
    dash.exceptions.CallbackException,
)


def guard_dispatch(app: dash.Dash) -> None:
    """Wrap ``app``'s callback endpoint so that bad payloads get 400."""
    server: flask.Flask = app.server
    for rule in server.url_map.iter_rules():
        if rule.rule.endswith(DISPATCH_PATH):
            server.view_functions[rule.endpoint] = _answering_bad_payloads(server.view_functions[rule.endpoint])


def _answering_bad_payloads(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except dash.exceptions.PreventUpdate:
            # Not a bad payload: Dash's own answer (204), e.g. polling a background job that was cancelled.
            raise
        except PAYLOAD_ERRORS as error:
            log.warning("callback request refused (%s: %s)", type(error).__name__, error)
            return flask.jsonify(error="This is not a callback request this page can answer."), 400

    return guarded
