"""The calibration fit figure (``calibration-fit.png`` of ``grassroots calibrate``): each 2023 target's plan
value with its tolerance beside the simulated mean and 90% interval, and which parameter moves which
target."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..model.metrics import METRICS
from .style import figure


def fit_figure(result) -> plt.Figure:
    """Left: each target's plan value with its tolerance band and the simulated mean with its 90% interval.
    Right: how strongly each target moves with each parameter (|Jacobian| x parameter range).

    ``result`` is a :class:`sim.calibrate.CalibrationResult`; its ``fit`` rows follow ``sim.calibrate.TARGETS``."""
    from ..calibrate import TARGETS

    fit = result.fit
    fig, (ax, ax2) = figure(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [1, 1.3]})
    y = np.arange(len(fit))[::-1]
    points = np.array([METRICS[t.metric].unit == "0-100" for t in TARGETS])
    scale = np.where(points, 100.0, 1.0)  # show everything on a 0-1 axis
    ax.barh(y, 2 * fit["tolerance"] / scale, left=(fit["plan"] - fit["tolerance"]) / scale, color="#cfe2f3",
            label="plan figure +- tolerance")
    ax.plot(fit["plan"] / scale, y, "|", color="#1f4e79", ms=14, mew=2)
    ax.errorbar(fit["simulated_mean"] / scale, y, xerr=[(fit["simulated_mean"] - fit["low_90"]) / scale,
                                                         (fit["high_90"] - fit["simulated_mean"]) / scale],
                fmt="o", color="#d55e00", label="simulated mean, 90% interval")
    ax.set_yticks(y, [t + (" (/100)" if p else "") for t, p in zip(fit["target"], points)])
    ax.set_xlabel("2023 value (share)")
    ax.set_title("Fit to the plan's 2023 figures")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7, frameon=False)
    width = np.array([f.high - f.low for f in result.free])
    strength = np.abs(result.jacobian) * width
    sns.heatmap(pd.DataFrame(strength, index=fit["target"], columns=[f.name for f in result.free]),
                ax=ax2, cmap="Blues", cbar_kws={"label": "|change in standardised distance| over the range"})
    ax2.set_title("Which parameter moves which target")
    ax2.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig
