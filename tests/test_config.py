"""Settings: documented, read from PI_* variables, checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from config import PROJECT_ROOT
from config import SETTINGS


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_every_setting_is_documented(setting) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert f"`PI_{setting.name}`" in readme


def test_environment_variables_configure_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PI_MAX_N", "500")
    monkeypatch.setenv("PI_DATA_DIR", str(tmp_path / "from-env"))
    app = create_app({"START_RUNNER": False})
    client = app.server.test_client()
    assert client.post("/api/tasks", json={"n": 500}).status_code == 201
    response = client.post("/api/tasks", json={"n": 501})
    assert response.status_code == 400 and "at most 500" in response.get_json()["error"]
    assert (tmp_path / "from-env" / "tasks.sqlite3").exists()


@pytest.mark.parametrize(("name", "value"), [("WORKERS", 0), ("MAX_N", -1), ("PORT", "x"), ("REFRESH_MS", True)])
def test_impossible_settings_fail_at_start_with_their_name(name: str, value: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"PI_{name}"):
        create_app({"DATA_DIR": str(tmp_path), "START_RUNNER": False, name: value})
