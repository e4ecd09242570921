"""``GET /v1/pi``: Google's Pi Delivery API (pi.delivery), for the scripts written against it.

    GET /v1/pi?start=0&numberOfDigits=10            -> {"content": "3141592653"}
    GET /v1/pi?start=0&numberOfDigits=10&radix=16   -> {"content": "3243f6a888"}

As Pi Delivery counts: position 0 is the 3, then the places (start 1 is place 1); numberOfDigits
1 to 1,000 (default 100); radix 10 or 16. Served from the stored places, so beyond them it is a
404 that names the task to submit.
"""

from __future__ import annotations

import flask

from api import ApiError
from api import int_arg
from api import one_arg
from tasks.service import LARGEST_ID
from tasks.service import current as service

blueprint = flask.Blueprint("pi_delivery", __name__, url_prefix="/v1")

MOST_DIGITS = 1000  # Pi Delivery's own limit per call


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[flask.Response, int]:
    return flask.jsonify(error=error.message), error.status


@blueprint.get("/pi")
def pi() -> flask.Response:
    """Positions ``start`` .. ``start + numberOfDigits - 1`` of pi's digits, the leading 3 at position 0."""
    start = int_arg("start", 0, 0, LARGEST_ID)
    count = int_arg("numberOfDigits", 100, 1, MOST_DIGITS)
    radix = one_arg("radix")
    radix = "10" if radix is None else radix
    if radix not in ("10", "16"):
        raise ApiError(400, "radix must be 10 or 16.")
    first, wanted = max(start, 1), count - (start == 0)  # position 0 is the 3, not a stored place
    if radix == "16":
        places = (service().read_hex(first, wanted) if wanted else "").lower()  # as Pi Delivery writes hex
    else:
        places = service().read_digits(first, wanted) if wanted else ""
    if len(places) < wanted:
        last = start + count - 1
        task = f'{{"n": {last}, "radix": 16}}' if radix == "16" else f'{{"n": {last}}}'
        raise ApiError(
            404,
            f"Position {last:,} is not computed yet on this server; submit a task for it: POST /api/tasks {task}.",
        )
    response = flask.jsonify(content=("3" if start == 0 else "") + places)
    # Public digits, read-only: any web page may fetch them, as it may Pi Delivery's.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
