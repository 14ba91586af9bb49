"""A run kept at a month and carried on under another design (`GrassrootsModel.with_levers_of`), as
`grassroots explore` does after a lever moves: where `sim.model.policy.prefix_key` says two designs simulate the
same months so far, going on from one's snapshot gives the other's own run to the bit; where it says they
differ, the model refuses. The keys must also be equal where they can be, or the page gains nothing."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from helpers import CONFIGS
from sim import GrassrootsModel
from sim import explore as X
from sim.config import load_scenario, scenario_of
from sim.model.policy import month_label, prefix_key

PAY = "committee_pay_ratio"


@pytest.fixture(scope="module")
def designs():
    """One county's baseline and designs that part from the plan in the pilot, in the rollout (a ramped lever
    among them) and in the consolidation phase."""
    plan = X.Design(str(CONFIGS / "county.yaml"), replicates=2)
    built = X.make(plan)
    ramped = X.Design(str(CONFIGS / "designs" / "pay_then_burden.yaml"), geography="county", replicates=2)
    out = {"baseline": built.baseline, "plan": built.design, "ramped": X.make(ramped).design,
           "ramped_baseline": X.make(ramped).baseline,
           "ramped_rollout": X.make(ramped.with_change(PAY, "rollout", 1.1)).design}
    for name, phase, value in (("pilot", "pilot", 1.2), ("rollout", "rollout", 1.3),
                               ("consolidation", "consolidation", 1.4)):
        out[name] = X.make(plan.with_change(PAY, phase, value)).design
    return out


def test_the_keys_are_equal_exactly_up_to_the_phase_where_two_designs_part(designs):
    months = X.snapshot_months(designs["plan"])
    assert [month_label(m) for m in months] == ["2024-01", "2025-01", "2027-01"]
    pilot, rollout, consolidation = months

    def same(a, b, month):
        return prefix_key(designs[a], month) == prefix_key(designs[b], month)

    assert same("baseline", "plan", pilot) and not same("baseline", "plan", rollout)
    assert same("plan", "pilot", pilot) and not same("plan", "pilot", rollout)
    assert same("plan", "rollout", rollout) and not same("plan", "rollout", consolidation)
    assert same("plan", "consolidation", consolidation)
    assert same("ramped", "ramped_rollout", rollout) and not same("ramped", "ramped_rollout", consolidation)
    assert not same("plan", "ramped", rollout)


@pytest.mark.parametrize("source, target", [("baseline", "plan"), ("plan", "rollout"), ("plan", "consolidation"),
                                            ("ramped", "ramped_rollout"), ("ramped_baseline", "ramped")])
def test_a_run_carried_on_from_a_snapshot_is_the_design_s_own_run(designs, source, target):
    seed, replicate = 3, 1
    own = GrassrootsModel(designs[target], seed=seed, replicate=replicate).run()
    model = GrassrootsModel(designs[source], seed=seed, replicate=replicate)
    carried = 0
    for month in X.snapshot_months(designs[target]):
        model.run(until=month_label(month - 1))
        if prefix_key(designs[source], month) != prefix_key(designs[target], month):
            with pytest.raises(ValueError, match="has not simulated what"):
                pickle.loads(pickle.dumps(model)).with_levers_of(designs[target])
            continue
        resumed = pickle.loads(pickle.dumps(model)).with_levers_of(designs[target]).run()
        assert np.array_equal(resumed.county_num, own.county_num, equal_nan=True)
        assert np.array_equal(resumed.county_den, own.county_den, equal_nan=True)
        assert resumed.series().equals(own.series()) and resumed.config.name == own.config.name
        carried += 1
    assert carried >= 1


def test_another_world_is_refused_even_before_the_reform(designs):
    other = scenario_of(designs["plan"], {"parameters.cadres.quit_intercept":
                                          designs["plan"].parameters.cadres.quit_intercept + 0.1})
    model = GrassrootsModel(designs["plan"], seed=0).run(until="2023-06")
    with pytest.raises(ValueError, match="has not simulated what"):
        model.with_levers_of(other)


def test_ramped_levers_with_other_dated_values_before_the_pilot_are_other_months():
    """Two ramps that stand at the same value when the pilot starts but ramp a pilot county to other values
    (the dated values before the pilot differ) must not share a snapshot."""
    def ramped(values):
        data = copy.deepcopy(load_scenario(CONFIGS / "county.yaml").resolved)
        data["levers"]["committee_pay_ratio"] = {"values": values, "ramp": {"months": 12}}
        return scenario_of(data)

    one, two = ramped({"baseline": 0.7, "2023-11": 0.9}), ramped({"baseline": 0.7, "2023-12": 1.0})
    months = X.snapshot_months(one)
    assert prefix_key(one, months[0]) == prefix_key(two, months[0])  # nothing has acted before the reform
    assert all(prefix_key(one, m) != prefix_key(two, m) for m in months[1:])
    own = GrassrootsModel(two, seed=1).run(until="2025-06")
    model = GrassrootsModel(one, seed=1).run(until=month_label(months[1] - 1))
    with pytest.raises(ValueError, match="has not simulated what"):
        model.with_levers_of(two)
    carried = GrassrootsModel(one, seed=1).run(until=month_label(months[0] - 1)).with_levers_of(two)
    carried.run(until="2025-06")
    assert np.array_equal(carried.county_num, own.county_num, equal_nan=True)


def test_run_scenarios_carries_a_design_on_from_its_baselines_run_and_gives_its_own_run(monkeypatch):
    """`run_scenarios` (run, compare, ensembles) runs the months a design shares with an earlier scenario once
    (`sim.run.run_branches`): the design's series are those of the design run alone, to the bit; a scenario of
    another world is run on its own."""
    import pandas as pd

    from sim import run as R

    county = load_scenario(CONFIGS / "county.yaml").scenario
    design = scenario_of(CONFIGS / "county.yaml", {"name": "design", f"levers__{PAY}__values__rollout": 1.2})
    other = scenario_of(CONFIGS / "county.yaml", {"name": "other", "geography__resident_sample_per_committee": 8})
    assert R.branch_month(county, design) == X.snapshot_months(county)[1]  # they part when the rollout starts
    assert R.branch_month(county, other) is None
    calls = []
    real = R.run_branches

    def recording(scenario, seed, replicate, first, stop, engine="columnar", branches=()):
        calls.append((scenario.name, replicate, [(s.name, month_label(m)) for s, m in branches]))
        return real(scenario, seed, replicate, first, stop, engine, branches)

    monkeypatch.setattr(R, "run_branches", recording)
    together = R.run_scenarios([county, design, other], 2, seed=6).series
    rollout = month_label(X.snapshot_months(county)[1])
    assert sorted(calls) == [(county.name, k, [("design", rollout)]) for k in (0, 1)] + [("other", k, []) for k in (0, 1)]
    alone = R.run_scenarios([design], 2, seed=6).series

    def plain(frame):
        frame = frame.reset_index(drop=True)
        return frame.astype({c: str for c in ("scenario", "phase", "region", "group", "metric")})

    pd.testing.assert_frame_equal(plain(together[together["scenario"] == "design"]), plain(alone), check_exact=True)


def test_a_pair_is_not_run_in_one_task_where_that_would_leave_a_worker_idle(monkeypatch):
    """One replicate of a design and its baseline on two workers: two tasks side by side, not one after the
    other in one task; the numbers are the same either way."""
    from concurrent.futures import ThreadPoolExecutor

    from sim import run as R

    county = load_scenario(CONFIGS / "county.yaml").scenario
    design = scenario_of(CONFIGS / "county.yaml", {"name": "design", f"levers__{PAY}__values__rollout": 1.2})
    calls = []
    real = R.run_branches

    def recording(scenario, seed, replicate, first, stop, engine="columnar", branches=()):
        calls.append((scenario.name, len(branches)))
        return real(scenario, seed, replicate, first, stop, engine, branches)

    monkeypatch.setattr(R, "run_branches", recording)
    with ThreadPoolExecutor(2) as pool:
        apart = R.run_scenarios([county, design], 1, seed=2, executor=pool).series
    assert sorted(calls) == sorted([(county.name, 0), ("design", 0)])
    calls.clear()
    shared = R.run_scenarios([county, design], 1, seed=2).series  # serially: one task, the design from the copy
    assert calls == [(county.name, 1)]
    assert apart.equals(shared)
