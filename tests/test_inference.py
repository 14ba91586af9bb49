"""The posterior machinery (sim/inference.py) on problems whose answer is known, and its storage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import inference
from sim.inference import (Observation, Simulator, fit_emulator, implausibility,
                           posterior_section, simulate_design, with_posterior_section)
from sim.sensitivity import first_order


def _synthetic(n=160, d=12, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n, d))
    y = 2.0 * u[:, 0] + 0.8 * u[:, 3] ** 2 + 0.05 * rng.standard_normal(n)
    return u, y


def test_an_emulator_finds_the_inputs_that_move_its_output_and_predicts_new_points():
    u, y = _synthetic()
    emulator = fit_emulator("y", u, y, max_active=4)
    assert {0, 3} <= set(emulator.active.tolist())
    new_u, new_y = _synthetic(n=200, seed=1)
    mean, var = emulator.predict(new_u)
    z = (new_y - mean) / np.sqrt(var)
    assert np.mean(np.abs(z) < 3) >= 0.9
    assert np.sqrt(np.mean((new_y - mean) ** 2)) < 0.25 * new_y.std()


def test_implausibility_rules_out_points_whose_output_is_far_from_the_observation():
    u, y = _synthetic()
    emulators = {"y": fit_emulator("y", u, y, max_active=4)}
    obs = [Observation("y", "2023", 1.0, 0.1, 0.1, "test", "test")]
    points = np.zeros((2, u.shape[1]))
    points[0, 0] = 0.5 - 0.4  # 2 * 0.1 + 0.8 * 0 ≈ 0.2: 0.8 away
    points[1, 0] = 0.5  # 2 * 0.5 = 1.0: on target
    worst = implausibility(emulators, obs, points)
    assert worst[1] < 1.0 < 3.0 < worst[0]
    cut = implausibility(emulators, obs, points, cutoff=3.0)
    assert cut[0] > 3.0 and cut[1] == pytest.approx(worst[1])


def test_first_order_indices_split_the_variance_of_an_additive_function():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4000, 3))
    y = x[:, 0] + x[:, 1]  # each explains half; x2 nothing
    s1 = first_order(x, y, classes=20)
    assert s1[0] == pytest.approx(0.5, abs=0.05) and s1[1] == pytest.approx(0.5, abs=0.05)
    assert s1[2] < 0.02


def test_the_evidence_is_the_2023_targets_and_the_cases_each_with_an_error():
    obs = inference.all_observations()
    groups = {o.group for o in obs}
    assert "2023" in groups and len(groups) >= 4  # the targets and at least three cases
    assert len([o for o in obs if o.group == "2023"]) == 12
    assert all(o.sd > 0 for o in obs)


def test_the_validation_report_keeps_the_posterior_coverage_and_calibrate_replaces_it(tmp_path):
    import types

    from sim.patterns import write_report

    checks = pd.DataFrame([{"check": "O1 leave case out", "observation": "case_pudong", "value": 0.08, "q05": 0.07,
                            "q95": 0.2, "model_q05": 0.1, "model_q95": 0.18, "ess": 900.0, "inside": True}])
    result = types.SimpleNamespace(provenance={"date": "2026-12-01", "code_version": "c1"}, checks=checks)
    path = tmp_path / "validation.md"
    write_report(path, "# Validation\nfirst patterns\n")
    path.write_text(with_posterior_section(path.read_text(), inference.validation_section(result),
                                           inference.OOS_BEGIN, inference.OOS_END))
    assert "Coverage: 1 of 1 inside" in path.read_text()
    write_report(path, "# Validation\nsecond patterns\n")  # grassroots patterns again
    text = path.read_text()
    assert "second patterns" in text and "first patterns" not in text
    assert text.count(inference.OOS_BEGIN) == 1 and "| O1 leave case out | case_pudong | 8.0% |" in text


def test_the_posterior_section_is_replaced_not_appended_twice():
    report = "# Calibration\n\npoint fit text\n"
    one = with_posterior_section(report, f"{inference.BEGIN}\nfirst\n{inference.END}\n")
    two = with_posterior_section(one, f"{inference.BEGIN}\nsecond\n{inference.END}\n")
    assert two.count(inference.BEGIN) == 1 and "second" in two and "first" not in two
    assert two.startswith(report.rstrip("\n"))
    assert "second" in posterior_section(two) and posterior_section(report) == ""


def test_simulated_points_are_stored_and_reused_only_with_the_same_code(tmp_path, monkeypatch):
    calls = []

    def fake(simulator, base, values):
        calls.append(1)
        return {"y": float(sum(values.values()))}

    monkeypatch.setattr(inference, "simulate_point", fake)
    monkeypatch.setattr(Simulator, "base", lambda self: {})
    paths = inference.uncertain_paths()[:3]
    u = np.random.default_rng(0).standard_normal((20, 3))
    first = simulate_design(Simulator(1, 1, ()), u, paths, tmp_path, 0, None, "code-a")
    assert len(calls) == 20 and len(list(tmp_path.glob("*.parquet"))) == 2
    again = simulate_design(Simulator(1, 1, ()), u, paths, tmp_path, 0, None, "code-a")
    assert len(calls) == 20  # nothing simulated again
    pd.testing.assert_frame_equal(first, again)
    simulate_design(Simulator(1, 1, ()), u, paths, tmp_path, 0, None, "code-b")
    assert len(calls) == 40  # other code: every point again


def test_draw_outcomes_are_per_draw_and_paired_differences():
    from sim.sensitivity import draw_outcomes

    rows = []
    for scenario, shift in (("plan", 0.1), ("baseline", 0.0)):
        for draw in range(3):
            for r in range(2):
                for month in (1, 2):
                    rows.append({"scenario": scenario, "metric": "turnover_rate", "region": "all", "group": "all",
                                 "date": pd.Timestamp(2027, month, 1), "replicate": draw * 2 + r, "draw": draw,
                                 "value": draw + shift + r * 0.01})
    series = pd.DataFrame(rows)
    levels = draw_outcomes(series, "plan", ["turnover_rate"])
    assert levels["turnover_rate"].tolist() == pytest.approx([0.105, 1.105, 2.105])
    diffs = draw_outcomes(series, "plan", ["turnover_rate"], reference="baseline")
    assert diffs["turnover_rate"].tolist() == pytest.approx([0.1, 0.1, 0.1])


def test_rhat_and_ess_are_those_of_known_chains():
    """AR(1) chains with coefficient 0.9 have an effective sample size of N (1 - 0.9) / (1 + 0.9); chains
    each stuck around its own level have not mixed: R-hat far above 1 and an ESS of about the chains' count."""
    from sim.inference import _split_rhat_ess

    rng = np.random.default_rng(0)
    n, m = 1000, 50
    x, e = np.zeros((n, m, 1)), rng.standard_normal((n, m, 1))
    for t in range(1, n):
        x[t] = 0.9 * x[t - 1] + e[t]
    rhat, ess = _split_rhat_ess(x)
    assert rhat[0] < 1.05 and ess[0] == pytest.approx(n * m / 19, rel=0.15)
    stuck = rng.standard_normal((n, m, 1)) + 2 * rng.standard_normal((1, m, 1))
    rhat, ess = _split_rhat_ess(stuck)
    assert rhat[0] > 1.5 and ess[0] < 5 * m


def test_smc_recovers_a_known_gaussian_posterior_and_its_two_runs_agree():
    """Prior u0 ~ N(0, 1), output y = u0 (the emulator learns it), observed z = 1 with sd s = 0.5: the
    posterior of u0 is N(z / (1 + s^2), s^2 / (1 + s^2)) = N(0.8, 0.2). Two SMC runs pooled agree with it and
    with each other; inputs no emulator uses keep their N(0, 1) prior. With a previous wave whose emulator
    rules out |u0| > 1.2, no particle lies there."""
    from sim.inference import _pooled_sample, _smc

    rng = np.random.default_rng(3)
    u = rng.standard_normal((120, 5))
    emulators = {"y": fit_emulator("y", u, u[:, 0] + 1e-3 * rng.standard_normal(120), max_active=1)}
    obs = [Observation("y", "2023", 1.0, 0.5, 0.0, "test", "test")]
    runs = [_smc(emulators, obs, 5, np.random.default_rng(seed), particles=1000) for seed in (4, 5)]
    sample = _pooled_sample(runs, emulators, obs, 5)
    pooled = sample["u"]
    assert pooled.shape == (2000, 5)
    assert pooled[:, 0].mean() == pytest.approx(0.8, abs=0.05) and pooled[:, 0].var() == pytest.approx(0.2, abs=0.04)
    assert abs(pooled[:, 3].mean()) < 0.1 and pooled[:, 3].var() == pytest.approx(1.0, abs=0.15)  # the prior
    assert sample["rhat_max"] < 1.05 and sample["max_mean_gap_sd"] < 0.2 and sample["ess_min"] > 500
    assert all(0.1 < st["acceptance"] < 0.6 for run in sample["stages"] for st in run)

    # an earlier wave's emulator of y = 3 u0 rules out |1 - 3 u0| > 3 x 0.5, i.e. u0 outside [-1/6, 5/6]
    earlier = {"y": fit_emulator("y", u, 3 * u[:, 0], max_active=1)}
    ruled = _smc(emulators, obs, 5, np.random.default_rng(6), particles=500, ruled_out=earlier, cutoff=3.0)
    assert ruled["u"][:, 0].max() < 0.84 and ruled["u"][:, 0].min() > -0.17
    assert ruled["u"][:, 0].mean() < pooled[:, 0].mean() - 0.2
