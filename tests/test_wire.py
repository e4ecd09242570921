"""What a first visit moves over the wire, through `make run`'s server (waitress): compressed, and cached."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from compute.digit_store import DigitStore
from tests.servers import Server


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, reference_digits: str) -> Iterator[str]:
    """`make run`'s server, 10^5 places stored (a task up to there is done at once), no runner."""
    data = tmp_path_factory.mktemp("wire") / "data"
    DigitStore(data / "digits").extend(reference_digits[:100_000])
    server = Server(data, workers=1)
    server.env["PI_START_RUNNER"] = "false"
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def page_files(base_url: str) -> list[str]:
    """The scripts and style sheets the main page names."""
    return re.findall(r'(?:src|href)="(/[^"]+)"', requests.get(f"{base_url}/", timeout=10).text)


def test_the_first_visit_is_compressed_to_a_quarter(base_url: str) -> None:
    files = page_files(base_url)
    assert any("dash_ag_grid" in name for name in files)
    assert not any("dash_table" in name for name in files)  # no page draws one
    sent = raw = 0
    for name in files:
        # requests asks for gzip and decodes it: the bytes on the wire are the raw stream's.
        with requests.get(base_url + name, headers={"Accept-Encoding": "br, gzip"}, stream=True, timeout=10) as answer:
            assert answer.status_code == 200
            sent += len(answer.raw.read(decode_content=False))
        raw += len(requests.get(base_url + name, headers={"Accept-Encoding": "identity"}, timeout=10).content)
    assert sent * 4 < raw, f"{sent:,} bytes sent for {raw:,}"


def test_fingerprinted_files_are_kept_a_year(base_url: str) -> None:
    for name in page_files(base_url):
        if "?m=" in name or ".v" in name.rsplit("/", 1)[-1]:
            cache = requests.get(base_url + name, timeout=10).headers.get("Cache-Control", "")
            assert "max-age=31536000" in cache, (name, cache)


def test_a_download_is_streamed_not_compressed(base_url: str, reference_digits: str) -> None:
    # Compressing pi.txt would hold the whole file in memory first; digits barely compress anyway.
    task = requests.post(f"{base_url}/api/tasks", json={"n": 50_000}, timeout=10).json()
    assert task["status"] == "done"
    answer = requests.get(
        f"{base_url}/api/tasks/{task['id']}/pi.txt", headers={"Accept-Encoding": "br, gzip"}, timeout=10
    )
    assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
    assert answer.text == "3." + reference_digits[:50_000]
