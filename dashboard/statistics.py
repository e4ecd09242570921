"""The statistics of a task's places 1..n: how often each digit occurs, and how the shares settle.

The counts come from the digit store's kept block counts (compute/digit_counts.py),
so the charts cost milliseconds even at n = 10^9; pandas shapes them for Plotly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from dash import dcc
from dash import html
from dash.development.base_component import Component

from compute.messages import N_
from dashboard import ids
from i18n import _
from i18n import number
from i18n import translate
from tasks.service import DigitsUnavailable
from tasks.service import current as service

DIGITS = [str(digit) for digit in range(10)]
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
        ],
        className="statistics",
    )


def _frequency_chart(frequencies: pd.DataFrame, n: int) -> go.Figure:
    figure = px.bar(
        frequencies,
        x="digit",
        y="count",
        labels={"digit": _("digit"), "count": _("occurrences")},
        color_discrete_sequence=["#0d6efd"],
    )
    figure.add_hline(y=n / 10, line_dash="dash", line_color="#dc3545", annotation_text=_("expected: n / 10"))
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=300, xaxis={"type": "category"})
    return figure


def _convergence_chart(points: list[int], counts: list[np.typing.NDArray[np.int64]]) -> go.Figure:
    shares = pd.DataFrame(np.vstack(counts) / np.array(points)[:, None], columns=DIGITS)
    shares["places"] = points
    long = shares.melt(id_vars="places", var_name="digit", value_name="share")
    figure = px.line(
        long,
        x="places",
        y="share",
        color="digit",
        log_x=True,
        labels={"places": _("places (log scale)"), "share": _("share"), "digit": _("digit")},
    )
    figure.add_hline(y=0.1, line_dash="dot", line_color="#6c757d")
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=340, yaxis={"tickformat": ".0%", "range": [0, 0.3]}
    )
    return figure
