"""The JSON API: the same service as the page, for scripts.

    POST   /api/tasks            {"n": 1000}   -> 201 with the task ({"n": 1000, "radix": 16}: hex place)
    GET    /api/tasks?limit=&offset=           -> a page of tasks, newest first
    GET    /api/tasks/<id>                     -> the task
    DELETE /api/tasks/<id>                     -> cancel it
    GET    /api/tasks/<id>/pi.txt              -> "3." and n places, streamed
    GET    /api/pi?start=<place>&count=<k>     -> stored digits (&radix=16: hex places, at most 1,000)
    GET    /api/search?q=<digits>&limit=<k>    -> where a string of digits occurs in the stored places
    GET    /api/stats?n=<places>               -> how often each digit occurs in places 1..n
    GET    /api/engine                         -> the engine (native or portable) and limits
    GET    /api/openapi.json, /api/docs        -> the contract of these (api/openapi.py; Swagger UI: api/swagger_ui.py)
    GET    /v1/pi?start=&numberOfDigits=       -> Google's Pi Delivery API (api/pi_delivery.py)

Errors are JSON {"error": message} with a 4xx status.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from typing import BinaryIO

import flask

import errors
from compute.digit_search import chance
from compute.digit_store import CHUNK_BYTES
from compute.digit_store import first_bytes
from compute.messages import Explained
from requester import client_address
from requester import current_requester
from tasks.errors import DigitsGone
from tasks.limits import SCAN_LIMITS
from tasks.limits import ScanLimits
from tasks.service import LARGEST_ID
from tasks.service import current as service
from tasks.service import describe

blueprint = flask.Blueprint("api", __name__, url_prefix="/api")

MAX_PAGE = 1000
MAX_DIGITS_PER_REQUEST = 1_000_000
MAX_HEX_PER_REQUEST = 1000
MAX_SEARCH_POSITIONS = 1000


class ApiError(Exception):
    """Answered as {"error": message} with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[flask.Response, int]:
    return flask.jsonify(error=error.message), error.status


@blueprint.errorhandler(Explained)
def _explained(error: Explained) -> tuple[flask.Response, int, dict[str, str]]:
    # Every refusal of the service and of validation knows its status (compute/messages.py).
    return flask.jsonify(error=str(error)), error.status, error.headers()


@blueprint.post("/tasks")
def submit() -> tuple[flask.Response, int]:
    """Add a task: 201 with it, or 400 with why not."""
    try:
        body = flask.request.get_json(silent=True)
    except RecursionError:  # json gives up on deep nesting this way, not with a ValueError
        raise ApiError(400, "The JSON body is nested too deeply.") from None
    if not isinstance(body, dict) or "n" not in body:
        raise ApiError(400, 'Send a JSON object such as {"n": 1000}.')
    task = service().submit(body["n"], current_requester(create_owner=True), body.get("radix", 10))
    response = flask.jsonify(describe(task))
    response.headers["Location"] = flask.url_for("api.task", task_id=task["id"])
    return response, 201


@blueprint.get("/tasks")
def tasks() -> flask.Response:
    """A page of tasks, newest first."""
    limit = int_arg("limit", 100, 1, MAX_PAGE)
    offset = int_arg("offset", 0, 0, LARGEST_ID)
    return flask.jsonify(
        tasks=[describe(task) for task in service().page(limit, offset)],
        total=service().count(),
        limit=limit,
        offset=offset,
    )


@blueprint.get("/tasks/<int:task_id>")
def task(task_id: int) -> flask.Response:
    """One task."""
    return flask.jsonify(describe(service().get(task_id)))


@blueprint.delete("/tasks/<int:task_id>")
def cancel(task_id: int) -> flask.Response:
    """Cancel a queued or running task; 409 if it has finished."""
    return flask.jsonify(describe(service().cancel(task_id, current_requester())))


@blueprint.get("/tasks/<int:task_id>/pi.txt")
def download(task_id: int) -> flask.Response:
    """Pi to n places as a text file: the first n + 2 bytes of the digit store's file."""
    found = service().get(task_id)
    digits, size = service().pi_file(found)
    response = flask.Response(_file_body(digits, size), mimetype="text/plain", direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="pi-{found["n"]}.txt"'
    return response


def _file_body(digits: BinaryIO, size: int) -> Iterable[bytes]:
    # waitress's (and gunicorn's) file wrapper sends the file from its own
    # event loop, stopping at Content-Length: a client that does not read holds
    # no request thread. Other servers (the test client) get a bounded generator.
    wrapper = flask.request.environ.get("wsgi.file_wrapper")
    if wrapper is not None and getattr(wrapper, "__module__", "").startswith(("waitress.", "gunicorn.")):
        wrapped: Iterable[bytes] = wrapper(digits, CHUNK_BYTES)
        return wrapped
    return _closing(digits, size)


def _closing(digits: BinaryIO, size: int) -> Iterator[bytes]:
    with digits:
        yield from first_bytes(digits, size)


@blueprint.get("/engine")
def engine() -> flask.Response:
    """Which digit engine computes, and the limits of this server."""
    return flask.jsonify(service().engine())


@blueprint.get("/pi")
def digits() -> flask.Response:
    """Stored digits: ``count`` places from place ``start`` (place 1 is "1")."""
    radix = one_arg("radix")
    radix = "10" if radix is None else radix
    if radix not in ("10", "16"):
        raise ApiError(400, "radix must be 10 (decimal places) or 16 (hexadecimal places).")
    if radix == "16":
        return _hex_places()
    start = int_arg("start", 1, 1, LARGEST_ID)
    count = int_arg("count", 100, 1, MAX_DIGITS_PER_REQUEST)
    # Read first, then say how much is stored: the store may be cut back (a repair) or
    # grow between two looks, and what was read is what counts.
    text = service().read_digits(start, count)
    stored = service().stored_places()
    if not text and stored >= start:  # they arrived between the two looks (scaled out, the mirror's copy)
        text = service().read_digits(start, count)
    if not text:
        raise ApiError(
            404, f"Place {start:,} is not computed yet ({stored:,} places are stored); submit a task for it."
        )
    return flask.jsonify(start=start, count=len(text), digits=text, stored=max(stored, start + len(text) - 1))


def _hex_places() -> flask.Response:
    # Pi Delivery's limit per call; the places come from the stored decimal places (tasks/digits/hex_expansion.py).
    start = int_arg("start", 1, 1, LARGEST_ID)
    # Up to MAX_HEX_PER_REQUEST of them: a larger count is answered with that many, as one past the store's end is.
    count = min(int_arg("count", 100, 1, MAX_DIGITS_PER_REQUEST), MAX_HEX_PER_REQUEST)
    text = service().read_hex(start, count)
    known = service().hex_places()
    if not text:
        raise ApiError(
            404,
            f"Hex place {start:,} is past the {known:,} hex places the stored decimal places give; "
            f'submit a task for it: POST /api/tasks {{"n": {start}, "radix": 16}}.',
        )
    return flask.jsonify(start=start, count=len(text), digits=text, radix=16, stored=known)


def scan_limits() -> ScanLimits:
    """The bounds on full scans of the stored digits (app.py makes them)."""
    limits: ScanLimits = flask.current_app.extensions[SCAN_LIMITS]
    return limits


@blueprint.get("/search")
def search() -> flask.Response:
    """Where ``q`` (1 to 120 digits) occurs: its first ``limit`` places and its count in every stored place."""
    limit = int_arg("limit", 10, 0, MAX_SEARCH_POSITIONS)
    with scan_limits().scan(client_address()):
        result = service().search_everywhere(one_arg("q"), limit)
    assert result is not None  # only a progress callback can cancel
    odds = chance(len(result.query), result.searched)
    return flask.jsonify(
        query=result.query,
        positions=result.positions,
        first=result.positions[0] if result.positions else None,
        count=result.count,
        searched=result.searched,
        expected=odds.expected,
        probability=odds.probability,
    )


@blueprint.get("/stats")
def stats() -> flask.Response:
    """How often each digit occurs in places 1..n, and the chi-square test of uniformity."""
    stored = service().stored_places()
    n = int_arg("n", max(stored, 1), 1, LARGEST_ID)
    try:
        _points, counts = service().digit_statistics(n)
    except DigitsGone as error:  # here: places 1..n are not stored, a resource not found (not gone)
        raise ApiError(404, str(error)) from None
    uniformity = service().uniformity(counts[-1])
    return flask.jsonify(
        n=n,
        counts={str(digit): int(count) for digit, count in enumerate(counts[-1])},
        chi_square=uniformity.chi_square,
        degrees_of_freedom=9,
        p_value=uniformity.p_value,
    )


@blueprint.get("/<path:unknown>")
def not_an_endpoint(unknown: str) -> tuple[flask.Response, int]:
    """JSON 404 for any other /api address (the pages' catch-all would answer HTML).

    GET only: another method on an endpoint's address is werkzeug's 405 with its Allow header
    (errors.py answers it in JSON), which a catch-all of every method would turn into a 404.
    """
    return errors.no_api_endpoint()


def one_arg(name: str) -> str | None:
    """The query parameter ``name``, given at most once (None: not given)."""
    values = flask.request.args.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"Give {name} once, not {len(values)} times.")
    return values[0] if values else None


def int_arg(name: str, default: int, lowest: int, highest: int) -> int:
    raw = one_arg(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit():
        raise ApiError(400, f"{name} must be a whole number.")
    # Compare lengths first: int() of thousands of digits is slow, and refused past 4,300.
    stripped = raw.lstrip("0") or "0"
    if len(stripped) > len(str(highest)) or not lowest <= int(stripped) <= highest:
        raise ApiError(400, f"{name} must be from {lowest:,} to {highest:,}.")
    return int(stripped)
