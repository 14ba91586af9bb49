"""Figures and a self-contained report from stored results (a run or a comparison folder).

Figures are built from the stored tables only (never by running the model):
fan charts of the headline outcomes (median, 50% and 90% bands over
replicates, phases shaded, the plan's 2027 target as a line), difference
charts (each design minus the reference, paired by replicate), and a heat map
of the chance of meeting each 2027 target. Every figure carries its
provenance (config hashes, replicates, seed, date) in small print, uses a
colour-blind-safe palette, and is saved as PNG (300 dpi) and any of SVG/PDF.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .compare import TARGETS_2027, replicate_values, target_attainment  # noqa: E402
from .store import atomic_write_text, read_run  # noqa: E402
from .summary import HEADLINE, markdown_table  # noqa: E402

TITLES = {
    "turnover_rate": "Cadre turnover (per year)",
    "service_time_share": "Cadre time serving residents",
    "participation_rate": "Residents taking part in decisions",
    "meeting_attendance_rate": "Meeting attendance",
}
PHASE_SHADE = {"pilot": "#f0f0f0", "rollout": "#e3e3e3", "consolidation": "#f7f7f7"}


def _style() -> None:
    sns.set_theme(style="whitegrid", context="paper", palette="colorblind")


def provenance(manifest: dict) -> str:
    scenarios = ", ".join(f"{s['name']} {s.get('config_hash', '')}" for s in manifest.get("scenarios", []))
    return (f"grassroots {manifest.get('versions', {}).get('grassroots', '')} | {manifest.get('replicates')} "
            f"replicates, seed {manifest.get('seed')} | {scenarios} | report {dt.date.today().isoformat()}")


def _target(metric: str):
    return next((t for t in TARGETS_2027 if t.metric == metric), None)


def _shade_phases(ax, frame: pd.DataFrame) -> None:
    phases = frame.drop_duplicates("date")[["date", "phase"]].sort_values("date")
    for phase, colour in PHASE_SHADE.items():
        dates = phases.loc[phases["phase"].astype(str) == phase, "date"]
        if len(dates):
            ax.axvspan(dates.min(), dates.max() + pd.offsets.MonthEnd(1), color=colour, zorder=0, lw=0)
            ax.text(dates.min(), 0.99, f" {phase}", transform=ax.get_xaxis_transform(), fontsize=6, va="top",
                    color="0.35")


def fan_chart(series: pd.DataFrame, manifest: dict, metric: str) -> plt.Figure:
    """One outcome over time: median and 50%/90% bands over replicates per design, phases, 2027 target."""
    _style()
    sel = series[(series["metric"] == metric) & (series["region"] == "all") & (series["group"] == "all")]
    designs = list(dict.fromkeys(sel["scenario"].astype(str)))
    colours = dict(zip(designs, sns.color_palette("colorblind", len(designs))))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    _shade_phases(ax, sel)
    q = sel.groupby(["scenario", "date"], observed=True)["value"].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    for design in designs:
        d = q.loc[design]
        ax.fill_between(d.index, d[0.05], d[0.95], color=colours[design], alpha=0.18, lw=0)
        ax.fill_between(d.index, d[0.25], d[0.75], color=colours[design], alpha=0.35, lw=0)
        ax.plot(d.index, d[0.5], color=colours[design], lw=1.6, label=design)
    target = _target(metric)
    if target is not None:
        ax.axhline(target.value, color="0.15", ls="--", lw=0.9, gid="target")
        ax.annotate(f"2027 target {target.value:.0%} ({target.source})", (1.0, target.value),
                    xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7)
    ax.set_title(TITLES.get(metric, metric))
    ax.set_ylabel("share of cadres / residents" if metric != "turnover_rate" else "share per year")
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax.legend(fontsize=7, title="median, 50% and 90% bands", title_fontsize=7, loc="best")
    fig.text(0.01, 0.005, provenance(manifest), fontsize=5, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def difference_chart(series: pd.DataFrame, manifest: dict, metric: str, reference: str) -> plt.Figure:
    """Each design minus the reference over time, paired by replicate: mean and 90% band."""
    _style()
    sel = series[(series["metric"] == metric) & (series["region"] == "all") & (series["group"] == "all")]
    wide = sel.pivot_table(index=["date", "replicate"], columns="scenario", values="value", observed=True)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    _shade_phases(ax, sel)
    for design, colour in zip([c for c in wide.columns if c != reference], sns.color_palette("colorblind")):
        diff = (wide[design] - wide[reference]).groupby(level="date")
        ax.fill_between(diff.quantile(0.05).index, diff.quantile(0.05), diff.quantile(0.95), color=colour,
                        alpha=0.25, lw=0)
        ax.plot(diff.mean().index, diff.mean(), color=colour, lw=1.6, label=f"{design} - {reference}")
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_title(f"{TITLES.get(metric, metric)}: difference from {reference}")
    ax.set_ylabel("percentage points")
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
    ax.legend(fontsize=7, title="mean, paired 90% band", title_fontsize=7)
    fig.text(0.01, 0.005, provenance(manifest), fontsize=5, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def attainment_heatmap(series: pd.DataFrame, manifest: dict) -> plt.Figure:
    """Designs x the plan's 2027 targets: the chance of meeting each."""
    _style()
    att = target_attainment(replicate_values(series, years=(2027,)))
    table = att.pivot(index="target", columns="design", values="probability")
    fig, ax = plt.subplots(figsize=(6.0 + 0.9 * table.shape[1], 0.35 * table.shape[0] + 1.6))
    sns.heatmap(table, annot=True, fmt=".0%", cmap="cividis", vmin=0, vmax=1, ax=ax,
                cbar_kws={"label": "probability of meeting the 2027 target"})
    ax.set_title("Chance of meeting the plan's 2027 targets")
    ax.set_xlabel("design")
    ax.set_ylabel("")
    fig.text(0.01, 0.005, provenance(manifest), fontsize=5, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def save(fig: plt.Figure, folder: Path, name: str, formats=("png",)) -> list[Path]:
    """Save a figure in each format (PNG at 300 dpi)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        fig.savefig(path, dpi=300 if fmt == "png" else None, format=fmt)
        paths.append(path)
    return paths


def _embedded(fig: plt.Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    return base64.b64encode(buffer.getvalue()).decode()


def indicator_table(series: pd.DataFrame) -> pd.DataFrame:
    """The plan's 2027 targets with each design's 2027 mean and 90% interval; indicators the model does not
    produce are listed as such."""
    values = replicate_values(series, years=(2027,))
    rows = []
    for t in TARGETS_2027:
        row = {"indicator": t.label, "target": t.value, "source": t.source}
        for design, block in values[values["metric"] == t.metric].groupby("scenario"):
            v = block["value"]
            row[design] = f"{v.mean():.3g} [{v.quantile(0.05):.3g}, {v.quantile(0.95):.3g}]"
        rows.append(row)
    for name in ("power/responsibility list match", "training attainment", "facility idle rate",
                 "digital governance coverage", "fiscal self-sufficiency", "central/west per-capita investment",
                 "urban:rural facility area", "rural elderly-care beds", "fund integration"):
        rows.append({"indicator": name, "target": np.nan, "source": "§3.4", "note": "not produced by the model"})
    return pd.DataFrame(rows)


def sensitivity_figures(analysis: pd.DataFrame) -> list[tuple[str, str, plt.Figure]]:
    """From a sweep's ``analysis.csv``: Sobol first/total-order bars with intervals, or Morris mu*-sigma plots."""
    _style()
    figures = []
    for (metric, year), block in analysis.groupby(["metric", "year"]):
        short = [f.split(".")[1] if f.startswith("levers.") else f.split(".")[-1] for f in block["factor"]]
        if "S1" in block:
            fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(block) + 1.6))
            y = np.arange(len(block))
            ax.barh(y - 0.2, block["S1"], 0.4, xerr=block["S1_conf"], label="first order (S1)")
            ax.barh(y + 0.2, block["ST"], 0.4, xerr=block["ST_conf"], label="total order (ST)")
            ax.set_yticks(y, short)
            ax.set_xlabel("Sobol index (share of variance), 95% interval")
            kind = "sobol"
        else:
            fig, ax = plt.subplots(figsize=(6.4, 4.2))
            ax.errorbar(block["mu_star"], block["sigma"], xerr=block["mu_star_conf"], fmt="o")
            for x, yv, label in zip(block["mu_star"], block["sigma"], short):
                ax.annotate(label, (x, yv), fontsize=6, xytext=(3, 3), textcoords="offset points")
            ax.set_xlabel("mu* (mean absolute elementary effect)")
            ax.set_ylabel("sigma (interaction / non-linearity)")
            kind = "morris"
        ax.set_title(f"{TITLES.get(metric, metric)}, {year}")
        if kind == "sobol":
            ax.legend(fontsize=7)
        fig.tight_layout()
        figures.append((f"{kind}_{metric}_{year}", f"{kind.title()} sensitivity: {TITLES.get(metric, metric)}, {year}",
                        fig))
    return figures


def build_report(results_dir: str | Path, formats=("png", "svg"), out: str | Path | None = None) -> Path:
    """Figures and a report (HTML with embedded figures, and Markdown) from a run, comparison or sweep folder."""
    folder = Path(results_dir)
    if not (folder / "series.parquet").exists() and (folder / "analysis.csv").exists():
        return _sweep_report(folder, formats, Path(out) if out else folder / "report")
    series, manifest = read_run(results_dir)
    out_dir = Path(out) if out else Path(results_dir) / "report"
    designs = list(dict.fromkeys(series["scenario"].astype(str)))
    figures: list[tuple[str, str, plt.Figure]] = []
    for metric in HEADLINE:
        figures.append((f"fan_{metric}", f"{TITLES[metric]}: median and 50%/90% bands", fan_chart(
            series, manifest, metric)))
    if len(designs) > 1:
        for metric in HEADLINE:
            figures.append((f"difference_{metric}", f"{TITLES[metric]}: difference from {designs[0]}",
                            difference_chart(series, manifest, metric, designs[0])))
    figures.append(("targets_2027", "Chance of meeting the 2027 targets", attainment_heatmap(series, manifest)))
    table = indicator_table(series).astype(object).fillna("")
    return _write_pages(out_dir, f"grassroots report: {', '.join(designs)}", provenance(manifest), figures, formats,
                        [("The plan's indicators in 2027", table)])


def _write_pages(out_dir: Path, title: str, subtitle: str, figures, formats, tables=()) -> Path:
    """Save the figures and write report.md and report.html (figures embedded) with the tables."""
    md = [f"# {title}", "", subtitle, ""]
    html = [f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
            f"<p><small>{subtitle}</small></p>"]
    for name, caption, fig in figures:
        save(fig, out_dir, name, formats)
        md += [f"## {caption}", "", f"![{caption}]({name}.png)", ""]
        html.append(f"<h2>{caption}</h2><img style='max-width:100%' src='data:image/png;base64,{_embedded(fig)}'>")
        plt.close(fig)
    for caption, table in tables:
        md += [f"## {caption}", "", markdown_table(table, digits=3), ""]
        html.append(f"<h2>{caption}</h2>" + table.to_html(index=False))
    html.append("</body></html>")
    atomic_write_text(out_dir / "report.md", "\n".join(md))
    atomic_write_text(out_dir / "report.html", "\n".join(html))
    return out_dir


def _sweep_report(folder: Path, formats, out_dir: Path) -> Path:
    analysis = pd.read_csv(folder / "analysis.csv")
    if "S1" not in analysis and "mu_star" not in analysis:
        raise ValueError(f"{folder}/analysis.csv holds a per-point summary; sensitivity charts need a Sobol or "
                         "Morris sweep")
    return _write_pages(out_dir, f"grassroots sweep report: {folder.name}",
                        f"from {folder}/analysis.csv ({dt.date.today().isoformat()})",
                        sensitivity_figures(analysis), formats, [("Indices", analysis)])
