"""gunicorn's settings for ``make web``, taken from the app's own PI_* settings (config.py)."""

import os

import config as _app_config

_settings = _app_config.load(os.environ)

bind = f"{_settings['HOST']}:{_settings['PORT']}"
workers = _settings["WEB_PROCESSES"]
# Several threads per process: a slow client's download must not hold a whole process.
threads = 4
# A digit download of 10^9 places to a slow client takes long: never kill a process for it.
timeout = 0
accesslog = "-"
