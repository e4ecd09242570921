"""What the pages call a task's status, phase and failure, in the visitor's language.

Phases and reasons are stored in English (tasks/reasons.py): they are matched
against their templates here, and the template's translation is filled in
with the same values (numbers written as the language writes them).
"""

from __future__ import annotations

import functools
import re

from compute.messages import N_
from i18n import _
from i18n import number
from tasks.phases import PHASES
from tasks.phases import SAVING
from tasks.reasons import ENDINGS
from tasks.reasons import REASONS
from tasks.reasons import STARTING
from tasks.reasons import WAITING_FOR

STATUS_NAMES = {
    "queued": N_("queued"),
    "running": N_("running"),
    "done": N_("done"),
    "error": N_("error"),
    "cancelled": N_("cancelled"),
}
_PHASES = (*(name for name, _start, _end in PHASES.values()), SAVING[0], STARTING, WAITING_FOR)
_ENGLISH_NUMBER = re.compile(r"-?[0-9]{1,3}(,[0-9]{3})*")


def status_label(status: str) -> str:
    """The status's name."""
    return _(STATUS_NAMES.get(status, status))


def phase_label(phase: str | None) -> str:
    """What a running task is doing."""
    return _stored_text(phase or STARTING, _PHASES)


def reason_label(error: str | None) -> str:
    """Why a task failed."""
    return _stored_text(error or "", REASONS)


def _stored_text(text: str, templates: tuple[str, ...]) -> str:
    for template in templates:
        found = _pattern(template).fullmatch(text)
        if found is not None:
            values = {key: _value(key, value) for key, value in found.groupdict().items()}
            return _(template).format(**values)
    return text  # not one of ours (an older version's text): as it was stored


def _value(key: str, value: str) -> str:
    if key == "why":
        return _stored_text(value, ENDINGS)
    if _ENGLISH_NUMBER.fullmatch(value):
        return number(int(value.replace(",", "")))
    return value


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    # Literal text and named fields alternate.
    return re.compile(
        "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
    )
