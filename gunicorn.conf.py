"""gunicorn's settings for ``make web``, taken from the app's own PI_* settings (config.py)."""

import os
from typing import Any

import config as _app_config
import live as _live

_settings = _app_config.load(os.environ)

bind = f"{_settings['HOST']}:{_settings['PORT']}"
workers = _settings["WEB_PROCESSES"]
# Several threads per process: a slow client's download must not hold a whole process.
threads = 4
# A digit download of 10^9 places to a slow client takes long: never kill a process for it.
timeout = 0
accesslog = "-"

# The live updates (live/): each process serves its own change feed on the events port, which they share
# (SO_REUSEPORT): the kernel hands each new stream to one of them.


def post_worker_init(worker: Any) -> None:
    """gunicorn's hook, in each process once it has loaded the app (``worker.wsgi``)."""
    if _settings["EVENTS_PORT"]:
        _live.start(worker.wsgi, _live.listening_socket(_settings["HOST"], _settings["EVENTS_PORT"], shared=True))
