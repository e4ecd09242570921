"""axe-core (Deque's accessibility engine, axe.min.js 4.12.1, MPL-2.0, its licence at the top of the file), run in
the page a browser test has open.

The file is kept here rather than installed: the packages that ship it for Python need selenium 4.7 or
Playwright, and dash[testing] pins selenium 4.2. Taken from axe-playwright-python 0.1.8's wheel, unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = (Path(__file__).parent / "axe.min.js").read_text()


def violations(driver: Any) -> list[dict[str, Any]]:
    """What axe-core finds wrong on the page now: each rule broken, its impact and the nodes that break it."""
    driver.execute_script(AXE)
    found: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(done, error => done({error: String(error)}));"
    )
    assert "error" not in found, found
    return [
        {"id": rule["id"], "impact": rule["impact"], "nodes": [node["target"] for node in rule["nodes"]]}
        for rule in found["violations"]
    ]
