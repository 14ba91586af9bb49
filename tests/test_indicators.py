"""Indicators read the way the plan means them (issue 13): turnover by post, the assessment-item cut on paper
and effective, the share of counties meeting a target stated per county, and the report's sentence when a
design sets a lever exactly at the plan's target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import scenario
from sim import registry
from sim.compare import replicate_values, target_attainment
from sim.model.agents import tally_counties_meeting
from sim.model.metrics import METRIC_NAMES, Tally
from sim.model.model import GrassrootsModel
from sim.report import indicator_table, set_at_target_notes


def row(name: str) -> int:
    return METRIC_NAMES.index(name)


# --------------------------------------------------------------------------- turnover by post


@pytest.fixture(scope="module")
def plan_model():
    model = GrassrootsModel(scenario("plan.yaml"), seed=3)
    model.run()
    return model


def test_committee_and_township_turnover_count_their_own_posts_and_pool_back_to_turnover(plan_model):
    m = plan_model
    num, den = m.county_num, m.county_den
    pooled, committee, township = row("turnover_rate"), row("turnover_rate_committee"), row("turnover_rate_township")
    # every month and county: the two numerators and denominators add up to the pooled ones, exactly
    assert np.array_equal(num[:, committee] + num[:, township], num[:, pooled])
    assert np.array_equal(den[:, committee] + den[:, township], den[:, pooled])
    assert num[:, committee].sum() > 0 and num[:, township].sum() > 0  # both kinds of post turn over
    # the last month's tally, recounted from the cadres' state: committee posts and township posts apart
    c = m.cadres
    township_post = c.township_post
    n = m.places.n_counties
    exits_t = np.bincount(c.county, weights=c.month_exits & township_post, minlength=n)
    start_c = np.bincount(c.county, weights=c.filled_at_start & ~township_post, minlength=n)
    assert np.array_equal(num[-1, township], exits_t)
    assert np.array_equal(den[-1, committee], start_c)
    # and the series reads them as annual rates like turnover_rate: the pooled rate lies between the two
    s = m.series()
    cell = s[(s.region == "all") & (s.group == "all")].pivot_table(index="date", columns="metric", values="value",
                                                                   observed=True)
    lo = np.minimum(cell["turnover_rate_committee"], cell["turnover_rate_township"])
    hi = np.maximum(cell["turnover_rate_committee"], cell["turnover_rate_township"])
    assert ((cell["turnover_rate"] >= lo - 1e-12) & (cell["turnover_rate"] <= hi + 1e-12)).all()


# --------------------------------------------------------------------------- the items cut, two readings


def items_cuts(series: pd.DataFrame) -> pd.DataFrame:
    s = series[(series.region == "all") & (series.group == "all")
               & series.metric.isin(["assessment_items_cut", "assessment_items_cut_effective"])]
    return s.pivot_table(index="date", columns="metric", values="value", observed=True)


def test_the_effective_cut_is_below_the_paper_cut_with_rebound_and_equal_without(plan_model):
    cuts = items_cuts(plan_model.series())
    paper, effective = cuts["assessment_items_cut"], cuts["assessment_items_cut_effective"]
    assert (effective <= paper + 1e-12).all()
    late = cuts.index.year >= 2026  # the rebound has built up (rebound_share 0.3, over 12 months)
    assert (effective[late] < paper[late] - 0.005).all() and paper[late].min() > 0.1
    no_rebound = GrassrootsModel(scenario("plan.yaml", implementation={"rebound_share": 0.0}), seed=3).run()
    cuts0 = items_cuts(no_rebound.series())
    assert np.array_equal(cuts0["assessment_items_cut"].to_numpy(), cuts0["assessment_items_cut_effective"].to_numpy())
    assert np.array_equal(cuts0["assessment_items_cut"].to_numpy(), paper.to_numpy())  # the rebound moves no order


# --------------------------------------------------------------------------- share of counties meeting


def test_the_share_of_counties_meeting_compares_each_countys_own_value_with_the_target():
    tally = Tally(5)
    townships = np.array([10.0, 20.0, 5.0, 10.0, 0.0])
    cut = np.array([0.30, 0.2999, 0.45, 0.0, 0.0])  # exactly at the target, just short, above, none, no townships
    counties = np.arange(5)
    tally.add("assessment_items_cut", counties, cut * townships, townships)
    tally.add("veto_items", counties, np.array([10.0, 12.0, 8.0, 18.0, 0.0]) * townships, townships)
    tally_counties_meeting(tally, counties, ("assessment_items_cut_counties_met", "veto_items_counties_met"))
    met, veto = row("assessment_items_cut_counties_met"), row("veto_items_counties_met")
    assert tally.num[met].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert tally.den[met].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]  # a county without townships counts for nothing
    assert tally.num[veto].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]  # at most 10: 10 and 8 meet it
    # per county, not pooled: the pooled cut (0.207) misses, yet half the counties meet it themselves
    pooled = tally.num[row("assessment_items_cut")].sum() / tally.den[row("assessment_items_cut")].sum()
    assert pooled < 0.30 and tally.num[met].sum() / tally.den[met].sum() == 0.5


def test_in_the_plan_the_counties_meeting_the_cut_are_those_that_implement_and_finished_their_ramp(plan_model):
    m = plan_model
    policy, last = m.policy, m.calendar.end
    done = policy.implements["burden"] & (policy.adoption + 11 <= last)  # a 12-month ramp from its adoption
    met = row("assessment_items_cut_counties_met")
    assert np.array_equal(m.county_num[-1, met], done.astype(float))
    assert np.array_equal(m.county_num[-1, row("assessment_items_cut_effective_counties_met")], np.zeros(len(done)))


# --------------------------------------------------------------------------- the report


def synthetic(cut_lever: float, counties_met: float, cut: float = 0.27) -> tuple[pd.DataFrame, dict]:
    dates = pd.date_range("2027-01-01", periods=12, freq="MS")
    values = {"assessment_items_cut": cut, "assessment_items_cut_effective": cut - 0.02,
              "assessment_items_cut_counties_met": counties_met}
    series = pd.DataFrame([{"scenario": "plan", "replicate": r, "date": d, "phase": "consolidation", "region": "all",
                            "group": "all", "metric": name, "value": v}
                           for r in range(3) for d in dates for name, v in values.items()])
    manifest = {"scenarios": [{"name": "plan", "resolved_config": {
        "labels": {"en": "The plan", "zh": "规划"},
        "levers": {"assessment_items_cut": {"values": {"baseline": 0.0, "pilot": cut_lever}}}}}]}
    return series, manifest


def test_the_report_says_a_cut_set_exactly_at_the_target_misses_it_under_imperfect_fidelity():
    series, manifest = synthetic(0.30, 0.8)
    (note,) = set_at_target_notes(series, manifest, "en")
    assert "The plan: Assessment items cut is set exactly at the plan's target (30.0%)" in note
    assert "set exactly at the target misses it under imperfect fidelity" in note
    assert "80.0% of counties meet it themselves" in note and "on paper 27.0%" in note and "0.0% of replicates" in note
    (zh,) = set_at_target_notes(series, manifest, "zh")
    assert "恰好设定在规划目标值（30.0%）" in zh and "落实稍有不足即达不到目标" in zh and "80.0%的县自身达标" in zh
    # not when the lever goes beyond the target, nor when every county meets it
    assert set_at_target_notes(*synthetic(0.35, 0.8)) == []
    assert set_at_target_notes(*synthetic(0.30, 1.0, cut=0.30)) == []


def test_the_indicator_table_and_attainment_show_both_readings_and_the_counties_meeting():
    series, manifest = synthetic(0.30, 0.8)
    table = indicator_table(series, manifest).set_index("indicator")
    assert table.loc["Assessment items cut (vs 2023): on paper", "The plan"].startswith("27.0%")
    assert table.loc["Assessment items cut (vs 2023): effective, with rebound", "The plan"].startswith("25.0%")
    assert table.loc["Assessment items cut (vs 2023): on paper — share of counties meeting the target",
                     "The plan"].startswith("80.0%")
    att = target_attainment(replicate_values(series, years=(2027,))).set_index("metric")
    assert att.loc["assessment_items_cut", "share_of_counties_meeting"] == pytest.approx(0.8)
    assert att.loc["assessment_items_cut", "probability"] == 0.0
    assert np.isnan(att.loc["assessment_items_cut_effective", "share_of_counties_meeting"])
    assert registry.COUNTIES_MEETING["assessment_items_cut_counties_met"] == "assessment_items_cut"
