"""Figures and a self-contained report from stored results, in English or Chinese.

``build_report(folder, lang=, layout=, formats=)`` reads what a command stored and never runs the model:

- a run or a comparison (``series.parquet``): fan charts of the headline outcomes (median, 50% and 90%
  bands over replicates, phases shaded and named, the plan's 2027 target as a line; designs overlaid or
  one panel each), difference charts (each design minus the reference, paired by replicate), a heat map
  of the chance of meeting each 2027 target, and the plan's indicator table;
- a sweep (``design.csv`` and ``parts/``): Sobol bars or Morris mu*-sigma plots from ``analysis.csv``, and
  for factorial designs heat maps of each outcome over two levers (one panel per level of a third), for
  sampled designs (Latin hypercube, listed scenarios) each outcome against each factor;
- a pilot evaluation (``pilot_replicates.csv``): the office's estimate beside the true effects, by
  selection rule.

Every figure uses one style (seaborn "whitegrid", colour-blind palette), shows units or percentages on
its axes, carries its provenance (config hashes, replicates, seed, date) in small print, and is saved as
PNG at 300 dpi plus SVG and/or PDF. ``report.html`` embeds the figures; ``report.md`` links them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html as html_lib
import io
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .config.schema import LEVERS  # noqa: E402
from .compare import TARGETS_2027, replicate_values, target_attainment  # noqa: E402
from .fonts import rc_for  # noqa: E402
from .model.metrics import METRICS  # noqa: E402
from .store import ResultsError, atomic_write_text, check_writable, read_json, read_run  # noqa: E402
from .registry import HEADLINE, INDICATOR_METRIC  # noqa: E402
from .summary import markdown_table  # noqa: E402
from .text import (DIMENSIONS, LANGS, design_label, factor_name, metric_name, phase_name, pick,  # noqa: E402
                   plan_indicators, selection_name, table_in, word)

PHASE_SHADE = {"pilot": "#f0f0f0", "rollout": "#e3e3e3", "consolidation": "#f7f7f7"}
LAYOUTS = ("auto", "overlay", "panels")
FORMATS = ("png", "svg", "pdf")


# --------------------------------------------------------------------------- style, units, provenance


def _style(lang: str = "en") -> None:
    """The one style of every figure, with the fonts for ``lang`` (a clear error if Chinese has none)."""
    matplotlib.rcdefaults()
    sns.set_theme(style="whitegrid", context="paper", palette="colorblind", rc=rc_for(lang))


def is_share(metric: str) -> bool:
    return metric in METRICS and METRICS[metric].unit.startswith("share")


def fmt_value(metric: str, value: float, share: bool | None = None) -> str:
    """A value for a figure or table: shares as percentages (``share`` overrides the metric's unit)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if is_share(metric) if share is None else share:
        return f"{100 * value:.1f}%"
    return f"{value:.3g}"


def _axis_format(axis, metric: str) -> None:
    if is_share(metric):
        axis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=None))


def _distinct(column: pd.Series) -> list[str]:
    """The distinct values of a (long) column in order of appearance, without iterating over its rows."""
    return [str(v) for v in pd.unique(column)]


def _order(manifest: dict, series: pd.DataFrame) -> list[str]:
    """Designs in the order they were run (the manifest's), whatever order a table sorted them into."""
    named = [s["name"] for s in manifest.get("scenarios", [])]
    present = _distinct(series["scenario"])
    return [d for d in named if d in present] + [d for d in present if d not in named]


def _colours(manifest: dict, series: pd.DataFrame) -> dict:
    """One colour per design, the same on every figure."""
    order = _order(manifest, series)
    return dict(zip(order, sns.color_palette("colorblind", len(order))))


def _dashes(manifest: dict, series: pd.DataFrame) -> dict:
    """A line style per design besides its colour, so that many designs stay apart in print and in grey."""
    styles = ("-", "--", "-.", ":")
    return {d: styles[i % len(styles)] for i, d in enumerate(_order(manifest, series))}


def _legend(ax, title: str) -> None:
    """Up to three entries inside the axes; more go below it, in two columns, clear of the lines."""
    entries = len(ax.get_legend_handles_labels()[1])
    if entries <= 3:
        ax.legend(fontsize=7, title=title, title_fontsize=7, loc="best")
    else:
        ax.legend(fontsize=7, title=title, title_fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                  ncol=2, frameon=False)


def _labels(manifest: dict, lang: str) -> dict[str, str]:
    return {s["name"]: design_label(s["name"], s.get("resolved_config", {}).get("labels"), lang)
            for s in manifest.get("scenarios", [])}


def provenance(manifest: dict, lang: str = "en") -> str:
    scenarios = ", ".join(f"{s['name']} {s.get('config_hash', '')}" for s in manifest.get("scenarios", []))
    return word("provenance", lang, version=manifest.get("versions", {}).get("grassroots", ""),
                replicates=manifest.get("replicates"), seed=manifest.get("seed"), scenarios=scenarios,
                date=dt.date.today().isoformat())


def _sign(fig: plt.Figure, text: str) -> None:
    """Provenance in small print along the bottom, wrapped to the figure's width; lay the rest out above."""
    lines = textwrap.wrap(text, width=max(40, int(fig.get_figwidth() * 24))) or [""]
    fig.text(0.01, 0.005, "\n".join(lines), fontsize=5, color="0.4", gid="provenance", va="bottom")
    fig.tight_layout(rect=(0, 0.01 + len(lines) * 7.5 / 72 / fig.get_figheight(), 1, 1))


def _target(metric: str):
    return next((t for t in TARGETS_2027 if t.metric == metric), None)


def target_label(target, lang: str) -> str:
    sign = "≥" if target.direction == "at_least" else "≤"
    return f"{metric_name(target.metric, lang)} {sign} {fmt_value(target.metric, target.value)}"


def _shade_phases(ax, frame: pd.DataFrame, lang: str, names: bool = True) -> None:
    phases = frame.drop_duplicates("date")[["date", "phase"]].sort_values("date")
    for i, (phase, colour) in enumerate(PHASE_SHADE.items()):
        dates = phases.loc[phases["phase"].astype(str) == phase, "date"]
        if len(dates):
            ax.axvspan(dates.min(), dates.max() + pd.offsets.MonthEnd(1), color=colour, zorder=0, lw=0)
            if names:  # staggered, so that the names of short phases do not run into each other
                ax.text(dates.min(), 0.99 - 0.06 * (i % 2), f" {phase_name(phase, lang)}",
                        transform=ax.get_xaxis_transform(), fontsize=6, va="top", color="0.35")


def _headline_rows(series: pd.DataFrame, metric: str) -> pd.DataFrame:
    return series[(series["metric"] == metric) & (series["region"] == "all") & (series["group"] == "all")]


def _y_label(metric: str, lang: str) -> str:
    if metric in METRICS and METRICS[metric].unit == "share per year":
        return word("per_year_axis", lang)
    if is_share(metric):
        return word("share_axis", lang)
    return metric_name(metric, lang)


# --------------------------------------------------------------------------- runs and comparisons


def fan_chart(series: pd.DataFrame, manifest: dict, metric: str, lang: str = "en",
              layout: str = "auto") -> plt.Figure:
    """One outcome over time: median and 50%/90% bands over replicates per design, phases, 2027 target.

    ``layout``: ``overlay`` (designs in one panel), ``panels`` (one panel per design, shared axes) or
    ``auto`` (overlay up to three designs)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    _style(lang)
    sel = _headline_rows(series, metric)
    designs = [d for d in _order(manifest, series) if d in set(_distinct(sel["scenario"]))]
    if not designs:
        raise ValueError(f"no {metric} values to draw")
    labels = _labels(manifest, lang)
    colours = _colours(manifest, series)
    if layout == "auto":
        layout = "overlay" if len(designs) <= 3 else "panels"
    if layout == "overlay":
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        axes, groups = [ax], [designs]
    else:
        ncols = min(3, len(designs))
        nrows = math.ceil(len(designs) / ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.5 * nrows + 0.6), sharex=True,
                                 sharey=True, squeeze=False)
        axes, groups = list(grid.ravel()), [[d] for d in designs]
        for spare in axes[len(designs):]:
            spare.set_visible(False)
    q = sel.groupby(["scenario", "date"], observed=True)["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    target = _target(metric)
    for i, (ax, group) in enumerate(zip(axes, groups)):
        _shade_phases(ax, sel, lang, names=layout == "overlay" or i < 3)
        for design in group:
            d = q.loc[design]
            ax.fill_between(d.index, d[0.05], d[0.95], color=colours[design], alpha=0.18, lw=0)
            ax.fill_between(d.index, d[0.25], d[0.75], color=colours[design], alpha=0.35, lw=0)
            ax.plot(d.index, d[0.5], color=colours[design], ls=_dashes(manifest, series)[design], lw=1.6,
                    label=labels.get(design, design))
        if target is not None:
            ax.axhline(target.value, color="0.15", ls="--", lw=0.9, gid="target")
            if layout == "overlay" or i == 0:
                ax.annotate(word("target_2027", lang, value=fmt_value(metric, target.value), source=target.source),
                            (1.0, target.value), xycoords=("axes fraction", "data"), ha="right", va="top",
                            xytext=(-2, -2), textcoords="offset points", fontsize=6)
        _axis_format(ax.yaxis, metric)
        ax.xaxis.set_major_locator(mdates.YearLocator(1 if layout == "overlay" else 2))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        if layout == "panels":
            ax.set_title(labels.get(group[0], group[0]), fontsize=8)
            ax.tick_params(labelsize=7)
    if layout == "overlay":
        axes[0].set_title(metric_name(metric, lang))
        axes[0].set_ylabel(_y_label(metric, lang))
        _legend(axes[0], word("bands", lang))
    else:
        fig.suptitle(word("fan_caption", lang, metric=metric_name(metric, lang)), fontsize=9)
        for row_start in range(0, len(designs), min(3, len(designs))):
            axes[row_start].set_ylabel(_y_label(metric, lang), fontsize=7)
    _sign(fig, provenance(manifest, lang))
    return fig


def difference_chart(series: pd.DataFrame, manifest: dict, metric: str, reference: str,
                     lang: str = "en") -> plt.Figure:
    """Each design minus the reference over time, paired by replicate: mean and 90% band."""
    _style(lang)
    sel = _headline_rows(series, metric)
    labels = _labels(manifest, lang)
    wide = sel.pivot_table(index=["date", "replicate"], columns="scenario", values="value", observed=True)
    if reference not in wide.columns:
        raise ValueError(f"the reference design {reference!r} has no {metric} values")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    _shade_phases(ax, sel, lang)
    ref = labels.get(reference, reference)
    scale = 100.0 if is_share(metric) else 1.0  # shares are drawn in percentage points
    colours = _colours(manifest, series)
    for design in [d for d in _order(manifest, series) if d != reference and d in wide.columns]:
        colour = colours[design]
        diff = ((wide[design] - wide[reference]) * scale).groupby(level="date")
        ax.fill_between(diff.quantile(0.05).index, diff.quantile(0.05), diff.quantile(0.95), color=colour,
                        alpha=0.25, lw=0)
        ax.plot(diff.mean().index, diff.mean(), color=colour, ls=_dashes(manifest, series)[design], lw=1.6,
                label=word("minus", lang, design=labels.get(design, design), reference=ref))
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_title(word("difference_from", lang, metric=metric_name(metric, lang), reference=ref))
    ax.set_ylabel(word("pp_axis" if is_share(metric) else "difference_axis", lang))
    _legend(ax, word("paired_band", lang))
    _sign(fig, provenance(manifest, lang))
    return fig


def attainment_heatmap(series: pd.DataFrame, manifest: dict, lang: str = "en") -> plt.Figure:
    """Designs x the plan's 2027 targets: the chance of meeting each."""
    _style(lang)
    att = target_attainment(replicate_values(series, years=(2027,)))
    labels = _labels(manifest, lang)
    order = [t.metric for t in TARGETS_2027 if t.metric in set(att["metric"])]
    names = {t.metric: target_label(t, lang) for t in TARGETS_2027}
    if att.empty:
        raise ValueError("no 2027 values: the run ends before 2027")
    designs = [d for d in _order(manifest, series) if d in set(att["design"])]
    table = att.pivot(index="metric", columns="design", values="probability").loc[order, designs]
    table.index = [names[m] for m in table.index]
    table.columns = [labels.get(d, d) for d in table.columns]
    fig, ax = plt.subplots(figsize=(5.6 + 1.0 * table.shape[1], 0.32 * table.shape[0] + 2.0))
    sns.heatmap(table, annot=True, fmt=".0%", cmap="cividis", vmin=0, vmax=1, ax=ax, annot_kws={"fontsize": 7},
                cbar_kws={"label": word("targets_bar", lang), "format": mticker.PercentFormatter(1.0)})
    ax.set_title(word("targets_title", lang))
    ax.set_xlabel(word("design", lang))
    ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=20, labelsize=7)
    ax.tick_params(axis="y", labelsize=7)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    _sign(fig, provenance(manifest, lang))
    return fig


def indicator_table(series: pd.DataFrame, manifest: dict | None = None, lang: str = "en") -> pd.DataFrame:
    """The plan's indicators (policy-facts §3): baseline, 2027 target and source, then each design's 2027 mean
    and 90% interval; indicators the model does not produce are listed as such."""
    labels = _labels(manifest or {}, lang)
    values = replicate_values(series, years=(2027,))
    designs = [d for d in _order(manifest or {}, series) if d in set(values["scenario"])]
    produced = set(values["metric"])
    col = {k: word(f"col_{k}", lang) for k in ("indicator", "dimension", "baseline", "target", "source", "note")}
    rows = []
    for ind in plan_indicators():
        metric, share = INDICATOR_METRIC.get(ind["id"], ind["id"]), "unit" not in ind
        target = fmt_value(metric, ind["target"], share) if ind.get("target") is not None else "—"
        if ind.get("year", 2027) != 2027:
            target += f" ({ind['year']})"
        row = {col["indicator"]: ind[lang], col["dimension"]: pick(DIMENSIONS[ind["dimension"]], lang),
               col["baseline"]: fmt_value(metric, ind.get("baseline"), share), col["target"]: target,
               col["source"]: ind["source"]}
        for design in designs:
            v = values.loc[(values["scenario"] == design) & (values["metric"] == metric), "value"]
            row[labels.get(design, design)] = (
                f"{fmt_value(metric, v.mean(), share)} [{fmt_value(metric, v.quantile(0.05), share)}, "
                f"{fmt_value(metric, v.quantile(0.95), share)}]" if len(v) else "—")
        row[col["note"]] = "" if metric in produced else word("not_produced", lang)
        rows.append(row)
    return pd.DataFrame(rows)


def run_figures(series: pd.DataFrame, manifest: dict, lang: str = "en", layout: str = "auto"):
    """(file name, caption, figure) for a run or comparison."""
    designs = _order(manifest, series)
    labels = _labels(manifest, lang)
    reference = manifest.get("reference") if manifest.get("reference") in designs else designs[0]
    metrics = set(_distinct(series["metric"]))
    drawn = [m for m in HEADLINE if m in metrics]
    figures = [(f"fan_{m}", word("fan_caption", lang, metric=metric_name(m, lang)),
                fan_chart(series, manifest, m, lang, layout)) for m in drawn]
    if len(designs) > 1:
        ref = labels.get(reference, reference)
        figures += [(f"difference_{m}", word("difference_from", lang, metric=metric_name(m, lang), reference=ref),
                     difference_chart(series, manifest, m, reference, lang)) for m in drawn]
    if (pd.DatetimeIndex(series["date"]).year == 2027).any():
        figures.append(("targets_2027", word("targets_title", lang), attainment_heatmap(series, manifest, lang)))
    return figures


# --------------------------------------------------------------------------- sweeps


def sensitivity_figures(analysis: pd.DataFrame, lang: str = "en",
                        signature: str = "") -> list[tuple[str, str, plt.Figure]]:
    """From a sweep's ``analysis.csv``: Sobol first/total-order bars with intervals, or Morris mu*-sigma plots."""
    _style(lang)
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
        _sign(fig, signature)
        figures.append((f"{kind}_{metric}_{year}", word(f"{kind}_caption", lang, metric=metric_name(metric, lang),
                                                        year=year), fig))
    return figures


def _share_factor(path: str) -> bool:
    """Is a sweep factor (config key path) a lever measured as a share?"""
    lever = path.split(".")[1] if path.startswith("levers.") else ""
    return lever in LEVERS and LEVERS[lever][3].startswith("share")


def _level(path: str, value: float) -> str:
    return f"{100 * value:.0f}%" if _share_factor(path) else f"{value:g}"




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
    _style(lang)
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
        target = _target(metric)
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
        _sign(fig, signature)
        figures.append((f"factorial_{metric}_{year}", word("factorial_caption", lang, metric=metric_name(metric, lang),
                                                           year=year, x=factor_name(x, lang),
                                                           y=factor_name(y, lang)), fig))
    return figures


def factor_scatter(means: pd.DataFrame, factors: list[str], outcomes, years, lang: str = "en",
                   signature: str = "") -> list[tuple[str, str, plt.Figure]]:
    """For sampled designs (Latin hypercube, listed scenarios): each outcome (in 2027 if kept, else the last
    year) against each factor, one panel per factor, a point per design point (mean over replicates),
    with the outcome's 2027 target as a dashed line."""
    _style(lang)
    figures = []
    for metric, year, block in _outcome_blocks(means, outcomes, years):
        ncols = min(4, len(factors))
        nrows = math.ceil(len(factors) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.5 * ncols + 0.8, 2.4 * nrows + 0.7), sharey=True,
                                 squeeze=False)
        target = _target(metric)
        for ax, factor in zip(axes.ravel(), factors):
            ax.scatter(block[factor], block["value"], s=10, alpha=0.7)
            if target is not None:
                ax.axhline(target.value, color="0.15", ls="--", lw=0.9, gid="target")
            ax.set_xlabel(factor_name(factor, lang), fontsize=7)
            ax.tick_params(labelsize=7)
            _axis_format(ax.yaxis, metric)
            if _share_factor(factor):
                ax.xaxis.set_major_formatter(mticker.PercentFormatter(1.0))
        for ax in axes.ravel()[len(factors):]:
            ax.set_visible(False)
        for row in axes:
            row[0].set_ylabel(_y_label(metric, lang), fontsize=7)
        fig.suptitle(word("metric_year", lang, metric=metric_name(metric, lang), year=year), fontsize=9)
        _sign(fig, signature)
        figures.append((f"points_{metric}_{year}", word("metric_year", lang, metric=metric_name(metric, lang),
                                                        year=year), fig))
    return figures


def _sweep_signature(manifest: dict, lang: str) -> str:
    return word("provenance_sweep", lang, version=manifest.get("versions", {}).get("grassroots", ""),
                name=manifest.get("spec", {}).get("name", ""), points=manifest.get("points"),
                replicates=manifest.get("replicates"), seed=manifest.get("seed"),
                hash=manifest.get("config_hash", ""), date=dt.date.today().isoformat())


def _sweep_report(folder: Path, formats, out_dir: Path, lang: str) -> Path:
    from .experiments import read_design, read_sweep

    manifest_file = folder / "manifest.json"
    manifest = read_json(manifest_file, "sweep manifest") if manifest_file.exists() else {}
    spec = manifest.get("spec", {})
    analysis = _read_csv(folder / "analysis.csv", "sensitivity indices") if (folder / "analysis.csv").exists() \
        else None
    kind = spec.get("design", {}).get("kind")
    if kind is None and analysis is not None:  # parts and analysis without a manifest (copied results)
        kind = "sobol" if "S1" in analysis else "morris" if "mu_star" in analysis else None
    signature = _sweep_signature(manifest, lang)
    figures, tables = [], []
    if kind in ("sobol", "morris"):
        if analysis is None or not ({"S1", "mu_star"} & set(analysis.columns)):
            raise ValueError(f"{folder}: no sensitivity indices yet; {word('sweep_needs_analysis', 'en')} "
                             f"(`grassroots analyze {manifest.get('spec_file', 'SPEC')}`)")
        figures = sensitivity_figures(analysis, lang, signature)
        tables.append((word("indices_table", lang), table_in(analysis, lang)))
    else:
        design = read_design(folder, manifest or None)
        table = read_sweep(folder)
        if table.empty:
            raise ValueError(f"{folder}: the sweep has no finished runs yet; run `grassroots sweep` on its spec")
        means = point_means(table, design)
        factors = [c for c in design.columns if design[c].nunique() > 1]
        outcomes = spec.get("outcomes", sorted(means["metric"].unique()))
        years = spec.get("years", sorted(means["year"].unique()))
        if kind == "factorial" and len(factors) >= 2:
            figures = factorial_heatmaps(means, factors, outcomes, years, lang, signature)
        elif factors:
            figures = factor_scatter(means, factors, outcomes, years, lang, signature)
        summary = (table[table["region"] == "all"].groupby(["point", "metric", "year"])["value"]
                   .agg(mean="mean", low_90=lambda v: v.quantile(0.05), high_90=lambda v: v.quantile(0.95))
                   .reset_index().join(design, on="point"))
        tables.append((word("factorial_table", lang), table_in(summary, lang)))
    return _write_pages(out_dir, word("sweep_title", lang, name=spec.get("name", folder.name)), signature, figures,
                        formats, tables, lang)


# --------------------------------------------------------------------------- pilot evaluations


def pilot_chart(replicates: pd.DataFrame, lang: str = "en", signature: str = "") -> plt.Figure:
    """Per outcome, per pilot design (selection rule, number of pilots, central/west quota): the office's
    difference-in-differences estimate (mean, 5-95% over replicates) beside the true effect on the pilot
    counties and the true effect of rolling out everywhere, with the estimate's power."""
    _style(lang)
    keys = ["selection", "pilots", "central_west_quota"]
    varying = [k for k in keys[1:] if replicates[k].nunique() > 1]
    metrics = list(dict.fromkeys(replicates["metric"]))
    designs = replicates[keys].drop_duplicates().shape[0]
    width = max(3.4, 0.75 * designs)  # room for each design's tick label
    fig, axes = plt.subplots(1, len(metrics), figsize=(width * len(metrics) + 0.4, 3.9), squeeze=False)
    colours = sns.color_palette("colorblind", 3)
    for ax, metric in zip(axes[0], metrics):
        block = replicates[replicates["metric"] == metric]
        groups = list(block.groupby(keys, sort=True))
        for i, (key, g) in enumerate(groups):
            scale = 100.0 if is_share(metric) else 1.0  # shares in percentage points
            est = g["did_estimate"] * scale
            ax.errorbar([i], [est.mean()], yerr=[[est.mean() - est.quantile(0.05)], [est.quantile(0.95) - est.mean()]],
                        fmt="o", color=colours[0], capsize=3, label=word("pilot_did", lang) if i == 0 else None)
            ax.scatter([i + 0.18], [g["true_effect_pilots"].mean() * scale], marker="D", color=colours[1], zorder=3,
                       label=word("pilot_true_pilots", lang) if i == 0 else None)
            ax.scatter([i + 0.18], [g["true_effect_rollout"].mean() * scale], marker="X", s=45, color=colours[2], zorder=3,
                       label=word("pilot_true_rollout", lang) if i == 0 else None)
        ticks = []
        for (selection, pilots, quota), g in groups:
            parts = [selection_name(selection, lang)]
            if "pilots" in varying:
                parts.append(word("pilots_n", lang, n=pilots))
            if "central_west_quota" in varying:
                parts.append(word("quota", lang, value=f"{quota:.0%}"))
            parts.append(word("pilot_power", lang, value=f"{g['detected'].mean():.0%}"))
            ticks.append("\n".join(parts))
        ax.set_xticks(range(len(groups)), ticks, fontsize=6)
        ax.set_xlim(-0.5, len(groups) - 0.3)
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_title(metric_name(metric, lang), fontsize=8)
        ax.set_ylabel(word("pilot_axis_pp" if is_share(metric) else "pilot_axis", lang), fontsize=7)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.suptitle(word("pilot_caption", lang), fontsize=9)
    _sign(fig, signature)
    bottom = fig.subplotpars.bottom
    fig.subplots_adjust(bottom=bottom + 0.15)
    fig.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncol=1, fontsize=6, frameon=False)
    return fig


PILOT_COLUMNS = ("selection", "central_west_quota", "pilots", "metric", "replicate", "did_estimate", "did_low",
                 "did_high", "true_effect_pilots", "true_effect_rollout", "detected")


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    """A stored table, or a ResultsError naming the file if it cannot be read."""
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:  # pandas' parser errors and bad encodings are ValueErrors
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsError(f"{path}: corrupt {what} ({detail}); run the command that wrote it again") from None


def _pilot_report(folder: Path, formats, out_dir: Path, lang: str) -> Path:
    from .pilot import pilot_summary

    path = folder / "pilot_replicates.csv"
    table = _read_csv(path, "pilot evaluation")
    missing = [c for c in PILOT_COLUMNS if c not in table.columns]
    if missing or table.empty:
        what = "no rows" if table.empty else "no column " + ", ".join(missing)
        raise ResultsError(f"{path}: not a pilot evaluation ({what}); run `grassroots evaluate-pilot` again")
    signature = word("provenance_pilot", lang, version=_version(), source=folder.name,
                     date=dt.date.today().isoformat())
    summary = table_in(pilot_summary(table), lang)
    return _write_pages(out_dir, word("pilot_title", lang), signature,
                        [("pilot_evaluation", word("pilot_caption", lang), pilot_chart(table, lang, signature))],
                        formats, [(word("pilot_table", lang), summary)], lang)


def _version() -> str:
    from . import __version__

    return __version__


# --------------------------------------------------------------------------- pages


def save(fig: plt.Figure, folder: Path, name: str, formats=("png",)) -> list[Path]:
    """Save a figure in each format (PNG at 300 dpi), each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, dpi=300 if fmt == "png" else None, format=fmt)
        tmp.replace(path)
        paths.append(path)
    return paths


def _embedded(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    return base64.b64encode(buffer.getvalue()).decode()


def _write_pages(out_dir: Path, title: str, subtitle: str, figures, formats, tables=(), lang: str = "en") -> Path:
    """Save the figures and write report.md and report.html (figures embedded) with the tables."""
    md = [f"# {title}", "", subtitle, ""]
    page = [f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{html_lib.escape(title)}</title><style>body{{font-family:sans-serif;max-width:60em;"
            "margin:auto}} table{{border-collapse:collapse;font-size:small}} td,th{{border:1px solid #ccc;"
            "padding:2px 6px}}</style></head>"
            f"<body><h1>{html_lib.escape(title)}</h1><p><small>{html_lib.escape(subtitle)}</small></p>"]
    linked = "png" if "png" in formats else formats[0]
    for name, caption, fig in figures:
        save(fig, out_dir, name, formats)
        md += [f"## {caption}", "", f"![{caption}]({name}.{linked})", ""]
        page.append(f"<h2>{html_lib.escape(caption)}</h2><img style='max-width:100%' alt='{html_lib.escape(caption)}'"
                    f" src='data:image/png;base64,{_embedded(fig)}'>")
        plt.close(fig)
    for caption, table in tables:
        md += [f"## {caption}", "", markdown_table(table, digits=3), ""]
        page.append(f"<h2>{html_lib.escape(caption)}</h2>" + table.to_html(index=False, float_format="{:.3g}".format))
    page.append("</body></html>")
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "report.md", "\n".join(md))
    atomic_write_text(out_dir / "report.html", "\n".join(page))
    return out_dir


def kind_of(folder: Path) -> str:
    """What a results folder holds: ``run`` (a run or comparison), ``sweep`` or ``pilot``; a ResultsError
    (a ValueError) naming the folder and what was expected if none of them."""
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such results folder")
    if (folder / "series.parquet").exists():
        return "run"
    if (folder / "design.csv").exists() or (folder / "parts").is_dir():
        return "sweep"
    if (folder / "pilot_replicates.csv").exists():
        return "pilot"
    if (folder / "manifest.json").exists():
        return "run"  # the series is missing: read_run says so
    raise ResultsError(f"{folder}: no stored results to report on; expected a run or compare folder "
                       "(series.parquet + manifest.json), a sweep folder (design.csv + parts/) or a pilot "
                       "evaluation folder (pilot_replicates.csv)")


def build_report(results_dir: str | Path, formats=("png", "svg"), out: str | Path | None = None, lang: str = "en",
                 layout: str = "auto") -> Path:
    """Figures and a report (HTML with embedded figures, and Markdown) from a run, comparison, sweep or pilot
    evaluation folder. Written to ``out`` (default ``RESULTS_DIR/report``, or ``report_zh`` in Chinese)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown figure format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    folder = Path(results_dir)
    out_dir = Path(out) if out else folder / ("report" if lang == "en" else f"report_{lang}")
    kind = kind_of(folder)
    rc_for(lang)  # fail early, before any figure, if Chinese has no font
    fresh = not out_dir.exists()
    check_writable(out_dir)  # and if the report cannot be written (a file in the way, read-only, full disk)
    try:
        with plt.rc_context():  # the report's style and fonts do not outlive the call
            return _build(folder, kind, formats, out_dir, lang, layout)
    except BaseException:
        if fresh:  # stored results that cannot be read: leave no empty report folder behind
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise


def _build(folder: Path, kind: str, formats, out_dir: Path, lang: str, layout: str) -> Path:
    if kind == "sweep":
        return _sweep_report(folder, formats, out_dir, lang)
    if kind == "pilot":
        return _pilot_report(folder, formats, out_dir, lang)
    series, manifest = read_run(folder)
    labels = _labels(manifest, lang)
    designs = [labels.get(d, d) for d in _order(manifest, series)]
    table = indicator_table(series, manifest, lang)
    return _write_pages(out_dir, word("report_title", lang, designs=", ".join(designs)), provenance(manifest, lang),
                        run_figures(series, manifest, lang, layout), formats,
                        [(word("indicator_table", lang), table)], lang)
