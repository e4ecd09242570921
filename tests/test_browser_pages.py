"""Search, statistics, hex digits, both languages and a phone, in a real headless Chromium (dash.testing)."""

from __future__ import annotations

import random
import re
from functools import partial
from typing import Any

import pytest
from babel.messages.pofile import read_po
from dash.testing.browser import Browser

import i18n
from compute.hex_digits import hex_digits_at
from dashboard import ids
from tests.axe import violations as axe_violations
from tests.conftest import service_of
from tests.conftest import type_into
from tests.conftest import wait_for

INDEXED = 100_000  # the index covers these; "Count everywhere" scans the rest of the 10^6 stored


def overlapping_count(text: str, pattern: str) -> int:
    return len(re.findall(f"(?={pattern})", text))


def page_text(browser: Any) -> str:
    return str(browser.driver.execute_script("return document.body.innerText"))


@pytest.fixture
def stored_app(make_app: Any, reference_digits: str) -> Any:
    """An app whose store holds the million reference places, the first INDEXED of them indexed."""
    app = make_app(SEARCH_INDEX_PLACES=INDEXED)
    service_of(app).digits.extend(reference_digits)
    return app


def test_brws010_search_as_you_type_then_count_everywhere(
    dash_duo: Any, stored_app: Any, reference_digits: str
) -> None:
    dash_duo.start_server(stored_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/search")
    results = f"#{ids.SEARCH_RESULTS}"
    type_into(dash_duo, f"#{ids.SEARCH_INPUT}", "999999")
    dash_duo.wait_for_contains_text(results, "“999999” first occurs at place 762.", timeout=10)
    assert "in the first 100,000 places" in dash_duo.find_element(results).text
    # A string drawn from the reference at random: its first place is where the reference has it first.
    start = random.Random(10).randrange(1, INDEXED - 20)
    drawn = reference_digits[start : start + 9]
    type_into(dash_duo, f"#{ids.SEARCH_INPUT}", drawn)
    first = reference_digits.find(drawn) + 1
    dash_duo.wait_for_contains_text(results, f"first occurs at place {first:,}.", timeout=10)
    for text, message in (
        ("12a", "digits 0-9 only"),
        ("1" * 121, "at most 120 digits at a time; that was 121"),
        ("0000000000", "does not occur in the first 100,000 places"),
    ):
        type_into(dash_duo, f"#{ids.SEARCH_INPUT}", text)
        dash_duo.wait_for_contains_text(results, message, timeout=10)
    assert "900,000 more places are stored" in dash_duo.find_element(results).text

    type_into(dash_duo, f"#{ids.SEARCH_INPUT}", "14159")
    dash_duo.wait_for_contains_text(results, "first occurs at place 1.", timeout=10)
    dash_duo.find_element(f"#{ids.SEARCH_BUTTON}").click()
    everywhere = overlapping_count(reference_digits, "14159")
    dash_duo.wait_for_contains_text(
        f"#{ids.SEARCH_COUNT}", f"It occurs {everywhere} times in the first 1,000,000 places.", timeout=30
    )
    # Each place links to the digits there, the match marked.
    link = dash_duo.find_element(f"#{ids.SEARCH_RESULTS} .search-positions a:nth-of-type(2)")
    second = reference_digits.find("14159", 1) + 1
    assert link.text == f"{second:,}"
    dash_duo.driver.execute_script("arguments[0].click()", link)  # a dcc.Link: the page changes without a reload
    wait_for(lambda: dash_duo.find_elements("mark.search-match"), timeout=10)
    marked = "".join(mark.text for mark in dash_duo.find_elements("mark.search-match"))
    assert marked == "14159"
    assert f"Places {second:,}–{second + 4:,} of π" in page_text(dash_duo)
    assert dash_duo.get_logs() == []


def counting(browser: Any) -> bool:
    """Whether the page shows a count under way: its progress bar, and Cancel pressable."""
    shown = "d-none" not in browser.find_element(f"#{ids.SEARCH_PROGRESS}").get_attribute("class")
    return shown and bool(browser.find_element(f"#{ids.SEARCH_CANCEL}").is_enabled())


def test_brws011_two_visitors_count_at_once_and_one_cancels(
    dash_duo: Any, second_browser: Browser, make_app: Any, reference_digits: str
) -> None:
    # A pause on every chunk of 20,000 places holds the count for about 9 s: time to press Cancel.
    app = make_app(SEARCH_INDEX_PLACES=INDEXED, SEARCH_SCAN_CHUNK=20_000, SEARCH_SCAN_PAUSE=0.2)
    service_of(app).digits.extend(reference_digits)
    dash_duo.start_server(app)
    second_browser.server_url = dash_duo.server_url
    for browser in (dash_duo, second_browser):
        browser.wait_for_page(f"{dash_duo.server_url}/search?q=14159")
        browser.wait_for_contains_text(f"#{ids.SEARCH_RESULTS}", "first occurs at place 1.", timeout=10)
        browser.find_element(f"#{ids.SEARCH_BUTTON}").click()
    for browser in (dash_duo, second_browser):
        wait_for(partial(counting, browser), timeout=10)
    dash_duo.find_element(f"#{ids.SEARCH_CANCEL}").click()
    wait_for(lambda: dash_duo.find_element(f"#{ids.SEARCH_BUTTON}").is_enabled(), timeout=10)
    assert "d-none" in dash_duo.find_element(f"#{ids.SEARCH_PROGRESS}").get_attribute("class")
    # The other visitor's count goes on to the end.
    everywhere = overlapping_count(reference_digits, "14159")
    second_browser.wait_for_contains_text(
        f"#{ids.SEARCH_COUNT}", f"It occurs {everywhere} times in the first 1,000,000 places.", timeout=60
    )
    assert dash_duo.find_element(f"#{ids.SEARCH_COUNT}").text == ""
    assert dash_duo.get_logs() == [] and second_browser.get_logs() == []


def test_brws012_a_task_page_charts_its_digits_and_a_hex_task_shows_its_hex_digits(
    dash_duo: Any, app: Any, reference_digits: str
) -> None:
    dash_duo.start_server(app)
    dash_duo.find_element(f"#{ids.RADIX_SWITCH} input[value='16']").click()
    type_into(dash_duo, f"#{ids.N_INPUT}", "5000")
    dash_duo.find_element(f"#{ids.SUBMIT_BUTTON}").click()
    dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", "the hex digit at place 5,000", timeout=10)
    decimal = service_of(app).submit(20_000)
    wait_for(lambda: all(service_of(app).get(t)["status"] == "done" for t in (1, decimal["id"])), timeout=60)

    dash_duo.wait_for_page(f"{dash_duo.server_url}/task/1")
    expected = hex_digits_at(5000)
    dash_duo.wait_for_text_to_equal(f"#{ids.HEX_DIGITS}", f"…{expected}…", timeout=10)
    assert dash_duo.find_element(f"#{ids.HEX_DIGITS} mark.nth-digit").text == expected[0]
    assert dash_duo.find_element(f"#{ids.TASK_DIGIT}").text == expected[0]

    dash_duo.wait_for_page(f"{dash_duo.server_url}/task/{decimal['id']}")
    # What Plotly drew (its full data: numpy arrays arrive packed and are unpacked there).
    plotted = "const g = document.querySelector('#{} .js-plotly-plot'); return g && g._fullData && g._fullData"
    bars = wait_for(
        lambda: dash_duo.driver.execute_script(
            plotted.format(ids.DIGIT_FREQUENCIES) + "[0] && Array.from(g._fullData[0].y)"
        ),
        timeout=10,
    )
    assert [int(count) for count in bars] == [reference_digits[:20_000].count(str(d)) for d in range(10)]
    lines = wait_for(lambda: dash_duo.driver.execute_script(plotted.format(ids.DIGIT_CONVERGENCE) + ".length"))
    assert lines == 10
    assert "with 9 degrees of freedom; p-value" in dash_duo.find_element(f"#{ids.CHI_SQUARE}").text
    # The convergence chart in words, for those who cannot see it: the shares' spread at the end.
    shares = [reference_digits[:20_000].count(str(d)) / 20_000 * 100 for d in range(10)]
    words = dash_duo.find_element(f"#{ids.CONVERGENCE_IN_WORDS}").text
    assert words.endswith(f"in places 1 to 20,000, from {min(shares):.1f} % to {max(shares):.1f} %.")
    assert dash_duo.get_logs() == []


def _untranslated_pieces() -> list[str]:
    """English text of every message translated differently in Russian: what must not show on a Russian page."""
    with i18n.catalogue_path("ru").open("rb") as source:
        catalogue = read_po(source, locale="ru")
    pieces = []
    for message in catalogue:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[1]
        russian = message.string if isinstance(message.string, str) else (message.string or [""])[0]
        if english == russian:
            continue
        for piece in re.split(r"\{\w+(?:![rs])?\}", english):
            words = re.findall(r"[A-Za-z]{2,}", piece)
            if len(words) >= 2 or (len(words) == 1 and len(words[0]) >= 4):
                pieces.append(piece.strip())
    return pieces


def test_brws013_every_page_in_russian_has_no_english_left_and_the_switch_remembers(
    dash_duo: Any, stored_app: Any
) -> None:
    service = service_of(stored_app)
    decimal = service.submit(1000)
    hexadecimal = service.submit(1000, raw_radix=16)
    failed = service.store.create(5)
    service.store.cancel(failed["id"])
    dash_duo.start_server(stored_app)
    pages = {
        "/": f"#{ids.TASKS_GRID} .ag-row[row-id]",
        "/search?q=14159": ".search-positions",
        f"/task/{decimal['id']}": f"#{ids.DIGIT_CONVERGENCE} .js-plotly-plot",
        f"/task/{hexadecimal['id']}": f"#{ids.HEX_DIGITS}",
        f"/task/{failed['id']}": f"#{ids.TASK_STATUS}",
        "/digits?place=762&length=6": "mark.search-match",
        "/no/such/page": "#not-found-message",
    }
    english = _untranslated_pieces()
    for address, ready in pages.items():
        dash_duo.wait_for_page(f"{dash_duo.server_url}{address}{'&' if '?' in address else '?'}lang=ru")
        dash_duo.wait_for_element(ready, timeout=10)
        text = page_text(dash_duo)
        left = [piece for piece in english if piece in text]
        assert left == [], f"{address}: {left}"
        assert re.search("[А-Яа-я]", text)
    # The choice is remembered: a page without ?lang= stays Russian, until the switch says English.
    dash_duo.wait_for_page(f"{dash_duo.server_url}/search")
    dash_duo.wait_for_contains_text("h1", "Поиск последовательности цифр в π", timeout=10)
    dash_duo.find_element(f"#{ids.LANG_SWITCH} #lang-en").click()
    dash_duo.wait_for_contains_text("h1", "Find a string of digits in π", timeout=10)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/")
    dash_duo.wait_for_contains_text("h1", "The digits of π", timeout=10)
    assert not re.search("[А-Яа-я]", page_text(dash_duo))
    # Only the unknown address's 404 (page_status.py), which Chromium reports for the page itself.
    status = "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    reported = [(entry["source"], entry["message"]) for entry in dash_duo.get_logs()]
    assert reported == [("network", f"{dash_duo.server_url}/no/such/page?lang=ru - {status}")]


def test_brws014_on_a_390_pixel_phone_the_answer_is_on_screen_without_sideways_scrolling(
    dash_duo: Any, stored_app: Any, reference_digits: str
) -> None:
    service = service_of(stored_app)
    task = service.submit(999_999)
    dash_duo.start_server(stored_app)
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
    )
    dash_duo.wait_for_page(f"{dash_duo.server_url}/")
    row = f'#{ids.TASKS_GRID} .ag-center-cols-container .ag-row[row-id="{task["id"]}"]'
    dash_duo.wait_for_text_to_equal(f'{row} .ag-cell[col-id="status"]', "done", timeout=10)
    right_edges = dash_duo.driver.execute_script(
        """
        const row = document.querySelector(arguments[0]);
        return ["id", "n", "digit", "status"].map(
            column => row.querySelector(`.ag-cell[col-id="${column}"]`).getBoundingClientRect().right);
        """,
        row,
    )
    assert dash_duo.driver.execute_script("return window.innerWidth") == 390
    assert max(right_edges) <= 390, right_edges
    assert dash_duo.find_element(f'{row} .ag-cell[col-id="digit"]').text == reference_digits[999_998]
    # A string with hundreds of thousands of places (its first ones listed), and one of 120 digits.
    long_query = reference_digits[:120]
    for address in ("/", f"/task/{task['id']}", "/search?q=999999", "/search?q=1", f"/search?q={long_query}"):
        dash_duo.wait_for_page(f"{dash_duo.server_url}{address}")
        dash_duo.wait_for_element(".search-positions" if "?q=" in address else "h1", timeout=10)
        width = dash_duo.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"{address} is {width} px wide"
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize("width", [1400, 390])  # a desk and a phone, one test each so they run side by side
def test_brws015_axe_core_finds_nothing_on_any_page_in_either_language_at_either_width(
    dash_duo: Any, held: Any, reference_digits: str, width: int
) -> None:
    app, workers = held(SEARCH_INDEX_PLACES=INDEXED, WORKERS=1)
    service = service_of(app)
    service.digits.extend(reference_digits)
    done, hexadecimal = service.submit(1000), service.submit(1000, raw_radix=16)  # both known: done at once
    running = service.submit(2_000_000)  # past the stored places: held running at 30 %
    workers.process(running["id"])
    workers.report(running["id"], 0.3, 2_000_000)
    cancelled = service.store.create(5)
    service.store.cancel(cancelled["id"])
    failed = service.store.create(7)
    service.store.fail(failed["id"], "The computation failed: a test", statuses=("queued",))
    dash_duo.start_server(app)
    pages = {
        "/": f"#{ids.TASKS_GRID} .ag-row[row-id]",
        **{f"/task/{task['id']}": f"#{ids.TASK_STATUS}" for task in (done, hexadecimal, running, cancelled, failed)},
        "/search?q=14159": ".search-positions",
        "/search?q=abc": ".text-danger",
        "/digits?place=762&length=6": "mark.search-match",
        "/no/such/page": "#not-found-message",
    }
    dash_duo.driver.set_window_size(width, 900)
    for language in ("en", "ru"):
        for address, ready in pages.items():
            dash_duo.wait_for_page(f"{dash_duo.server_url}{address}{'&' if '?' in address else '?'}lang={language}")
            dash_duo.wait_for_element(ready, timeout=10)
            found = axe_violations(dash_duo.driver)
            assert found == [], f"{address} in {language} at {width} px: {found}"
    workers.release(running["id"])
    status = "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
    reported = {entry["message"] for entry in dash_duo.get_logs()}
    assert reported == {f"{dash_duo.server_url}/no/such/page?lang={code} - {status}" for code in ("en", "ru")}
