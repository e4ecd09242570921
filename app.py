"""The application factory, and the production server (``python app.py``)."""

from __future__ import annotations

import datetime
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dash
import diskcache
import flask
from werkzeug.middleware.proxy_fix import ProxyFix

import api
import api.openapi
import api.operations
import api.pi_delivery
import api.swagger_ui
import callbacks
import config
import errors
import i18n
import live
import page_status
import security
from callbacks.background_jobs import BoundedDiskcacheManager
from callbacks.search import count_refused
from compute.digit_store import DigitStore
from dashboard.shell import shell_layout
from tasks.digits.publishing import Mirror
from tasks.digits.publishing import SharedDigits
from tasks.digits.search import DigitSearch
from tasks.limits import SCAN_LIMITS
from tasks.limits import ClientLimits
from tasks.limits import Fairness
from tasks.limits import ScanLimits
from tasks.runners.base import Runner
from tasks.runners.celery_app import make_celery
from tasks.runners.celery_runner import CeleryRunner
from tasks.runners.local import LocalRunner
from tasks.runners.lock import RunnerLock
from tasks.service import EXTENSION
from tasks.service import TaskService
from tasks.store import schema
from tasks.store.queries import TaskStore
from tasks.store.tables import connect

MAX_REQUEST_BYTES = 64 * 1024


def create_app(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dash.Dash:
    """Build the Flask server, the task service and the Dash app on top.

    :param overrides: settings that win over defaults and PI_* variables.
    :param environ: where PI_* variables are read; the process environment by
        default (tests pass their own, so a developer's PI_* cannot reach them).
    """
    server = flask.Flask(__name__)
    server.config.from_mapping(config.load(os.environ if environ is None else environ, overrides))
    # Every request this app answers is small: a task, a callback's inputs.
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    # Files sent from disk are Dash's assets, their address fingerprinted with the file's time (?m=...):
    # a browser may keep them a year, and a changed file gets a new address.
    server.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600
    # Flask-Compress compresses a streamed answer lazily and never closes the file under it: files from disk
    # are read whole first (_whole_files), and nothing streamed is compressed.
    server.config["COMPRESS_STREAMS"] = False
    # Flask-Compress's levels, raised where it costs no time: AG Grid's 2.2 MB of scripts come 64 KB smaller in
    # zstd 9 than in its 3 (Chromium's choice, 0.06 s for the 1.3 MB bundle here) and 37 KB in Brotli 5 than
    # in 4 (Firefox and Safari, as fast). Brotli 9 would take 0.25 s and 11 3.3 s, on every first visit.
    server.config["COMPRESS_ZSTD_LEVEL"] = 9
    server.config["COMPRESS_BR_LEVEL"] = 5
    # Flask-Compress (Dash's compress=True): what the pages load and the JSON answers, not text/plain. The
    # digit downloads are text/plain, sent by waitress's and gunicorn's file wrappers from their event loops:
    # compressing one of 10^9 places would read the whole file into memory and hold a thread for a slow reader.
    server.config["COMPRESS_MIMETYPES"] = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
        "image/x-icon",
        "image/vnd.microsoft.icon",
    ]
    if server.config["PROXY_HOPS"]:
        # The client is the address the trusted proxies put in X-Forwarded-For, counted from the right
        # (a client may forge the left part); with no proxy configured the header is ignored.
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=server.config["PROXY_HOPS"])  # type: ignore[method-assign]

    data_dir = Path(server.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    server.secret_key = server.config["SECRET_KEY"] or _kept_secret(data_dir / "secret.key")
    # The owner cookie: signed, not readable by scripts, sent on same-site requests only.
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=datetime.timedelta(days=365),
    )
    database_url = config.database_url(server.config)
    engine = connect(database_url)
    schema.upgrade(engine)
    store = TaskStore(engine)
    digits = DigitStore(data_dir / "digits")
    runner: Runner
    catch_up = None
    if server.config["BROKER_URL"]:
        celery = make_celery(server.config["BROKER_URL"])
        server.extensions["celery"] = celery
        # Digits computed on any worker reach this process's own store through the mirror.
        mirror = Mirror(SharedDigits(engine), digits)
        runner = CeleryRunner(store, celery, mirror)
        catch_up = mirror.catch_up
    else:
        runner = _local_runner(server.config, store, database_url, digits, engine)
    limits = ClientLimits(
        submissions_per_minute=server.config["SUBMISSIONS_PER_MINUTE"],
        active_tasks=server.config["ACTIVE_TASKS_PER_CLIENT"],
        queued_seconds=server.config["QUEUED_SECONDS_PER_CLIENT"],
        storage_uri=_limits_storage(server.config),
        people_per_address=server.config["PEOPLE_PER_ADDRESS"],
    )
    fairness = Fairness(limits, store, server.config["MAX_N"])
    server.extensions[SCAN_LIMITS] = ScanLimits(
        server.config["SEARCHES_PER_MINUTE"], server.config["BACKGROUND_JOBS"], limits.storage_uri
    )
    search = DigitSearch(
        digits, index_places=server.config["SEARCH_INDEX_PLACES"], scan_chunk=server.config["SEARCH_SCAN_CHUNK"]
    )
    service = TaskService(store, digits, runner, server.config["MAX_N"], fairness, catch_up, search)
    server.extensions[EXTENSION] = service
    server.json.ensure_ascii = False  # type: ignore[attr-defined]  # "“abc”", not "\u201cabc\u201d"
    server.register_blueprint(api.blueprint)
    server.register_blueprint(api.operations.blueprint)
    server.register_blueprint(api.pi_delivery.blueprint)
    server.register_blueprint(api.openapi.blueprint)
    server.register_blueprint(api.swagger_ui.blueprint)
    errors.register(server)
    i18n.register(server)

    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash 4.4 annotates server as bool | Callable, yet takes a Flask app
        use_pages=True,
        pages_folder=str(config.PROJECT_ROOT / "dashboard"),
        # Bootstrap's CSS is served from assets/, not a CDN: the app works offline.
        assets_folder=str(config.PROJECT_ROOT / "assets"),
        title="π digits",
        suppress_callback_exceptions=True,
        # Brotli or gzip (Flask-Compress) for every answer a browser can take compressed: the page's scripts
        # are 2.7 MB as they are, 0.7 MB compressed.
        compress=True,
        background_callback_manager=_background_callback_manager(data_dir, server.config),
    )
    app.layout = shell_layout
    # No page draws a dash_table (deprecated; the grid is dash-ag-grid), yet Dash names its bundle on every page.
    dash.dash_table._js_dist.clear()  # type: ignore[attr-defined]
    # Dash's page template holds its scripts in a <footer>: a second footer landmark beside the page's own.
    app.index_string = app.index_string.replace("<footer>", "<div>").replace("</footer>", "</div>")
    callbacks.register(app)
    security.register(app)
    page_status.register(app)
    server.after_request(_whole_files)
    i18n.declare_language(app)
    # Dash sets itself up on a process's first request, and a second request arriving meanwhile finds it
    # half done: a script it has not yet registered is a 500. Under gunicorn a process's first requests are
    # a page's scripts, all at once (tests/test_live.py, brws019). So set up now, before serving anyone.
    with server.test_request_context("/"):
        app._setup_server()
    # Every block of the stored digits is checked once, in the background; a damaged one is repaired.
    threading.Thread(target=service.check_stored_digits, name="pi-digit-check", daemon=True).start()
    # Scaled out, starting the runner runs no task here: it only mirrors the published digits.
    if server.config["START_RUNNER"] or server.config["BROKER_URL"]:
        runner.start()
    return app


# The small files a page loads from disk (its assets, Swagger UI's): read whole, so they can be compressed.
_FILES_TO_COMPRESS = {"_dash_assets.static", "swagger_ui.docs_asset", "swagger_ui.docs"}


def _whole_files(response: flask.Response) -> flask.Response:
    # Registered after Flask-Compress, so it runs before it (Flask runs these last registered first).
    if flask.request.endpoint in _FILES_TO_COMPRESS and response.is_streamed:
        response.direct_passthrough = False
        response.make_sequence()  # reads the file and closes it when the answer is sent
    return response


def _background_callback_manager(data_dir: Path, settings: Mapping[str, Any]) -> dash.DiskcacheManager:
    # Per-visitor long actions (Dash background callbacks, not tasks: see
    # docs/architecture.md, Choices), such as the search page's count over every stored place: run
    # beside the web process, over this machine's own copy of the digits, their
    # progress and results in a cache beside the data (shared by the machine's
    # web processes). Scaled out too: CeleryManager would run them on the
    # workers, in the slots that compute digits, and need the Dash app there.
    # Bounded per client and in all (callbacks/background_jobs.py): each job is a process.
    return BoundedDiskcacheManager(
        diskcache.Cache(str(data_dir / "callback-cache")),
        per_client=settings["BACKGROUND_JOBS_PER_CLIENT"],
        in_all=settings["BACKGROUND_JOBS"],
        busy=count_refused,
    )


def _local_runner(
    settings: Mapping[str, Any], store: TaskStore, database_url: str, digits: DigitStore, engine: Any
) -> LocalRunner:
    return LocalRunner(
        store,
        database_url=database_url,
        digits_dir=str(digits.folder),
        max_n=settings["MAX_N"],
        workers=settings["WORKERS"],
        compute_module=settings["COMPUTE_MODULE"],
        stall_seconds=settings["STALL_SECONDS"],
        lock=RunnerLock(Path(settings["DATA_DIR"]), engine),
    )


def _limits_storage(settings: Mapping[str, Any]) -> str:
    # Several web processes must share the per-minute counts: scaled out, they
    # live in the broker's Redis unless PI_LIMITS_STORAGE names another place.
    if settings["LIMITS_STORAGE"] == "memory://" and settings["BROKER_URL"].startswith("redis"):
        return str(settings["BROKER_URL"])
    return str(settings["LIMITS_STORAGE"])


def _kept_secret(path: Path) -> str:
    """The secret key kept in the data folder, made on first start (so restarts keep owners' cookies valid)."""
    if path.exists():
        return path.read_text().strip()
    # Written aside, then linked into place: two servers starting at once agree
    # on one key, and neither reads a half-written file.
    key = secrets.token_hex(32)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    draft.touch(mode=0o600)
    draft.write_text(key)
    try:
        os.link(draft, path)
        return key
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()


def main(overrides: Mapping[str, Any] | None = None) -> None:
    """Serve the app with waitress, a production WSGI server."""
    import waitress

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(overrides)
    live.start(app.server)  # the live updates, on their own port (PI_EVENTS_PORT)
    host, port = app.server.config["HOST"], app.server.config["PORT"]
    logging.getLogger("pi").info("serving on http://%s:%s/", host, port)
    # waitress drops X-Forwarded-For unless told to keep it: behind PI_PROXY_HOPS proxies,
    # ProxyFix (create_app) is what reads it, as under gunicorn, which passes it on.
    keep_forwarded = bool(app.server.config["PROXY_HOPS"])
    waitress.serve(
        app.server,
        host=host,
        port=port,
        threads=8,
        clear_untrusted_proxy_headers=not keep_forwarded,
        # waitress reads requests in its event loop, so a client that trickles its headers holds no thread,
        # only a connection: past connection_limit (100 by default) it would stop accepting anyone.
        connection_limit=app.server.config["CONNECTION_LIMIT"],
        # poll(), not select(): select() takes no descriptor past 1,024, and waitress's loop dies on the first
        # (ValueError) once the process holds that many: connections, or the live updates' streams beside it.
        asyncore_use_poll=True,
    )


if __name__ == "__main__":
    main()
