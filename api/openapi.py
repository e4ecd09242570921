"""``GET /api/openapi.json``: the OpenAPI 3.1 contract of the JSON API (api/swagger_ui.py shows it at /api/docs).

Written out here rather than derived from decorators: the API is ten operations, and a test
(tests/test_openapi.py) checks that every route of the app is in this document and every operation
here is a route, while Schemathesis (make test) checks every answer against it. The bounds come from
the same constants the views use, and the largest n from the running server's PI_MAX_N.
"""

from __future__ import annotations

from typing import Any

import flask

import api
from api.pi_delivery import MOST_DIGITS
from compute.validation import HEX_MAX_N
from tasks.service import LARGEST_ID

blueprint = flask.Blueprint("openapi", __name__)

JSON = "application/json"


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry_after:
        answer["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    return answer


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _whole(lowest: int, highest: int, default: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": lowest, "maximum": highest}
    if default is not None:
        schema["default"] = default
    return schema


# Answers any operation may give: bad input, the database restarting or the disk full.
_COMMON = {
    "400": _error("Bad input, said in words."),
    "503": _error("The database is not answering, the disk is full, or the server is busy.", retry_after=True),
}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": _whole(1, LARGEST_ID)}


def document(max_n: int) -> dict[str, Any]:
    """The contract, for a server whose largest n is ``max_n``."""
    task = {"$ref": "#/components/schemas/Task"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "π digits",
            "version": "1",
            "description": "Tasks that compute the n-th decimal (or hex) digit of pi, and the stored digits.",
        },
        "paths": {
            "/api/tasks": {
                "post": {
                    "summary": "Submit a task: the digit at place n",
                    "operationId": "submitTask",
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": {"$ref": "#/components/schemas/NewTask"}}},
                    },
                    "responses": {
                        "201": {
                            **_ok(task, "Queued, or done at once if the digit is stored"),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                            "links": {
                                name: {"operationId": operation, "parameters": {"task_id": "$response.body#/id"}}
                                for name, operation in (
                                    ("ReadIt", "getTask"),
                                    ("CancelIt", "cancelTask"),
                                    ("DownloadIt", "downloadTask"),
                                )
                            },
                        },
                        **_COMMON,
                        "403": _error("Sent from another site's page (its Origin)."),
                        "413": _error("A body over 64 KiB."),
                        "422": _error("The task alone is more work than a client may ever queue."),
                        "429": _error("Over a per-person or per-address limit.", retry_after=True),
                    },
                },
                "get": {
                    "summary": "A page of tasks, newest first",
                    "operationId": "listTasks",
                    "parameters": [
                        _query("limit", "Tasks on the page.", _whole(1, api.MAX_PAGE, 100)),
                        _query("offset", "Tasks to skip.", _whole(0, LARGEST_ID, 0)),
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["tasks", "total", "limit", "offset"],
                                "properties": {
                                    "tasks": {"type": "array", "items": task},
                                    "total": {"type": "integer", "minimum": 0},
                                    "limit": {"type": "integer"},
                                    "offset": {"type": "integer"},
                                },
                            }
                        ),
                        **_COMMON,
                    },
                },
            },
            "/api/tasks/{task_id}": {
                "parameters": [_TASK_ID],
                "get": {
                    "summary": "One task",
                    "operationId": "getTask",
                    "responses": {"200": _ok(task), "404": _error("No such task."), **_COMMON},
                },
                "delete": {
                    "summary": "Cancel a queued or running task (its submitter, or an operator's Bearer token)",
                    "operationId": "cancelTask",
                    "responses": {
                        "200": _ok(task),
                        "403": _error("Not this requester's task, or sent from another site's page."),
                        "404": _error("No such task."),
                        "409": _error("The task has finished."),
                        **_COMMON,
                    },
                },
            },
            "/api/tasks/{task_id}/pi.txt": {
                "parameters": [_TASK_ID],
                "get": {
                    "summary": "Pi to n places as a text file, streamed",
                    "operationId": "downloadTask",
                    "responses": {
                        "200": {
                            "description": '"3." and the n places',
                            "content": {"text/plain": {"schema": {"type": "string", "pattern": r"^3\.[0-9]+$"}}},
                        },
                        "404": _error("No such task."),
                        "409": _error("Not done, or a hex task."),
                        "410": _error("Its digits are no longer stored."),
                        **_COMMON,
                    },
                },
            },
            "/api/pi": {
                "get": {
                    "summary": "Stored digits from a place (decimal, or hex with radix=16)",
                    "operationId": "readDigits",
                    "parameters": [
                        _query(
                            "start", "The first place (place 1 is the first after the point).", _whole(1, LARGEST_ID, 1)
                        ),
                        _query(
                            "count",
                            f"Places to read (hex: at most {api.MAX_HEX_PER_REQUEST:,}).",
                            _whole(1, api.MAX_DIGITS_PER_REQUEST, 100),
                        ),
                        _query("radix", "10 or 16.", {"type": "string", "enum": ["10", "16"], "default": "10"}),
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["start", "count", "digits", "stored"],
                                "properties": {
                                    "start": {"type": "integer"},
                                    "count": {"type": "integer"},
                                    "digits": {"type": "string", "pattern": "^[0-9A-F]+$"},
                                    "stored": {"type": "integer"},
                                    "radix": {"type": "integer", "enum": [16]},
                                },
                            }
                        ),
                        "404": _error("Not computed yet; the message names the task to submit."),
                        **_COMMON,
                    },
                },
            },
            "/api/search": {
                "get": {
                    "summary": "Where a string of digits occurs in every stored place",
                    "operationId": "searchDigits",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "description": "1 to 120 ASCII digits.",
                            "schema": {"type": "string", "pattern": "^[0-9]{1,120}$"},
                        },
                        _query("limit", "Positions to list.", _whole(0, api.MAX_SEARCH_POSITIONS, 10)),
                    ],
                    "responses": {
                        "200": _ok({"$ref": "#/components/schemas/SearchResult"}),
                        "429": _error("Over the searches a minute of one client.", retry_after=True),
                        **_COMMON,
                    },
                },
            },
            "/api/stats": {
                "get": {
                    "summary": "How often each digit occurs in places 1..n, and the chi-square test",
                    "operationId": "digitStatistics",
                    "parameters": [_query("n", "Places to count (default: all stored).", _whole(1, LARGEST_ID))],
                    "responses": {
                        "200": _ok({"$ref": "#/components/schemas/Statistics"}),
                        "404": _error("Places 1..n are not stored."),
                        **_COMMON,
                    },
                },
            },
            "/api/engine": {
                "get": {
                    "summary": "The digit engine and this server's limits",
                    "operationId": "engine",
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["build", "max_n", "name", "runs_tasks", "stored_places", "workers"],
                                "properties": {
                                    "build": {"type": "string", "enum": ["native", "portable"]},
                                    "max_n": {"type": "integer", "minimum": 1},
                                    "stored_places": {"type": "integer", "minimum": 0},
                                },
                            }
                        ),
                        **_COMMON,
                    },
                },
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": _ok({"type": "object", "required": ["openapi", "paths"]})},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "For a load balancer: the database (and broker) answer",
                    "operationId": "health",
                    "responses": {
                        "200": _ok({"$ref": "#/components/schemas/Health"}),
                        "503": _ok({"$ref": "#/components/schemas/Health"}, "Something is down: it says what"),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics: tasks by state, queue wait and run times, workers",
                    "operationId": "metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "503": _COMMON["503"],
                    },
                }
            },
            "/v1/pi": {
                "get": {
                    "summary": "Google's Pi Delivery API: position 0 is the 3",
                    "operationId": "piDelivery",
                    "parameters": [
                        _query(
                            "start", "The first position (0 is the 3, 1 the first place).", _whole(0, LARGEST_ID, 0)
                        ),
                        _query("numberOfDigits", "Digits to return.", _whole(1, MOST_DIGITS, 100)),
                        _query("radix", "10 or 16.", {"type": "string", "enum": ["10", "16"], "default": "10"}),
                    ],
                    "responses": {
                        "200": _ok(
                            {
                                "type": "object",
                                "required": ["content"],
                                "properties": {"content": {"type": "string", "pattern": "^[0-9a-f]+$"}},
                            }
                        ),
                        "404": _error("Not computed yet; the message names the task to submit."),
                        **_COMMON,
                    },
                }
            },
        },
        "components": {
            "headers": {
                "RetryAfter": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string", "minLength": 1}},
                },
                "NewTask": {
                    "type": "object",
                    "required": ["n"],
                    "properties": {
                        "n": {"type": "integer", "minimum": 1, "maximum": max_n},
                        "radix": {"type": "integer", "enum": [10, 16], "default": 10},
                    },
                    # A hex place: at most HEX_MAX_N, whatever the decimal maximum.
                    "if": {"required": ["radix"], "properties": {"radix": {"const": 16}}},
                    "then": {"properties": {"n": {"maximum": HEX_MAX_N}}},
                },
                "Task": _task_schema(),
                "SearchResult": {
                    "type": "object",
                    "required": ["query", "positions", "first", "count", "searched", "expected", "probability"],
                    "properties": {
                        "query": {"type": "string"},
                        "positions": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                        "first": {"type": ["integer", "null"]},
                        "count": {"type": "integer", "minimum": 0},
                        "searched": {"type": "integer", "minimum": 0},
                        "expected": {"type": "number"},
                        "probability": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                },
                "Statistics": {
                    "type": "object",
                    "required": ["n", "counts", "chi_square", "degrees_of_freedom", "p_value"],
                    "properties": {
                        "n": {"type": "integer"},
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "chi_square": {"type": "number"},
                        "degrees_of_freedom": {"type": "integer"},
                        "p_value": {"type": "number"},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "database"],
                    "properties": {
                        "status": {"type": "string", "enum": ["ok", "down"]},
                        "database": {"type": "string"},
                        "broker": {"type": "string"},
                    },
                },
            },
        },
    }


def _task_schema() -> dict[str, Any]:
    text_or_null = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["id", "n", "radix", "status", "progress", "digit", "error", "created_at", "url"],
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "n": {"type": "integer", "minimum": 1},
            "radix": {"type": "integer", "enum": [10, 16]},
            "status": {"type": "string", "enum": ["queued", "running", "done", "error", "cancelled"]},
            "phase": text_or_null,
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "progress_is_estimate": {"type": "boolean"},
            "digit": {"type": ["string", "null"], "pattern": "^[0-9A-F]$"},
            "hex_digits": text_or_null,
            "error": text_or_null,
            "created_at": {"type": "string"},
            "started_at": text_or_null,
            "finished_at": text_or_null,
            "seconds": {"type": ["number", "null"]},
            "url": {"type": "string"},
            "worker": text_or_null,
        },
    }


@blueprint.get("/api/openapi.json")
def openapi() -> flask.Response:
    """The contract, as JSON."""
    return flask.jsonify(document(flask.current_app.config["MAX_N"]))
