"""A Mesa user's tools work on the model: the constructor takes a config and key-path overrides with Mesa's
``rng``, ``mesa.batch_run`` runs a parameter grid to the end of the timeline, and the DataCollector holds every
metric for every step."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest

from helpers import CONFIGS
from sim import GrassrootsModel
from sim.config import ConfigError, load_scenario, scenario_from_dict, set_paths
from sim.model.metrics import METRIC_NAMES

COUNTY = str(CONFIGS / "county.yaml")
PAY = "levers__committee_pay_ratio__values__rollout"


def batch(**parameters) -> pd.DataFrame:
    """``mesa.batch_run`` as a Mesa user calls it; mesa 3.3 takes rng among the parameters, 3.4+ as a keyword."""
    kwargs = {}
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        kwargs["rng"] = parameters.pop("rng")
    rows = mesa.batch_run(GrassrootsModel, parameters=parameters, max_steps=10_000, number_processes=1,
                          data_collection_period=1, display_progress=False, **kwargs)
    table = pd.DataFrame(rows)
    if "rng" not in table:  # mesa 3.4+ numbers the seeds it was given as iterations
        table["rng"] = table["iteration"].map(dict(enumerate(kwargs["rng"])))
    return table


def test_batch_run_runs_a_grid_of_overrides_and_seeds_to_the_end_of_the_timeline():
    table = batch(config=[COUNTY], **{PAY: [0.7, 1.2]}, rng=[1, 2])
    assert table["RunId"].nunique() == 4
    months = len(GrassrootsModel(COUNTY).calendar.recorded_months)
    spin_up = load_scenario(COUNTY).scenario.timeline.spin_up_months
    assert table.groupby("RunId").size().eq(spin_up + months).all()  # every step, spin-up included
    one = table[(table[PAY] == 1.2) & (table["rng"] == 2)].sort_values("Step")
    assert one["date"].iloc[0] == "2021-01" and one["date"].iloc[-1] == "2030-12"
    assert one.iloc[:spin_up][list(METRIC_NAMES)].isna().all().all()  # spin-up months are not recorded
    # the recorded rows are the model's own series, all regions and groups, for that override and seed
    config = set_paths(load_scenario(COUNTY).resolved, {PAY.replace("__", "."): 1.2})
    series = GrassrootsModel(scenario_from_dict(config), seed=2).run().series()
    expected = series[(series.region == "all") & (series.group == "all") & (series.metric == "turnover_rate")]
    assert np.array_equal(one["turnover_rate"].iloc[spin_up:].to_numpy(), expected["value"].to_numpy())
    low = table[(table[PAY] == 0.7) & (table["rng"] == 2)]
    assert low["turnover_rate"].iloc[-12:].mean() > one["turnover_rate"].iloc[-12:].mean()  # pay keeps cadres


def test_the_constructor_takes_a_path_overrides_and_rng_as_the_seed():
    by_path = GrassrootsModel(COUNTY, rng=3, **{PAY: 1.1}).run().series()
    config = set_paths(load_scenario(COUNTY).resolved, {"levers.committee_pay_ratio.values.rollout": 1.1})
    by_scenario = GrassrootsModel(scenario_from_dict(config), seed=3).run().series()
    pd.testing.assert_frame_equal(by_path, by_scenario)
    assert not GrassrootsModel(COUNTY).run().series().equals(by_path)


def test_the_datacollector_has_every_metric_and_the_date():
    model = GrassrootsModel(COUNTY, rng=1, timeline__spin_up_months=1)
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert set(METRIC_NAMES) | {"date", "phase"} <= set(frame.columns)
    assert list(frame["date"]) == ["2022-12", "2023-01", "2023-02"]
    assert frame.iloc[0][list(METRIC_NAMES)].isna().all() and frame.iloc[1:][list(METRIC_NAMES)].notna().all().all()


def test_overrides_set_dates_and_words_as_well_as_numbers():
    model = GrassrootsModel(COUNTY, rng=1, timeline__end="2032-06", pilot__selection="random")
    assert model.calendar.recorded_months.stop - 1 == 2032 * 12 + 5
    assert model.config.pilot.selection == "random"
    with pytest.raises(ConfigError, match="timeline.end"):
        GrassrootsModel(COUNTY, timeline__end="June")
    with pytest.raises(ConfigError, match="levers.committee_pay_ratio"):
        GrassrootsModel(COUNTY, levers__committee_pay_ratio__values__rollout="high")


def test_bad_constructor_arguments_say_what_is_wrong():
    with pytest.raises(TypeError, match="needs a config"):
        GrassrootsModel()
    with pytest.raises(ConfigError, match="levers.no_such: unknown key 'no_such'"):
        GrassrootsModel(COUNTY, levers__no_such__values__rollout=1.0)
    with pytest.raises(ConfigError, match="did you mean 'committee_pay_ratio'"):
        GrassrootsModel(COUNTY, levers__committee_pay_ratioo__values__rollout=1.1)
    with pytest.raises(ConfigError, match=r"(?s)1 problem.*must be within \[0.2, 2\].*got 5") as error:
        GrassrootsModel(COUNTY, levers__committee_pay_ratio__values__rollout=5)
    assert "pydantic" not in str(error.value) and len(str(error.value).splitlines()) == 2
    with pytest.raises(TypeError, match="seed or rng, not both"):
        GrassrootsModel(COUNTY, seed=1, rng=2)


def test_a_mesa_scenario_gives_the_rng_and_the_overrides():
    """Mesa 3.4+ has a Scenario of its own (SolaraViz's Reset passes one): its rng and parameters are taken."""
    scenarios = pytest.importorskip("mesa.experimental.scenarios", reason="mesa 3.4+ has mesa Scenarios")
    by_scenario = GrassrootsModel(COUNTY, scenario=scenarios.Scenario(rng=3, **{PAY: 1.1}))
    assert by_scenario.config.levers.committee_pay_ratio.values["rollout"] == 1.1 and by_scenario.seed == 3
    pd.testing.assert_frame_equal(by_scenario.run().series(), GrassrootsModel(COUNTY, rng=3, **{PAY: 1.1}).run().series())
    assert GrassrootsModel(COUNTY, rng=4, scenario=scenarios.Scenario()).seed == 4  # a Scenario without rng keeps rng
    with pytest.raises(TypeError, match="not both"):
        GrassrootsModel(COUNTY, rng=4, scenario=scenarios.Scenario(rng=3))


def test_scenario_is_mesas_keyword_not_the_config():
    with pytest.raises(TypeError, match="scenario= takes Mesa's own Scenario, not str; give this model's config as "
                                        "config="):
        GrassrootsModel(scenario=COUNTY)
