"""The pages with the keyboard alone, in a real headless Chromium (dash.testing): no mouse, no script clicks.

Every key goes to the element that has focus, as a person's would; at every stop the focus must show.
"""

from __future__ import annotations

from typing import Any

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from dashboard import ids
from tests.conftest import service_of
from tests.conftest import wait_for

# The grid's columns in their order (dashboard/task_table.columns), for the arrow keys.
COLUMNS = ["id", "n", "digit", "status", "seconds", "created_at", "cancel"]

# What the focused element looks like, and whether that differs from how it looks unfocused.
FOCUS_SHOWS = """
const element = document.activeElement;
const look = () => {
    const style = getComputedStyle(element);
    return [style.outlineStyle, style.outlineWidth, style.outlineColor, style.boxShadow,
            style.borderTopColor, style.borderBottomColor, style.backgroundColor].join(' | ');
};
const focused = look();
element.blur();
const unfocused = look();
element.focus({preventScroll: true});
return [element.outerHTML.slice(0, 120), focused !== unfocused && document.activeElement === element];
"""


def press(browser: Any, *keys: str) -> None:
    ActionChains(browser.driver).send_keys(*keys).perform()


def focus_shows(browser: Any) -> None:
    where, shows = browser.driver.execute_script(FOCUS_SHOWS)
    assert shows, f"the focus does not show on {where}"


def tab_to(browser: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` (or inside it) has focus, checking each stop shows it."""
    for _ in range(limit):
        press(browser, Keys.TAB)
        if browser.driver.execute_script("return document.activeElement.closest(arguments[0]) !== null", selector):
            focus_shows(browser)
            return
        if browser.driver.execute_script("return document.activeElement !== document.body"):
            focus_shows(browser)
    raise AssertionError(f"Tab never reached {selector}")


def focused_cell(browser: Any) -> tuple[int, str] | None:
    """The grid cell that has focus: its row's index and its column, or None when focus is elsewhere."""
    found = browser.driver.execute_script(
        "const cell = document.activeElement.closest('.ag-cell');"
        "return cell && [Number(cell.closest('.ag-row').getAttribute('row-index')), cell.getAttribute('col-id')];"
    )
    return (found[0], found[1]) if found else None


def arrow_to(browser: Any, row_index: int, column: str) -> None:
    """From a focused header or cell of the grid, the arrow keys to the cell at ``row_index`` and ``column``."""
    for _ in range(30):
        at = focused_cell(browser)
        if at is None:
            press(browser, Keys.ARROW_DOWN)  # from the header into the rows
            continue
        if at == (row_index, column):
            focus_shows(browser)
            return
        if at[0] != row_index:
            press(browser, Keys.ARROW_DOWN if at[0] < row_index else Keys.ARROW_UP)
        else:
            press(browser, Keys.ARROW_RIGHT if COLUMNS.index(at[1]) < COLUMNS.index(column) else Keys.ARROW_LEFT)
    raise AssertionError(f"the arrows never reached row {row_index}, column {column}")


def row_index_of(browser: Any, task_id: int) -> int:
    found = browser.driver.execute_script(
        "const row = document.querySelector(arguments[0]); return row && Number(row.getAttribute('row-index'));",
        f'#{ids.TASKS_GRID} .ag-center-cols-container .ag-row[row-id="{task_id}"]',
    )
    assert found is not None, f"task {task_id} is not in the grid"
    return int(found)


def status_of(browser: Any, task_id: int) -> str:
    return str(
        browser.driver.execute_script(
            "const cell = document.querySelector(arguments[0]); return cell ? cell.textContent : '';",
            f'#{ids.TASKS_GRID} .ag-center-cols-container .ag-row[row-id="{task_id}"] .ag-cell[col-id="status"]',
        )
    )


def spoken(browser: Any) -> str:
    """What the main page's live region for the visitor's own tasks says (it is hidden from sight)."""
    region = browser.find_element(f"#{ids.OWN_TASKS_SPOKEN}")
    assert region.get_attribute("role") == "status"
    return str(region.get_attribute("textContent"))


def test_brws016_with_the_keyboard_alone_submit_cancel_open_a_task_page_through_and_switch_language(
    dash_duo: Any, held: Any, reference_digits: str
) -> None:
    app, workers = held(WORKERS=1)
    service_of(app).digits.extend(reference_digits[:100_000])
    dash_duo.start_server(app)
    dash_duo.wait_for_element(f"#{ids.TASKS_GRID}")

    # Submit a long task: the answer is said (a status region) and its row appears.
    tab_to(dash_duo, f"#{ids.N_INPUT}")
    press(dash_duo, "80000000", Keys.ENTER)
    message = dash_duo.find_element(f"#{ids.INPUT_MESSAGE}")
    dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", "Task 1", timeout=10)
    assert message.get_attribute("role") == "status"
    workers.process(1)
    wait_for(lambda: status_of(dash_duo, 1).startswith("running"), timeout=10)

    # Cancel it from its row: into the grid, the arrows to its Cancel button's cell, Enter.
    tab_to(dash_duo, f"#{ids.TASKS_GRID}")
    arrow_to(dash_duo, row_index_of(dash_duo, 1), "cancel")
    press(dash_duo, Keys.ENTER)
    wait_for(lambda: status_of(dash_duo, 1) == "cancelled", timeout=10)
    assert dash_duo.find_element(f"#{ids.ACTION_MESSAGE}").get_attribute("role") == "status"
    dash_duo.wait_for_text_to_equal(f"#{ids.ACTION_MESSAGE}", "Task 1 cancelled.", timeout=10)
    # The grid changes silently; a change of one's own task's status is said.
    wait_for(lambda: spoken(dash_duo) == "Your task 1: cancelled.", timeout=10)

    # A known one, shown on its own page: the arrows to its link, Enter.
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(f"#{ids.TASKS_GRID}")
    tab_to(dash_duo, f"#{ids.N_INPUT}")
    press(dash_duo, "5000", Keys.ENTER)
    dash_duo.wait_for_contains_text(f"#{ids.INPUT_MESSAGE}", "already known, task 2", timeout=10)
    wait_for(lambda: status_of(dash_duo, 2) == "done", timeout=10)
    tab_to(dash_duo, f"#{ids.TASKS_GRID}")
    arrow_to(dash_duo, row_index_of(dash_duo, 2), "id")
    press(dash_duo, Keys.ENTER)
    label = f"#{ids.WINDOW_LABEL}"
    dash_duo.wait_for_text_to_equal(label, "places 3,001–5,000 of 5,000", timeout=10)

    # The window back by a page, then a jump to a place.
    tab_to(dash_duo, f"#{ids.WINDOW_PREVIOUS}")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_text_to_equal(label, "places 1,001–3,000 of 5,000", timeout=10)
    tab_to(dash_duo, f"#{ids.JUMP_INPUT}")
    press(dash_duo, "762", Keys.ENTER)
    dash_duo.wait_for_text_to_equal(label, "places 1–2,000 of 5,000", timeout=10)
    assert dash_duo.find_element(f"#{ids.PI_DIGITS} mark.jump-target").text == reference_digits[761]

    # The language: Shift+Tab back up to the switch, Enter on the other language.
    for _ in range(40):
        press(dash_duo, Keys.SHIFT, Keys.TAB)
        if dash_duo.driver.execute_script("return document.activeElement.id") == "lang-ru":
            break
    focus_shows(dash_duo)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_contains_text(label, "из 5 000", timeout=10)
    assert dash_duo.driver.find_element("css selector", "html").get_attribute("lang") == "ru"
    assert dash_duo.get_logs() == []
