"""The layers as the running program sees them: a web process serves every page
and API answer without loading the engine (FLINT, the native libraries, Bellard's
formula). numpy and pandas are fine: the search index and the statistics use them.

The import contracts in pyproject.toml (``make lint``) check the same rule
statically; this checks what a real request path imports, in a fresh process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from config import PROJECT_ROOT

SCRIPT = """
import json, sys
from app import create_app

app = create_app({"DATA_DIR": sys.argv[1], "START_RUNNER": False}, environ={})
client = app.server.test_client()
answers = [
    client.get("/").status_code,
    client.get("/_dash-layout").status_code,
    client.post("/api/tasks", json={"n": 6}).status_code,
    client.get("/api/tasks").status_code,
    client.get("/api/engine").status_code,
    client.get("/api/tasks/1").status_code,
]
engine = client.get("/api/engine").get_json()
heavy = ["flint", "compute.engine", "compute.native", "compute.native_pi", "compute.bbp", "compute.hex_digits"]
print(json.dumps({"answers": answers, "engine": engine, "loaded": [name for name in heavy if name in sys.modules]}))
"""


def test_the_web_process_loads_no_engine(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout)
    assert found["answers"] == [200, 200, 201, 200, 200, 200]
    assert found["engine"]["build"] in {"native", "portable"} and "FLINT" in found["engine"]["name"]
    assert found["loaded"] == []
