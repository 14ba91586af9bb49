"""The targets heat map: designs x the plan's 2027 targets, the chance (share of replicates) of meeting
each."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd

from ..compare import TARGETS_2027, replicate_values, target_attainment
from ..text import word
from .style import annotated_heatmap, design_labels, design_order, figure, provenance, sign, target_label


def attainment_heatmap(series: pd.DataFrame, manifest: dict, lang: str = "en") -> plt.Figure:
    """Designs x the plan's 2027 targets: the chance of meeting each."""
    att = target_attainment(replicate_values(series, years=(2027,)))
    if att.empty:
        raise ValueError("no 2027 values: the run ends before 2027")
    labels = design_labels(manifest, lang)
    order = [t.metric for t in TARGETS_2027 if t.metric in set(att["metric"])]
    names = {t.metric: target_label(t, lang) for t in TARGETS_2027}
    designs = [d for d in design_order(manifest, series) if d in set(att["design"])]
    table = att.pivot(index="metric", columns="design", values="probability").loc[order, designs]
    table.index = [names[m] for m in table.index]
    table.columns = [labels.get(d, d) for d in table.columns]
    fig, ax = figure(figsize=(5.6 + 1.0 * table.shape[1], 0.32 * table.shape[0] + 2.0), lang=lang)
    mesh = annotated_heatmap(ax, table, table.map(lambda v: f"{v:.0%}").to_numpy(), cmap="cividis", vmin=0, vmax=1)
    bar = fig.colorbar(mesh, ax=ax, format=mticker.PercentFormatter(1.0), fraction=0.15, pad=0.05, aspect=20)
    bar.outline.set_linewidth(0)
    # labelled above, where the figure has room (beside it, it was cut off)
    bar.ax.set_title(word("targets_bar", lang), fontsize=7, loc="left")
    bar.ax.tick_params(labelsize=7)
    ax.set_title(word("targets_title", lang))
    ax.set_xlabel(word("design", lang))
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=20, labelsize=7)
    ax.tick_params(axis="y", labelsize=7)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    sign(fig, provenance(manifest, lang))
    return fig
