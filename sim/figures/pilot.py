"""The pilot evaluation figure: per outcome and pilot design, the office's difference-in-differences
estimate beside the true effects, with the estimate's power."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..text import metric_name, selection_name, word
from .style import apply_style, colours, is_share, sign


def pilot_chart(replicates: pd.DataFrame, lang: str = "en", signature: str = "") -> plt.Figure:
    """Per outcome, per pilot design (selection rule, number of pilots, central/west quota): the office's
    difference-in-differences estimate (mean, 5-95% over replicates) beside the true effect on the pilot
    counties and the true effect of rolling out everywhere, with the estimate's power."""
    apply_style(lang)
    keys = ["selection", "pilots", "central_west_quota"]
    varying = [k for k in keys[1:] if replicates[k].nunique() > 1]
    metrics = list(dict.fromkeys(replicates["metric"]))
    designs = replicates[keys].drop_duplicates().shape[0]
    width = max(3.4, 0.75 * designs)  # room for each design's tick label
    fig, axes = plt.subplots(1, len(metrics), figsize=(width * len(metrics) + 0.4, 3.9), squeeze=False)
    palette = colours(3)
    for ax, metric in zip(axes[0], metrics):
        block = replicates[replicates["metric"] == metric]
        groups = list(block.groupby(keys, sort=True))
        for i, (key, g) in enumerate(groups):
            scale = 100.0 if is_share(metric) else 1.0  # shares in percentage points
            est = g["did_estimate"] * scale
            ax.errorbar([i], [est.mean()], yerr=[[est.mean() - est.quantile(0.05)], [est.quantile(0.95) - est.mean()]],
                        fmt="o", color=palette[0], capsize=3, label=word("pilot_did", lang) if i == 0 else None)
            ax.scatter([i + 0.18], [g["true_effect_pilots"].mean() * scale], marker="D", color=palette[1], zorder=3,
                       label=word("pilot_true_pilots", lang) if i == 0 else None)
            ax.scatter([i + 0.18], [g["true_effect_rollout"].mean() * scale], marker="X", s=45, color=palette[2], zorder=3,
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
    sign(fig, signature)
    bottom = fig.subplotpars.bottom
    fig.subplots_adjust(bottom=bottom + 0.15)
    fig.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 0.03), ncol=1, fontsize=6, frameon=False)
    return fig
