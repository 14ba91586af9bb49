"""The three agent sets, each a population held as columns (one row per agent).

``Departments``, ``Cadres`` and ``Residents`` keep their state in numpy arrays
and act as a whole population in one call, by applying the stage functions of
``sim.rules`` (``@stage``) to all rows at once. What is left here is routing:
which unit, committee or county a row belongs to (gathering those values for
each row), group sums (``np.bincount``), which draws are a row's own, and
writing the stage's results back. Every random draw comes from a per-month
stream sized by the population (not by how many agents happen to act), so the
same agent sees the same draw in every scenario of a replicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..config.schema import REGIONS, Scenario
from ..rules import cadres as cadre_rules
from ..rules import departments as dept_rules
from ..rules import residents as resident_rules
from .. import registry
from ..rules.common import jittable, number, ratio as safe_ratio
from .metrics import METRIC_NAMES, METRICS, Tally, group_sum, metric_rows
from .population import Places, logit_normal, mean_for_share_above, truncated_normal
from .streams import Streams, poisson_from_uniform


@dataclass
class Work:
    """Hours of pushed-down work per unit (committees first, then townships) this month."""

    veto: np.ndarray
    other: np.ndarray
    data: np.ndarray
    expected_other: np.ndarray  # other hours with ad hoc tasks and inspections at their rates (a unit's routine)
    # per county, for the record
    items_official: np.ndarray
    items_actual: np.ndarray
    veto_official: np.ndarray
    rebound: np.ndarray
    inspections: np.ndarray  # per committee, this month


def rows():
    """``sim.model.rows`` (compiled loops over the rows, imported on first use), or None without numba."""
    if not _ROWS:
        from .metrics import _kernels
        if _kernels() is None:
            _ROWS.append(None)
        else:
            from . import rows as loops
            _ROWS.append(loops)
    return _ROWS[0]


_ROWS: list = []


def rows_record(block):
    """A parameter block as the rules take it in compiled code (``sim.model.kernels.record``); the block itself
    without numba (the rules called from Python read its attributes alike)."""
    if rows() is None:
        return block
    from .kernels import record
    return record(block)


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

    # -- behaviour
    def push_tasks(self, levers: dict, burden_active: np.ndarray, month: int, streams: Streams) -> Work:
        """Push assessment items, inspections, ad hoc tasks and duplicate data entry down to townships and committees."""
        pl, n, w = self.places, self.places.n_counties, self.w
        county = dept_rules.county_workload(
            self.burden_reform_start, burden_active, month, group_sum(self.county, self.rebound_propensity, n),
            group_sum(self.county, self.shared, n), levers["assessment_items_cut"], levers["veto_items_cap"],
            levers["inspections_cut"], levers["task_access_control"], levers["power_list_coverage"],
            levers["grid_integration"], w, self.impl)
        self.burden_reform_start = county.reform_start
        tc, cc, ct = pl.township_county, pl.committee_county, pl.committee_township
        # the month's Poisson draws: ad hoc tasks per township, inspections per committee
        adhoc = poisson_from_uniform(streams.uniforms("adhoc", month, pl.first_township, pl.n_townships),
                                     county.adhoc_rate[tc])
        inspections = poisson_from_uniform(streams.uniforms("tasks", month, pl.first_committee, pl.n_committees),
                                           county.inspections_per_month[cc])
        township_veto, township_other, committee_veto, committee_other = dept_rules.township_workload(
            county.items[tc], county.veto[tc], adhoc, pl.committees_per_township, w)
        # the same work at the expected counts: what a unit's compliance routine follows (``compliance_routine``)
        _, usual_township_other, _, usual_committee_other = dept_rules.township_workload(
            county.items[tc], county.veto[tc], county.adhoc_rate[tc], pl.committees_per_township, w)
        return Work(
            veto=np.concatenate([committee_veto[ct], township_veto]),
            other=np.concatenate([dept_rules.committee_workload(committee_other[ct], inspections, w), township_other]),
            data=np.concatenate([county.data_hours[cc], county.data_hours[tc]]),
            expected_other=np.concatenate([
                dept_rules.committee_workload(usual_committee_other[ct], county.inspections_per_month[cc], w),
                usual_township_other]),
            items_official=county.items_official, items_actual=county.items, veto_official=county.veto_official,
            rebound=county.rebound, inspections=inspections,
        )

    def share_data_and_devolve(self, levers: dict, month: int, streams: Streams) -> None:
        """Data departments decide whether to join the platform; counties hand powers to townships."""
        n = self.places.n_counties
        county_share = dept_rules.county_shared_share(group_sum(self.county, self.shared, n),
                                                      group_sum(self.county, self.holds_data, n))
        u = streams.uniforms("data", month, self.first, len(self.county))
        self.shared = dept_rules.share_data(self.shared, self.holds_data, self.refuses, county_share[self.county],
                                            levers["data_sharing_target"][self.county], u, self.impl)
        self.devolved = dept_rules.devolve_powers(self.devolved, levers["devolved_power_share"],
                                                  self.impl.devolution_months)

    def tally(self, tally: Tally, work: Work) -> None:
        tally_departments(tally, self, work)


def tally_departments(tally: Tally, d, work: Work) -> None:
    """Add the departments' and counties' metrics of the month. ``d``: the departments' columns (a
    ``Departments``, or the per-agent engine's agents gathered into columns of the same names)."""
    pl = d.places
    townships = pl.townships_per_county
    counties = np.arange(pl.n_counties)
    w = d.w
    tally.add("authority_devolved_share", counties, d.devolved * townships, townships)
    tally.add("data_shared_share", d.county, d.shared, d.holds_data)
    tally.add("assessment_items_cut", counties, (1 - work.items_official / w.assessment_items_per_year) * townships, townships)
    tally.add("assessment_items_cut_effective", counties,
              (1 - work.items_actual / w.assessment_items_per_year) * townships, townships)
    tally.add("assessment_items_actual", counties, work.items_actual * townships, townships)
    tally.add("veto_items", counties, work.veto_official * townships, townships)
    tally.add("rebound_share", counties, work.rebound * townships, townships)
    tally.add("inspections_per_committee", pl.committee_county, 12.0 * work.inspections)
    tally_counties_meeting(tally, counties, ("assessment_items_cut_counties_met",
                                             "assessment_items_cut_effective_counties_met", "veto_items_counties_met"))


def tally_counties_meeting(tally: Tally, counties: np.ndarray, names) -> None:
    """Add, for each metric of ``names`` (a share of counties meeting a target, ``counties_meeting`` in
    metrics.yaml), whether each county's own value of its source metric this month meets the plan's target.
    The source must be tallied already this month; a county without a denominator counts for nothing."""
    for name in names:
        source = registry.COUNTIES_MEETING[name]
        i = METRIC_NAMES.index(source)
        num, den = tally.num[i], tally.den[i]
        has = den > 0
        value = np.divide(num, den, out=np.zeros_like(num), where=has)
        transform = METRICS[source].transform
        met = has & registry.meets(transform(value) if transform else value,
                                   registry.PLAN_TARGETS[registry.METRICS[source].indicator])
        tally.add(name, counties, met.astype(float), has.astype(float))


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
        self.posts_per_unit = np.concatenate([places.committee_posts, places.township_posts])
        self.unit_county = np.concatenate([places.committee_county, places.township_county])
        self.county = self.unit_county[unit]
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
        # per unit: the compliance hours a month its routine is used to (NaN: none yet; ``compliance_routine``)
        self.compliance_habit = np.full(self.n_units, np.nan)
        # per-month results, read by residents and metrics
        self.hours = None
        self.month_exits = np.zeros(n, dtype=bool)
        self.month_quits = np.zeros(n, dtype=bool)
        self.month_hires = np.zeros(n, dtype=bool)
        self.month_promotions = np.zeros(n, dtype=bool)
        self.month_trained = np.zeros(n, dtype=bool)
        self.month_applied = np.zeros(n, dtype=bool)
        self.vacant_at_start = ~self.filled
        self.filled_at_start = self.filled.copy()
        self.vacancies_first = None  # vacancies in the first recorded month: the talent gap

    @property
    def record(self):
        """The cadres' parameters as compiled rules take them (``kernels.record``)."""
        return rows_record(self.p)

    # -- derived state
    def headcount(self) -> np.ndarray:
        return group_sum(self.unit, self.filled, self.n_units)

    def staffing(self, heads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per unit: filled share of its posts, and each filled post's share of its work (``unit_staffing``)."""
        return cadre_rules.unit_staffing(heads, self.posts_per_unit)

    # -- behaviour
    def allocate_time(self, work: Work, cases: np.ndarray, hours_per_case: np.ndarray, share: np.ndarray,
                      levers: dict) -> None:
        """Each cadre splits the month: compliance first (veto items first of all), then data entry, then residents.

        ``cases`` and ``hours_per_case`` are per unit, ``share`` each filled post's share of its unit's work
        (``unit_staffing``), all at the start of the month."""
        self.filled_at_start = self.filled.copy()
        self.vacant_at_start = ~self.filled
        u = self.unit
        routine = cadre_rules.compliance_routine(
            self.compliance_habit, work.veto, work.expected_other, work.data,
            levers["evaluation_service_weight"][self.unit_county], self.w.compliance_trimming,
            self.w.compliance_habit_months)
        self.compliance_habit = routine.habit
        loops = rows()
        if loops is None:
            month = cadre_rules.spend_month(
                self.filled, self.burnout, work.veto[u], work.other[u], work.data[u], routine.habit_hours[u],
                cadre_rules.service_demand(cases, hours_per_case)[u], share[u],
                levers["evaluation_service_weight"][self.county], self.contract_hours, self.max_hours,
                self.w.compliance_trimming, self.p)
        else:
            month = loops.spend_month(
                self.filled, self.burnout, u, work.veto, work.other, work.data, routine.habit_hours,
                cadre_rules.service_demand(cases, hours_per_case), share, self.county,
                levers["evaluation_service_weight"], float(self.contract_hours), float(self.max_hours),
                float(self.w.compliance_trimming), self.record)
        self.hours = {"veto": month.veto, "other": month.other, "data": month.data, "service": month.service,
                      "worked": month.worked}
        self.burnout = month.burnout

    def service(self, demand: np.ndarray, heads: np.ndarray, hours_per_case: np.ndarray, cap: float):
        """Per unit: coverage of its residents' cases, spare capacity, mean skill and burnout (``unit_service``)."""
        output, skill, burnout = cadre_rules.service_output(self.hours["service"], self.skill, self.burnout,
                                                            self.filled)
        n = self.n_units
        return resident_rules.unit_service(group_sum(self.unit, output, n), hours_per_case, demand,
                                           group_sum(self.unit, skill, n), group_sum(self.unit, burnout, n), heads, cap)

    def stay_or_leave(self, levers: dict, month: int, streams: Streams) -> None:
        """Cadres retire at retirement age or quit with a monthly hazard from their job's value."""
        c, r = self.county, self.region
        u = streams.uniforms("quits", month, self.first, self.n)
        loops = rows()
        if loops is None:
            leaving = cadre_rules.stay_or_leave(
                self.filled, self.intention, self.burnout, self.insured, self.age, self.college, self.contract,
                self.tenure, self.township_post, self.grade, self.ladder_u, self.county_pay[r], self.wage_index[r],
                levers["township_pay_ratio"][c], levers["committee_pay_ratio"][c], levers["career_ladder"][c],
                levers["occupational_annuity"][c], levers["promotion_rate_3y"][c], levers["recognition"][c], u,
                self.p)
        else:
            leaving = loops.stay_or_leave(
                self.filled, self.intention, self.burnout, self.insured, self.age, self.college, self.contract,
                self.tenure, self.township_post, self.grade, self.ladder_u, r, self.county_pay, self.wage_index, c,
                levers["township_pay_ratio"], levers["committee_pay_ratio"], levers["career_ladder"],
                levers["occupational_annuity"], levers["promotion_rate_3y"], levers["recognition"], u, self.record)
        self.intention, self.month_quits, self.month_exits, self.filled = leaving

    def fill_vacancies(self, levers: dict, base_quality: np.ndarray, month: int, streams: Streams) -> None:
        """Posts vacant at the start of the month are filled as fast as pay and the pipeline allow."""
        p = self.p
        # draws for every post (so each post keeps its draws in every scenario); work on vacant posts only
        u_fill, u_age, u_col, u_prof, u_con, u_ins, u_skill = streams.uniforms("hires", month, self.first, self.n, 7)
        v = np.flatnonzero(self.vacant_at_start)
        c, region = self.county[v], self.region[v]
        vacancy = cadre_rules.fill_vacancy(
            self.township_post[v], self.ladder_u[v], self.county_pay[region], self.wage_index[region], base_quality[c],
            levers["township_pay_ratio"][c], levers["committee_pay_ratio"][c], levers["career_ladder"][c],
            levers["recruitment_drive"][c], u_fill[v], p)
        h, c = v[vacancy.hired], c[vacancy.hired]  # the posts filled this month
        self.month_hires = np.zeros(self.n, dtype=bool)
        self.month_hires[h] = True
        new = cadre_rules.newcomer(vacancy.rel_pay[vacancy.hired], levers["recruitment_drive"][c], self.contract_p[h],
                                   levers["social_insurance_coverage"][c], u_col[h], u_prof[h], u_con[h], u_ins[h],
                                   u_skill[h], p)
        for name, value in new._asdict().items():
            getattr(self, name)[h] = value
        # the newcomer's age: an inverse-CDF draw, like the population's
        self.age[h] = truncated_normal(u_age[h], p.hire_age_mean, p.hire_age_sd, p.hire_age_min, p.hire_age_max)
        self.filled[h] = True

    def train_promote_and_age(self, levers: dict, coverage_target: np.ndarray, month: int, streams: Streams,
                              enrol_months: float) -> None:
        """Training raises skills, promotion raises grade, contracts gain insurance; a month passes."""
        c, n = self.county, self.places.n_counties
        u_train, u_apply, u_prom, u_ins = streams.uniforms("training", month, self.first, self.n, 4)
        contract = self.filled & self.contract
        coverage = cadre_rules.insurance_coverage(group_sum(c, contract & self.insured, n), group_sum(c, contract, n))
        loops = rows()
        if loops is None:
            new = cadre_rules.train_promote_and_age(
                self.filled, self.skill, self.grade, self.insured, self.contract, self.age, self.tenure, coverage[c],
                levers["training_coverage"][c], levers["training_mentoring"][c], levers["promotion_rate_3y"][c],
                coverage_target[c], enrol_months, u_train, u_apply, u_prom, u_ins, self.p)
        else:
            new = loops.train_promote_and_age(
                self.filled, self.skill, self.grade, self.insured, self.contract, self.age, self.tenure, c, coverage,
                levers["training_coverage"], levers["training_mentoring"], levers["promotion_rate_3y"],
                coverage_target, float(enrol_months), u_train, u_apply, u_prom, u_ins, self.record)
        (self.skill, self.grade, self.month_promotions, self.insured, self.age, self.tenure, self.month_trained,
         self.month_applied) = new

    def tally(self, tally: Tally, levers: dict) -> None:
        tally_cadres(tally, self, levers)


# The cadres' metrics, in the order ``cadre_tallies`` gives their numerators and denominators.
CADRE_METRICS = (
    "turnover_rate", "turnover_rate_committee", "turnover_rate_township", "training_applied_share", "quit_rate",
    "service_time_share", "compliance_heavy_share", "burnout", "vacancy_rate", "talent_gap_filled",
    "recruitment_fill_rate", "share_under_45", "share_college", "share_professional", "social_insurance_coverage",
    "pay_match", "mean_skill", "promotion_rate_3y")
CADRE_ROWS = metric_rows(CADRE_METRICS)  # their rows in the tally arrays


@jittable
def cadre_tallies(filled, start, exits, quits, hires, trained, applied, promotions, vacant_at_start, vacancies_first,
                  township_post, service, worked, burnout, age, college, professional, contract, insured, skill, pay,
                  outside, contract_hours):
    """What a post adds to each of ``CADRE_METRICS`` this month: (numerator, denominator) pairs in one flat
    tuple (numbers or flags), on one post's numbers (a compiled loop, ``rows.tally_cadres``) or on whole columns.
    ``start``: filled at the month's start; ``vacancies_first``: vacant at the first recorded month's start;
    ``pay``, ``outside``: ``cadre_rules.post_pay``."""
    committee = np.logical_not(township_post)
    compliance = safe_ratio(worked - service, worked)
    hourly_ratio = safe_ratio(pay / outside, worked / contract_hours)
    n = number  # flags stay flags from Python (summed exactly), floats in compiled code: one type for the tuple
    return (n(exits), n(start),
            # the same count split by post: committee workers (what local reforms report) and township staff
            n(exits & committee), n(start & committee),
            n(exits & township_post), n(start & township_post),
            n(applied), n(trained),
            n(quits), n(start),
            service, worked,
            n(start & (compliance >= 0.8)), n(start),
            burnout * filled, n(filled),
            n(np.logical_not(filled)), 1.0,
            1.0 * vacancies_first - np.logical_not(filled), n(vacancies_first),
            n(hires), n(vacant_at_start),
            n(filled & (age < 45.0)), n(filled),
            n(filled & college), n(filled),
            n(filled & professional), n(filled),
            n(filled & contract & insured), n(filled & contract),
            n(start & (hourly_ratio >= 0.9)), n(start),
            skill * filled, n(filled),
            n(promotions), n(filled))


def tally_cadres(tally: Tally, cadres, levers: dict) -> None:
    """Add the cadres' metrics of the month (``cadre_tallies``). ``cadres``: their columns (a ``Cadres``, or
    the per-agent engine's agents gathered into columns of the same names); in the first recorded month its
    ``vacancies_first`` (None until then) is set to the posts vacant at the month's start."""
    if cadres.vacancies_first is None:
        cadres.vacancies_first = cadres.vacant_at_start.copy()
    c, r, h = cadres.county, cadres.region, cadres.hours
    columns = (cadres.filled, cadres.filled_at_start, cadres.month_exits, cadres.month_quits, cadres.month_hires,
               cadres.month_trained, cadres.month_applied, cadres.month_promotions, cadres.vacant_at_start,
               cadres.vacancies_first, cadres.township_post, h["service"], h["worked"], cadres.burnout,
               cadres.age, cadres.college, cadres.professional, cadres.contract, cadres.insured, cadres.skill)
    pay_levers = (levers["township_pay_ratio"], levers["committee_pay_ratio"], levers["career_ladder"])
    loops = rows()
    if loops is None:
        pay, outside = cadre_rules.post_pay(cadres.township_post, cadres.college, cadres.grade, cadres.ladder_u,
                                            cadres.county_pay[r], cadres.wage_index[r],
                                            *(lever[c] for lever in pay_levers), cadres.p)
        pairs = cadre_tallies(*columns, pay, outside, cadres.contract_hours)
        if len(pairs) != 2 * len(CADRE_METRICS):  # a pair added without its name (or a name without its pair)
            raise AssertionError(f"cadre_tallies gives {len(pairs)} numbers for {len(CADRE_METRICS)} metrics")
        for k, name in enumerate(CADRE_METRICS):
            tally.add(name, c, pairs[2 * k], pairs[2 * k + 1])
    else:
        loops.tally_cadres(tally.num, tally.den, CADRE_ROWS, c, r, *columns, cadres.grade,
                           cadres.ladder_u, cadres.county_pay, cadres.wage_index, *pay_levers,
                           float(cadres.contract_hours), rows_record(cadres.p))


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
        self.request_month = np.zeros(n, dtype=np.int64)  # the open case: month it was raised
        self.request_day = np.zeros(n)  # ... and its day within that month
        self.last_part = np.full(n, -10_000)
        # committee-level features switched on by levers, fixed draws so that more of a lever adds committees
        self.committee_u = streams.uniforms("committee_init", 0, places.first_committee, m, 3)  # councils, online, points
        self.previous_share = np.zeros(m)  # attendance at the committee's last meeting
        self.month_state: dict[str, np.ndarray] = {}

    @property
    def record(self):
        """The residents' parameters as compiled rules take them (``kernels.record``)."""
        return rows_record(self.p)

    def bring_needs(self, levers: dict, devolved: np.ndarray, township_staffing: np.ndarray, month: int,
                    streams: Streams) -> tuple[np.ndarray, np.ndarray]:
        """Residents bring needs; those needing a power are settled locally only if it was devolved.

        Returns case demand (weighted cases) per unit: committees, then townships.
        """
        pl = self.places
        u_need, u_auth, u_local = streams.uniforms("needs", month, self.first, self.n, 3)
        loops = rows()
        if loops is None:
            need = resident_rules.bring_need(self.pending, self.elderly, self.weight, devolved[self.county],
                                             township_staffing[self.township], self.request_month, self.request_day,
                                             month, u_need, u_auth, u_local, self.p)
        else:
            need = loops.bring_need(
                self.pending, self.elderly, self.weight, self.county, devolved, self.township, township_staffing,
                self.request_month, self.request_day, month, u_need, u_auth, u_local, self.record)
        self.request_month, self.request_day = need.request_month, need.request_day
        self.month_state = {"need": need.need, "authority": need.authority, "local": need.local,
                            "referred": need.referred}
        return (group_sum(self.committee, need.committee_cases, pl.n_committees),
                group_sum(self.township, need.township_cases, pl.n_townships))

    def get_served(self, service, levers: dict, month: int, streams: Streams) -> None:
        """Needs are met as far as capacity allows; residents judge, complain and update trust.

        ``service``: per unit (committees, then townships), ``unit_service``'s coverage, spare capacity,
        mean skill and burnout, and load (how long a served case waits within the month)."""
        s = self.month_state
        u_served, u_ref = streams.uniforms("service", month, self.first, self.n, 2)
        u_comp, u_rect = streams.uniforms("complaints", month, self.first, self.n, 2)
        unit = np.where(s["local"], self.places.n_committees + self.township, self.committee)  # who handles the need
        c = self.county
        loops = rows()
        if loops is None:
            served = resident_rules.get_served(
                s["need"], s["referred"], self.pending, self.satisfaction, self.trust, service.coverage[unit],
                service.load[unit], service.skill[unit], service.burnout[unit], service.spare[self.committee],
                levers["supervision_platform"][c], levers["disclosure"][c], levers["grid_integration"][c],
                levers["complaint_deadline_days"][c], self.request_month, self.request_day, month,
                u_served, u_ref, u_comp, u_rect, self.p)
        else:
            served = loops.get_served(
                s["need"], s["referred"], self.pending, self.satisfaction, self.trust, unit, service.coverage,
                service.load, service.skill, service.burnout, self.committee, service.spare, c,
                levers["supervision_platform"], levers["disclosure"], levers["grid_integration"],
                levers["complaint_deadline_days"], self.request_month, self.request_day, month,
                u_served, u_ref, u_comp, u_rect, self.record)
        self.satisfaction, self.trust, self.pending = served.satisfaction, served.trust, served.pending
        s.update(served=served.served, resolved=served.resolved, complains=served.complains, cause=served.cause,
                 rectified=served.rectified, had_issue=served.had_issue, settled=served.settled, days=served.days)

    def take_part(self, levers: dict, execution_capacity: np.ndarray, month: int, streams: Streams) -> None:
        """Committees take decisions; some are put to residents, who decide whether to attend and vote."""
        pl = self.places
        m, cc, k = pl.n_committees, pl.committee_county, self.committee
        u_dec, u_delib, u_exec, u_disc = streams.uniforms("decisions", month, pl.first_committee, m, 4)
        u_attend, u_online = streams.uniforms("participation", month, self.first, self.n, 2)
        council_u, online_u, points_u = self.committee_u
        d = resident_rules.committee_decisions(
            u_dec, u_delib, u_exec, u_disc, council_u, online_u, points_u, levers["deliberation_share"][cc],
            levers["councils"][cc], levers["online_voting"][cc], levers["points_system"][cc],
            levers["disclosure"][cc], levers["supervision_platform"][cc], levers["council_execution_followup"][cc],
            execution_capacity, self.p)
        meeting = d.deliberated[k]
        loops = rows()
        if loops is None:
            part = resident_rules.take_part(
                meeting, d.council[k], d.online[k], d.points[k], self.previous_share[k], d.carried[k],
                d.disclosed[k], self.cost, self.trust, self.efficacy, self.age, self.threshold, self.weight,
                self.last_part, month, u_attend, u_online, self.p)
        else:
            part = loops.take_part(
                k, d.deliberated, d.council, d.online, d.points, self.previous_share, d.carried, d.disclosed,
                self.cost, self.trust, self.efficacy, self.age, self.threshold, self.weight, self.last_part, month,
                u_attend, u_online, self.record)
        self.last_part, self.efficacy = part.last_part, part.efficacy
        self.previous_share = resident_rules.remember_attendance(
            d.deliberated, group_sum(k, part.attended_weight, m), self.committee_weight, self.previous_share)
        self.month_state.update(meeting=meeting, attends=part.attends, took_part=part.took_part, decided=d.decided,
                                deliberated=d.deliberated, carried=d.carried, disclosed=d.disclosed)

    def tally(self, tally: Tally, month: int) -> None:
        tally_residents(tally, self, month)


# The residents' metrics, in the order ``resident_tallies`` gives their numerators and denominators.
RESIDENT_METRICS = (
    "satisfaction", "trust", "complaint_rectification_rate", "needs_served_share", "local_resolution_share",
    "complaints_per_1000_residents", "attitude_complaints_per_1000_residents",
    "delay_complaints_per_1000_residents", "complaint_process_share", "resolution_days", "participation_rate",
    "meeting_attendance_rate", "participation_12m_share")
RESIDENT_ROWS = metric_rows(RESIDENT_METRICS)  # their rows in the tally arrays


@jittable
def resident_tallies(w, satisfaction, trust, rectified, complains, settled, had_issue, local, authority, cause, days,
                     took_part, attends, meeting, last_part, month, window):
    """What a resident (weight ``w``) adds to each of ``RESIDENT_METRICS`` this month: (numerator, denominator)
    pairs in one flat tuple, on one resident's numbers (``rows.tally_residents``) or on whole columns.
    ``window``: the months within which a resident counts as having taken part lately."""
    in_meeting = w * meeting
    return (w * satisfaction, w,
            w * trust, w,
            w * rectified, w * complains,
            w * settled, w * had_issue,
            w * local, w * authority,
            1000.0 * w * complains, w,
            1000.0 * w * (cause == resident_rules.ATTITUDE), w,
            1000.0 * w * (cause == resident_rules.DELAY), w,
            w * (complains & (cause != resident_rules.UNRESOLVED)), w * complains,
            w * settled * days, w * settled,
            w * took_part, in_meeting,
            w * attends, in_meeting,
            w * (month - last_part < window), w)


def tally_residents(tally: Tally, residents, month: int) -> None:
    """Add the residents' metrics of the month (``resident_tallies``) and their committees'. ``residents``:
    their columns (a ``Residents``, or the per-agent engine's agents gathered into columns of the same names)."""
    c, s = residents.county, residents.month_state
    pl = residents.places
    columns = (residents.weight, residents.satisfaction, residents.trust, s["rectified"], s["complains"],
               s["settled"], s["had_issue"], s["local"], s["authority"], s["cause"], s["days"], s["took_part"],
               s["attends"], s["meeting"], residents.last_part)
    window = float(residents.p.participation_window_months)
    loops = rows()
    if loops is None:
        pairs = resident_tallies(*columns, month, window)
        if len(pairs) != 2 * len(RESIDENT_METRICS):  # a pair added without its name (or a name without its pair)
            raise AssertionError(f"resident_tallies gives {len(pairs)} numbers for {len(RESIDENT_METRICS)} metrics")
        for k, name in enumerate(RESIDENT_METRICS):
            tally.add(name, c, pairs[2 * k], pairs[2 * k + 1])
    else:
        loops.tally_residents(tally.num, tally.den, RESIDENT_ROWS, c, *columns, int(month), window)
    tally.add("committee_decision_share", pl.committee_county, s["decided"] & ~s["deliberated"], s["decided"])
    tally.add("decisions_executed_share", pl.committee_county, s["carried"], s["deliberated"])
    tally.add("decisions_disclosed_share", pl.committee_county, s["disclosed"], s["deliberated"])
