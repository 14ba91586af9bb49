"""Figures from stored results (never by running the model).

``headline_figure`` draws the three headline outcomes 2023-2030 for each
scenario: the mean over replicates and its 90% band, phases shaded, the
plan's 2027 target as a line.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .summary import HEADLINE  # noqa: E402

LABELS = {
    "turnover_rate": ("Cadre turnover", 0.10, "target <= 10% (§9.2)"),
    "service_time_share": ("Cadre time serving residents", 0.60, "target >= 60% (§3.4)"),
    "participation_rate": ("Residents taking part in decisions", 0.70, "target >= 70% (§3.4)"),
    "meeting_attendance_rate": ("Meeting attendance", 0.60, "target >= 60% (§3.2.3)"),
}
PHASE_COLOURS = {"pilot": "#f0f0f0", "rollout": "#e0e0e0", "consolidation": "#f7f7f7"}


def headline_figure(series: pd.DataFrame, manifest: dict | None = None, metrics=HEADLINE,
                    region: str = "all", group: str = "all") -> plt.Figure:
    """Monthly mean and 90% band over replicates of each headline outcome, one panel per outcome."""
    sns.set_theme(style="whitegrid", context="paper")
    sel = series[(series["region"] == region) & (series["group"] == group) & series["metric"].isin(metrics)]
    scenarios = list(dict.fromkeys(sel["scenario"].astype(str)))
    palette = dict(zip(scenarios, sns.color_palette("colorblind", len(scenarios))))
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), sharex=True)
    axes = [axes] if len(metrics) == 1 else list(axes)
    phases = sel.drop_duplicates("date")[["date", "phase"]].sort_values("date")
    for ax, metric in zip(axes, metrics):
        for phase, colour in PHASE_COLOURS.items():
            dates = phases.loc[phases["phase"] == phase, "date"]
            if len(dates):
                ax.axvspan(dates.min(), dates.max() + pd.offsets.MonthEnd(1), color=colour, zorder=0, lw=0)
                ax.text(dates.min(), 1.0, f" {phase}", transform=ax.get_xaxis_transform(), fontsize=7,
                        va="top", color="0.35")
        data = sel[sel["metric"] == metric]
        stats = data.groupby(["scenario", "date"], observed=True)["value"].agg(
            mean="mean", low=lambda v: v.quantile(0.05), high=lambda v: v.quantile(0.95)).reset_index()
        for scenario in scenarios:
            s = stats[stats["scenario"] == scenario]
            ax.fill_between(s["date"], s["low"], s["high"], color=palette[scenario], alpha=0.25, lw=0)
            ax.plot(s["date"], s["mean"], color=palette[scenario], lw=1.6, label=scenario)
        title, target, target_label = LABELS.get(metric, (metric, None, ""))
        if target is not None:
            ax.axhline(target, color="0.2", ls="--", lw=0.9)
            ax.annotate(target_label, (1.0, target), xycoords=("axes fraction", "data"), ha="right",
                        va="bottom", fontsize=7, color="0.2")
        ax.set_title(title)
        ax.set_xlabel("")
        ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0))
        ax.set_ylim(0, max(1.0, float(stats["high"].max()) * 1.05) if metric != "turnover_rate" else None)
    axes[0].legend(loc="best", fontsize=8, title="scenario (mean, 90% band)", title_fontsize=7)
    if manifest:
        hashes = ", ".join(f"{s['name']} {s['config_hash']}" for s in manifest.get("scenarios", []))
        fig.text(0.01, 0.005, f"grassroots {manifest.get('versions', {}).get('grassroots', '')} | "
                 f"{manifest.get('replicates')} replicates, seed {manifest.get('seed')} | configs: {hashes} | "
                 f"region {region}, group {group}", fontsize=6, color="0.4")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
