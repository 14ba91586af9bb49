"""Figures of a sweep: Sobol first/total-order bars or Morris mu*-sigma plots from a sweep's ``analysis.csv``;
for factorial designs, heat maps of each outcome over two levers (one panel per level of a third); for
sampled designs (Latin hypercube, listed scenarios), each outcome against each factor.

Each function returns a list of ``(file name, caption, figure)``, one per outcome (and year).
"""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from ..text import factor_name, metric_name, word
from .style import (apply_style, fmt_value, is_share, is_share_factor, percent_axis, sign, target_for, target_line,
                    y_label)


def sensitivity_figures(analysis: pd.DataFrame, lang: str = "en",
                        signature: str = "") -> list[tuple[str, str, plt.Figure]]:
    """From a sweep's ``analysis.csv``: Sobol first/total-order bars with intervals, or Morris mu*-sigma plots."""
    apply_style(lang)
    figures = []
    for (metric, year), block in analysis.groupby(["metric", "year"]):
        names = [factor_name(f, lang) for f in block["factor"]]
        title = word("metric_year", lang, metric=metric_name(metric, lang), year=year)
        if "S1" in block:
            fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(block) + 1.6))
            y = np.arange(len(block))
            ax.barh(y - 0.2, block["S1"], 0.4, xerr=block["S1_conf"], label=word("sobol_first", lang))
            ax.barh(y + 0.2, block["ST"], 0.4, xerr=block["ST_conf"], label=word("sobol_total", lang))
            ax.set_yticks(y, names)
            ax.invert_yaxis()
            ax.set_xlabel(word("sobol_axis", lang))
            ax.legend(fontsize=7)
            kind = "sobol"
        else:
            fig, ax = plt.subplots(figsize=(6.4, 4.2))
            ax.errorbar(block["mu_star"], block["sigma"], xerr=block["mu_star_conf"], fmt="o")
            # factors at (nearly) the same point share one label instead of printing over each other
            span = max(block["mu_star"].max(), block["sigma"].max(), 1e-12)
            spots: dict[tuple, list[str]] = {}
            for x, yv, label in zip(block["mu_star"], block["sigma"], names):
                spots.setdefault((round(x / span, 2), round(yv / span, 2)), []).append((x, yv, label))
            for group in spots.values():
                ax.annotate("\n".join(g[2] for g in group), group[0][:2], fontsize=6, xytext=(3, 3),
                            textcoords="offset points", va="bottom")
            ax.set_xlabel(word("morris_x", lang))
            ax.set_ylabel(word("morris_y", lang))
            if is_share(metric):
                ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))
                ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
            kind = "morris"
        ax.set_title(title)
        sign(fig, signature)
        figures.append((f"{kind}_{metric}_{year}", word(f"{kind}_caption", lang, metric=metric_name(metric, lang),
                                                        year=year), fig))
    return figures



def _level(path: str, value: float) -> str:
    return f"{100 * value:.0f}%" if is_share_factor(path) else f"{value:g}"





def point_means(table: pd.DataFrame, design: pd.DataFrame, region: str = "all") -> pd.DataFrame:
    """Each design point's mean over replicates per metric and year, with the point's factor values."""
    sel = table[table["region"] == region]
    means = sel.groupby(["point", "metric", "year"])["value"].mean().rename("value").reset_index()
    return means.join(design, on="point")


def _wrap(label: str, width: int = 26) -> str:
    """A long axis label on two lines: English at a space, Chinese before its last bracket."""
    if len(label) <= width:
        return label
    for bracket in ("（", " ("):
        cut = label.rfind(bracket)
        if cut > 0:
            return label[:cut].rstrip() + "\n" + label[cut:].lstrip()
    return textwrap.fill(label, width)


def _outcome_blocks(means: pd.DataFrame, outcomes, years):
    """(metric, year, point means) per outcome in 2027 if the sweep kept it, else its last year."""
    year = 2027 if 2027 in years else max(years)
    for metric in outcomes:
        block = means[(means["metric"] == metric) & (means["year"] == year)]
        if not block.empty:
            yield metric, year, block


def factorial_heatmaps(means: pd.DataFrame, factors: list[str], outcomes, years, lang: str = "en",
                       signature: str = "") -> list[tuple[str, str, plt.Figure]]:
    """Heat maps of each outcome (in 2027 if kept, else the last year) over the first two factors: one
    panel per level of a third; further factors are averaged over (and the title says so). Cells meeting
    the outcome's 2027 target are in bold."""
    apply_style(lang)
    x, y = factors[0], factors[1]
    facet = factors[2] if len(factors) > 2 else None
    rest = factors[3:]
    figures = []
    for metric, year, block in _outcome_blocks(means, outcomes, years):
        panels = sorted(block[facet].unique()) if facet else [None]
        # panels of equal width, the colour bar in a narrow column of its own
        fig, axes = plt.subplots(1, len(panels) + 1, figsize=(2.6 * len(panels) + 1.6, 3.6), squeeze=False,
                                 width_ratios=[1.0] * len(panels) + [0.06])
        colour_bar = axes[0][-1]
        vmin, vmax = block["value"].min(), block["value"].max()
        target = target_for(metric)
        for i, (ax, level) in enumerate(zip(axes[0][:-1], panels)):
            cells = block if level is None else block[block[facet] == level]
            grid = cells.groupby([y, x])["value"].mean().unstack(x).sort_index(ascending=False)
            annot = grid.map(lambda v: fmt_value(metric, v))
            sns.heatmap(grid, annot=annot, fmt="", cmap="cividis", vmin=vmin, vmax=vmax, ax=ax,
                        cbar=i == len(panels) - 1, cbar_ax=colour_bar if i == len(panels) - 1 else None,
                        annot_kws={"fontsize": 7},
                        xticklabels=[_level(x, float(v)) for v in grid.columns],
                        yticklabels=[_level(y, float(v)) for v in grid.index],
                        cbar_kws={"label": word("factorial_cbar", lang, metric=metric_name(metric, lang)),
                                  **({"format": mticker.PercentFormatter(1.0)} if is_share(metric) else {})})
            if target is not None:  # seaborn writes no text in an empty cell: find each text's cell by position
                met = target.met(grid.to_numpy())
                for text in ax.texts:
                    col, row = (int(c) for c in text.get_position())
                    text.set_fontweight("bold" if met[row, col] else "normal")
            ax.tick_params(axis="y", labelrotation=0, labelleft=i == 0)
            ax.tick_params(labelsize=7)
            ax.set_xlabel(_wrap(factor_name(x, lang)), fontsize=7)
            ax.set_ylabel(_wrap(factor_name(y, lang)) if i == 0 else "", fontsize=7)
            if facet:
                ax.set_title(word("factorial_panel", lang, name=factor_name(facet, lang),
                                  value=_level(facet, float(level))), fontsize=7)
        colour_bar.yaxis.label.set_fontsize(7)
        colour_bar.tick_params(labelsize=7)
        title = word("metric_year", lang, metric=metric_name(metric, lang), year=year)
        notes = []
        if rest:
            notes.append(word("factorial_mean_over", lang, names=", ".join(factor_name(r, lang) for r in rest)))
        if target is not None:
            notes.append(word("factorial_bold", lang))
        if notes:
            title += f" ({'; '.join(notes)})" if lang == "en" else f"（{'；'.join(notes)}）"
        fig.suptitle(title, fontsize=9)
        sign(fig, signature)
        figures.append((f"factorial_{metric}_{year}", word("factorial_caption", lang, metric=metric_name(metric, lang),
                                                           year=year, x=factor_name(x, lang),
                                                           y=factor_name(y, lang)), fig))
    return figures


def factor_scatter(means: pd.DataFrame, factors: list[str], outcomes, years, lang: str = "en",
                   signature: str = "") -> list[tuple[str, str, plt.Figure]]:
    """For sampled designs (Latin hypercube, listed scenarios): each outcome (in 2027 if kept, else the last
    year) against each factor, one panel per factor, a point per design point (mean over replicates),
    with the outcome's 2027 target as a dashed line."""
    apply_style(lang)
    figures = []
    for metric, year, block in _outcome_blocks(means, outcomes, years):
        ncols = min(4, len(factors))
        nrows = math.ceil(len(factors) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.5 * ncols + 0.8, 2.4 * nrows + 0.7), sharey=True,
                                 squeeze=False)
        for ax, factor in zip(axes.ravel(), factors):
            ax.scatter(block[factor], block["value"], s=10, alpha=0.7)
            target_line(ax, metric)
            ax.set_xlabel(factor_name(factor, lang), fontsize=7)
            ax.tick_params(labelsize=7)
            percent_axis(ax.yaxis, metric)
            if is_share_factor(factor):
                ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))
        for ax in axes.ravel()[len(factors):]:
            ax.set_visible(False)
        for row in axes:
            row[0].set_ylabel(y_label(metric, lang), fontsize=7)
        fig.suptitle(word("metric_year", lang, metric=metric_name(metric, lang), year=year), fontsize=9)
        sign(fig, signature)
        figures.append((f"points_{metric}_{year}", word("metric_year", lang, metric=metric_name(metric, lang),
                                                        year=year), fig))
    return figures
