"""The one look of every figure: theme and fonts, design colours and line styles, units on axes, phase
shading, the plan's 2027 target line, provenance in small print, and saving.

Each figure function of this package starts with :func:`figure` (the theme and the fonts of its language,
then ``plt.subplots``; or :func:`apply_style` once before drawing several) and ends with :func:`sign`
(provenance along the bottom); :func:`save` writes it in each format. Designs keep one colour and one line style on every figure: :func:`design_colours`,
:func:`design_dashes`, in the order the designs were run (:func:`design_order`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.collections

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..compare import TARGETS_2027, Target  # noqa: E402
from ..config.schema import LEVERS  # noqa: E402
from ..model.metrics import METRICS  # noqa: E402
from ..text import axis_name, design_label, metric_name, phase_name, source_in, word  # noqa: E402
from .fonts import rc_for  # noqa: E402

PALETTE = "colorblind"
PHASE_SHADE = {"pilot": "#f0f0f0", "rollout": "#e3e3e3", "consolidation": "#f7f7f7"}
LINE_STYLES = ("-", "--", "-.", ":")
TARGET_COLOUR = "0.15"
FORMATS = ("png", "svg", "pdf")
PNG_DPI = 300


# --------------------------------------------------------------------------- theme and fonts


def apply_style(lang: str = "en") -> None:
    """The one style of every figure (seaborn whitegrid, paper context, colour-blind palette) with the fonts
    for ``lang``; raises :class:`~sim.figures.fonts.CJKFontNotFound` if Chinese has no font."""
    matplotlib.rcdefaults()
    # TrueType (Type 42) fonts in PDF and PostScript: print shops and journals refuse Type 3 fonts
    sns.set_theme(style="whitegrid", context="paper", palette=PALETTE,
                  rc={"pdf.fonttype": 42, "ps.fonttype": 42, **rc_for(lang)})


def figure(*args, lang: str = "en", **kwargs):
    """``plt.subplots(*args, **kwargs)`` in the style of ``lang``: ``(fig, axes)``."""
    apply_style(lang)
    return plt.subplots(*args, **kwargs)


def colours(n: int) -> list:
    """``n`` colours of the palette."""
    return sns.color_palette(PALETTE, n)


def save(fig: plt.Figure, folder: str | Path, name: str, formats=("png",), dpi: int = PNG_DPI) -> list[Path]:
    """Save a figure as ``folder/name.FORMAT`` in each format (PNG at ``dpi``), each written atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, dpi=dpi if fmt == "png" else None, format=fmt)
        tmp.replace(path)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- units


def is_share(metric: str) -> bool:
    """Is the metric a share (drawn as a percentage)?"""
    return metric in METRICS and METRICS[metric].unit.startswith("share")


def is_share_factor(path: str) -> bool:
    """Is a sweep factor (config key path) a lever measured as a share?"""
    lever = path.split(".")[1] if path.startswith("levers.") else ""
    return lever in LEVERS and LEVERS[lever][3].startswith("share")


def fmt_value(metric: str, value: float, share: bool | None = None) -> str:
    """A value for a figure or table: shares as percentages (``share`` overrides the metric's unit)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if is_share(metric) if share is None else share:
        return f"{100 * value:.1f}%"
    return f"{value:.3g}"


def percent_axis(axis, metric: str) -> None:
    """Tick labels in percent if ``metric`` is a share."""
    if is_share(metric):
        axis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=None))


def y_label(metric: str, lang: str) -> str:
    """The y-axis label of a metric: what its share is of (:data:`sim.text.AXES`), its unit (share, share
    per year) or its name."""
    if axis_name(metric, lang):
        return axis_name(metric, lang)
    if metric in METRICS and METRICS[metric].unit == "share per year":
        return word("per_year_axis", lang)
    if is_share(metric):
        return word("share_axis", lang)
    return metric_name(metric, lang)


# --------------------------------------------------------------------------- designs


def distinct(column: pd.Series) -> list[str]:
    """The distinct values of a (long) column in order of appearance, without iterating over its rows."""
    return [str(v) for v in pd.unique(column)]


def design_order(manifest: dict, series: pd.DataFrame) -> list[str]:
    """Designs in the order they were run (the manifest's), whatever order a table sorted them into."""
    named = [s["name"] for s in manifest.get("scenarios", [])]
    present = distinct(series["scenario"])
    return [d for d in named if d in present] + [d for d in present if d not in named]


def design_colours(manifest: dict, series: pd.DataFrame) -> dict:
    """One colour per design, the same on every figure."""
    order = design_order(manifest, series)
    return dict(zip(order, colours(len(order))))


def design_dashes(manifest: dict, series: pd.DataFrame) -> dict:
    """A line style per design besides its colour, so that many designs stay apart in print and in grey."""
    return {d: LINE_STYLES[i % len(LINE_STYLES)] for i, d in enumerate(design_order(manifest, series))}


def design_labels(manifest: dict, lang: str) -> dict[str, str]:
    """Each design's name on figures (its config's ``labels``, else its scenario name)."""
    return {s["name"]: design_label(s["name"], s.get("resolved_config", {}).get("labels"), lang)
            for s in manifest.get("scenarios", [])}


def legend(ax, title: str, handles=None, labels=None, ncol: int | None = None):
    """The legend below the axes, outside them, so that it never covers the data or the phase names (up to
    three entries a row). ``handles`` and ``labels`` default to the axes' own."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    return ax.legend(handles, labels, fontsize=7, title=title, title_fontsize=7, loc="upper center",
                     bbox_to_anchor=(0.5, -0.12), ncol=ncol or min(3, len(labels)), frameon=False)


def headroom(ax, top: float = 0.2, bottom: float = 0.06) -> None:
    """Y limits with margins around everything drawn (bands, lines, the target): ``top`` of the axis height
    above it is left free for the phase names, ``bottom`` below it."""
    lo, hi = ax.dataLim.y0, ax.dataLim.y1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return
    span = (hi - lo) or abs(hi) or 1.0
    inner = span / (1 - top - bottom)
    ax.set_ylim(lo - bottom * inner, hi + top * inner)


# --------------------------------------------------------------------------- phases and targets


def shade_phases(ax, frame: pd.DataFrame, lang: str, names: bool = True) -> None:
    """Shade the reform's phases (from the ``date`` and ``phase`` columns of ``frame``) and name them."""
    phases = frame.drop_duplicates("date")[["date", "phase"]].sort_values("date")
    for i, (phase, colour) in enumerate(PHASE_SHADE.items()):
        dates = phases.loc[phases["phase"].astype(str) == phase, "date"]
        if len(dates):
            ax.axvspan(dates.min(), dates.max() + pd.offsets.MonthEnd(1), color=colour, zorder=0, lw=0)
            if names:  # staggered, so that the names of short phases do not run into each other
                ax.text(dates.min(), 0.985 - 0.06 * (i % 2), f" {phase_name(phase, lang)}",
                        transform=ax.get_xaxis_transform(), fontsize=6, va="top", color="0.35", gid="phase")


def target_for(metric: str) -> Target | None:
    """The plan's 2027 target for ``metric``, if it has one."""
    return next((t for t in TARGETS_2027 if t.metric == metric), None)


def target_label(target: Target, lang: str) -> str:
    """'name ≥ value' of a target."""
    sign = "≥" if target.direction == "at_least" else "≤"
    return f"{metric_name(target.metric, lang)} {sign} {fmt_target(target.metric, target.value)}"


def fmt_target(metric: str, value: float) -> str:
    """A target as the plan states it: 60%, 10 (no trailing zeros)."""
    return f"{100 * value:g}%" if is_share(metric) else f"{value:g}"


def target_text(target: Target, lang: str) -> str:
    """'2027 target ≥ 60% (§3.2.1, §3.4)'."""
    return word("target_legend", lang, sign="≥" if target.direction == "at_least" else "≤",
                value=fmt_target(target.metric, target.value), source=source_in(target.source, lang))


def target_line(ax, metric: str, lang: str | None = None) -> Target | None:
    """The metric's 2027 target as a dashed line (gid ``target``), named in the legend (its value and source)
    when ``lang`` is given; the line is kept inside the axis range by :func:`headroom`. Returns the target, or
    None if the metric has none."""
    target = target_for(metric)
    if target is None:
        return None
    label = target_text(target, lang) if lang is not None else "_nolegend_"
    ax.axhline(target.value, color=TARGET_COLOUR, ls="--", lw=0.9, gid="target", label=label)
    return target


# --------------------------------------------------------------------------- provenance


def provenance(manifest: dict, lang: str = "en") -> str:
    """The small print of a run's figures: version, replicates, seed, each design's config hash, date."""
    scenarios = ("、" if lang == "zh" else ", ").join(f"{s['name']} {s.get('config_hash', '')}".strip()
                                                      for s in manifest.get("scenarios", []))
    fields = dict(version=manifest.get("versions", {}).get("grassroots", ""), replicates=manifest.get("replicates"),
                  seed=manifest.get("seed"), scenarios=scenarios, date=dt.date.today().isoformat())
    draws = manifest.get("draws")
    if draws:  # run under parameter draws: how many, and which ensemble (its SHA-256, shortened)
        ensemble = (draws.get("ensemble") or {}).get("sha256") or draws.get("values_sha256", "")
        return word("provenance_draws", lang, draws=draws["draws"], ensemble=ensemble[:12], **fields)
    return word("provenance", lang, **fields)


def sweep_provenance(manifest: dict, lang: str = "en") -> str:
    """The small print of a sweep's figures."""
    return word("provenance_sweep", lang, version=manifest.get("versions", {}).get("grassroots", ""),
                name=manifest.get("spec", {}).get("name", ""), points=manifest.get("points"),
                replicates=manifest.get("replicates"), seed=manifest.get("seed"),
                hash=manifest.get("config_hash", ""), date=dt.date.today().isoformat())


# laid-out subplot parameters kept by `reused_layout`: a figure drawn again with the same words (a page
# redrawing after a lever moves) skips tight_layout, a third of its drawing time
_LAYOUTS: dict = {}
_LAYOUT_KEY: list = [None]


@contextlib.contextmanager
def reused_layout(key):
    """Inside, :func:`sign` lays a figure out with ``tight_layout`` the first time for ``key`` (anything
    hashable that fixes the figure's words: its kind, language, design labels) and then reuses those
    subplot parameters. Tick labels of other widths may then sit a little closer to the edge."""
    _LAYOUT_KEY[0] = key
    try:
        yield
    finally:
        _LAYOUT_KEY[0] = None


def annotated_heatmap(ax: plt.Axes, table: pd.DataFrame, text, *, cmap: str, vmin: float, vmax: float,
                      fontsize: float = 7) -> matplotlib.collections.QuadMesh:
    """``table`` as a grid of coloured cells, first row on top, each cell labelled with ``text`` (an array of
    the table's shape) in dark or white by the cell's luminance: the look of ``seaborn.heatmap(annot=...)``,
    without the extra drawing of the whole figure it does to see whether tick labels overlap (half the time
    of a figure on the explore page). Returns the cells, for a colour bar."""
    values = table.to_numpy(dtype=float)
    rows, cols = values.shape
    mesh = ax.pcolormesh(values, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_xticks([c + 0.5 for c in range(cols)], [str(c) for c in table.columns])
    ax.set_yticks([r + 0.5 for r in range(rows)], [str(r) for r in table.index], rotation=0, va="center")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colours = mesh.cmap(mesh.norm(values))
    for r in range(rows):
        for c in range(cols):
            if math.isfinite(values[r, c]):
                dark = sns.utils.relative_luminance(colours[r, c]) > 0.408  # seaborn's own threshold
                ax.text(c + 0.5, r + 0.5, text[r][c], ha="center", va="center", fontsize=fontsize,
                        color="0.15" if dark else "w")
    return mesh


def sign(fig: plt.Figure, text: str) -> None:
    """Provenance in small print along the bottom, wrapped to the figure's width; lay the rest out above."""
    lines = textwrap.wrap(text, width=max(40, int(fig.get_figwidth() * 24))) or [""]
    fig.text(0.01, 0.005, "\n".join(lines), fontsize=5, color="0.4", gid="provenance", va="bottom")
    key = _LAYOUT_KEY[0]
    if key is not None and (key, len(lines)) in _LAYOUTS:
        fig.subplots_adjust(**_LAYOUTS[(key, len(lines))])
        return
    fig.tight_layout(rect=(0, 0.01 + len(lines) * 7.5 / 72 / fig.get_figheight(), 1, 1))
    if key is not None:
        pars = fig.subplotpars
        _LAYOUTS[(key, len(lines))] = {k: getattr(pars, k) for k in ("left", "right", "bottom", "top",
                                                                     "wspace", "hspace")}
