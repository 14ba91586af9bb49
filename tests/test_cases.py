"""Complaints by cause and the case queue: what a supervision platform, a handling deadline and the
integrated grid do to complaints, rectification and the days from a request to its resolution."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from helpers import ROOT, scenario, yearly
from sim.config import load_scenario
from sim.model.model import GrassrootsModel
from sim.rules import residents as rules

P = load_scenario(ROOT / "configs/calibrated.yaml").scenario.parameters.residents
DAYS = rules.DAYS_PER_MONTH
UNTIL = "2024-12"  # two recorded years are enough for these comparisons


def constant(value):
    return {"values": {"baseline": value}}


def small(**levers):
    return scenario(levers={name: constant(value) for name, value in levers.items()})


def run(sc, replicate: int = 0):
    return GrassrootsModel(sc, seed=0, replicate=replicate).run(until=UNTIL).series()


def paired_means(sc_a, sc_b, metric: str, years, replicates: int = 2) -> tuple[float, float]:
    """Mean of ``metric`` over ``years`` for two scenarios on the same replicates (common random numbers)."""
    a = [yearly(run(sc_a, replicate=k), metric, years) for k in range(replicates)]
    b = [yearly(run(sc_b, replicate=k), metric, years) for k in range(replicates)]
    return sum(a) / len(a), sum(b) / len(b)


# --------------------------------------------------------------------------- complaints by cause: the rule


def hazards(dropped=False, waiting=False, served=False, burnout=0.5, supervision=0.0, disclosure=0.3,
            deadline_days=22.0):
    main, opacity = rules.complaint_hazards(np.array(dropped), np.array(waiting), np.array(served), burnout,
                                            supervision, disclosure, deadline_days, P)
    return float(main), float(opacity)


def test_each_open_issue_complains_about_its_own_cause():
    assert hazards(dropped=True)[0] == P.complaint_unresolved
    assert hazards(waiting=True)[0] == P.complaint_delay  # no answer within the month at 22 working days
    assert hazards(served=True, burnout=0.4)[0] == pytest.approx(P.complaint_attitude * 0.4)
    assert hazards(served=True)[1] == 0.0  # a served resident has no open issue to find opaque
    assert hazards() == (0.0, 0.0)  # no issue, no complaint


def test_a_supervision_platform_cuts_attitude_and_opacity_complaints_rule():
    without, with_platform = hazards(served=True), hazards(served=True, supervision=1.0)
    assert with_platform[0] == pytest.approx(without[0] * (1 - P.attitude_supervision_cut))
    assert with_platform[0] < without[0]
    open_without, open_with = hazards(waiting=True), hazards(waiting=True, supervision=1.0)
    assert open_with[1] < open_without[1]
    assert open_with[0] == open_without[0]  # the platform alone does not answer a waiting case sooner
    assert hazards(waiting=True, disclosure=1.0)[1] == 0.0  # everything disclosed: nothing opaque


def test_a_shorter_deadline_cuts_delay_complaints_rule():
    deadlines = np.array([22.0, 15.0, 10.0, 5.0, 3.0, 1.0])
    delay = [hazards(waiting=True, deadline_days=d)[0] for d in deadlines]
    assert np.all(np.diff(delay) < 0)
    assert delay[0] == P.complaint_delay  # the 2023 value: a month or more, no relief
    answered = rules.answered_share(3.0)
    assert delay[4] == pytest.approx(P.complaint_delay * (1 - P.deadline_delay_relief * answered))


# --------------------------------------------------------------------------- rectification: no constant ceiling


def test_rectification_reaches_one_with_a_full_platform_and_spare_capacity():
    assert rules.rectification_probability(1.0, 1.0, P) == 1.0
    grid = np.linspace(0, 1, 11)
    s, c = np.meshgrid(grid, grid, indexing="ij")
    p = rules.rectification_probability(s, c, P)
    assert np.all(np.diff(p, axis=0) >= 0) and np.all(np.diff(p, axis=1) >= 0)  # more of either: more rectified
    assert p.max() == 1.0 and p[0, 0] == pytest.approx(P.rectification_base)


def test_the_2023_rectification_rule_keeps_the_old_additive_values():
    """Without a platform the saturating form gives the old base + 0.1 x spare capacity (to 0.001)."""
    spare = np.linspace(0, 1, 5)
    np.testing.assert_allclose(rules.rectification_probability(0.0, spare, P), P.rectification_base + 0.1 * spare,
                               atol=1e-3)


def test_the_plan_target_for_rectification_is_reachable_in_the_model():
    """Full platform and capacity to spare (no work pushed down, quick cases: hours beyond the cases):
    every complaint is rectified, the plan's 100%, except in a committee with nobody in post."""
    target = next(i for i in yaml.safe_load((ROOT / "sim/data/plan_indicators.yaml").read_text())["indicators"]
                  if i["id"] == "complaint_rectification_rate")["target"]
    no_compliance = {"item_hours_per_township_month": 0, "inspection_hours": 0, "adhoc_task_hours": 0,
                     "duplicate_entry_hours_per_department": 0}
    quick = {"hours_per_case": 0.1, "township_hours_per_case": 0.1}
    roomy = scenario(levers={"supervision_platform": constant(1.0)},
                     parameters={"workload": no_compliance, "residents": quick})
    series = run(roomy)
    rect = series[(series.metric == "complaint_rectification_rate") & (series.region == "all")
                  & (series.group == "all")].value
    # every month but a few meets it; those are months when a committee has nobody in post (no capacity)
    assert target == 1.0 and rect.median() >= target and rect.mean() > 0.995


# --------------------------------------------------------------------------- the case queue: the rule


def test_a_referral_counts_the_months_it_waited():
    r = 0.25
    days = rules.case_days(np.array(False), np.array(True), np.array(False), 14, 10, 20.0, 0.0, 1.0, 1.0,
                           0.125, r, 0.0, 1.0, 0.0, 22.0, P)
    assert float(days) == pytest.approx(4 * DAYS - 20.0 + 0.5 * DAYS)  # raised on day 20, resolved mid-month


def test_a_served_case_waits_longer_in_a_loaded_unit_and_less_on_the_grid():
    def local(load, grid=0.0):
        return float(rules.case_days(np.array(True), np.array(False), np.array(False), 5, 5, 3.0, 0.4, 0.8, load,
                                     0.0, 0.25, 0.0, 1.0, grid, 22.0, P))
    assert local(0.0) == P.case_routing_days  # capacity to spare: only the routing
    assert local(1.0) == pytest.approx(P.case_routing_days + 0.5 * DAYS)  # half-way through a full month's queue
    assert local(1.0, grid=1.0) == pytest.approx(local(1.0) - P.case_routing_days * P.grid_routing_cut)


def test_a_rectified_complaint_ends_a_wait_within_the_deadline():
    def fixed(deadline):
        return float(rules.case_days(np.array(False), np.array(False), np.array(True), 12, 12, 10.0, 0.0, 1.0, 1.0,
                                     0.0, 0.25, 0.1, 0.2, 0.0, deadline, P))
    # complained half-way between the request (day 10) and the month's end, handled by the deadline
    assert fixed(3.0) == pytest.approx(0.5 * (DAYS - 10.0) + 3.0 * 7 / 5)
    assert fixed(22.0) - fixed(3.0) == pytest.approx(19.0 * 7 / 5)


def test_grid_integration_and_an_enforced_deadline_resolve_referrals_faster_rule():
    base = rules.referral_resolution_probability(0.0, 0.0, 22.0, P)
    assert base == P.referral_resolution_per_month
    grid = rules.referral_resolution_probability(1.0, 0.0, 22.0, P)
    assert grid == pytest.approx(1 - (1 - base) * (1 - P.grid_referral_gain))
    assert grid > base
    assert rules.referral_resolution_probability(0.0, 1.0, 22.0, P) == base  # no deadline within the month
    assert rules.referral_resolution_probability(0.0, 0.0, 3.0, P) == base  # a deadline nobody tracks
    assert rules.referral_resolution_probability(0.0, 1.0, 3.0, P) > base


def test_a_new_need_opens_a_case_on_its_day_and_a_waiting_one_keeps_its_own():
    need = rules.bring_need(np.array([False, True]), np.array([False, False]), 10.0, 0.0, 1.0,
                            np.array([3, 3]), np.array([7.0, 7.0]), 20, np.array([0.03, 0.0]), np.array([0.9, 0.9]),
                            np.array([0.9, 0.9]), P)
    assert need.need.tolist() == [True, False]  # the second is still waiting on a referral
    assert need.request_month.tolist() == [20, 3]
    assert need.request_day[0] == pytest.approx(0.03 / P.need_rate_per_month * DAYS)
    assert need.request_day[1] == 7.0


# --------------------------------------------------------------------------- the whole model


def test_a_supervision_platform_lowers_complaint_volume_and_attitude_complaints():
    none, platform = small(), small(supervision_platform=1.0)
    for metric in ("complaints_per_1000_residents", "attitude_complaints_per_1000_residents"):
        before, after = paired_means(none, platform, metric, (2023, 2024))
        assert after < 0.85 * before, metric


def test_grid_integration_shortens_resolution_time():
    before, after = paired_means(small(), small(grid_integration=1.0), "resolution_days", (2023, 2024))
    assert after < before - 5.0


def test_a_shorter_handling_deadline_lowers_resolution_days_and_delay_complaints():
    month_long = small(supervision_platform=1.0)
    three_days = small(supervision_platform=1.0, complaint_deadline_days=3)
    for metric in ("resolution_days", "delay_complaints_per_1000_residents"):
        before, after = paired_means(month_long, three_days, metric, (2023, 2024))
        assert after < 0.9 * before, metric


def test_the_2023_complaints_are_mostly_about_attitude_delay_or_opacity():
    """The causes' 2023 rates are set so that 62.4% of complaints are about attitude, slowness or opacity."""
    series = run(small())
    assert yearly(series, "complaint_process_share", (2023,)) == pytest.approx(0.624, abs=0.03)
    assert 0 < yearly(series, "resolution_days", (2023,)) < 120
