"""Take the README's screenshots in headless Chromium: the main page with tasks in every state
(docs/screenshot.png, and in Russian), a task page with its charts, the search page, and on a phone the main
page, a task page and a search with hundreds of places.

.venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from waitress.server import create_server  # noqa: E402

from app import create_app  # noqa: E402


def main() -> int:
    reference = (ROOT / "tests" / "reference" / "pi-1e6.txt").read_text()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATA_DIR": folder, "START_RUNNER": False}, environ={})
        store = app.server.extensions["pi"].store
        app.server.extensions["pi"].digits.extend(reference)
        for n in (6, 762, 1_000, 31_415, 100_000, 1_000_000):
            store.create(n, digit=reference[n - 1])
        failed = store.create(400_000_000)
        store.claim_next()
        store.fail(failed["id"], "Not enough memory on the server to compute 400,000,000 places.")
        cancelled = store.create(250_000_000)
        store.cancel(cancelled["id"])
        running = store.create(100_000_000)
        store.claim_next()
        store.report(running["id"], "summing the series", 0.42, places=100_000_000)
        store.create(50_000_000)
        store.create(1_000_000, radix=16, digit="2", hex_digits="26C65E52CB4593")
        store.create(7)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = create_server(app.server, host="127.0.0.1", port=port, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        options = webdriver.ChromeOptions()
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,860"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options)
        base = f"http://127.0.0.1:{port}"
        rows = "#tasks-grid .ag-row[row-id]"
        try:
            shoot(driver, f"{base}/?lang=en", "screenshot.png", rows, (1280, 860))
            shoot(driver, f"{base}/search?q=999999", "search.png", ".search-positions", (1280, 700))
            shoot(driver, f"{base}/task/6", "task.png", "#digit-convergence .main-svg", (1280, 1900))
            shoot(driver, f"{base}/?lang=ru", "screenshot-ru.png", rows, (1280, 860))
            shoot(driver, f"{base}/?lang=en", "phone.png", rows, (390, 844))
            shoot(driver, f"{base}/task/4", "phone-task.png", "#digit-convergence .main-svg", (390, 1500))
            shoot(driver, f"{base}/search?q=14", "phone-search.png", ".search-positions", (390, 1100))
        finally:
            driver.quit()
            server.close()
            app.server.extensions["pi"].runner.stop()
    return 0


def shoot(driver: webdriver.Chrome, url: str, name: str, ready: str, size: tuple[int, int]) -> None:
    """Open ``url`` at ``size``, wait for ``ready`` to show, and save docs/``name``."""
    driver.set_window_size(*size)
    driver.get(url)
    while not driver.find_elements(By.CSS_SELECTOR, ready):
        time.sleep(0.05)
    time.sleep(1.5)
    driver.save_screenshot(str(ROOT / "docs" / name))


if __name__ == "__main__":
    sys.exit(main())
