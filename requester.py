"""Who is asking: the owner key from a signed cookie, an operator's token, and the client's address.

The browser (or the script, with a cookie jar) that submits a task gets a
random owner key in Flask's session cookie, signed with the app's secret key,
so it cannot be forged or guessed. Tasks keep a hash of it; only the same key,
or an operator's ``Authorization: Bearer <PI_ADMIN_TOKEN>``, may cancel them.
The client address is the peer's, or, behind PI_PROXY_HOPS trusted proxies,
the address they put in X-Forwarded-For (werkzeug's ProxyFix, installed by app.py,
rewrites the peer's address before this reads it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import flask

_SESSION_KEY = "owner"


@dataclass(frozen=True)
class Requester:
    """The person or script behind a request."""

    owner: str | None  # hash of their owner key; None until they have one
    admin: bool
    client: str

    def may_cancel(self, task_owner: str | None) -> bool:
        """Whether this requester may cancel a task submitted by ``task_owner``."""
        return self.admin or (self.owner is not None and task_owner == self.owner)


def current_requester(*, create_owner: bool = False) -> Requester:
    """Who is making the current request.

    :param create_owner: give a requester without an owner key one (in the
        response's cookie): when they submit, so that they own what they submit.
    """
    key = flask.session.get(_SESSION_KEY)
    if key is None and create_owner:
        key = secrets.token_urlsafe(18)
        flask.session[_SESSION_KEY] = key
        flask.session.permanent = True
    return Requester(owner=_hash(key) if key else None, admin=_is_admin(), client=client_address())


def client_address() -> str:
    """The client's address: the peer's, or what PI_PROXY_HOPS trusted proxies say it is (ProxyFix)."""
    return (flask.request.remote_addr or "unknown")[:64]


def _is_admin() -> bool:
    token: str = flask.current_app.config["ADMIN_TOKEN"]
    scheme, _, given = flask.request.headers.get("Authorization", "").strip().partition(" ")
    # The scheme is case-insensitive (RFC 9110, 11.1); the token is compared in constant time.
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]
