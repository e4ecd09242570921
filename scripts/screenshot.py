"""Take docs/screenshot.png: the main page with tasks in every state, in headless Chromium.

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
        try:
            driver.get(f"http://127.0.0.1:{port}/")
            while len(driver.find_elements(By.CSS_SELECTOR, "#tasks-grid .ag-row[row-id]")) < 11:
                time.sleep(0.05)
            time.sleep(1)
            driver.save_screenshot(str(ROOT / "docs" / "screenshot.png"))
        finally:
            driver.quit()
            server.close()
            app.server.extensions["pi"].runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
