"""Difference charts: each design minus the reference over time, paired by replicate (common random
numbers), mean and paired 90% band; shares in percentage points."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..text import metric_name, word
from .fans import fan_rows
from .style import (design_colours, design_dashes, design_labels, design_order, figure, headroom, is_share,
                    legend, provenance, shade_phases, sign)


def difference_data(series: pd.DataFrame, metric: str, reference: str) -> pd.DataFrame:
    """Each design minus the reference per month, paired by replicate: design, date, mean, p5, p95 (shares
    as fractions, as stored)."""
    wide = fan_rows(series, metric).pivot_table(index=["date", "replicate"], columns="scenario", values="value",
                                                observed=True)
    if reference not in wide.columns:
        raise ValueError(f"the reference design {reference!r} has no {metric} values")
    rows = []
    for design in [d for d in wide.columns if d != reference]:
        diff = (wide[design] - wide[reference]).groupby(level="date")
        rows.append(pd.DataFrame({"design": design, "reference": reference, "metric": metric,
                                  "mean": diff.mean(), "p5": diff.quantile(0.05), "p95": diff.quantile(0.95)}))
    return pd.concat(rows).reset_index() if rows else pd.DataFrame()


def difference_chart(series: pd.DataFrame, manifest: dict, metric: str, reference: str,
                     lang: str = "en") -> plt.Figure:
    """Each design minus the reference over time, paired by replicate: mean and 90% band."""
    sel = fan_rows(series, metric)
    labels = design_labels(manifest, lang)
    data = difference_data(series, metric, reference)
    fig, ax = figure(figsize=(6.4, 4.2), lang=lang)
    shade_phases(ax, sel, lang)
    ref = labels.get(reference, reference)
    scale = 100.0 if is_share(metric) else 1.0  # shares are drawn in percentage points
    colours, dashes = design_colours(manifest, series), design_dashes(manifest, series)
    present = set(data["design"]) if len(data) else set()
    for design in [d for d in design_order(manifest, series) if d in present]:
        d = data[data["design"] == design]
        ax.fill_between(d["date"], d["p5"] * scale, d["p95"] * scale, color=colours[design], alpha=0.25, lw=0)
        ax.plot(d["date"], d["mean"] * scale, color=colours[design], ls=dashes[design], lw=1.6,
                label=labels.get(design, design))
    ax.axhline(0.0, color="0.3", lw=0.8)
    headroom(ax)
    ax.set_title(word("difference_from", lang, metric=metric_name(metric, lang), reference=ref))
    ax.set_ylabel(word("pp_axis" if is_share(metric) else "difference_axis", lang))
    legend(ax, word("paired_band", lang))
    sign(fig, provenance(manifest, lang))
    return fig
