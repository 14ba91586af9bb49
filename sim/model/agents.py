"""The three agent sets, each a population held as columns (one row per agent).

``Departments``, ``Cadres`` and ``Residents`` keep their state in numpy arrays
and act as a whole population in one call, by applying the pure rules in
``sim.rules`` to those arrays; interactions inside a committee or township are
group sums (``np.bincount``). Every random draw comes from a per-month stream
sized by the population (not by how many agents happen to act), so the same
agent sees the same draw in every scenario of a replicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..config.schema import REGIONS, Scenario
from ..rules import cadres as cadre_rules
from ..rules import departments as dept_rules
from ..rules import residents as resident_rules
from .metrics import Tally, group_sum
from .population import Places, logit_normal, mean_for_share_above, truncated_normal
from .streams import Streams, poisson_from_uniform


def safe_ratio(num: np.ndarray, den: np.ndarray, empty: float = 0.0) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)


@dataclass
class Work:
    """Hours of pushed-down work per unit (committees first, then townships) this month."""

    veto: np.ndarray
    other: np.ndarray
    data: np.ndarray
    # per county, for the record
    items_official: np.ndarray
    items_actual: np.ndarray
    veto_official: np.ndarray
    rebound: np.ndarray
    inspections: np.ndarray  # per committee, this month


# =========================================================================== departments


class Departments:
    """County departments (23 per county; the first 12 hold residents' data)."""

    def __init__(self, scenario: Scenario, places: Places, devolved_2023: np.ndarray, streams: Streams):
        w = scenario.parameters.workload
        impl = scenario.implementation
        self.w, self.impl = w, impl
        self.places = places
        n = places.n_counties
        per = w.departments_per_county
        self.county = np.repeat(np.arange(n), per)
        self.holds_data = np.tile(np.arange(per) < w.data_departments, n)
        self.first = places.first_county * per  # global index of the first department here
        u, u_refuse, u_shared = streams.uniforms("department_init", 0, self.first, n * per, 3)
        if 0.0 < impl.rebound_share < 1.0:  # departments differ around the median propensity
            self.rebound_propensity = logit_normal(u, impl.rebound_share, impl.rebound_logit_sd)
        else:
            self.rebound_propensity = np.full(n * per, impl.rebound_share)
        self.refuses = self.holds_data & (u_refuse < impl.data_refusal_share)
        self.shared = self.holds_data & (u_shared < scenario.parameters.counties.initial_data_shared)
        self.devolved = devolved_2023.astype(float).copy()
        self.burden_reform_start = np.full(n, -1)

    # -- state seen by others
    def county_rebound_propensity(self) -> np.ndarray:
        return group_sum(self.county, self.rebound_propensity, self.places.n_counties) / self.w.departments_per_county

    def shared_share(self) -> np.ndarray:
        n = self.places.n_counties
        return safe_ratio(group_sum(self.county, self.shared, n), group_sum(self.county, self.holds_data, n))

    # -- behaviour
    def push_tasks(self, levers: dict, burden_active: np.ndarray, month: int, streams: Streams) -> Work:
        """Push assessment items, inspections, ad hoc tasks and duplicate data entry down to townships and committees."""
        w, impl, pl = self.w, self.impl, self.places
        cuts = ((levers["assessment_items_cut"] > 0) | (levers["inspections_cut"] > 0)
                | (levers["veto_items_cap"] < w.veto_items))
        newly = burden_active & cuts & (self.burden_reform_start < 0)
        self.burden_reform_start[newly] = month
        since = np.where(self.burden_reform_start >= 0, month - self.burden_reform_start, 0)

        items_o, veto_o, insp_o = dept_rules.official_task_load(
            w.assessment_items_per_year, w.veto_items, w.inspections_per_committee_year,
            levers["assessment_items_cut"], levers["veto_items_cap"], levers["inspections_cut"])
        rebound = dept_rules.rebound_share(
            self.county_rebound_propensity(), since, impl.rebound_months, levers["task_access_control"],
            impl.access_control_effectiveness, levers["power_list_coverage"], impl.power_list_effectiveness)
        items = dept_rules.actual_load(items_o, w.assessment_items_per_year, rebound)
        veto = dept_rules.actual_load(veto_o, w.veto_items, rebound)
        inspections = dept_rules.actual_load(insp_o, w.inspections_per_committee_year, rebound)
        adhoc_rate = dept_rules.adhoc_task_rate(
            w.adhoc_tasks_per_township_day, w.working_days_per_month, levers["task_access_control"],
            impl.access_control_effectiveness, levers["grid_integration"], w.grid_efficiency)

        tc, cc, ct = pl.township_county, pl.committee_county, pl.committee_township
        u_adhoc = streams.uniforms("adhoc", month, pl.first_township, pl.n_townships)
        u_insp = streams.uniforms("tasks", month, pl.first_committee, pl.n_committees)
        adhoc = poisson_from_uniform(u_adhoc, adhoc_rate[tc])
        insp_count = poisson_from_uniform(u_insp, inspections[cc] / 12.0)

        veto_h, other_h, adhoc_h = dept_rules.township_work_hours(
            items[tc], veto[tc], adhoc, w.item_hours_per_township_month, w.veto_hours_multiplier, w.adhoc_task_hours)
        township_veto, township_other, committee_veto, committee_other = dept_rules.pass_down(
            veto_h, other_h, adhoc_h, w.item_share_to_committees, w.adhoc_share_to_committees,
            pl.committees_per_township)
        data_h = dept_rules.duplicate_entry_hours(w.data_departments, group_sum(self.county, self.shared, pl.n_counties),
                                                  w.duplicate_entry_hours_per_department)
        return Work(
            veto=np.concatenate([committee_veto[ct], township_veto]),
            other=np.concatenate([committee_other[ct] + insp_count * w.inspection_hours, township_other]),
            data=np.concatenate([data_h[cc], data_h[tc]]),
            items_official=items_o, items_actual=items, veto_official=veto_o, rebound=rebound,
            inspections=insp_count,
        )

    def share_data_and_devolve(self, levers: dict, month: int, streams: Streams) -> None:
        """Data departments decide whether to join the platform; counties hand powers to townships."""
        county_share = self.shared_share()[self.county]
        u = streams.uniforms("data", month, self.first, len(self.county))
        joined = dept_rules.join_data_platform(
            self.shared, self.refuses, county_share, levers["data_sharing_target"][self.county],
            self.impl.data_join_months, self.impl.refuser_join_factor, u)
        self.shared = joined & self.holds_data
        self.devolved = dept_rules.devolve_powers(self.devolved, levers["devolved_power_share"],
                                                  self.impl.devolution_months)

    def tally(self, tally: Tally, work: Work) -> None:
        pl = self.places
        townships = pl.townships_per_county
        counties = np.arange(pl.n_counties)
        w = self.w
        tally.add("authority_devolved_share", counties, self.devolved * townships, townships)
        tally.add("data_shared_share", self.county, self.shared, self.holds_data)
        tally.add("assessment_items_cut", counties, (1 - work.items_official / w.assessment_items_per_year) * townships, townships)
        tally.add("assessment_items_actual", counties, work.items_actual * townships, townships)
        tally.add("veto_items", counties, work.veto_official * townships, townships)
        tally.add("rebound_share", counties, work.rebound * townships, townships)
        tally.add("inspections_per_committee", pl.committee_county, 12.0 * work.inspections)


# =========================================================================== cadres


class Cadres:
    """Committee workers and township staff, one row per establishment post (filled or vacant)."""

    def __init__(self, scenario: Scenario, places: Places, streams: Streams):
        p = scenario.parameters.cadres
        self.p, self.w = p, scenario.parameters.workload
        self.places = places
        m, t = places.n_committees, places.n_townships
        self.n_units = m + t
        # one row per post, county by county; unit = committee index, or m + township index
        unit = places.post_units()
        self.unit = unit
        self.first = places.first_post  # global index of the first post here: addresses its draws
        self.township_post = unit >= m
        self.county = np.concatenate([places.committee_county, places.township_county])[unit]
        self.region = places.county_region[self.county]
        n = len(unit)
        self.n = n
        committee_contract = np.where(places.committee_urban, p.contract_share.urban, p.contract_share.rural)
        self.contract_p = np.where(self.township_post, p.township_contract_share,
                                   committee_contract[np.minimum(unit, m - 1)])
        (u_filled, u_age, u_college, u_prof, u_contract, u_insured, u_tenure, u_skill, u_grade,
         self.ladder_u) = streams.uniforms("cadre_init", 0, self.first, n, 10)
        self.filled = u_filled >= p.initial_vacancy_rate
        age_mean = mean_for_share_above(45.0, p.initial_share_over_45, p.initial_age_sd, p.hire_age_min,
                                        p.retirement_age)
        self.age = truncated_normal(u_age, age_mean, p.initial_age_sd, p.hire_age_min, p.retirement_age)
        self.college = u_college < p.initial_share_college
        self.professional = u_prof < p.initial_share_professional
        self.contract = u_contract < self.contract_p
        self.insured = ~self.contract | (u_insured < p.base_social_insurance)
        tenure = -np.log1p(-u_tenure) * p.initial_tenure_years  # exponential, by inverse CDF
        self.tenure = np.minimum(tenure, self.age - p.hire_age_min)
        self.skill = logit_normal(u_skill, p.initial_skill_mean, p.skill_logit_sd)
        self.burnout = np.full(n, p.initial_burnout)
        self.grade = np.floor(u_grade * (p.initial_grade_max + 1))
        self.intention = np.full(n, np.nan)  # quit intention (log-odds); set from the job in the first month
        self.county_pay = np.array([getattr(p.county_pay_yuan, r) for r in REGIONS])
        self.wage_index = self.county_pay / self.county_pay.mean()
        self.contract_hours = self.w.contract_hours_per_month
        self.max_hours = self.contract_hours * self.w.max_hours_ratio
        # per-month results, read by residents and metrics
        self.hours = None
        self.month_exits = np.zeros(n, dtype=bool)
        self.month_quits = np.zeros(n, dtype=bool)
        self.month_hires = np.zeros(n, dtype=bool)
        self.month_promotions = np.zeros(n, dtype=bool)
        self.vacant_at_start = ~self.filled
        self.filled_at_start = self.filled.copy()
        self.vacancies_first = None  # vacancies in the first recorded month: the talent gap

    # -- derived state
    def headcount(self) -> np.ndarray:
        return group_sum(self.unit, self.filled, self.n_units)

    def unit_mean(self, values: np.ndarray, heads: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over the filled posts of each unit (0 for empty units); ``heads`` = headcount()."""
        return safe_ratio(group_sum(self.unit, values * self.filled, self.n_units), heads)

    def outside_pay(self) -> np.ndarray:
        return self.county_pay[self.region] * (1.0 + self.p.college_pay_premium * self.college)

    def pay(self, levers: dict) -> np.ndarray:
        c = self.county
        ratio = np.where(self.township_post, levers["township_pay_ratio"][c], levers["committee_pay_ratio"][c])
        on_ladder = ~self.township_post & (self.ladder_u < levers["career_ladder"][c])
        return cadre_rules.monthly_pay(self.outside_pay(), ratio, on_ladder, self.grade, self.p.ladder_pay_min_yuan,
                                       self.p.ladder_pay_max_yuan, self.wage_index[self.region], self.p.grade_pay_step)

    # -- behaviour
    def allocate_time(self, work: Work, service_case_hours: np.ndarray, levers: dict, heads: np.ndarray) -> None:
        """Each cadre splits the month: compliance first (veto items first of all), then data entry, then residents.

        ``heads`` is the unit headcount at the start of the month (``headcount()``)."""
        self.filled_at_start = self.filled.copy()
        self.vacant_at_start = ~self.filled
        share = safe_ratio(np.ones(self.n_units), heads)[self.unit]  # each filled post's share of its unit's work
        weight = levers["evaluation_service_weight"][self.county]
        veto, other, data, service = cadre_rules.allocate_time(
            self.contract_hours, self.max_hours, work.veto[self.unit] * share, work.other[self.unit] * share,
            work.data[self.unit] * share, service_case_hours[self.unit] * share, weight, self.w.compliance_trimming)
        f = self.filled
        self.hours = {k: np.where(f, v, 0.0) for k, v in
                      {"veto": veto, "other": other, "data": data, "service": service}.items()}
        worked = self.hours["veto"] + self.hours["other"] + self.hours["data"] + self.hours["service"]
        self.hours["worked"] = worked
        compliance = safe_ratio(worked - self.hours["service"], worked)
        overtime = np.maximum(worked / self.contract_hours - 1.0, 0.0)
        target = cadre_rules.burnout_target(overtime, compliance, self.p.burnout_intercept,
                                            self.p.burnout_overtime, self.p.burnout_compliance)
        self.burnout = np.where(f, cadre_rules.update_burnout(self.burnout, target, self.p.burnout_months), self.burnout)

    def service_capacity_cases(self, hours_per_case: np.ndarray) -> np.ndarray:
        """Cases each unit can handle this month: service hours x productivity / hours per case."""
        productivity = cadre_rules.service_productivity(self.skill)
        return group_sum(self.unit, self.hours["service"] * productivity, self.n_units) / hours_per_case

    def stay_or_leave(self, levers: dict, month: int, streams: Streams) -> None:
        """Cadres retire at retirement age or quit with a monthly hazard from their job's value."""
        p, c = self.p, self.county
        u = streams.uniforms("quits", month, self.first, self.n)
        rel_pay = self.pay(levers) / self.outside_pay()
        annuity = np.where(self.township_post, 0.0, levers["occupational_annuity"][c])
        propensity = cadre_rules.quit_propensity(
            rel_pay, self.burnout, self.insured, levers["promotion_rate_3y"][c] / p.county_promotion_rate_3y,
            levers["recognition"][c], annuity, self.age < p.young_age, self.college, self.contract, self.tenure, p)
        # a newcomer's (or, in the first month, everyone's) intention starts at what the job implies
        self.intention = np.where(np.isnan(self.intention), propensity,
                                  cadre_rules.update_intention(self.intention, propensity, p.intention_months))
        q = cadre_rules.quit_probability_annual(self.intention)
        retire = self.filled & (self.age >= p.retirement_age)
        quit = self.filled & ~retire & (u < cadre_rules.annual_to_monthly(q))
        self.month_quits = quit
        self.month_exits = quit | retire
        self.filled = self.filled & ~self.month_exits

    def fill_vacancies(self, levers: dict, base_quality: np.ndarray, month: int, streams: Streams) -> None:
        """Posts vacant at the start of the month are filled as fast as pay and the pipeline allow."""
        p = self.p
        # draws for every post (so each post keeps its draws in every scenario); work on vacant posts only
        u_fill, u_age, u_col, u_prof, u_con, u_ins, u_skill = streams.uniforms("hires", month, self.first, self.n, 7)
        v = np.flatnonzero(self.vacant_at_start)
        c, township, region = self.county[v], self.township_post[v], self.region[v]
        post_ratio = np.where(township, levers["township_pay_ratio"][c], levers["committee_pay_ratio"][c])
        on_ladder = ~township & (self.ladder_u[v] < levers["career_ladder"][c])
        rel_pay = cadre_rules.vacancy_relative_pay(post_ratio, on_ladder, p.ladder_pay_min_yuan,
                                                   self.wage_index[region], self.county_pay[region])
        drive = levers["recruitment_drive"][c]
        f = cadre_rules.fill_probability_annual(rel_pay, drive, base_quality[c], p)
        hired = u_fill[v] < cadre_rules.annual_to_monthly(f)
        h = v[hired]
        self.month_hires = np.zeros(self.n, dtype=bool)
        self.month_hires[h] = True
        rel_pay, drive, c = rel_pay[hired], drive[hired], c[hired]
        self.age[h] = truncated_normal(u_age[h], p.hire_age_mean, p.hire_age_sd, p.hire_age_min, p.hire_age_max)
        self.college[h] = u_col[h] < cadre_rules.hire_college_probability(
            rel_pay, p.hire_college_base, p.hire_college_pay_slope, p.hire_college_reference_pay)
        self.professional[h] = u_prof[h] < cadre_rules.hire_professional_probability(
            drive, p.hire_professional_base, p.hire_professional_drive)
        self.contract[h] = u_con[h] < self.contract_p[h]
        self.insured[h] = ~self.contract[h] | (u_ins[h] < levers["social_insurance_coverage"][c])
        self.skill[h] = cadre_rules.new_hire_skill(u_skill[h], p.initial_skill_mean)
        self.tenure[h] = 0.0
        self.grade[h] = 0.0
        self.burnout[h] = p.initial_burnout
        self.intention[h] = np.nan
        self.filled[h] = True

    def train_promote_and_age(self, levers: dict, coverage_target: np.ndarray, month: int, streams: Streams,
                              enrol_months: float) -> None:
        """Training raises skills, promotion raises grade, contracts gain insurance; a month passes."""
        p, c = self.p, self.county
        u_train, u_apply, u_prom, u_ins = streams.uniforms("training", month, self.first, self.n, 4)
        trained = self.filled & (u_train < levers["training_coverage"][c] / 12.0)
        applies = u_apply < cadre_rules.application_probability(levers["training_mentoring"][c], p.application_rate,
                                                                 p.application_rate_mentored)
        self.skill = cadre_rules.train(self.skill, trained, applies, p.training_skill_gain)
        self.skill = self.skill * (1.0 - p.skill_decay_per_year / 12.0)
        promoted = self.filled & (u_prom < cadre_rules.promotion_probability_monthly(levers["promotion_rate_3y"][c]))
        self.month_promotions = promoted
        self.grade = cadre_rules.promote(self.grade, promoted)
        # contract staff are enrolled in social insurance while the county is below its target
        coverage = self.insurance_coverage_by_county()
        enrol = (self.filled & self.contract & ~self.insured & (coverage[c] < coverage_target[c])
                 & (u_ins < cadre_rules.monthly_hazard(enrol_months)))
        self.insured = self.insured | enrol
        self.age = self.age + 1.0 / 12.0
        self.tenure = self.tenure + 1.0 / 12.0

    def insurance_coverage_by_county(self) -> np.ndarray:
        n = self.places.n_counties
        contract = self.filled & self.contract
        return safe_ratio(group_sum(self.county, contract & self.insured, n), group_sum(self.county, contract, n), 1.0)

    def tally(self, tally: Tally, levers: dict) -> None:
        c, f = self.county, self.filled
        h = self.hours
        start = self.filled_at_start
        tally.add("turnover_rate", c, self.month_exits, start)
        tally.add("quit_rate", c, self.month_quits, start)
        tally.add("service_time_share", c, h["service"], h["worked"])
        compliance = safe_ratio(h["worked"] - h["service"], h["worked"])
        tally.add("compliance_heavy_share", c, start & (compliance >= 0.8), start)
        tally.add("burnout", c, self.burnout * f, f)
        tally.add("vacancy_rate", c, ~f, 1.0)
        if self.vacancies_first is None:
            self.vacancies_first = self.vacant_at_start.copy()
        tally.add("talent_gap_filled", c, self.vacancies_first.astype(float) - ~f, self.vacancies_first)
        tally.add("recruitment_fill_rate", c, self.month_hires, self.vacant_at_start)
        tally.add("share_under_45", c, f & (self.age < 45.0), f)
        tally.add("share_college", c, f & self.college, f)
        tally.add("share_professional", c, f & self.professional, f)
        tally.add("social_insurance_coverage", c, f & self.contract & self.insured, f & self.contract)
        hourly_ratio = safe_ratio(self.pay(levers) / self.outside_pay(), h["worked"] / self.contract_hours)
        tally.add("pay_match", c, start & (hourly_ratio >= 0.9), start)
        tally.add("mean_skill", c, self.skill * f, f)
        tally.add("promotion_rate_3y", c, self.month_promotions, f)


# =========================================================================== residents


class Residents:
    """A weighted sample of residents per committee (weight = committee population / sample size)."""

    def __init__(self, scenario: Scenario, places: Places, streams: Streams):
        p = scenario.parameters.residents
        g = scenario.geography
        self.p = p
        self.places = places
        k = g.resident_sample_per_committee
        m = places.n_committees
        self.committee = np.repeat(np.arange(m), k)
        n = len(self.committee)
        self.n = n
        self.township = places.committee_township[self.committee]
        self.county = places.committee_county[self.committee]
        self.weight = np.repeat(places.committee_population / k, k).astype(float)
        self.committee_weight = group_sum(self.committee, self.weight, m)  # weights never change: sum once
        urban = places.committee_urban[self.committee]
        elderly_share = np.where(urban, g.elderly_share.urban, g.elderly_share.rural)
        self.first = places.first_committee * k  # global index of the first resident here
        u_elderly, u_age, u_trust, u_efficacy, u_threshold, u_cost = streams.uniforms(
            "resident_init", 0, self.first, n, 6)
        self.elderly = u_elderly < elderly_share
        lo = np.where(self.elderly, p.elderly_age, p.adult_age)  # ages uniform within each group
        hi = np.where(self.elderly, p.oldest_age, p.elderly_age)
        self.age = lo + (hi - lo) * u_age
        base_shift = scenario.parameters.counties.base_trust_effect * places.county_base[self.county]
        self.trust = np.clip(logit_normal(u_trust, p.initial_trust_mean, p.opinion_logit_sd) + base_shift, 0, 1)
        self.efficacy = logit_normal(u_efficacy, p.initial_efficacy_mean, p.opinion_logit_sd)
        self.satisfaction = np.full(n, p.initial_satisfaction)
        self.threshold = np.clip(p.threshold_mean + p.threshold_sd * ndtri(np.clip(u_threshold, 1e-12, 1 - 1e-12)),
                                 0.0, 1.0)
        self.cost = np.where(urban, p.cost_urban, p.cost_rural) * (1.0 + p.cost_spread * (2.0 * u_cost - 1.0))
        self.pending = np.zeros(n, dtype=bool)  # waiting on an issue referred upward
        self.last_part = np.full(n, -10_000)
        # committee-level features switched on by levers, fixed draws so that more of a lever adds committees
        self.committee_u = streams.uniforms("committee_init", 0, places.first_committee, m, 3)  # councils, online, points
        self.previous_share = np.zeros(m)  # attendance at the committee's last meeting
        self.month_state: dict[str, np.ndarray] = {}

    def bring_needs(self, levers: dict, devolved: np.ndarray, township_staffing: np.ndarray, month: int,
                    streams: Streams) -> tuple[np.ndarray, np.ndarray]:
        """Residents bring needs; those needing a power are settled locally only if it was devolved.

        Returns case demand (weighted cases) per unit: committees, then townships.
        """
        p, pl = self.p, self.places
        u_need, u_auth, u_local = streams.uniforms("needs", month, self.first, self.n, 3)
        need = ~self.pending & (u_need < resident_rules.need_probability(p.need_rate_per_month, self.elderly,
                                                                          p.elderly_need_multiplier))
        authority = need & (u_auth < p.authority_share)
        local_p = resident_rules.local_authority_probability(devolved[self.county], p.base_local_authority,
                                                             township_staffing[self.township])
        local = authority & (u_local < local_p)
        referred = authority & ~local
        self.month_state = {"need": need, "authority": authority, "local": local, "referred": referred}
        routine = need & ~authority
        committee_cases = group_sum(self.committee, self.weight * routine, pl.n_committees)
        township_cases = group_sum(self.township, self.weight * local, pl.n_townships)
        return committee_cases, township_cases

    def get_served(self, coverage_units: np.ndarray, outreach_committee: np.ndarray, skill_units: np.ndarray,
                   burnout_units: np.ndarray, levers: dict, month: int, streams: Streams) -> None:
        """Needs are met as far as capacity allows; residents judge, complain and update trust."""
        p, pl = self.p, self.places
        s = self.month_state
        m = pl.n_committees
        u_served, u_ref = streams.uniforms("service", month, self.first, self.n, 2)
        u_comp, u_rect = streams.uniforms("complaints", month, self.first, self.n, 2)
        unit = np.where(s["local"], m + self.township, self.committee)
        served = (s["need"] & ~s["referred"]) & (u_served < coverage_units[unit])
        resolved = self.pending & (u_ref < p.referral_resolution_per_month)
        waiting = (self.pending & ~resolved) | s["referred"]
        had_issue = s["need"] | self.pending
        target = resident_rules.satisfaction_target(
            s["need"] | resolved, served | resolved, waiting, skill_units[unit], burnout_units[unit], p)
        target = np.where(had_issue, target, target + p.outreach_satisfaction * outreach_committee[self.committee])
        self.satisfaction = resident_rules.smooth_toward(self.satisfaction, np.clip(target, 0, 100),
                                                          p.satisfaction_memory_months)
        unmet = (s["need"] & ~served & ~s["referred"]) | waiting
        complains = u_comp < resident_rules.complaint_probability(unmet, served, burnout_units[unit],
                                                                  p.complaint_probability)
        supervision = levers["supervision_platform"][self.county]
        rect_p = resident_rules.rectification_probability(supervision, outreach_committee[self.committee], p)
        rectified = complains & (u_rect < rect_p)
        # trust follows experience: served or rectified -> up; unmet or ignored complaint -> down
        good = served | resolved | rectified
        bad = (unmet | complains) & ~good
        self.trust = resident_rules.learn(self.trust, 1.0, p.trust_learning, good)
        self.trust = resident_rules.learn(self.trust, 0.0, p.trust_learning, bad)
        self.pending = waiting & ~rectified
        s.update(served=served, resolved=resolved, complains=complains, rectified=rectified, had_issue=had_issue,
                 settled=served | resolved | (rectified & waiting))

    def take_part(self, levers: dict, execution_capacity: np.ndarray, month: int, streams: Streams) -> None:
        """Committees take decisions; some are put to residents, who decide whether to attend and vote."""
        p, pl = self.p, self.places
        m = pl.n_committees
        u_dec, u_delib, u_exec, u_disc = streams.uniforms("decisions", month, pl.first_committee, m, 4)
        u_attend, u_online = streams.uniforms("participation", month, self.first, self.n, 2)
        cc = pl.committee_county
        decided = u_dec < p.decision_probability_per_month
        deliberated = decided & (u_delib < levers["deliberation_share"][cc])
        council = self.committee_u[0] < levers["councils"][cc]
        online = self.committee_u[1] < levers["online_voting"][cc]
        points = (self.committee_u[2] < levers["points_system"][cc]).astype(float)
        cost = self.cost * np.where(council[self.committee], 1.0 - p.council_cost_reduction, 1.0)
        attend_p = resident_rules.attend_probability(self.trust, self.efficacy, cost, self.age, points[self.committee],
                                                     self.previous_share[self.committee], self.threshold, p)
        meeting = deliberated[self.committee]
        attends = meeting & (u_attend < attend_p)
        votes_online = meeting & ~attends & online[self.committee] & (u_online < p.online_participation * attend_p)
        took_part = attends | votes_online
        self.last_part = np.where(took_part, month, self.last_part)
        share = safe_ratio(group_sum(self.committee, self.weight * attends, m), self.committee_weight)
        self.previous_share = np.where(deliberated, share, self.previous_share)
        # a decision put to residents is carried out or not; attendees see it, and everyone if it is disclosed
        carried = deliberated & (u_exec < resident_rules.execution_probability(
            execution_capacity, levers["supervision_platform"][cc], p))
        disclosed = deliberated & (u_disc < levers["disclosure"][cc])
        observed = took_part | (disclosed[self.committee])
        self.efficacy = resident_rules.learn(self.efficacy, carried[self.committee].astype(float), p.efficacy_learning,
                                             observed)
        self.month_state.update(meeting=meeting, attends=attends, took_part=took_part, decided=decided,
                                deliberated=deliberated)

    def tally(self, tally: Tally, month: int) -> None:
        c, w, s = self.county, self.weight, self.month_state
        pl = self.places
        tally.add("satisfaction", c, w * self.satisfaction, w)
        tally.add("trust", c, w * self.trust, w)
        tally.add("complaint_rectification_rate", c, w * s["rectified"], w * s["complains"])
        tally.add("needs_served_share", c, w * s["settled"], w * s["had_issue"])
        tally.add("local_resolution_share", c, w * s["local"], w * s["authority"])
        recent = month - self.last_part < self.p.participation_window_months
        in_meeting = w * s["meeting"]
        tally.add("participation_rate", c, w * s["took_part"], in_meeting)
        tally.add("meeting_attendance_rate", c, w * s["attends"], in_meeting)
        tally.add("participation_12m_share", c, w * recent, w)
        tally.add("committee_decision_share", pl.committee_county, s["decided"] & ~s["deliberated"], s["decided"])
