"""The named phases of a running task and their spans of its progress bar.

The worker reports a phase as it starts (and the series as it goes); the task
list and page extrapolate through phases that cannot report, but never past
the phase's end, so the bar never runs ahead of the next measured point.
Spans come from where the time goes at 10^8 places on the native engine
(docs/performance.md).
"""

from __future__ import annotations

from compute.messages import N_

# engine phase -> (name shown, start, end)
PHASES = {
    "series": (N_("summing the series"), 0.0, 0.74),
    "final": (N_("division and square root"), 0.74, 0.84),
    "computing": (N_("computing π"), 0.0, 0.84),  # python-flint's pi: series and division in one call
    "converting": (N_("converting to decimal"), 0.84, 0.97),
    "checking": (N_("checking (Bellard)"), 0.97, 0.985),
    # A hex task: Bellard's formula at a few places (each evaluation reported).
    "hex": (N_("Bellard's formula"), 0.0, 0.99),
}
SAVING = (N_("saving digits"), 0.985)

_ENDS = {name: end for name, _, end in PHASES.values()} | {SAVING[0]: 0.99}


def phase_end(name: str | None) -> float | None:
    """Where the named phase ends on the progress bar; None for a phase without a span (waiting)."""
    return _ENDS.get(name or "")
