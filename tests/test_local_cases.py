"""The local reform cases (sim/cases.py, configs/cases/): each config is the place with only its instrument
switched on, the local baseline is tuned to the reported before-value whatever the parameter set, the
instrument moves the outcome the way the report says, and the parameters that should matter do."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import ROOT, scenario
from sim import cases
from sim.cases import CASES, case_config, case_outcome, observations
from sim.config import load_scenario, scenario_from_dict
from sim.model.metrics import METRIC_NAMES
from sim.model.model import GrassrootsModel
from sim.priors import PRIORS

BASELINE = load_scenario(ROOT / "configs/baseline.yaml").resolved


@pytest.fixture(scope="module")
def calibrated():
    """Each case at the calibrated parameters (no parameter set), seed 1: run once for the module."""
    return {name: case_outcome(name) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_a_case_config_is_the_baseline_with_only_its_instrument_switched_on(name):
    case = CASES[name]
    loaded = load_scenario(ROOT / case.config)
    resolved = loaded.resolved
    assert "configs/baseline.yaml" in loaded.files  # extends the baseline (files relative to the project)
    moved = {lever for lever, spec in resolved["levers"].items() if spec["values"] != BASELINE["levers"][lever]["values"]}
    assert moved == set(case.instrument)
    for lever in case.instrument:  # on from 2024-01, the 2023 value kept before
        values = resolved["levers"][lever]["values"]
        assert set(values) == {"baseline", "pilot"} and values["baseline"] == BASELINE["levers"][lever]["values"]["baseline"]
    assert resolved["timeline"]["phases"]["pilot"] == "2024-01" and resolved["pilot"]["share"] == 1.0
    assert resolved["parameters"] == BASELINE["parameters"]  # the 2023 world; tuning is sim/cases.py's
    assert set(resolved["description"]) == {"en", "zh"} and all(resolved["description"].values())
    assert case.metric in METRIC_NAMES


def test_the_places_are_where_the_reports_are():
    region = {name: load_scenario(ROOT / c.config).resolved["geography"] for name, c in CASES.items()}
    assert region["pudong"]["region_shares"]["east"] == 1.0 and region["pudong"]["urban_county_share"] == 1.0
    assert region["hangzhou_shangcheng"]["region_shares"]["east"] == 1.0
    assert region["hangzhou_shangcheng"]["urban_county_share"] == 1.0
    assert region["sichuan_capability"]["region_shares"]["west"] == 1.0


def test_every_county_of_a_case_carries_its_instrument_from_2024():
    """Pilots (all counties) and fidelity 1, even when a parameter set draws a lower fidelity."""
    config = case_config("hangzhou_shangcheng", {"implementation.fidelity.default.east": 0.5})
    model = GrassrootsModel(scenario_from_dict(config), seed=3)
    assert model.pilot.all()
    assert (model.levers_at(12 * 2023 + 11)["supervision_platform"] == 0).all()
    assert (model.levers_at(12 * 2024)["supervision_platform"] == 1).all()
    assert (model.levers_at(12 * 2024)["complaint_deadline_days"] == 3).all()


@pytest.mark.parametrize("params", [None, {"parameters.cadres.quit_pay": 3.0,
                                           "parameters.cadres.quit_burnout": 2.0}], ids=["calibrated", "other"])
def test_pudong_is_tuned_to_its_before_value_for_each_parameter_set(params, calibrated):
    out = calibrated["pudong"] if params is None else case_outcome("pudong", params)
    assert abs(out["before"] - 0.22) <= CASES["pudong"].tolerance
    # the untuned world is off the before-value, so the tuning did something
    untuned = scenario_from_dict(case_config("pudong", params, instrument=False))
    i = METRIC_NAMES.index("turnover_rate_committee")
    raw = cases._annual(untuned, [2023], 1, 1)[0, i]
    assert abs(raw - 0.22) > CASES["pudong"].tolerance
    assert out["tuned"] != PRIORS["parameters.cadres.quit_intercept"].value


def test_the_tuning_works_from_far_off():
    """A parameter set whose own 2023 committee turnover is far from 22% (about 74%) is tuned all the same."""
    out = case_outcome("pudong", {"parameters.cadres.quit_intercept": -1.0})
    assert abs(out["before"] - 0.22) <= CASES["pudong"].tolerance
    assert out["tuned"] < -2.0


def test_the_case_run_before_2024_is_the_before_only_world():
    """What _tuned_run relies on: with the instrument on from 2024-01, 2023 is number for number the world
    with the instrument off (same seed)."""
    on = scenario_from_dict(case_config("pudong"))
    off = scenario_from_dict(case_config("pudong", instrument=False))
    num_on, den_on = GrassrootsModel(on, seed=4).county_tallies(years=2023)
    num_off, den_off = GrassrootsModel(off, seed=4).county_tallies(years=2023)
    np.testing.assert_array_equal(num_on, num_off)
    np.testing.assert_array_equal(den_on, den_off)
    # and the instrument does move 2024
    i = METRIC_NAMES.index("turnover_rate_committee")
    a = GrassrootsModel(on, seed=4).county_tallies(years=2024)[0][:, i].sum()
    b = GrassrootsModel(off, seed=4).county_tallies(years=2024)[0][:, i].sum()
    assert a < b


def test_each_instrument_moves_its_outcome_the_way_the_report_says(calibrated):
    pudong, hangzhou, sichuan = (calibrated[n] for n in ("pudong", "hangzhou_shangcheng", "sichuan_capability"))
    assert pudong["after"] < pudong["before"] - 0.03  # turnover down
    assert hangzhou["after"] < -0.1  # complaints down (a relative change)
    assert hangzhou["before"] > 0 and math.isnan(hangzhou["tuned"])
    assert sichuan["after"] > sichuan["before"] + 0.1  # application up
    assert abs(sichuan["before"] - 0.31) < 0.03  # the plan's 31%, untuned: the rule's own rate


def test_the_same_seed_gives_the_same_outcome_and_another_seed_another(calibrated):
    again = case_outcome("pudong")
    first = calibrated["pudong"]
    assert {k: again[k] for k in ("before", "after", "tuned")} == {k: first[k] for k in ("before", "after", "tuned")}
    other = case_outcome("hangzhou_shangcheng", seed=2)
    assert other["after"] != calibrated["hangzhou_shangcheng"]["after"]


def test_a_stronger_quit_pay_response_gives_a_larger_pudong_drop():
    drops = [(out["before"] - out["after"]) for out in
             (case_outcome("pudong", {"parameters.cadres.quit_pay": v}) for v in (0.6, 3.5))]
    assert drops[1] > drops[0] + 0.02


def test_the_parameters_each_case_informs_move_it():
    hz = [case_outcome("hangzhou_shangcheng", {"parameters.residents.attitude_supervision_cut": v})["after"]
          for v in (0.2, 0.8)]
    assert hz[1] < hz[0] - 0.05  # a platform that cuts more attitude complaints cuts complaints more
    sc = [case_outcome("sichuan_capability", {"parameters.cadres.application_rate_mentored": v})["after"]
          for v in (0.4, 0.7)]
    assert sc[0] == pytest.approx(0.4, abs=0.03) and sc[1] == pytest.approx(0.7, abs=0.03)


def test_replicates_pool_runs():
    one = case_outcome("sichuan_capability")
    two = case_outcome("sichuan_capability", replicates=2)
    assert two["after"] != one["after"] and abs(two["after"] - one["after"]) < 0.03


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(KeyError, match="unknown case 'pudung'; the cases are pudong"):
        case_outcome("pudung")
    with pytest.raises(ValueError, match="replicates must be a positive whole number"):
        case_outcome("pudong", replicates=0)


def test_observations_are_the_cases_reported_values_with_their_sd():
    obs = observations()
    assert list(obs.index) == list(CASES)
    assert obs.loc["pudong", "observed"] == 0.08 and obs.loc["pudong", "before"] == 0.22
    assert obs.loc["hangzhou_shangcheng", "observed"] == -0.65
    assert obs.loc["sichuan_capability", "observed"] == pytest.approx(0.31 * 1.4, abs=1e-9)
    assert (obs["sd"] > 0).all() and obs["reason"].str.contains("success selection").all()


def test_training_applied_share_is_the_share_of_the_trained_who_apply():
    """The new metric reads the rule: 31% of trained cadres apply what they learned without mentoring,
    ``application_rate_mentored`` with full mentoring (binomial noise: a few thousand trainings)."""
    i = METRIC_NAMES.index("training_applied_share")
    lever = {"values": {"baseline": 1.0}}
    for mentoring, expected in ((0.0, 0.31), (1.0, 0.60)):
        sc = scenario(levers={"training_coverage": lever, "training_mentoring": {"values": {"baseline": mentoring}}})
        num, den = GrassrootsModel(sc, seed=0).county_tallies(years=[2023, 2024])
        trained = den[:, i].sum()
        assert trained > 1000
        share = num[:, i].sum() / trained
        assert share == pytest.approx(expected, abs=4 * math.sqrt(expected * (1 - expected) / trained))
