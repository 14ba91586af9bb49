"""The figure package on synthetic inputs: the calibration fit figure puts each mark where the fit table says."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.calibrate import FREE, TARGETS
from sim.figures import fit_figure
from sim.model.metrics import METRICS


def test_fit_figure_marks_plan_values_and_simulated_means_on_one_share_axis():
    n, k = len(TARGETS), len(FREE)
    plan = np.array([60.0 if METRICS[t.metric].unit == "0-100" else 0.4 for t in TARGETS])
    scale = np.where([METRICS[t.metric].unit == "0-100" for t in TARGETS], 100.0, 1.0)
    fit = pd.DataFrame({"target": [t.name for t in TARGETS], "plan": plan, "tolerance": 0.05 * scale,
                        "simulated_mean": plan + 0.02 * scale, "low_90": plan, "high_90": plan + 0.04 * scale})
    jacobian = np.arange(n * k, dtype=float).reshape(n, k)
    fig = fit_figure(SimpleNamespace(fit=fit, free=FREE, jacobian=jacobian))
    left, right = fig.axes[0], fig.axes[1]
    marks = [line for line in left.get_lines() if line.get_marker() == "|"]
    assert len(marks) == 1 and np.allclose(marks[0].get_xdata(), plan / scale)  # 60/100 drawn as 0.6
    assert left.get_title() == "Fit to the plan's 2023 figures"
    assert right.get_title() == "Which parameter moves which target"
    width = np.array([f.high - f.low for f in FREE])
    assert np.allclose(right.collections[0].get_array().reshape(n, k), np.abs(jacobian) * width)
    plt.close(fig)
