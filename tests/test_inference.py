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


def test_the_population_mcmc_recovers_a_known_gaussian_posterior_and_reports_convergence():
    """Prior u0 ~ N(0, 1), output y = u0 (the emulator learns it), observed z = 1 with sd s = 0.5: the
    posterior of u0 is N(z / (1 + s^2), s^2 / (1 + s^2)) = N(0.8, 0.2). The chains' kept states and last
    states (the draws) agree with it, inputs no emulator uses keep their N(0, 1) prior, R-hat is near 1."""
    from sim.inference import _population_mcmc

    rng = np.random.default_rng(3)
    u = rng.standard_normal((120, 5))
    emulators = {"y": fit_emulator("y", u, u[:, 0] + 1e-3 * rng.standard_normal(120), max_active=1)}
    obs = [Observation("y", "2023", 1.0, 0.5, 0.0, "test", "test")]
    settings = inference.Settings(draws=200)
    sample = _population_mcmc(emulators, obs, u[np.abs(u[:, 0] - 1.0) < 1.0], 5, settings,
                              np.random.default_rng(4), steps=400)
    pooled = sample["u"][:, 0]
    assert pooled.mean() == pytest.approx(0.8, abs=0.05) and pooled.var() == pytest.approx(0.2, abs=0.04)
    final = sample["final"]
    assert final.shape == (200, 5)
    assert final[:, 0].mean() == pytest.approx(0.8, abs=0.1)
    assert abs(final[:, 3].mean()) < 0.25 and final[:, 3].var() == pytest.approx(1.0, abs=0.3)  # the prior
    assert sample["rhat_max"] < 1.05 and sample["ess_min"] > 500
    assert 0.1 < sample["acceptance"] < 0.6
