"""English and Russian: the catalogue covers every message, the language is chosen as documented, numbers too."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import i18n
from config import PROJECT_ROOT
from dashboard.labels import reason_label
from tasks.reasons import GIVEN_UP
from tasks.reasons import KILLED
from tasks.reasons import NOT_ENOUGH_MEMORY
from tasks.reasons import reason

_FIELD = re.compile(r"\{(\w+)(?:![rs])?\}")


def _messages_in_code() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for folder in ("dashboard", "callbacks", "i18n", "tasks", "compute"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / folder, keywords={**DEFAULT_KEYWORDS, "N_": None}
        ):
            found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


@pytest.fixture(scope="module")
def russian() -> Any:
    with i18n.catalogue_path("ru").open("rb") as source:
        return read_po(source, locale="ru")


def test_the_russian_catalogue_has_exactly_the_messages_in_the_code(russian: Any) -> None:
    in_catalogue = {
        message.id if isinstance(message.id, str) else tuple(message.id) for message in russian if message.id
    }
    in_code = _messages_in_code()
    assert in_code - in_catalogue == set(), "untranslated: run `make messages` and translate them"
    assert in_catalogue - in_code == set(), "no longer used: run `make messages`"


def test_every_russian_message_is_translated_with_the_same_fields(russian: Any) -> None:
    for message in russian:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings) and not message.fuzzy, message.id
        for text in strings:
            assert set(_FIELD.findall(text)) == set(_FIELD.findall(ids[0])), message.id


def test_numbers_are_written_as_each_language_writes_them() -> None:
    with i18n.speaking("en"):
        assert i18n.number(1_000_000) == "1,000,000"
    with i18n.speaking("ru"):
        assert i18n.number(1_000_000) == "1\u00a0000\u00a0000"  # 1 000 000, with no-break spaces
        assert i18n.number(0.5, decimals=2) == "0,50"


def test_russian_plurals_follow_the_number() -> None:
    singular = "It occurs {count} time in the first {searched} places."
    plural = "It occurs {count} times in the first {searched} places."
    with i18n.speaking("ru"):
        words = [i18n.ngettext(singular, plural, count).split()[2] for count in (1, 3, 5, 21, 11)]
    assert words == ["раз", "раза", "раз", "раз", "раз"]


def test_stored_reasons_are_shown_in_the_visitors_language() -> None:
    stored = reason(GIVEN_UP, attempts=3, why=reason(KILLED, number=9, signal="SIGKILL"))
    with i18n.speaking("ru"):
        assert reason_label(stored) == (
            "Число остановок рабочего процесса: 3; в последний раз он был остановлен сигналом 9 (SIGKILL)."
        )
        assert reason_label(reason(NOT_ENOUGH_MEMORY, places=2_000_000)) == (
            "На сервере не хватает памяти, чтобы вычислить 2\u00a0000\u00a0000 знаков."
        )
        assert reason_label("a reason from an older version") == "a reason from an older version"
    with i18n.speaking("en"):
        assert reason_label(stored) == stored


def _shell(client: Any, **headers: str) -> str:
    """The navigation bar and footer as the browser receives them, as text."""
    return json.dumps(client.get("/_dash-layout", headers=headers).get_json(), ensure_ascii=False)


def test_the_language_comes_from_the_address_then_the_cookie_then_the_browser(client: Any) -> None:
    english = _shell(client)
    assert "Tasks" in english and "Задачи" not in english
    assert "Задачи" in _shell(client, **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    chosen = client.get("/?lang=en", headers={"Accept-Language": "ru"})
    assert "lang=en" in chosen.headers["Set-Cookie"]
    # The cookie now wins over the browser's Accept-Language.
    assert "Задачи" not in _shell(client, **{"Accept-Language": "ru"})
    client.get("/?lang=ru")
    assert "Задачи" in _shell(client)
    client.get("/?lang=xx")  # not a language here: ignored, the choice stands
    assert "Задачи" in _shell(client)


def test_the_json_api_answers_in_english_whatever_the_language(client: Any) -> None:
    client.get("/?lang=ru")
    response = client.post("/api/tasks", json={"n": 0}, headers={"Accept-Language": "ru"})
    assert response.get_json()["error"] == "n must be at least 1: place 1 is the first digit after the decimal point."


def test_the_html_element_says_the_page_s_language(make_app: Any) -> None:
    # A screen reader reads the page with the rules of <html lang>: Russian pages must say so.
    client = make_app(START_RUNNER=False).server.test_client()
    assert b'<html lang="en">' in client.get("/").data
    assert b'<html lang="ru">' in client.get("/search?lang=ru").data
    assert b'<html lang="ru">' in client.get("/").data  # the choice is remembered
    assert b'<html lang="en">' in client.get("/no-such-page?lang=en").data


@pytest.mark.parametrize(
    ("value", "english", "russian"),
    [
        (1234.4, "1,234", "1\xa0234"),
        (12.46, "12.5", "12,5"),
        (1.0, "1.0", "1,0"),
        (0.25, "0.25", "0,25"),
        (0.01, "0.01", "0,01"),
        (2.34e-5, "2.3×10⁻⁵", "2,3×10⁻⁵"),
        (9.96e-6, "1.0×10⁻⁵", "1,0×10⁻⁵"),
    ],
)
def test_an_expected_count_has_the_precision_it_has_in_each_language(value: float, english: str, russian: str) -> None:
    # "1.000 occurrences" reads as a thousand in English: never three zeros after the point.
    with i18n.speaking("en"):
        assert i18n.approximate(value) == english
    with i18n.speaking("ru"):
        assert i18n.approximate(value) == russian
