"""The WSGI entry of ``make web`` (gunicorn): the app as PI_* configures it.

Scaled out (PI_BROKER_URL set), no task runs in a web process: they go to
the Celery workers of ``make worker``.
"""

from app import create_app

application = create_app().server
