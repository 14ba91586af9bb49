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
                       report_replicates=2, steady_years=0)
    turnover = result.fit.set_index("target").loc["turnover"]
    assert result.values[0] < -1.5  # moved well away from the mis-set value, toward fewer quits
    before = calibrate(base, free=(quit,), replicates=2, counties=2, seed=3, max_evaluations=1,
                       report_replicates=2, steady_years=0).fit.set_index("target").loc["turnover"]
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


def test_write_calibration_writes_every_file_the_command_writes_into_folders_it_makes(tmp_path):
    from sim.calibrate import write_calibration

    base = deep_update(load_scenario(CONFIGS / "defaults.yaml").resolved, SMALL)
    quit = next(f for f in FREE if f.path.endswith("quit_intercept"))
    result = calibrate(base, free=(quit,), replicates=1, counties=2, seed=3, max_evaluations=1, report_replicates=2,
                       steady_years=0)
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "mine.yaml").write_text(f"extends: {CONFIGS / 'defaults.yaml'}\nname: mine\n")
    written = write_calibration(result, tmp_path / "out", calibrated=configs / "calibrated.yaml",
                                report=tmp_path / "docs" / "new" / "calibration.md", config=configs / "mine.yaml")
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {"fit.csv", "parameters.csv", "jacobian.csv", "report.md",
                                               "calibration-fit.png"}
    assert (out / "fit.csv").read_text() == result.fit.to_csv(index=False)
    assert (out / "report.md").read_text() == fit_report(result) == (tmp_path / "docs/new/calibration.md").read_text()
    assert (tmp_path / "docs/new/calibration-fit.png").read_bytes()[:4] == b"\x89PNG"
    text = (configs / "calibrated.yaml").read_text()
    assert "\nextends: mine.yaml\n" in text  # the file calibrated, by its name beside it
    loaded = load_scenario(configs / "calibrated.yaml")
    assert loaded.scenario.parameters.cadres.quit_intercept == round(float(result.values[0]), 4)
    assert len(written) == 8 and all(p.exists() for p in written)
    assert not list(tmp_path.rglob("*.tmp"))


def test_steady_opinions_start_residents_where_the_2023_world_holds_them():
    from sim.calibrate import OPINIONS, _opinion_means, steady_opinions
    from sim.config import set_paths
    from sim.model.model import GrassrootsModel

    base = deep_update(load_scenario(CONFIGS / "baseline.yaml").resolved, SMALL)
    base = set_paths(base, {OPINIONS["efficacy"]: 0.15})  # far below where meetings and disclosure take it

    def drift(config) -> float:
        model = GrassrootsModel(scenario_from_dict(set_paths(config, {"timeline.spin_up_months": 12 * 8})), seed=2)
        before = _opinion_means(model)["efficacy"]
        model.run(until=config["timeline"]["start"])
        return _opinion_means(model)["efficacy"] - before

    steady = steady_opinions(base, counties=4, years=12)
    assert steady[OPINIONS["efficacy"]] > 0.3
    assert drift(base) > 0.1  # from the arbitrary start, efficacy climbs for years with no reform
    assert abs(drift(set_paths(base, steady))) < drift(base) / 4
    # the calibrated config says where its opinions come from
    result = calibrate(base, free=(FREE[0],), replicates=1, counties=2, seed=3, max_evaluations=1,
                       report_replicates=2, steady_years=0)
    text = calibrated_config_text(type(result)(**{**result.__dict__, "opinions": steady}))
    assert f"initial_efficacy_mean: {steady[OPINIONS['efficacy']]}  # steady state of the 2023 world" in text
    assert "steady_opinions" in fit_report(type(result)(**{**result.__dict__, "opinions": steady}))
