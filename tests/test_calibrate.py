"""Calibration: it moves a deliberately mis-set parameter back toward its target, and writes a usable config."""

from __future__ import annotations

import numpy as np

from helpers import CONFIGS, SMALL, deep_update
from sim.calibrate import FREE, TARGETS, calibrate, calibrated_config_text, fit_report
from sim.config import load_scenario, scenario_from_dict


def test_calibration_moves_a_mis_set_parameter_toward_its_target(tmp_path):
    base = deep_update(load_scenario(CONFIGS / "defaults.yaml").resolved, SMALL)
    base["parameters"]["cadres"]["quit_intercept"] = -0.9  # far too many quits
    quit = next(f for f in FREE if f.path.endswith("quit_intercept"))
    result = calibrate(base, free=(quit,), replicates=2, counties=2, seed=3, max_evaluations=8,
                       report_replicates=2)
    turnover = result.fit.set_index("target").loc["turnover"]
    assert result.values[0] < -1.5  # moved well away from the mis-set value, toward fewer quits
    before = calibrate(base, free=(quit,), replicates=2, counties=2, seed=3, max_evaluations=1,
                       report_replicates=2).fit.set_index("target").loc["turnover"]
    assert abs(turnover.simulated_mean - 0.187) < abs(before.simulated_mean - 0.187) / 2
    # every evaluation (search and Jacobian) ran `replicates` runs, then the fresh report replicates
    assert result.model_runs == 2 * result.settings["evaluations"] + 2
    assert result.parameters()["std_error_alone"].iloc[0] < quit.high - quit.low  # the fit pins it down

    # the calibrated config extends defaults and validates
    path = tmp_path / "calibrated.yaml"
    path.write_text(calibrated_config_text(result, extends=str(CONFIGS / "defaults.yaml")))
    loaded = load_scenario(path)
    assert loaded.scenario.parameters.cadres.quit_intercept == round(float(result.values[0]), 4)
    report = fit_report(result)
    assert "| turnover | 0.187 |" in report and "quit_intercept" in report


def test_every_target_names_a_metric_the_model_produces():
    from sim.model.metrics import METRICS

    assert {t.metric for t in TARGETS} <= set(METRICS)
    defaults = load_scenario(CONFIGS / "defaults.yaml").resolved
    for free in FREE:
        assert free.low <= free.get(defaults) <= free.high, free.path
    scenario_from_dict(defaults)
