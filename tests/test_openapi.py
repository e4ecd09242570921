"""The API's contract (GET /api/openapi.json): every route in it, and Schemathesis finding nothing against it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from api.openapi import document
from compute.digit_store import DigitStore
from tests.conftest import wait_for
from tests.servers import Server

# Flask's own and the pages': not part of the JSON API.
NOT_THE_API = {"static", "/", "/<path:path>", "api.not_an_endpoint", "swagger_ui.docs", "swagger_ui.docs_asset"}


def test_every_route_is_in_the_contract_and_every_operation_is_a_route(app: Any) -> None:
    routes = {
        (rule.rule.replace("<int:task_id>", "{task_id}"), method.lower())
        for rule in app.server.url_map.iter_rules()
        if rule.endpoint not in NOT_THE_API and not rule.rule.startswith(("/_dash", "/_reload", "/assets", "/_favicon"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    contract = {
        (path, method)
        for path, operations in document(app.server.config["MAX_N"]).items()
        if path == "paths"
        for path, operations in operations.items()
        for method in operations
        if method != "parameters"
    }
    assert routes == contract


@pytest.fixture
def server(tmp_path: Path, reference_digits: str) -> Iterator[Server]:
    """``make run``'s server with 10^5 places stored and no runner: tasks stay queued, none is computed."""
    data = tmp_path / "data"
    DigitStore(data / "digits").extend(reference_digits[:100_000])
    running = Server(data, workers=1)
    running.env["PI_START_RUNNER"] = "false"
    running.start()
    yield running
    running.stop()
    assert "Traceback" not in running.log.read_text()


def test_schemathesis_finds_nothing(server: Server, tmp_path: Path) -> None:
    # Every operation, every check (server errors, status codes, content types, response schemas and
    # headers, undeclared methods, bad input accepted, good input refused), its phases (the contract's
    # examples and boundaries, fuzzing, and sequences following the links from POST /api/tasks), one seed.
    command = [sys.executable, "-m", "schemathesis.cli", "run", f"http://127.0.0.1:{server.port}/api/openapi.json"]
    command += ["--checks", "all", "--seed", "1", "--max-examples", "50"]
    found = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert found.returncode == 0, found.stdout[-6000:] + found.stderr[-2000:]
    assert " passed" in found.stdout.split("SUMMARY")[-1]


# Swagger UI's own markup breaks three axe-core rules (color-contrast of its method badges, nested-interactive
# in its operation summaries, heading-order): upstream's, documented in docs/api.md; the app's pages are checked.
@pytest.mark.not_our_page
def test_api_docs_page_shows_every_operation_from_this_server(dash_duo: Any, app: Any) -> None:
    # Swagger UI 5 from this server, under the pages' Content-Security-Policy: a blocked script would
    # leave the page empty and say so in the console.
    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/api/docs")
    operations = sum(
        len([method for method in item if method != "parameters"])
        for item in document(app.server.config["MAX_N"])["paths"].values()
    )
    wait_for(lambda: len(dash_duo.driver.find_elements(By.CSS_SELECTOR, ".opblock")) == operations, timeout=20)
    assert "/v1/pi" in dash_duo.driver.find_element(By.CSS_SELECTOR, "#swagger-ui").text
    assert dash_duo.get_logs() == []
