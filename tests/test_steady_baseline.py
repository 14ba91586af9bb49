"""With no reform the 2023 world stays where it is: each headline metric keeps within a point of its 2023
value through 2030 (issue 13, "a steady baseline"). Residents' opinions start at the level the 2023 world
holds them at (``sim.calibrate.steady_opinions``, written into configs/calibrated.yaml); without that,
participation drifted from 32.7% to 35.1% over 2023-2030 with no reform."""

from __future__ import annotations

import numpy as np

from helpers import CONFIGS
from sim import GrassrootsModel
from sim.registry import HEADLINE


def test_no_reform_keeps_every_headline_metric_within_a_point_of_2023():
    yearly = []
    for replicate in range(2):
        s = GrassrootsModel(str(CONFIGS / "baseline.yaml"), seed=4, replicate=replicate,
                            geography__counties=24).run().series()
        s = s[(s.region == "all") & (s.group == "all") & s.metric.isin(HEADLINE)]
        yearly.append(s.assign(year=s.date.dt.year).pivot_table(index="year", columns="metric", values="value",
                                                                observed=True))
    mean = sum(yearly) / len(yearly)
    drift = (mean - mean.loc[2023]).abs()
    assert list(mean.index) == list(range(2023, 2031))
    assert (drift.to_numpy() <= 0.01).all(), drift.round(4).to_string()
    assert np.isfinite(mean.to_numpy()).all()
