"""Fan charts: an outcome over time, the mean and the 50% and 90% bands over replicates per design, the
reform's phases shaded and named, the plan's 2027 target as a dashed line.

:func:`fan_chart` draws one outcome (the report's ``fan_*`` figures); :func:`headline_figure` draws the
three headline outcomes side by side (``headline.png`` of ``grassroots run``). Both draw every panel with
:func:`draw_fans`, so the two always show the same statistics.
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from ..registry import HEADLINE
from ..text import metric_name, word
from .style import (TARGET_COLOUR, design_colours, design_dashes, design_labels, design_order, distinct, figure, legend,
                    headroom, percent_axis, provenance, shade_phases, sign, target_for, target_line, target_text, y_label)

LAYOUTS = ("auto", "overlay", "panels")
QUANTILES = (0.05, 0.25, 0.75, 0.95)  # the 90% band and the 50% band around the mean (the line)


def fan_rows(series: pd.DataFrame, metric: str, region: str = "all", group: str = "all") -> pd.DataFrame:
    """The rows of one metric, region and group."""
    return series[(series["metric"] == metric) & (series["region"] == region) & (series["group"] == group)]


def fan_quantiles(rows: pd.DataFrame) -> pd.DataFrame:
    """Per design and month, the mean (column ``mean``) and the :data:`QUANTILES` of the value over
    replicates (one column each): what a fan chart draws, and the CSV written beside it."""
    grouped = rows.groupby(["scenario", "date"], observed=True)["value"]
    q = grouped.quantile(list(QUANTILES)).unstack()
    q.insert(0, "mean", grouped.mean())
    return q


def fan_data(series: pd.DataFrame, metric: str, region: str = "all", group: str = "all") -> pd.DataFrame:
    """A fan chart's numbers as a tidy table: design, date, mean, p5, p25, p75, p95."""
    q = fan_quantiles(fan_rows(series, metric, region, group))
    q.columns = ["mean", *(f"p{round(100 * c)}" for c in QUANTILES)]
    return q.reset_index().rename(columns={"scenario": "design"}).assign(metric=metric)


def draw_fans(ax, rows: pd.DataFrame, designs, manifest: dict, series: pd.DataFrame, lang: str = "en",
              phase_names: bool = True, annotate_target: bool = True) -> None:
    """Onto ``ax``: the phases, then for each of ``designs`` its 90% and 50% bands and its mean line (the
    design's colour and line style, its label in the legend), then the 2027 target. ``series`` and
    ``manifest`` fix each design's colour and style, the same on every figure."""
    shade_phases(ax, rows, lang, names=phase_names)
    q = fan_quantiles(rows)
    colours, dashes, labels = design_colours(manifest, series), design_dashes(manifest, series), \
        design_labels(manifest, lang)
    for design in designs:
        d = q.loc[design]
        ax.fill_between(d.index, d[0.05], d[0.95], color=colours[design], alpha=0.18, lw=0)
        ax.fill_between(d.index, d[0.25], d[0.75], color=colours[design], alpha=0.35, lw=0)
        ax.plot(d.index, d["mean"], color=colours[design], ls=dashes[design], lw=1.6, label=labels.get(design, design))
    metric = distinct(rows["metric"])[0]
    target_line(ax, metric, lang if annotate_target else None)
    percent_axis(ax.yaxis, metric)
    headroom(ax)


def fan_chart(series: pd.DataFrame, manifest: dict, metric: str, lang: str = "en", layout: str = "auto",
              region: str = "all", group: str = "all") -> plt.Figure:
    """One outcome over time: mean and 50%/90% bands over replicates per design, phases, 2027 target.

    ``layout``: ``overlay`` (designs in one panel), ``panels`` (one panel per design, shared axes) or
    ``auto`` (overlay up to three designs)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    rows = fan_rows(series, metric, region, group)
    designs = [d for d in design_order(manifest, series) if d in set(distinct(rows["scenario"]))]
    if not designs:
        raise ValueError(f"no {metric} values to draw")
    labels = design_labels(manifest, lang)
    if layout == "auto":
        layout = "overlay" if len(designs) <= 3 else "panels"
    if layout == "overlay":
        fig, ax = figure(figsize=(6.4, 4.2), lang=lang)
        axes, groups = [ax], [designs]
    else:
        ncols = min(3, len(designs))
        nrows = math.ceil(len(designs) / ncols)
        fig, grid = figure(nrows, ncols, figsize=(3.2 * ncols, 2.5 * nrows + 1.1), sharex=True, sharey=True,
                           squeeze=False, lang=lang)
        axes, groups = list(grid.ravel()), [[d] for d in designs]
        for spare in axes[len(designs):]:
            spare.set_visible(False)
    for i, (ax, group_designs) in enumerate(zip(axes, groups)):
        first = layout == "overlay" or i == 0
        draw_fans(ax, rows, group_designs, manifest, series, lang, phase_names=layout == "overlay" or i < 3,
                  annotate_target=first)
        ax.xaxis.set_major_locator(mdates.YearLocator(1 if layout == "overlay" else 2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        if layout == "panels":
            ax.set_title(labels.get(group_designs[0], group_designs[0]), fontsize=8)
            ax.tick_params(labelsize=7)
    if layout == "overlay":
        axes[0].set_title(metric_name(metric, lang))
        axes[0].set_ylabel(y_label(metric, lang))
        legend(axes[0], word("bands", lang))
    else:
        fig.suptitle(word("fan_caption", lang, metric=metric_name(metric, lang)), fontsize=9)
        for row_start in range(0, len(designs), min(3, len(designs))):
            axes[row_start].set_ylabel(y_label(metric, lang), fontsize=7)
        target = target_for(metric)
        if target is not None:  # the target is named once, below the panels
            line = next(l for l in axes[0].get_lines() if l.get_gid() == "target")
            fig.legend([line], [target_text(target, lang)], loc="lower center", fontsize=7, frameon=False,
                       bbox_to_anchor=(0.5, 0.03))
    sign(fig, provenance(manifest, lang))
    return fig


def headline_figure(series: pd.DataFrame, manifest: dict | None = None, metrics=HEADLINE, region: str = "all",
                    group: str = "all", lang: str = "en") -> plt.Figure:
    """The headline outcomes side by side, one panel each, drawn as the report's fan charts are: mean and
    50%/90% bands over replicates per design, phases shaded, the plan's 2027 target as a line."""
    manifest = manifest or {}
    fig, axes = figure(1, len(metrics), figsize=(4.2 * len(metrics), 4.0), sharex=True, squeeze=False, lang=lang)
    for ax, metric in zip(axes[0], metrics):
        rows = fan_rows(series, metric, region, group)
        if rows.empty:
            raise ValueError(f"no {metric} values to draw for region {region}, group {group}")
        designs = [d for d in design_order(manifest, series) if d in set(distinct(rows["scenario"]))]
        draw_fans(ax, rows, designs, manifest, series, lang, annotate_target=False)
        target = target_for(metric)
        title = metric_name(metric, lang)
        ax.set_title(f"{title}\n{target_text(target, lang)}" if target else title, fontsize=8)
        ax.set_ylabel(y_label(metric, lang), fontsize=7)
        ax.set_xlabel("")
        ax.xaxis.set_major_locator(mdates.YearLocator(2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(Line2D([], [], color=TARGET_COLOUR, ls="--", lw=0.9))
    labels.append(word("target_short", lang))
    legend(axes[0][len(metrics) // 2], word("bands", lang), handles, labels)
    where = f"region {region}, group {group}"
    sign(fig, f"{provenance(manifest, lang)} | {where}" if manifest else where)
    return fig
