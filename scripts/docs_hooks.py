"""MkDocs hooks (mkdocs.yml): pages made from the code and the README, so they cannot drift.

The configuration page's table comes from config.SETTINGS; the home page is the
README, its links to docs/ made relative to the site.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # config.py, when MkDocs loads this file

import config

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PLACEHOLDER = "<!-- the settings, from config.SETTINGS -->"
README_PLACEHOLDER = "<!-- the README, from README.md -->"


def settings_table() -> str:
    """Every setting as a Markdown table row: variable, default, meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in config.SETTINGS:
        default = setting.shown_default or f"`{setting.default}`"
        rows.append(f"| `PI_{setting.name}` | {default} | {setting.help} |")
    return "\n".join(rows)


def readme_as_home() -> str:
    """The README, with its links into docs/ made relative to the site's home page."""
    return (ROOT / "README.md").read_text().replace("](docs/", "](")


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs calls this for every page; only the home and configuration pages have placeholders."""
    return markdown.replace(SETTINGS_PLACEHOLDER, settings_table()).replace(README_PLACEHOLDER, readme_as_home())
