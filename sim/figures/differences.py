"""Difference charts: each design minus the reference over time, paired by replicate (common random
numbers), mean and paired 90% band; shares in percentage points."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..text import metric_name, word
from .fans import fan_rows
from .style import (design_colours, design_dashes, design_labels, design_order, figure, is_share, legend,
                    provenance, shade_phases, sign)


def difference_chart(series: pd.DataFrame, manifest: dict, metric: str, reference: str,
                     lang: str = "en") -> plt.Figure:
    """Each design minus the reference over time, paired by replicate: mean and 90% band."""
    sel = fan_rows(series, metric)
    labels = design_labels(manifest, lang)
    wide = sel.pivot_table(index=["date", "replicate"], columns="scenario", values="value", observed=True)
    if reference not in wide.columns:
        raise ValueError(f"the reference design {reference!r} has no {metric} values")
    fig, ax = figure(figsize=(6.4, 3.8), lang=lang)
    shade_phases(ax, sel, lang)
    ref = labels.get(reference, reference)
    scale = 100.0 if is_share(metric) else 1.0  # shares are drawn in percentage points
    colours, dashes = design_colours(manifest, series), design_dashes(manifest, series)
    for design in [d for d in design_order(manifest, series) if d != reference and d in wide.columns]:
        colour = colours[design]
        diff = ((wide[design] - wide[reference]) * scale).groupby(level="date")
        ax.fill_between(diff.quantile(0.05).index, diff.quantile(0.05), diff.quantile(0.95), color=colour,
                        alpha=0.25, lw=0)
        ax.plot(diff.mean().index, diff.mean(), color=colour, ls=dashes[design], lw=1.6,
                label=word("minus", lang, design=labels.get(design, design), reference=ref))
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_title(word("difference_from", lang, metric=metric_name(metric, lang), reference=ref))
    ax.set_ylabel(word("pp_axis" if is_share(metric) else "difference_axis", lang))
    legend(ax, word("paired_band", lang))
    sign(fig, provenance(manifest, lang))
    return fig
