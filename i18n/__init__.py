"""English and Russian: which language a request is answered in, its messages, and its numbers.

The messages live in gettext catalogues (i18n/locales/<language>/LC_MESSAGES/messages.po),
read with Babel; English is the messages' own text. A visitor's language is, in
order: ``?lang=`` in the address (then remembered in a cookie), the cookie, the
browser's Accept-Language, English. The JSON API does not use this: it answers
in English, for scripts.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as gettext_module
import io
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from compute.messages import Explained

LANGUAGES = {"en": "English", "ru": "Русский"}
DEFAULT = "en"
COOKIE = "lang"
CATALOGUES = Path(__file__).resolve().parent / "locales"
_YEAR = 365 * 24 * 3600
# Set where there is no request to ask (a Dash background callback's process).
_SPEAKING: contextvars.ContextVar[str | None] = contextvars.ContextVar("speaking", default=None)


def catalogue_path(language: str) -> Path:
    """The .po file of ``language``'s messages."""
    return CATALOGUES / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The messages of ``language``, compiled from its catalogue once per process."""
    if language == DEFAULT:
        return gettext_module.NullTranslations()
    with catalogue_path(language).open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


@contextmanager
def speaking(chosen: str | None) -> Iterator[None]:
    """Answer in ``chosen`` (a language code) inside this block, request or not."""
    token = _SPEAKING.set(chosen if chosen in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _SPEAKING.reset(token)


def language() -> str:
    """The language of the request being answered (English outside one)."""
    forced = _SPEAKING.get()
    if forced is not None:
        return forced
    if not flask.has_request_context():
        return DEFAULT
    request = flask.request
    for chosen in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def _(message: str) -> str:
    """``message`` in the request's language."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of the message for ``count`` (Russian has three)."""
    return translations(language()).ngettext(singular, plural, count)


def number(value: int | float, decimals: int | None = None) -> str:
    """A number as the request's language writes it: 1,000,000 in English, 1 000 000 in Russian."""
    pattern = None if decimals is None else "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_decimal(value, format=pattern, locale=language())


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def approximate(value: float) -> str:
    """An expected quantity with the precision it has, as the language writes it.

    1,235 and 12.5 and 1.0 and 0.25 and 0.01 in English; 2.3×10⁻⁵ below a hundredth (2,3×10⁻⁵ in Russian).
    Never 1.000, which an English reader takes for a thousand.
    """
    if value <= 0:
        return number(0)
    if value >= 100:
        return number(round(value))
    if value >= 1:
        return number(value, decimals=1)
    if value >= 0.01:
        return format_decimal(value, format="0.0#", locale=language())
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10**exponent, 1)
    if mantissa >= 10:  # 9.96e-6 rounds to 10.0: write 1.0 x 10^-5
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{number(mantissa, decimals=1)}×10{str(exponent).translate(_SUPERSCRIPTS)}"


def explain(error: Explained) -> str:
    """An error's message in the request's language, its numbers formatted for it."""
    params = dict(error.params)
    if "status" in params:
        params["status"] = _(str(params["status"]))  # a task's status: "queued", "done"...
    return fill(_(error.template), **params)


def translate(template: str, **params: object) -> str:
    """A message with parameters in the request's language (numbers formatted for it)."""
    return fill(_(template), **params)


def fill(text: str, **params: object) -> str:
    """An already translated text (ngettext's) with its parameters, numbers formatted for the language."""
    shown = {key: number(value) if type(value) is int else value for key, value in params.items()}
    return text.format(**shown)


def remember_choice(response: flask.Response) -> flask.Response:
    """After a page asked with ``?lang=``: keep the choice for this browser."""
    chosen = flask.request.args.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(COOKIE, chosen, max_age=_YEAR, samesite="Lax")
    return response


def register(server: flask.Flask) -> None:
    """Remember ``?lang=`` choices in a cookie."""
    server.after_request(remember_choice)


def declare_language(app: Any) -> None:
    """Say the page's language in its ``<html lang>``, so a screen reader reads Russian with Russian rules.

    Dash writes every page's HTML from one template; this fills in the language of the request.
    """
    write_page = app.interpolate_index

    def with_language(**parts: Any) -> str:
        html: str = write_page(**parts)
        return html.replace("<html>", f'<html lang="{language()}">', 1)

    app.interpolate_index = with_language
