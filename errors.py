"""How the server answers what went wrong outside any one view: never a traceback page.

A full disk (the SQLite file, the digit store or PostgreSQL's) is the server's
trouble, not the request's: 503 with a JSON message that says so, on the API,
on Dash's callbacks and on the pages alike. So is a database that does not
answer (PostgreSQL restarting, a connection cut): 503 and a message, with
Retry-After, and the next request reconnects. A request body over the limit is
413 with a JSON message (Flask's MAX_CONTENT_LENGTH sets the limit).
"""

from __future__ import annotations

import errno
import logging

import flask
import sqlalchemy.exc
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import RequestEntityTooLarge

log = logging.getLogger(__name__)

DISK_FULL_MESSAGE = "the server's disk is full"
DATABASE_DOWN_MESSAGE = "The task database is not answering (it may be restarting); try again in a moment."
RETRY_AFTER_SECONDS = 5
# The endpoints that answer any address: the API's JSON 404 and Dash's pages.
_CATCH_ALLS = {"api.not_an_endpoint", "/<path:path>"}
# SQLite's SQLITE_FULL and PostgreSQL's disk_full (SQLSTATE 53100).
_SQLITE_FULL = 13
_POSTGRES_DISK_FULL = "53100"


def register(server: flask.Flask) -> None:
    """Attach the app-wide error answers to ``server``."""
    server.register_error_handler(OSError, _os_error)
    server.register_error_handler(sqlalchemy.exc.OperationalError, _database_error)
    server.register_error_handler(sqlalchemy.exc.InterfaceError, _database_down)
    server.register_error_handler(RequestEntityTooLarge, _too_large)
    server.register_error_handler(NotFound, _not_found)
    server.register_error_handler(MethodNotAllowed, _method_not_allowed)


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or the database's) is full."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(error, sqlalchemy.exc.OperationalError):
        original = error.orig
        return (
            getattr(original, "sqlite_errorcode", None) == _SQLITE_FULL
            or getattr(original, "sqlstate", None) == _POSTGRES_DISK_FULL
        )
    return False


def _os_error(error: OSError) -> tuple[flask.Response, int]:
    return _disk_full_or_500(error)


def _database_error(error: sqlalchemy.exc.OperationalError) -> tuple[flask.Response, int]:
    # DB-API: an OperationalError is the database's trouble (a disconnect, a
    # lock not granted, a full disk), not the request's.
    if is_disk_full(error):
        return _disk_full_or_500(error)
    return _database_down(error)


def _database_down(error: sqlalchemy.exc.DBAPIError) -> tuple[flask.Response, int]:
    log.warning("%s %s: the database did not answer (%s)", flask.request.method, flask.request.path, error.orig)
    response = flask.jsonify(error=DATABASE_DOWN_MESSAGE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503


def _disk_full_or_500(error: Exception) -> tuple[flask.Response, int]:
    if is_disk_full(error):
        log.error("%s %s: %s", flask.request.method, flask.request.path, DISK_FULL_MESSAGE)
        return flask.jsonify(error=DISK_FULL_MESSAGE), 503
    # Not ours to explain: log it whole, answer without the traceback.
    log.exception("%s %s failed", flask.request.method, flask.request.path)
    return flask.jsonify(error="The server failed to answer this request; it has been logged."), 500


def no_api_endpoint() -> tuple[flask.Response, int]:
    """The JSON 404 of an /api address that names no endpoint."""
    return flask.jsonify(error=f"There is no API endpoint {flask.request.path[:100]}; see the docs (docs/api.md)."), 404


def _method_not_allowed(error: MethodNotAllowed) -> ResponseReturnValue:
    # JSON under /api/ and /v1/, with werkzeug's Allow header (the methods the address takes).
    if not flask.request.path.startswith(("/api/", "/v1/")):
        return error
    if _only_catch_alls_match():
        return no_api_endpoint()
    allowed = ", ".join(error.valid_methods or ())
    answer = flask.jsonify(
        error=f"{flask.request.method} is not one of the methods {flask.request.path[:100]} takes: {allowed}."
    )
    return answer, 405, {"Allow": allowed}


def _only_catch_alls_match() -> bool:
    # The pages' catch-all (and the API's JSON 404) take GET at any address: a PUT to an address
    # no endpoint has is then a 405 to werkzeug, but a 404 to the person who sent it.
    try:
        endpoint, _ = flask.current_app.url_map.bind_to_environ(flask.request.environ).match(method="GET")
    except HTTPException:
        return True
    return endpoint in _CATCH_ALLS


def _not_found(error: NotFound) -> ResponseReturnValue:
    # An address no route matches (even a task id of 5,000 digits, which the
    # int converter refuses): JSON under /api/, the default page elsewhere.
    if flask.request.path.startswith("/api/"):
        return no_api_endpoint()
    return error.get_response()


def _too_large(error: RequestEntityTooLarge) -> tuple[flask.Response, int]:
    limit = flask.current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return flask.jsonify(error=f"The request body is larger than the {limit // 1024} KiB this server accepts."), 413
