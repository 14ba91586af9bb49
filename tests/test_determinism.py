"""Same config + seed => identical results; replicates are paired across scenarios."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import run, scenario
from sim.run import run_scenarios


def test_same_seed_gives_identical_series():
    sc = scenario("plan.yaml")
    pd.testing.assert_frame_equal(run(sc, seed=7), run(sc, seed=7))


def test_different_seeds_give_different_series():
    sc = scenario("plan.yaml")
    a, b = run(sc, seed=7), run(sc, seed=8)
    assert not a["value"].equals(b["value"])


def test_replicates_differ():
    sc = scenario("baseline.yaml")
    assert not run(sc, replicate=0)["value"].equals(run(sc, replicate=1)["value"])


def test_plan_and_baseline_are_identical_before_the_reform_starts(baseline_series, plan_series):
    # common random numbers: until the first lever moves, the two scenarios are the same world
    before = lambda s: s[s.date < "2024-01-01"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_series_equal(before(baseline_series)["value"], before(plan_series)["value"])
    later = lambda s: s[s.date >= "2025-01-01"].reset_index(drop=True)  # noqa: E731
    assert not later(baseline_series)["value"].equals(later(plan_series)["value"])


@pytest.mark.parametrize("workers", [2])
def test_result_is_the_same_with_any_number_of_processes(workers):
    scenarios = [scenario("baseline.yaml").model_copy(update={"name": "a"}),
                 scenario("plan.yaml").model_copy(update={"name": "b"})]
    serial = run_scenarios(scenarios, replicates=2, seed=5, workers=1).series
    parallel = run_scenarios(scenarios, replicates=2, seed=5, workers=workers).series
    pd.testing.assert_frame_equal(serial, parallel)
    assert list(dict.fromkeys(serial.scenario.astype(str))) == ["a", "b"]


def test_a_run_split_into_county_blocks_equals_the_whole_run():
    from sim.run import run_replicate

    sc = scenario("plan.yaml", geography={"counties": 7}, pilot={"counties": 2})
    whole = run(sc, seed=11, replicate=1)
    pieces = run_replicate(sc, seed=11, replicate=1, blocks=3)
    pd.testing.assert_frame_equal(whole, pieces)


def test_blocks_on_a_dask_cluster_give_the_whole_run():
    from sim.run import run_scenarios

    sc = scenario("plan.yaml", geography={"counties": 4}, pilot={"counties": 1})
    whole = run_scenarios([sc], replicates=2, seed=4).series
    on_dask = run_scenarios([sc], replicates=2, seed=4, blocks=2, workers=2, dask="local").series
    pd.testing.assert_frame_equal(whole, on_dask)


def test_engine_choice_from_config_or_override_gives_the_same_table():
    from sim.run import run_scenarios

    sc = scenario("plan.yaml", geography={"counties": 1, "townships_per_county": 2}, pilot={"counties": 1},
                  timeline={"spin_up_months": 3}, engine="agents")
    by_config = run_scenarios([sc], replicates=1, seed=9)
    columnar = run_scenarios([sc], replicates=1, seed=9, engine="columnar")
    assert by_config.manifest["engine"] == {sc.name: "agents"}
    assert columnar.manifest["engine"] == {sc.name: "columnar"}
    pd.testing.assert_frame_equal(by_config.series, columnar.series)
