"""What every response says to the browser, and the cross-site check on requests that change state.

- A request that changes state (POST, PUT, PATCH, DELETE) and names another
  site in its Origin (or, lacking that, its Referer) is refused with 403: a
  page elsewhere cannot make a visitor's browser submit or cancel here with
  their cookie. Scripts send neither header and pass.
- Every response forbids framing (clickjacking) and MIME sniffing, and pages
  get a Content-Security-Policy: scripts only from this server, plus Dash's own
  inline script by its hash (Dash computes it: ``csp_hashes()``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dash
import flask

_CHANGES_STATE = {"POST", "PUT", "PATCH", "DELETE"}


def register(app: dash.Dash) -> None:
    """Attach the check and the headers to ``app``'s server."""
    server: flask.Flask = app.server
    policy: list[str] = []  # built on the first response, once every callback is registered

    @server.before_request
    def refuse_cross_site() -> tuple[flask.Response, int] | None:
        if flask.request.method not in _CHANGES_STATE:
            return None
        origin = flask.request.headers.get("Origin") or flask.request.headers.get("Referer")
        if origin and urlsplit(origin).netloc != flask.request.host:
            return flask.jsonify(error="Requests that change something must come from this site's own pages."), 403
        return None

    @server.after_request
    def add_headers(response: flask.Response) -> flask.Response:
        if not policy:
            scripts = " ".join(["'self'", *app.csp_hashes()])  # Dash quotes each hash itself
            policy.append(
                f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; "
                "form-action 'self'; object-src 'none'"
            )
        response.headers["Content-Security-Policy"] = policy[0].replace("{connect}", _connect_sources(server))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        return response


def _connect_sources(server: flask.Flask) -> str:
    # The live updates may come from this host's events port (live/): another origin, named here.
    live = server.extensions.get("pi.live")
    if live is None or not flask.has_request_context():
        return "'self'"
    url = urlsplit(live.url_for(flask.request))
    return f"'self' {url.scheme}://{url.netloc}" if url.netloc else "'self'"
