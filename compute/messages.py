"""Messages for people that the pages translate (i18n/) and the JSON API gives in English.

A message is a template with named parameters, so a catalogue can translate
the template and each language can format the numbers its own way.
"""

from __future__ import annotations


def N_(template: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark ``template`` for the message catalogues; it is translated where it is shown."""
    return template


def english(template: str, params: dict[str, object]) -> str:
    """The template filled in for English: numbers with thousands separators (1,000,000)."""
    shown = {key: f"{value:,}" if type(value) is int else value for key, value in params.items()}
    return template.format(**shown)


class Explained(Exception):
    """An error whose message is a template with parameters: str() gives it in English.

    Like Werkzeug's HTTPException, each kind knows the status a web surface
    answers it with (``status``, 400 unless a subclass says otherwise) and any
    headers that go with it, so the JSON API maps them in one handler.
    """

    status = 400

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(english(template, params))
        self.template = template
        self.params = params

    def headers(self) -> dict[str, str]:
        """Headers the answer carries (Retry-After for a refusal that passes)."""
        return {}
