"""The quick figure ``grassroots run`` writes beside its results (``headline.png``).

``headline_figure`` draws the three headline outcomes 2023-2030 for each scenario: the mean over
replicates and its 90% band, phases shaded, the plan's 2027 target as a line. It uses the report's
style, targets, phase shading, design colours and provenance (``sim.report``), so the two agree;
``grassroots report`` draws the full set of figures.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd

from .report import _colours, _labels, _order, _shade_phases, _sign, _style, _target, fmt_value, provenance
from .registry import HEADLINE
from .text import metric_name, word


def headline_figure(series: pd.DataFrame, manifest: dict | None = None, metrics=HEADLINE,
                    region: str = "all", group: str = "all") -> plt.Figure:
    """Monthly mean and 90% band over replicates of each headline outcome, one panel per outcome."""
    manifest = manifest or {}
    _style("en")
    sel = series[(series["region"] == region) & (series["group"] == group) & series["metric"].isin(metrics)]
    scenarios = _order(manifest, sel)
    colours, labels = _colours(manifest, sel), _labels(manifest, "en")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), sharex=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        _shade_phases(ax, sel, "en")
        stats = sel[sel["metric"] == metric].groupby(["scenario", "date"], observed=True)["value"].agg(
            mean="mean", low=lambda v: v.quantile(0.05), high=lambda v: v.quantile(0.95)).reset_index()
        for scenario in scenarios:
            s = stats[stats["scenario"] == scenario]
            ax.fill_between(s["date"], s["low"], s["high"], color=colours[scenario], alpha=0.25, lw=0)
            ax.plot(s["date"], s["mean"], color=colours[scenario], lw=1.6, label=labels.get(scenario, scenario))
        target = _target(metric)
        if target is not None:
            ax.axhline(target.value, color="0.2", ls="--", lw=0.9, gid="target")
            ax.annotate(word("target_2027", "en", value=fmt_value(metric, target.value), source=target.source),
                        (1.0, target.value), xycoords=("axes fraction", "data"), ha="right", va="bottom",
                        fontsize=7, color="0.2")
        ax.set_title(metric_name(metric, "en"))
        ax.set_xlabel("")
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
        ax.set_ylim(0, max(1.0, float(stats["high"].max()) * 1.05) if metric != "turnover_rate" else None)
    axes[0][0].legend(loc="best", fontsize=8, title="scenario (mean, 90% band)", title_fontsize=7)
    _sign(fig, f"{provenance(manifest)} | region {region}, group {group}" if manifest else
          f"region {region}, group {group}")
    return fig
