"""``GET /api/docs``: Swagger UI reading the API's contract (api/openapi.py), served from this server.

Swagger UI 5 reads OpenAPI 3.1; the pinned flask-openapi3-swagger package ships its files, so nothing
comes from an outside host, and the page starts from a script file of its own (the pages' CSP runs no
inline script).
"""

from __future__ import annotations

from pathlib import Path

import flask
import flask_openapi3_swagger

blueprint = flask.Blueprint("swagger_ui", __name__)

# Swagger UI's files, from the pinned package that ships them (served here: no outside host), and ours.
_SWAGGER_UI = Path(flask_openapi3_swagger.__file__).parent / "templates" / "swagger"
_PAGE = Path(__file__).parent / "docs_page"
_ASSETS = {
    "swagger-ui.css": _SWAGGER_UI / "css",
    "swagger-ui-bundle.js": _SWAGGER_UI / "js",
    "start.js": _PAGE,
}


@blueprint.get("/api/docs")
def docs() -> flask.Response:
    """The contract to read and try, in Swagger UI."""
    return flask.send_from_directory(_PAGE, "index.html", max_age=300)


@blueprint.get("/api/docs/<name>")
def docs_asset(name: str) -> flask.Response:
    """Swagger UI's script and style sheet, and the page's own start script."""
    if name not in _ASSETS:
        flask.abort(404)
    return flask.send_from_directory(_ASSETS[name], name, max_age=86400)
