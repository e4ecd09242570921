"""The pages in a real headless Chromium (dash.testing), as a person uses them."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from dash.testing.browser import Browser
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from compute.digit_store import DigitStore
from dashboard import ids
from tests.conftest import is_gone
from tests.conftest import service_of
from tests.conftest import type_into
from tests.conftest import wait_for
from tests.test_browser_keyboard import spoken


def cell(task_id: int, column: str) -> str:
    return f'#{ids.TASKS_GRID} .ag-center-cols-container .ag-row[row-id="{task_id}"] .ag-cell[col-id="{column}"]'


def absent(browser: Any, selector: str) -> bool:
    """Whether nothing matches ``selector`` now (dash.testing's find_elements waits 2 s for a match)."""
    browser.driver.implicitly_wait(0)
    try:
        return len(browser.driver.find_elements(By.CSS_SELECTOR, selector)) == 0
    finally:
        browser.driver.implicitly_wait(2)


def has_title(browser: Any, selector: str, title: str) -> bool:
    return bool(browser.find_element(selector).get_attribute("title") == title)


def submit(dash_duo: Any, text: str, enter: bool = False) -> None:
    type_into(dash_duo, f"#{ids.N_INPUT}", text)
    if enter:
        dash_duo.find_element(f"#{ids.N_INPUT}").send_keys(Keys.ENTER)
    else:
        dash_duo.find_element(f"#{ids.SUBMIT_BUTTON}").click()


def test_brws001_submit_three_then_read_pi_to_six_places(dash_duo: Any, app: Any, reference_digits: str) -> None:
    dash_duo.start_server(app)
    submit(dash_duo, "6")
    dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", "Task 1", timeout=10)
    for text in ("25000", "40000"):
        submit(dash_duo, text, enter=True)
    for task_id, n in ((1, 6), (2, 25_000), (3, 40_000)):
        dash_duo.wait_for_text_to_equal(cell(task_id, "status"), "done", timeout=60)
        assert dash_duo.find_element(cell(task_id, "digit")).text == reference_digits[n - 1]
    assert len(dash_duo.find_elements(f"#{ids.TASKS_GRID} .ag-center-cols-container .ag-row")) == 3
    # Follow the row's link (a plain <a href>); a click can land on a row the grid is redrawing.
    link = dash_duo.find_element(cell(1, "id") + " a").get_attribute("href")
    assert link == f"{dash_duo.server_url}/task/1"
    dash_duo.wait_for_page(link)
    dash_duo.wait_for_text_to_equal(f"#{ids.PI_DIGITS}", "3.141592", timeout=10)
    assert dash_duo.find_element(f"#{ids.PI_DIGITS} mark.nth-digit").text == "2"
    assert dash_duo.find_element(f"#{ids.TASK_DIGIT}").text == "2"
    assert dash_duo.find_element(f"#{ids.TASK_STATUS}").text == "done"
    assert dash_duo.get_logs() == []


def test_brws003_bad_input_and_unknown_addresses_get_a_message(dash_duo: Any, app: Any) -> None:
    dash_duo.start_server(app)
    for text, message in (("abc", "not one"), ("-5", "at least 1"), ("2.5", "fractional"), ("١٢٣", "digits 0-9")):
        submit(dash_duo, text)
        dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", message, timeout=5)
    submit(dash_duo, "")
    dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", "Enter n", timeout=5)
    assert "is-invalid" in dash_duo.find_element(f"#{ids.N_INPUT}").get_attribute("class")
    assert absent(dash_duo, f"#{ids.TASKS_GRID} .ag-center-cols-container .ag-row")
    assert service_of(app).count() == 0
    assert dash_duo.get_logs() == []
    unknown = ("/task/999", "/task/abc", "/task/99999999999999999999", "/no/such/page")
    for address in unknown:
        dash_duo.wait_for_page(dash_duo.server_url + address)
        dash_duo.wait_for_contains_text("#not-found-message", "no", timeout=10)
    # Each answered 404 (page_status.py), which Chromium reports for the page itself; nothing else went wrong.
    reported = [(entry["source"], entry["message"]) for entry in dash_duo.get_logs()]
    status = "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    assert reported == [("network", f"{dash_duo.server_url}{address} - {status}") for address in unknown]


def test_brws004_two_browsers_see_one_live_table_and_only_the_submitter_may_cancel(
    dash_duo: Any, second_browser: Browser, held: Any
) -> None:
    app, workers = held(WORKERS=1)
    dash_duo.start_server(app)
    second_browser.server_url = dash_duo.server_url
    second_browser.wait_for_element(f"#{ids.TASKS_GRID}")
    submit(dash_duo, "80000000")
    worker = workers.process(1)
    workers.report(1, 0.25, places=80_000_000)
    # The other browser was not reloaded: the row and its progress arrive by themselves.
    # (The bar's label can be wider than the bar: read it from the title people hover.)
    progress = cell(1, "status") + " .progress"
    for browser in (second_browser, dash_duo):
        wait_for(partial(has_title, browser, progress, "summing the series · 25%"), timeout=10)
    assert absent(second_browser, cell(1, "cancel") + " button")  # not theirs to cancel
    dash_duo.find_element(cell(1, "cancel") + " button").click()  # the submitter's own row
    for browser in (dash_duo, second_browser):
        browser.wait_for_text_to_equal(cell(1, "status"), "cancelled", timeout=10)
    wait_for(lambda: is_gone(worker), timeout=5)  # its process was stopped, not just its row
    assert absent(dash_duo, cell(1, "cancel") + " button")

    submit(dash_duo, "6")
    workers.release(2)
    second_browser.wait_for_text_to_equal(cell(2, "status"), "done", timeout=60)
    assert second_browser.find_element(cell(2, "digit")).text == "2"
    # Said to the submitter's screen reader, not to the other visitor's (tests/test_browser_keyboard.py).
    wait_for(lambda: spoken(dash_duo) == "Your task 2 is done: the digit is 2.", timeout=10)
    assert spoken(second_browser) == ""
    dash_duo.driver.refresh()  # and a reload (or a new tab) shows it too
    dash_duo.wait_for_text_to_equal(cell(2, "digit"), "2", timeout=10)
    assert dash_duo.get_logs() == [] and second_browser.get_logs() == []


def test_brws007_a_running_task_page_fills_in_and_pages_through_ten_million_places(
    dash_duo: Any,
    held: Any,
    tmp_path: Path,
    checkpoints: dict[str, Any],
    reference_digits: str,
    ten_million_places: str,
) -> None:
    app, workers = held()
    dash_duo.start_server(app)
    task = service_of(app).submit(10_000_000)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/task/{task['id']}")
    workers.process(task["id"])
    workers.report(task["id"], 0.4, 10_000_000)
    dash_duo.wait_for_contains_text(f"#{ids.TASK_STATUS}", "running", timeout=30)
    dash_duo.wait_for_contains_text(f"#{ids.TASK_STATUS}", "40%", timeout=10)
    # What a screen reader is told (a live region): the status, not each second's progress.
    spoken = dash_duo.find_element(f"#{ids.TASK_STATUS_SPOKEN}")
    assert spoken.get_attribute("role") == "status" and spoken.get_attribute("textContent") == "running"
    # The engine's 10^7 places (checked against the reference hash) stored while it runs: released, the
    # real compute process finds them and finishes, as it does when another task computed them meanwhile.
    DigitStore(tmp_path / "data" / "digits").extend(ten_million_places)
    workers.release(task["id"])
    dash_duo.wait_for_text_to_equal(f"#{ids.TASK_STATUS}", "done", timeout=30)
    wait_for(lambda: dash_duo.find_element(f"#{ids.TASK_STATUS_SPOKEN}").get_attribute("textContent") == "done")
    assert dash_duo.find_element(f"#{ids.TASK_DIGIT}").text == checkpoints["digit_at"]["10000000"]
    assert dash_duo.find_element(f"#{ids.PI_DIGITS}").text.endswith(checkpoints["window_ending_at"]["10000000"])
    assert dash_duo.find_element(f"#{ids.PI_DIGITS} mark.nth-digit").text == checkpoints["digit_at"]["10000000"]
    # The window of 2,000 places, and the way to the others.
    label = f"#{ids.WINDOW_LABEL}"
    dash_duo.wait_for_text_to_equal(label, "places 9,998,001–10,000,000 of 10,000,000", timeout=10)
    dash_duo.find_element(f"#{ids.WINDOW_PREVIOUS}").click()
    dash_duo.wait_for_text_to_equal(label, "places 9,996,001–9,998,000 of 10,000,000", timeout=10)
    dash_duo.find_element(f"#{ids.JUMP_INPUT}").send_keys("762", Keys.ENTER)
    dash_duo.wait_for_text_to_equal(label, "places 1–2,000 of 10,000,000", timeout=10)
    assert dash_duo.find_element(f"#{ids.PI_DIGITS}").text == "3." + reference_digits[:2000] + "…"
    assert dash_duo.find_element(f"#{ids.PI_DIGITS} mark.jump-target").text == "9"
    dash_duo.find_element(f"#{ids.JUMP_INPUT}").send_keys("0" * 5, Keys.ENTER)  # now "76200000"
    dash_duo.wait_for_contains_text(f"#{ids.JUMP_MESSAGE}", "from 1 to 10,000,000", timeout=10)
    link = dash_duo.find_element(f"#{ids.DOWNLOAD_LINK}")
    assert link.get_attribute("href").endswith(f"/api/tasks/{task['id']}/pi.txt")
    assert dash_duo.get_logs() == []


def row_ids(browser: Any) -> list[int]:
    """The task ids of the grid's rows now, in one read (the grid may be redrawing them)."""
    found = browser.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(row => row.getAttribute('row-id'))",
        f"#{ids.TASKS_GRID} .ag-center-cols-container .ag-row",
    )
    return sorted((int(row_id) for row_id in found if row_id), reverse=True)


def first_row_text(browser: Any, column: str) -> str:
    text: str = browser.driver.execute_script(
        "const cell = document.querySelector(arguments[0]); return cell ? cell.textContent : '';",
        f'#{ids.TASKS_GRID} .ag-center-cols-container .ag-row[row-index="0"] .ag-cell[col-id="{column}"]',
    )
    return text


def test_brws008_the_table_pages_sorts_and_stays_live_with_only_the_shown_rows_sent(
    dash_duo: Any, make_app: Any, reference_digits: str
) -> None:
    app = make_app(START_RUNNER=False)
    store = service_of(app).store
    for n in range(1, 121):  # 120 tasks: more than two pages of 50
        store.create(1000 + n * 7 % 120, digit=reference_digits[1000 + n * 7 % 120 - 1])
    dash_duo.start_server(app)
    wait_for(lambda: row_ids(dash_duo) == list(range(120, 70, -1)), timeout=10)  # only page 1 came
    next_page = dash_duo.find_element(f'#{ids.TASKS_GRID} .ag-paging-button[aria-label="Next Page"]')
    # Clicked from script: at the foot of a page 2,400 pixels tall, Chromium reports another element on top.
    dash_duo.driver.execute_script("arguments[0].click()", next_page)
    wait_for(lambda: row_ids(dash_duo) == list(range(70, 20, -1)), timeout=10)
    dash_duo.driver.execute_script("window.scrollTo(0, 0)")
    dash_duo.find_element(f'#{ids.TASKS_GRID} .ag-header-cell[col-id="n"] .ag-header-cell-label').click()
    # Sorted by n in the database, smallest first, from the first page again.
    wait_for(lambda: first_row_text(dash_duo, "n") == "1,000", timeout=10)
    dash_duo.find_element(f'#{ids.TASKS_GRID} .ag-header-cell[col-id="id"] .ag-header-cell-label').click()
    dash_duo.find_element(f'#{ids.TASKS_GRID} .ag-header-cell[col-id="id"] .ag-header-cell-label').click()
    wait_for(lambda: row_ids(dash_duo) == list(range(120, 70, -1)), timeout=10)
    # A task submitted elsewhere arrives at the top by itself; a shown row changes in place.
    queued = service_of(app).submit(999_999)
    wait_for(lambda: row_ids(dash_duo)[0] == queued["id"], timeout=10)
    dash_duo.wait_for_text_to_equal(cell(queued["id"], "status"), "queued", timeout=10)
    service_of(app).cancel(queued["id"])
    dash_duo.wait_for_text_to_equal(cell(queued["id"], "status"), "cancelled", timeout=10)
    assert dash_duo.get_logs() == []


def test_brws009_scaled_out_a_task_submitted_on_the_page_runs_on_a_celery_worker(
    dash_duo: Any, cluster: Any, reference_digits: str
) -> None:
    worker = cluster.start_worker("machine-1", held=False)
    dash_duo.start_server(cluster.app)
    submit(dash_duo, "31415")
    dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", "Task 1", timeout=10)
    dash_duo.wait_for_text_to_equal(cell(1, "status"), "done", timeout=60)
    assert dash_duo.find_element(cell(1, "digit")).text == reference_digits[31_414]
    assert cluster.task(1)["lease_owner"].startswith(worker.node)
    # Computed on the worker's machine; its page here shows the digits (published, then mirrored).
    dash_duo.wait_for_page(f"{dash_duo.server_url}/task/1")
    dash_duo.wait_for_contains_text(f"#{ids.PI_DIGITS}", reference_digits[31_400:31_414], timeout=15)
    assert dash_duo.find_element(f"#{ids.PI_DIGITS} mark.nth-digit").text == reference_digits[31_414]
    assert dash_duo.get_logs() == []
