"""``python -m tests.held_server``: the production server (app.main), with held workers.

For tests that kill and restart a real server while a task runs, without
computing for real (tests/held_worker.py). Settings come from PI_* as usual.
"""

from __future__ import annotations

from app import main

if __name__ == "__main__":
    main({"COMPUTE_MODULE": "tests.held_worker"})
