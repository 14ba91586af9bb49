"""The mechanisms' claims, each pinned at rule level and in the whole model."""

from __future__ import annotations

import numpy as np

from helpers import paired_means, scenario
from sim.config import load_scenario
from sim.rules import cadres as cadre_rules
from sim.rules import residents as resident_rules

YEARS_LATE = (2027, 2028, 2029, 2030)


def constant(value):
    return {"values": {"baseline": value}}


# --------------------------------------------------------------------------- time allocation


def test_more_veto_items_leave_less_service_time_rule():
    veto = np.array([0.0, 40.0, 80.0, 120.0, 160.0, 200.0])
    _, _, _, service = cadre_rules.allocate_time(174.0, 235.0, veto, 60.0, 20.0, 30.0, 0.1, 0.5)
    assert np.all(np.diff(service) <= 0)
    # fewer discretionary hours first, then (past the overtime cap) even residents' demand goes unmet
    assert service[0] > service[2] and service[-1] < 30.0


def test_veto_items_come_before_other_compliance_and_service():
    veto, other, data, service = cadre_rules.allocate_time(174.0, 200.0, 150.0, 100.0, 50.0, 40.0, 0.0, 0.5)
    assert veto == 150.0 and other == 50.0 and data == 0.0 and service == 0.0


def test_more_veto_items_leave_less_service_time_in_the_model():
    few = scenario(parameters={"workload": {"veto_items": 10}})
    many = scenario(parameters={"workload": {"veto_items": 40}})
    share_few, share_many = paired_means(few, many, "service_time_share", (2023, 2024))
    assert share_many < share_few - 0.02


def test_evaluation_rewarding_service_moves_time_to_residents():
    _, other_low, _, service_low = cadre_rules.allocate_time(174.0, 235.0, 20.0, 150.0, 10.0, 20.0, 0.0, 0.5)
    _, other_high, _, service_high = cadre_rules.allocate_time(174.0, 235.0, 20.0, 150.0, 10.0, 20.0, 1.0, 0.5)
    assert other_high < other_low and service_high > service_low


def test_shared_data_means_less_duplicate_entry_and_more_service():
    unshared = scenario(parameters={"counties": {"initial_data_shared": 0.0}})
    shared = scenario(parameters={"counties": {"initial_data_shared": 1.0}})
    low, high = paired_means(unshared, shared, "service_time_share", (2023,))
    assert high > low + 0.03


# --------------------------------------------------------------------------- pay and turnover


def test_higher_relative_pay_lowers_quit_probability_rule():
    p = load_scenario("configs/defaults.yaml").scenario.parameters.cadres
    rel_pay = np.array([0.6, 0.8, 1.0, 1.2])
    propensity = cadre_rules.quit_propensity(rel_pay, 0.5, 0.0, 0.3, 0.0, 0.0, False, False, True, 3.0, p)
    q = cadre_rules.quit_probability_annual(propensity)
    assert np.all(np.diff(q) < 0)


def test_quit_intention_follows_the_job_with_a_lag():
    intention = -2.0
    path = []
    for _ in range(24):
        intention = cadre_rules.update_intention(intention, -3.0, 6.0)
        path.append(intention)
    assert path[0] > -2.5  # one month after a pay rise the intention has moved less than half way
    assert np.all(np.diff(path) < 0) and abs(path[-1] + 3.0) < 0.05


def test_higher_relative_pay_lowers_turnover_in_the_model():
    low = scenario(levers={"committee_pay_ratio": constant(0.6), "township_pay_ratio": constant(0.7)})
    high = scenario(levers={"committee_pay_ratio": constant(1.1), "township_pay_ratio": constant(1.1)})
    turnover_low, turnover_high = paired_means(low, high, "turnover_rate", (2024, 2025, 2026))
    assert turnover_high < turnover_low - 0.02


def test_higher_pay_fills_more_vacancies():
    p = load_scenario("configs/defaults.yaml").scenario.parameters.cadres
    f = cadre_rules.fill_probability_annual(np.array([0.6, 0.7, 0.9]), 0.0, 0.0, p)
    assert np.all(np.diff(f) > 0)


def test_a_vacant_post_works_no_hours_and_keeps_its_last_burnout():
    p = load_scenario("configs/defaults.yaml").scenario.parameters.cadres
    month = cadre_rules.spend_month(np.array([True, False]), np.array([0.4, 0.4]), 100.0, 100.0, 20.0, 0.0, 60.0,
                                    1.0, 0.0, 174.0, 235.0, 0.5, p)
    assert month.worked[0] > 174.0 and month.burnout[0] != 0.4  # overtime moves the holder's burnout
    assert (month.veto[1], month.other[1], month.data[1], month.service[1], month.worked[1]) == (0, 0, 0, 0, 0)
    assert month.burnout[1] == 0.4


def test_cadres_at_retirement_age_retire_and_vacant_posts_do_not_leave():
    p = load_scenario("configs/defaults.yaml").scenario.parameters.cadres
    age = np.array([p.retirement_age, p.retirement_age - 10.0, p.retirement_age])
    filled = np.array([True, True, False])
    leaving = cadre_rules.stay_or_leave(filled, np.full(3, np.nan), 0.5, True, age, False, False, 10.0, False, 1.0,
                                        0.9, 5000.0, 1.0, 0.8, 0.8, 0.0, 0.0, 0.1, 0.0, 0.999, p)
    assert list(leaving.exits) == [True, False, False] and not leaving.quits.any()  # u = 0.999: nobody quits
    assert list(leaving.filled) == [False, True, False]
    assert np.all(np.isfinite(leaving.intention))  # the job's propensity, from the first month on


def test_burnout_follows_overtime_and_compliance():
    t = cadre_rules.burnout_target(np.array([0.0, 0.2, 0.4]), 0.5, -1.5, 4.0, 2.0)
    assert np.all(np.diff(t) > 0)
    assert cadre_rules.burnout_target(0.0, 0.9, -1.5, 4.0, 2.0) > cadre_rules.burnout_target(0.0, 0.2, -1.5, 4.0, 2.0)


# --------------------------------------------------------------------------- devolution


def test_devolved_powers_settle_more_issues_locally_rule():
    p = resident_rules.local_authority_probability(np.array([0.0, 0.5, 1.0]), 0.3, 1.0)
    assert np.all(np.diff(p) > 0)
    # devolution without staff achieves nothing beyond the base
    assert resident_rules.local_authority_probability(1.0, 0.3, 0.0) == 0.3


def test_more_devolved_authority_resolves_more_locally_and_raises_satisfaction():
    low = scenario(levers={"devolved_power_share": constant(0.0)})
    high = scenario(levers={"devolved_power_share": constant(1.0)})
    local_low, local_high = paired_means(low, high, "local_resolution_share", (2023, 2024))
    assert local_high > local_low + 0.2
    sat_low, sat_high = paired_means(low, high, "satisfaction", (2023, 2024))
    assert sat_high > sat_low + 0.5


# --------------------------------------------------------------------------- participation


def test_attendance_rises_with_efficacy_trust_and_crowd_rule():
    p = load_scenario("configs/defaults.yaml").scenario.parameters.residents
    base = dict(trust=0.5, efficacy=0.4, cost=0.8, age_years=45.0, points=0.0, previous_share=0.0, threshold=0.25, p=p)
    a = resident_rules.attend_probability(**base)
    assert resident_rules.attend_probability(**{**base, "efficacy": 0.9}) > a
    assert resident_rules.attend_probability(**{**base, "trust": 0.9}) > a
    assert resident_rules.attend_probability(**{**base, "previous_share": 0.3}) > a  # crowd past the threshold
    assert resident_rules.attend_probability(**{**base, "cost": 1.5}) < a
    assert resident_rules.attend_probability(**{**base, "age_years": 75.0}) > a


def test_a_council_makes_attending_cheaper_and_only_a_meeting_brings_residents():
    p = load_scenario("configs/defaults.yaml").scenario.parameters.residents

    def attend_chance(council, meeting=True):
        # a resident attends iff u_attend < the chance, so the share of a fine grid of u that attends is the chance
        u = np.linspace(0.0, 1.0, 2001)
        part = resident_rules.take_part(meeting, council, False, 0.0, 0.0, False, False, 1.0, 0.5, 0.4, 45.0, 0.5,
                                        1.0, -1, 40, u, 1.0, p)
        return part.attends.mean()

    assert attend_chance(council=True) > attend_chance(council=False) > 0
    assert attend_chance(council=True, meeting=False) == 0


def test_carried_out_decisions_raise_later_participation():
    ignored = scenario(parameters={"residents": {"execution_base": 0.05, "execution_capacity": 0.0}})
    carried = scenario(parameters={"residents": {"execution_base": 0.95, "execution_capacity": 0.0}})
    att_ignored, att_carried = paired_means(ignored, carried, "meeting_attendance_rate", (2025, 2026))
    assert att_carried > att_ignored + 0.03
    part_ignored, part_carried = paired_means(ignored, carried, "participation_rate", (2025, 2026))
    assert part_carried > part_ignored


def test_putting_decisions_to_residents_lowers_committee_decision_share():
    low = scenario(levers={"deliberation_share": constant(0.2)})
    high = scenario(levers={"deliberation_share": constant(0.9)})
    share_low, share_high = paired_means(low, high, "committee_decision_share", (2023,), replicates=1)
    assert share_high < share_low - 0.4


# --------------------------------------------------------------------------- departments


def test_rebound_brings_back_part_of_the_cut_work():
    quiet = scenario("plan.yaml", implementation={"rebound_share": 0.0})
    rebound = scenario("plan.yaml", implementation={"rebound_share": 0.6})
    items_quiet, items_rebound = paired_means(quiet, rebound, "assessment_items_actual", YEARS_LATE, replicates=1)
    cut_quiet, cut_rebound = paired_means(quiet, rebound, "assessment_items_cut", YEARS_LATE, replicates=1)
    assert items_rebound > items_quiet + 5
    assert abs(cut_quiet - cut_rebound) < 1e-12  # the official cut is the same on paper


def test_the_plan_cuts_items_and_raises_service_time(baseline_series, plan_series):
    from helpers import yearly

    assert yearly(plan_series, "assessment_items_cut", (2027,)) > 0.2
    assert yearly(plan_series, "service_time_share", YEARS_LATE) > yearly(baseline_series, "service_time_share", YEARS_LATE)
