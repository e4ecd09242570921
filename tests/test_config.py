"""Settings: documented, read from PI_* variables, checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

import config
from app import create_app
from config import PROJECT_ROOT
from config import SETTINGS
from scripts import docs_hooks


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_every_setting_is_documented_on_the_configuration_page(setting: config.Setting) -> None:
    # The page's table is made from SETTINGS when the site is built (scripts/docs_hooks.py).
    page = (PROJECT_ROOT / "docs" / "configuration.md").read_text()
    assert docs_hooks.SETTINGS_PLACEHOLDER in page
    row = next(line for line in docs_hooks.settings_table().splitlines() if f"`PI_{setting.name}`" in line)
    assert setting.help in row and len(setting.help) > 10


def test_environment_variables_configure_the_app(tmp_path: Path) -> None:
    environ = {"PI_MAX_N": "500", "PI_DATA_DIR": str(tmp_path / "from-env"), "PI_START_RUNNER": "off"}
    app = create_app(environ=environ)
    client = app.server.test_client()
    assert client.post("/api/tasks", json={"n": 500}).status_code == 201
    response = client.post("/api/tasks", json={"n": 501})
    assert response.status_code == 400 and "at most 500" in response.get_json()["error"]
    assert (tmp_path / "from-env" / "tasks.sqlite3").exists()
    assert app.server.config["START_RUNNER"] is False


@pytest.mark.parametrize(
    ("name", "value"),
    [("WORKERS", 0), ("MAX_N", -1), ("PORT", "x"), ("PORT", 70000), ("REFRESH_MS", True), ("START_RUNNER", "maybe")],
)
def test_impossible_settings_fail_at_start_with_their_name(name: str, value: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"PI_{name}"):
        create_app({"DATA_DIR": str(tmp_path), "START_RUNNER": False, name: value}, environ={})


@pytest.mark.parametrize(
    ("variable", "text", "message"),
    [
        ("PI_START_RUNNER", "no-thanks", "true or false"),
        ("PI_PORT", "70000", "from 1 to 65535"),
        ("PI_PORT", "80.5", "whole number"),
        ("PI_WORKERS", "٣", "whole number"),
        ("PI_ENGINE", "fastest", "auto, native or portable"),
    ],
)
def test_bad_environment_values_name_the_variable(variable: str, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"{variable} .*{message}"):
        config.load({variable: text})


@pytest.mark.parametrize(
    ("text", "value"), [("yes", True), ("1", True), ("ON", True), ("no", False), ("off", False), ("0", False)]
)
def test_booleans_read_as_people_write_them(text: str, value: bool) -> None:
    assert config.load({"PI_START_RUNNER": text})["START_RUNNER"] is value


def test_test_only_settings_never_come_from_the_environment() -> None:
    # Production cannot be switched to the test worker by a stray variable.
    assert config.load({"PI_COMPUTE_MODULE": "tests.held_worker"})["COMPUTE_MODULE"] == "tasks.runners.compute_process"
