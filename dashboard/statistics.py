"""The statistics of a task's places 1..n: how often each digit occurs, and how the shares settle.

The counts come from the digit store's kept block counts (compute/digit_counts.py),
so the charts cost milliseconds even at n = 10^9; pandas shapes them for Plotly (dcc.Graph).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from dash import dcc
from dash import html
from dash.development.base_component import Component

from compute.messages import N_
from dashboard import ids
from i18n import _
from i18n import number
from i18n import translate
from tasks.errors import DigitsUnavailable
from tasks.service import current as service

DIGITS = [str(digit) for digit in range(10)]
Figure = dict[str, Any]
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "font": {"family": "system-ui, sans-serif"}}
_AXIS = {"automargin": True, "gridcolor": "#e9ecef"}
# Charts without Plotly's tool bar: its tooltips are in English only, and the charts need no tools.
_GRAPH_CONFIG: dcc.Graph.Config = {"displayModeBar": False, "responsive": True}


def statistics_section(n: int) -> Component:
    """Both charts and the chi-square line for places 1..n."""
    try:
        points, counts = service().digit_statistics(n)
    except DigitsUnavailable:
        return html.Div()  # the digits area above already says why
    frequencies = pd.DataFrame({"digit": DIGITS, "count": counts[-1]})
    uniformity = service().uniformity(counts[-1])
    return html.Div(
        [
            html.H2(translate(N_("How often each digit occurs in places 1 to {n}"), n=n), className="h5 mt-4"),
            dcc.Graph(id=ids.DIGIT_FREQUENCIES, figure=_frequency_chart(frequencies, n), config=_GRAPH_CONFIG),
            html.P(
                translate(
                    N_(
                        "Chi-square for “every digit equally likely”: {chi_square} with 9 degrees of freedom; "
                        "p-value {p_value} (a p-value below 0.01 would be surprising)."
                    ),
                    chi_square=number(uniformity.chi_square, decimals=3),
                    p_value=number(uniformity.p_value, decimals=4),
                ),
                id=ids.CHI_SQUARE,
                className="small",
            ),
            html.H2(_("Each digit's share as the places grow"), className="h5 mt-4"),
            dcc.Graph(id=ids.DIGIT_CONVERGENCE, figure=_convergence_chart(points, counts), config=_GRAPH_CONFIG),
            html.P(_convergence_in_words(points, counts), id=ids.CONVERGENCE_IN_WORDS, className="small"),
        ],
        className="statistics",
    )


def _convergence_in_words(points: list[int], counts: list[npt.NDArray[np.int64]]) -> str:
    # The chart's message for those who cannot see it: how far apart the shares are, first and last.
    def spread(at: int) -> tuple[str, str]:
        shares = counts[at] / points[at]
        return number(shares.min() * 100, decimals=1) + " %", number(shares.max() * 100, decimals=1) + " %"

    (low_first, high_first), (low, high) = spread(0), spread(-1)
    return translate(
        N_(
            "In places 1 to {first} the digits' shares range from {low_first} to {high_first}; "
            "in places 1 to {n}, from {low} to {high}."
        ),
        first=points[0],
        n=points[-1],
        low_first=low_first,
        high_first=high_first,
        low=low,
        high=high,
    )


def _frequency_chart(frequencies: pd.DataFrame, n: int) -> Figure:
    # Plotly's figure as plain data: plotly.express builds the same in 100 ms, this in well under one.
    return {
        "data": [
            {
                "type": "bar",
                "x": frequencies["digit"].tolist(),
                "y": frequencies["count"].tolist(),
                "marker": {"color": "#0d6efd"},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            }
        ],
        "layout": {
            **_LAYOUT,
            "height": 300,
            "xaxis": {**_AXIS, "type": "category", "title": {"text": _("digit")}},
            "yaxis": {**_AXIS, "title": {"text": _("occurrences")}, "tickformat": "~s"},
            "shapes": [_horizontal_line(n / 10, "#dc3545", "dash")],
            "annotations": [
                {
                    "text": _("expected: n / 10"),
                    "x": 1,
                    "xref": "paper",
                    "xanchor": "right",
                    "y": n / 10,
                    "yanchor": "bottom",
                    "showarrow": False,
                }
            ],
        },
    }


def _convergence_chart(points: list[int], counts: list[npt.NDArray[np.int64]]) -> Figure:
    shares = pd.DataFrame(np.vstack(counts) / np.array(points)[:, None], columns=DIGITS, index=points)
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "name": digit, "x": points, "y": shares[digit].round(6).tolist()}
            for digit in DIGITS
        ],
        "layout": {
            **_LAYOUT,
            "height": 340,
            "xaxis": {**_AXIS, "type": "log", "title": {"text": _("places (log scale)")}},
            "yaxis": {**_AXIS, "title": {"text": _("share")}, "tickformat": ".0%", "range": [0, 0.3]},
            "legend": {"title": {"text": _("digit")}},
            "shapes": [_horizontal_line(0.1, "#6c757d", "dot")],
        },
    }


def _horizontal_line(y: float, colour: str, dash: str) -> dict[str, object]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": colour, "dash": dash},
    }
