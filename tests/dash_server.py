"""dash.testing's threaded server, with a stop that always ends the server thread.

dash.testing's ThreadedRunner stops a Flask app by raising SystemExit in every
thread started since the runner's thread object was made, skipping the ids of
threads alive before. Thread ids are reused: when the server thread gets the id
of a thread that has ended since, it is skipped, never stops, and the test's
teardown waits on it forever (seen under pytest-xdist, where threads come and
go more). This runner raises SystemExit in the server thread itself until it ends.
"""

from __future__ import annotations

import ctypes

from dash.testing.application_runners import ThreadedRunner

STOP_TRIES = 20  # half a second each: werkzeug's serve_forever looks up from select() twice a second


class StoppingThreadedRunner(ThreadedRunner):
    """ThreadedRunner whose stop raises SystemExit in the server thread by its own id."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # dash.testing leaves it unannotated

    def stop(self) -> None:
        thread = self.thread
        for _ in range(STOP_TRIES):
            if thread is None or not thread.is_alive():
                break
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(SystemExit))
            thread.join(0.5)
        if thread is not None and thread.is_alive():
            raise RuntimeError(f"the Dash test server thread did not stop within {STOP_TRIES * 0.5:.0f} s")
        self._app = None
        self.started = False
