"""``python -m tests.held_server``: the production server (app.main), with held workers.

For tests that kill and restart a real server while a task runs, without
computing for real (tests/held_worker.py). Settings come from PI_* as usual;
PI_TEST_SEARCH_SCAN_PAUSE holds each chunk of a background count that long (seconds),
so a test sees counts running side by side.
"""

from __future__ import annotations

import os

from app import main

if __name__ == "__main__":
    main(
        {
            "COMPUTE_MODULE": "tests.held_worker",
            "SEARCH_SCAN_PAUSE": float(os.environ.get("PI_TEST_SEARCH_SCAN_PAUSE", 0)),
        }
    )
