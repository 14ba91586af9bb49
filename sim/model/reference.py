"""The per-agent engine: the same model with one ``mesa.Agent`` per department, cadre post and resident.

``AgentGrassrootsModel`` runs exactly the model of ``GrassrootsModel`` (the
columnar engine, where each population is numpy columns and a rule is applied
to whole arrays), but month by month agent by agent: every decision is a call of
the same rule function from ``sim.rules`` on one agent's plain Python numbers.
It is meant for reading, debugging and teaching, and as the equivalence
reference for the columnar engine (``tests/test_engines.py``: same series, bit
for bit).

How it keeps to the columnar engine:

- Set-up reuses the columnar constructors (same draws); then one agent is made
  per row, holding that row's state as Python scalars. From then on the agents'
  attributes are the state. Places that are not agents keep their few state
  variables as Python lists on the model (county: devolved share and start of the
  burden reform; committee: attendance at its last meeting).
- Each month runs in the stages of ``GrassrootsModel.step``; in each stage the
  model hands every agent, in row order, the unit and county quantities it sees
  and its own entries of the month's random draws. The draws are the very arrays
  the columnar engine draws (same ``Streams.uniforms`` calls), drawn once per
  month at model level.
- Group quantities (headcounts, case demand, service capacity, meeting
  attendance, data sharing) are Python sums over agents in row order: the order
  in which ``np.bincount`` adds, so sums are bit-identical.
- Arithmetic that decides something (the rebound added to cut work, how a
  township's work is passed down, a vacancy's pay, a newcomer's skill, the
  complaint chance, spare capacity...) is a rule in ``sim.rules`` too; what is
  left here is routing (which unit an agent belongs to, which draws are its
  own), and each stage says which columnar method it mirrors.
- Recording fills the column objects (``self.departments``, ``self.cadres``,
  ``self.residents``, used here only as observation buffers) from the agents and
  calls the columnar ``tally`` methods, so every metric is defined once. Between
  records their state columns are set to ``None``: the per-agent step cannot
  read or update them.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from ..rules import cadres as cadre_rules
from ..rules import departments as dept_rules
from ..rules import residents as resident_rules
from .agents import Work
from .model import GrassrootsModel
from .population import truncated_normal
from .streams import poisson_from_uniform

# state columns of the columnar populations: filled from the agents at record time, None otherwise
DEPARTMENT_STATE = ("shared", "devolved", "burden_reform_start")
CADRE_STATE = ("filled", "age", "college", "professional", "contract", "insured", "tenure", "skill", "burnout",
               "grade", "intention", "month_exits", "month_quits", "month_hires", "month_promotions", "vacant_at_start",
               "filled_at_start")
CADRE_HOURS = ("veto", "other", "data", "service", "worked")
RESIDENT_STATE = ("pending", "last_part", "satisfaction", "trust", "efficacy")
RESIDENT_MONTH = ("need", "authority", "local", "referred", "served", "resolved", "complains", "rectified",
                  "had_issue", "settled", "meeting", "attends", "took_part")


def _ratio(num: float, den: float, empty: float = 0.0) -> float:
    """``safe_ratio`` of agents.py for one pair of numbers."""
    return num / den if den > 0 else empty


# =========================================================================== agents


class DepartmentAgent(mesa.Agent):
    """A county department: pushes work down (with its rebound propensity) and decides whether to share its data."""

    def __init__(self, model: "AgentGrassrootsModel", index: int, county: int, holds_data: bool,
                 rebound_propensity: float, refuses: bool, shared: bool):
        super().__init__(model)
        self.index = index  # row in the columnar population: addresses this agent's draws
        self.county = county
        self.holds_data = holds_data  # one of the departments holding residents' data
        self.rebound_propensity = rebound_propensity  # how much cut work it pushes back through other channels
        self.refuses = refuses  # refuses to share "for security"
        self.shared = shared  # shares its data on the county platform

    def share_data(self, county_shared_share: float, target: float, u: float) -> None:
        """Join the county's data platform this month or not (``join_data_platform``)."""
        impl = self.model.config.implementation
        joined = dept_rules.join_data_platform(self.shared, self.refuses, county_shared_share, target,
                                               impl.data_join_months, impl.refuser_join_factor, u)
        self.shared = bool(joined and self.holds_data)


class CadreAgent(mesa.Agent):
    """A cadre post and its holder: splits the month's hours, burns out, quits or retires, is refilled, trains, ages."""

    def __init__(self, model: "AgentGrassrootsModel", index: int, **state):
        super().__init__(model)
        self.index = index  # row in the columnar population: addresses this agent's draws
        self.hours_veto = self.hours_other = self.hours_data = self.hours_service = self.hours_worked = 0.0
        self.month_exits = self.month_quits = self.month_hires = self.month_promotions = False
        for name, value in state.items():
            setattr(self, name, value)

    # -- what the post pays (Cadres.outside_pay / Cadres.pay for one post)
    def outside_pay(self) -> float:
        m = self.model
        return m.county_pay[self.region] * (1.0 + m.cadre_params.college_pay_premium * self.college)

    def pay(self, lev: dict) -> float:
        p = self.model.cadre_params
        ratio = lev["township_pay_ratio"] if self.township_post else lev["committee_pay_ratio"]
        on_ladder = (not self.township_post) and self.ladder_u < lev["career_ladder"]
        return float(cadre_rules.monthly_pay(self.outside_pay(), ratio, on_ladder, self.grade, p.ladder_pay_min_yuan,
                                             p.ladder_pay_max_yuan, self.model.wage_index[self.region],
                                             p.grade_pay_step))

    # -- the month
    def allocate_time(self, veto: float, other: float, data: float, service: float, headcount: float,
                      service_weight: float) -> None:
        """Take an equal share of the unit's work and split the month (``allocate_time``); burnout follows."""
        m = self.model
        p, w = m.cadre_params, m.workload
        self.filled_at_start = self.filled
        self.vacant_at_start = not self.filled
        if not self.filled:
            self.hours_veto = self.hours_other = self.hours_data = self.hours_service = self.hours_worked = 0.0
            return
        share = _ratio(1.0, headcount)
        h_veto, h_other, h_data, h_service = cadre_rules.allocate_time(
            m.contract_hours, m.max_hours, veto * share, other * share, data * share, service * share,
            service_weight, w.compliance_trimming)
        self.hours_veto, self.hours_other = float(h_veto), float(h_other)
        self.hours_data, self.hours_service = float(h_data), float(h_service)
        self.hours_worked = self.hours_veto + self.hours_other + self.hours_data + self.hours_service
        compliance = _ratio(self.hours_worked - self.hours_service, self.hours_worked)
        overtime = max(self.hours_worked / m.contract_hours - 1.0, 0.0)
        target = cadre_rules.burnout_target(overtime, compliance, p.burnout_intercept, p.burnout_overtime,
                                            p.burnout_compliance)
        self.burnout = float(cadre_rules.update_burnout(self.burnout, target, p.burnout_months))

    def stay_or_leave(self, lev: dict, u: float) -> None:
        """Weigh the job (``quit_propensity``), update the quit intention, then retire, quit or stay.

        Like the columnar engine, a vacant post keeps updating the intention of its last holder's
        record; a new hire starts afresh (intention NaN), so this never reaches an outcome.
        """
        p = self.model.cadre_params
        rel_pay = self.pay(lev) / self.outside_pay()
        annuity = 0.0 if self.township_post else lev["occupational_annuity"]
        propensity = float(cadre_rules.quit_propensity(
            rel_pay, self.burnout, self.insured, lev["promotion_rate_3y"] / p.county_promotion_rate_3y,
            lev["recognition"], annuity, self.age < p.young_age, self.college, self.contract, self.tenure, p))
        if math.isnan(self.intention):  # a newcomer's (or, in the first month, everyone's) intention
            self.intention = propensity
        else:
            self.intention = float(cadre_rules.update_intention(self.intention, propensity, p.intention_months))
        q = cadre_rules.quit_probability_annual(self.intention)
        retire = self.filled and self.age >= p.retirement_age
        self.month_quits = bool(self.filled and not retire and u < cadre_rules.annual_to_monthly(q))
        self.month_exits = self.month_quits or retire
        self.filled = self.filled and not self.month_exits

    def consider_applicants(self, lev: dict, base_quality: float, u: tuple) -> None:
        """A post vacant at the start of the month is filled (``fill_probability_annual``) and the newcomer drawn.

        Mirrors ``Cadres.fill_vacancies`` for one post; ``u`` are the post's 7 ``hires`` draws.
        """
        self.month_hires = False
        if not self.vacant_at_start:
            return
        m = self.model
        p = m.cadre_params
        u_fill, u_age, u_col, u_prof, u_con, u_ins, u_skill = u
        post_ratio = lev["township_pay_ratio"] if self.township_post else lev["committee_pay_ratio"]
        on_ladder = (not self.township_post) and self.ladder_u < lev["career_ladder"]
        rel_pay = float(cadre_rules.vacancy_relative_pay(post_ratio, on_ladder, p.ladder_pay_min_yuan,
                                                         m.wage_index[self.region], m.county_pay[self.region]))
        drive = lev["recruitment_drive"]
        f = cadre_rules.fill_probability_annual(rel_pay, drive, base_quality, p)
        if not u_fill < cadre_rules.annual_to_monthly(f):
            return
        self.month_hires = True
        self.age = float(truncated_normal(u_age, p.hire_age_mean, p.hire_age_sd, p.hire_age_min, p.hire_age_max))
        self.college = bool(u_col < cadre_rules.hire_college_probability(
            rel_pay, p.hire_college_base, p.hire_college_pay_slope, p.hire_college_reference_pay))
        self.professional = bool(u_prof < cadre_rules.hire_professional_probability(
            drive, p.hire_professional_base, p.hire_professional_drive))
        self.contract = u_con < self.contract_p
        self.insured = (not self.contract) or u_ins < lev["social_insurance_coverage"]
        self.skill = float(cadre_rules.new_hire_skill(u_skill, p.initial_skill_mean))
        self.tenure = 0.0
        self.grade = 0.0
        self.burnout = p.initial_burnout
        self.intention = math.nan
        self.filled = True

    def train_promote_and_age(self, lev: dict, county_coverage: float, enrol_probability: float, u: tuple) -> None:
        """Training (``train``), skill decay, promotion, social-insurance enrolment, and a month older.

        Mirrors ``Cadres.train_promote_and_age`` for one post; ``u`` are its 4 ``training`` draws.
        """
        p = self.model.cadre_params
        u_train, u_apply, u_prom, u_ins = u
        trained = self.filled and u_train < lev["training_coverage"] / 12.0
        applies = u_apply < cadre_rules.application_probability(lev["training_mentoring"], p.application_rate,
                                                                 p.application_rate_mentored)
        skill = float(cadre_rules.train(self.skill, trained, applies, p.training_skill_gain))
        self.skill = skill * (1.0 - p.skill_decay_per_year / 12.0)
        promoted = self.filled and u_prom < cadre_rules.promotion_probability_monthly(lev["promotion_rate_3y"])
        self.month_promotions = bool(promoted)
        self.grade = float(cadre_rules.promote(self.grade, promoted))
        enrol = (self.filled and self.contract and not self.insured
                 and county_coverage < lev["social_insurance_coverage"] and u_ins < enrol_probability)
        self.insured = self.insured or enrol
        self.age = self.age + 1.0 / 12.0
        self.tenure = self.tenure + 1.0 / 12.0


class ResidentAgent(mesa.Agent):
    """A sampled resident (weighted): brings needs, is served or referred, judges, complains, trusts and takes part."""

    def __init__(self, model: "AgentGrassrootsModel", index: int, **state):
        super().__init__(model)
        self.index = index  # row in the columnar population: addresses this agent's draws
        for name in RESIDENT_MONTH:
            setattr(self, name, False)
        for name, value in state.items():
            setattr(self, name, value)

    def bring_need(self, local_probability: float, u: tuple) -> None:
        """Bring a need this month or not; one needing a power is settled locally only if it was devolved."""
        p = self.model.resident_params
        u_need, u_auth, u_local = u
        self.need = bool(not self.pending and u_need < resident_rules.need_probability(
            p.need_rate_per_month, self.elderly, p.elderly_need_multiplier))
        self.authority = self.need and u_auth < p.authority_share
        self.local = self.authority and u_local < local_probability
        self.referred = self.authority and not self.local

    def get_served(self, coverage: float, outreach: float, skill: float, burnout: float, supervision: float,
                   u: tuple) -> None:
        """Be served as far as the unit's capacity allows; judge (satisfaction), complain, update trust.

        ``coverage``, ``skill`` and ``burnout`` are those of the unit handling the need (committee or township);
        ``outreach`` is the committee's spare capacity. Mirrors ``Residents.get_served`` for one resident.
        """
        p = self.model.resident_params
        u_served, u_ref, u_comp, u_rect = u
        need, referred, pending = self.need, self.referred, self.pending
        served = need and not referred and u_served < coverage
        resolved = pending and u_ref < p.referral_resolution_per_month
        waiting = (pending and not resolved) or referred
        had_issue = need or pending
        target = resident_rules.satisfaction_target(need or resolved, served or resolved, waiting, skill, burnout, p)
        if not had_issue:
            target = target + p.outreach_satisfaction * outreach
        self.satisfaction = float(resident_rules.smooth_toward(self.satisfaction, min(max(target, 0), 100),
                                                               p.satisfaction_memory_months))
        unmet = (need and not served and not referred) or waiting
        complains = bool(u_comp < resident_rules.complaint_probability(unmet, served, burnout,
                                                                       p.complaint_probability))
        rectified = complains and u_rect < resident_rules.rectification_probability(supervision, outreach, p)
        # trust follows experience: served or rectified -> up; unmet or ignored complaint -> down
        good = served or resolved or rectified
        bad = (unmet or complains) and not good
        self.trust = float(resident_rules.learn(self.trust, 1.0, p.trust_learning, good))
        self.trust = float(resident_rules.learn(self.trust, 0.0, p.trust_learning, bad))
        self.pending = bool(waiting and not rectified)
        self.served, self.resolved, self.had_issue = bool(served), bool(resolved), bool(had_issue)
        self.complains, self.rectified = bool(complains), bool(rectified)
        self.settled = bool(served or resolved or (rectified and waiting))

    def take_part(self, meeting: bool, council: bool, online: bool, points: float, previous_share: float,
                  month: int, u: tuple) -> None:
        """If a decision of the committee is put to residents, attend (``attend_probability``), vote online or not."""
        p = self.model.resident_params
        u_attend, u_online = u
        self.meeting = meeting
        if not meeting:
            self.attends = self.took_part = False
            return
        cost = self.cost * (1.0 - p.council_cost_reduction if council else 1.0)
        attend_p = resident_rules.attend_probability(self.trust, self.efficacy, cost, self.age, points,
                                                     previous_share, self.threshold, p)
        self.attends = bool(u_attend < attend_p)
        votes_online = not self.attends and online and u_online < p.online_participation * attend_p
        self.took_part = bool(self.attends or votes_online)
        if self.took_part:
            self.last_part = month

    def see_outcome(self, carried: bool, disclosed: bool) -> None:
        """Learn whether decisions are carried out (efficacy), if it took part or the outcome was disclosed."""
        p = self.model.resident_params
        observed = self.took_part or disclosed
        self.efficacy = float(resident_rules.learn(self.efficacy, float(carried), p.efficacy_learning, observed))


# =========================================================================== model


class AgentGrassrootsModel(GrassrootsModel):
    """``GrassrootsModel`` computed agent by agent (see module docstring); same constructor, same results."""

    def __init__(self, config=None, *, rng=None, seed: int | None = None, replicate: int = 0,
                 counties: tuple[int, int] | None = None, **overrides):
        super().__init__(config, rng=rng, seed=seed, replicate=replicate, counties=counties, **overrides)
        pars = self.config.parameters
        self.cadre_params, self.resident_params, self.workload = pars.cadres, pars.residents, pars.workload
        d, c, r, pl = self.departments, self.cadres, self.residents, self.places
        # constants read by agents
        self.county_pay = c.county_pay.tolist()
        self.wage_index = c.wage_index.tolist()
        self.contract_hours, self.max_hours = float(c.contract_hours), float(c.max_hours)
        self.m, self.n_units = pl.n_committees, c.n_units
        self.unit_posts = self.posts_per_unit.tolist()
        self.unit_case_hours = self.case_hours.tolist()
        self.township_county = pl.township_county.tolist()
        self.committee_township = pl.committee_township.tolist()
        self.committee_county = pl.committee_county.tolist()
        self.committees_in_township = pl.committees_per_township.tolist()
        self.county_base = pl.county_base.tolist()
        self.committee_u = [row.tolist() for row in r.committee_u]  # councils, online, points
        # state of places that are not agents
        self.devolved = d.devolved.tolist()  # per county
        self.reform_start = d.burden_reform_start.tolist()  # per county: month the burden reform began (-1: not yet)
        self.previous_share = r.previous_share.tolist()  # per committee: attendance at its last meeting

        # the agents, one per row, in row order (agent i gets entry i of each month's draws)
        self.department_list = [
            DepartmentAgent(self, i, int(d.county[i]), bool(d.holds_data[i]), float(d.rebound_propensity[i]),
                            bool(d.refuses[i]), bool(d.shared[i]))
            for i in range(len(d.county))]
        cadre_cols = {name: getattr(c, name).tolist() for name in (
            "unit", "county", "region", "township_post", "contract_p", "ladder_u", *CADRE_STATE)}
        self.cadre_list = [CadreAgent(self, i, **{k: v[i] for k, v in cadre_cols.items()}) for i in range(c.n)]
        resident_cols = {name: getattr(r, name).tolist() for name in (
            "committee", "township", "county", "weight", "elderly", "age", "threshold", "cost", *RESIDENT_STATE)}
        self.resident_list = [ResidentAgent(self, i, **{k: v[i] for k, v in resident_cols.items()})
                              for i in range(r.n)]
        self.decided = [False] * self.m
        self.deliberated = [False] * self.m
        self._release_buffers()

    # -- the agents by type (Mesa AgentSets)
    @property
    def department_agents(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[DepartmentAgent]

    @property
    def cadre_agents(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[CadreAgent]

    @property
    def resident_agents(self) -> mesa.agent.AgentSet:
        return self.agents_by_type[ResidentAgent]

    # -- group quantities: sums over agents in row order, as np.bincount adds
    def headcount(self) -> list[float]:
        heads = [0.0] * self.n_units
        for a in self.cadre_list:
            if a.filled:
                heads[a.unit] += 1.0
        return heads

    def unit_mean(self, attribute: str, heads: list[float]) -> list[float]:
        """Mean of a cadre attribute over the filled posts of each unit (``Cadres.unit_mean``)."""
        total = [0.0] * self.n_units
        for a in self.cadre_list:
            if a.filled:
                total[a.unit] += getattr(a, attribute)
        return [_ratio(t, h) for t, h in zip(total, heads)]

    def shared_data(self) -> tuple[list[float], list[float]]:
        """Per county: departments sharing data, departments holding data."""
        n = self.places.n_counties
        shared, holding = [0.0] * n, [0.0] * n
        for a in self.department_list:
            if a.shared:
                shared[a.county] += 1.0
            if a.holds_data:
                holding[a.county] += 1.0
        return shared, holding

    # -- the month
    def step(self) -> None:
        """One month, agent by agent, in the stages of ``GrassrootsModel.step``; nothing after the last month."""
        if not self.running:
            return
        month, streams = self.month, self.streams
        levers = self.levers_at(month)
        names = list(levers)
        columns = [levers[k].tolist() for k in names]
        lev = [dict(zip(names, values)) for values in zip(*columns)]  # per county: lever -> value

        burden_started = self.policy.group_started(month, "burden")[self.block].tolist()
        work = self._push_tasks(lev, burden_started, month)
        heads = self.headcount()
        staffing = [h / posts for h, posts in zip(heads, self.unit_posts)]
        demand = self._bring_needs(lev, staffing, month)

        # cadres allocate time
        service_hours = [d * h for d, h in zip(demand, self.unit_case_hours)]
        for a in self.cadre_list:
            u = a.unit
            a.allocate_time(work.veto[u], work.other[u], work.data[u], service_hours[u], heads[u],
                            lev[a.county]["evaluation_service_weight"])

        # residents are served and take part
        capacity = [0.0] * self.n_units
        for a in self.cadre_list:
            capacity[a.unit] += a.hours_service * float(cadre_rules.service_productivity(a.skill))
        capacity = [c / h for c, h in zip(capacity, self.unit_case_hours)]
        cap = self.resident_params.service_capacity_cap
        coverage = [float(resident_rules.coverage(c, d, cap)) for c, d in zip(capacity, demand)]
        spare = [float(resident_rules.spare_capacity(c, d)) for c, d in zip(capacity, demand)]
        skill_units, burnout_units = self.unit_mean("skill", heads), self.unit_mean("burnout", heads)
        self._get_served(coverage, spare, skill_units, burnout_units, lev, month)
        self._take_part(lev, coverage, month)

        # cadres stay or leave, vacancies are filled, training, promotion, insurance and ageing
        u_quit = streams.uniforms("quits", month, self.cadres.first, self.cadres.n).tolist()
        for a, u in zip(self.cadre_list, u_quit):
            a.stay_or_leave(lev[a.county], u)
        u_hire = list(zip(*streams.uniforms("hires", month, self.cadres.first, self.cadres.n, 7).tolist()))
        for a, u in zip(self.cadre_list, u_hire):
            a.consider_applicants(lev[a.county], self.county_base[a.county], u)
        self._train_promote_and_age(lev, month)

        # data sharing and devolution
        shared, holding = self.shared_data()
        county_share = [_ratio(s, h) for s, h in zip(shared, holding)]
        u_data = streams.uniforms("data", month, self.departments.first, len(self.department_list)).tolist()
        for a, u in zip(self.department_list, u_data):
            a.share_data(county_share[a.county], lev[a.county]["data_sharing_target"], u)
        months = self.config.implementation.devolution_months
        self.devolved = [float(dept_rules.devolve_powers(dv, lv["devolved_power_share"], months))
                         for dv, lv in zip(self.devolved, lev)]

        self._record(work, levers)
        self._next_month()

    def _push_tasks(self, lev: list[dict], burden_started: list[bool], month: int) -> Work:
        """Departments push work down: per county (official load, rebound, ad hoc rate), then per township and
        committee. Mirrors ``Departments.push_tasks``."""
        w, impl, pl = self.workload, self.config.implementation, self.places
        n = pl.n_counties
        propensity = [0.0] * n
        for a in self.department_list:
            propensity[a.county] += a.rebound_propensity
        shared, _ = self.shared_data()
        items_o, items, veto_o, veto, rebound, inspections, adhoc_rate, data_h = ([0.0] * n for _ in range(8))
        for c, L in enumerate(lev):
            cuts = (L["assessment_items_cut"] > 0 or L["inspections_cut"] > 0 or L["veto_items_cap"] < w.veto_items)
            if burden_started[c] and cuts and self.reform_start[c] < 0:
                self.reform_start[c] = month
            since = month - self.reform_start[c] if self.reform_start[c] >= 0 else 0
            i_o, v_o, s_o = dept_rules.official_task_load(
                w.assessment_items_per_year, w.veto_items, w.inspections_per_committee_year,
                L["assessment_items_cut"], L["veto_items_cap"], L["inspections_cut"])
            items_o[c], veto_o[c] = float(i_o), float(v_o)
            rebound[c] = float(dept_rules.rebound_share(
                propensity[c] / w.departments_per_county, since, impl.rebound_months, L["task_access_control"],
                impl.access_control_effectiveness, L["power_list_coverage"], impl.power_list_effectiveness))
            items[c] = float(dept_rules.actual_load(items_o[c], w.assessment_items_per_year, rebound[c]))
            veto[c] = float(dept_rules.actual_load(veto_o[c], w.veto_items, rebound[c]))
            inspections[c] = float(dept_rules.actual_load(float(s_o), w.inspections_per_committee_year, rebound[c]))
            adhoc_rate[c] = float(dept_rules.adhoc_task_rate(
                w.adhoc_tasks_per_township_day, w.working_days_per_month, L["task_access_control"],
                impl.access_control_effectiveness, L["grid_integration"], w.grid_efficiency))
            data_h[c] = float(dept_rules.duplicate_entry_hours(w.data_departments, shared[c],
                                                               w.duplicate_entry_hours_per_department))

        u_adhoc = self.streams.uniforms("adhoc", month, pl.first_township, pl.n_townships).tolist()
        u_insp = self.streams.uniforms("tasks", month, pl.first_committee, pl.n_committees).tolist()
        township_work = []  # per township: (township veto, township other, per-committee veto, other)
        for t, c in enumerate(self.township_county):
            adhoc = float(poisson_from_uniform(u_adhoc[t], adhoc_rate[c]))
            hours = dept_rules.township_work_hours(items[c], veto[c], adhoc, w.item_hours_per_township_month,
                                                   w.veto_hours_multiplier, w.adhoc_task_hours)
            township_work.append([float(x) for x in dept_rules.pass_down(
                *hours, w.item_share_to_committees, w.adhoc_share_to_committees, self.committees_in_township[t])])
        u_veto, u_other, u_data, insp_count = [], [], [], []
        for k, t in enumerate(self.committee_township):
            c = self.committee_county[k]
            count = float(poisson_from_uniform(u_insp[k], inspections[c] / 12.0))
            insp_count.append(count)
            u_veto.append(township_work[t][2])
            u_other.append(township_work[t][3] + count * w.inspection_hours)
            u_data.append(data_h[c])
        for t, c in enumerate(self.township_county):
            u_veto.append(township_work[t][0])
            u_other.append(township_work[t][1])
            u_data.append(data_h[c])
        return Work(veto=u_veto, other=u_other, data=u_data, items_official=np.array(items_o),
                    items_actual=np.array(items), veto_official=np.array(veto_o), rebound=np.array(rebound),
                    inspections=np.array(insp_count))

    def _bring_needs(self, lev: list[dict], staffing: list[float], month: int) -> list[float]:
        """Residents bring needs; returns weighted case demand per unit (committees, then townships)."""
        p, m = self.resident_params, self.m
        u_needs = zip(*self.streams.uniforms("needs", month, self.residents.first, len(self.resident_list), 3).tolist())
        demand = [0.0] * self.n_units
        for a, u in zip(self.resident_list, u_needs):
            local_p = resident_rules.local_authority_probability(self.devolved[a.county], p.base_local_authority,
                                                                 staffing[m + a.township])
            a.bring_need(local_p, u)
            if a.need and not a.authority:  # a routine need: the committee's case
                demand[a.committee] += a.weight
            elif a.local:  # a need for a devolved power the township can exercise: the township's case
                demand[m + a.township] += a.weight
        return demand

    def _get_served(self, coverage, spare, skill_units, burnout_units, lev, month) -> None:
        n, first, m = len(self.resident_list), self.residents.first, self.m
        u_served, u_ref = self.streams.uniforms("service", month, first, n, 2).tolist()
        u_comp, u_rect = self.streams.uniforms("complaints", month, first, n, 2).tolist()
        for a, u in zip(self.resident_list, zip(u_served, u_ref, u_comp, u_rect)):
            unit = m + a.township if a.local else a.committee
            a.get_served(coverage[unit], spare[a.committee], skill_units[unit], burnout_units[unit],
                         lev[a.county]["supervision_platform"], u)

    def _take_part(self, lev, coverage, month) -> None:
        """Committees take decisions, some put to residents; then attendance, execution, disclosure.
        Mirrors ``Residents.take_part``."""
        p, m, streams = self.resident_params, self.m, self.streams
        first, n = self.residents.first, len(self.resident_list)
        u_committee = streams.uniforms("decisions", month, self.places.first_committee, m, 4).tolist()
        u_dec, u_delib, u_exec, u_disc = u_committee
        u_part = zip(*streams.uniforms("participation", month, first, n, 2).tolist())
        council, online, points = [], [], []
        for k in range(m):
            L = lev[self.committee_county[k]]
            self.decided[k] = decided = u_dec[k] < p.decision_probability_per_month
            self.deliberated[k] = decided and u_delib[k] < L["deliberation_share"]
            council.append(self.committee_u[0][k] < L["councils"])
            online.append(self.committee_u[1][k] < L["online_voting"])
            points.append(float(self.committee_u[2][k] < L["points_system"]))
        attended, weight = [0.0] * m, [0.0] * m
        for a, u in zip(self.resident_list, u_part):
            k = a.committee
            a.take_part(self.deliberated[k], council[k], online[k], points[k], self.previous_share[k], month, u)
            if a.attends:
                attended[k] += a.weight
            weight[k] += a.weight
        carried, disclosed = [], []
        for k in range(m):
            L = lev[self.committee_county[k]]
            if self.deliberated[k]:
                self.previous_share[k] = _ratio(attended[k], weight[k])
            carried.append(self.deliberated[k] and u_exec[k] < resident_rules.execution_probability(
                coverage[k], L["supervision_platform"], p))
            disclosed.append(self.deliberated[k] and u_disc[k] < L["disclosure"])
        for a in self.resident_list:
            a.see_outcome(carried[a.committee], disclosed[a.committee])

    def _train_promote_and_age(self, lev, month) -> None:
        n_counties = self.places.n_counties
        contract, insured = [0.0] * n_counties, [0.0] * n_counties  # Cadres.insurance_coverage_by_county
        for a in self.cadre_list:
            if a.filled and a.contract:
                contract[a.county] += 1.0
                if a.insured:
                    insured[a.county] += 1.0
        coverage = [_ratio(i, c, 1.0) for i, c in zip(insured, contract)]
        enrol_p = float(cadre_rules.monthly_hazard(self.config.implementation.insurance_enrol_months))
        u_train = zip(*self.streams.uniforms("training", month, self.cadres.first, self.cadres.n, 4).tolist())
        for a, u in zip(self.cadre_list, u_train):
            a.train_promote_and_age(lev[a.county], coverage[a.county], enrol_p, u)

    # -- observation: the agents' attributes as columns
    def agent_columns(self) -> dict[str, dict[str, np.ndarray]]:
        """The agents' state gathered into arrays, named as the columnar populations' attributes."""
        def gather(agents, attribute, dtype):
            return np.fromiter((getattr(a, attribute) for a in agents), dtype=dtype, count=len(agents))

        cadres = {name: gather(self.cadre_list, name, float if name in (
            "age", "tenure", "skill", "burnout", "grade", "intention") else bool) for name in CADRE_STATE}
        cadres["hours"] = {h: gather(self.cadre_list, f"hours_{h}", float) for h in CADRE_HOURS}
        residents = {name: gather(self.resident_list, name, int if name == "last_part" else
                                  float if name in ("satisfaction", "trust", "efficacy") else bool)
                     for name in RESIDENT_STATE}
        residents["month_state"] = {name: gather(self.resident_list, name, bool) for name in RESIDENT_MONTH}
        residents["month_state"]["decided"] = np.array(self.decided, dtype=bool)
        residents["month_state"]["deliberated"] = np.array(self.deliberated, dtype=bool)
        residents["previous_share"] = np.array(self.previous_share)
        departments = {"shared": gather(self.department_list, "shared", bool),
                       "devolved": np.array(self.devolved), "burden_reform_start": np.array(self.reform_start)}
        return {"departments": departments, "cadres": cadres, "residents": residents}

    def _fill_buffers(self) -> None:
        for population, values in self.agent_columns().items():
            for name, array in values.items():
                setattr(getattr(self, population), name, array)

    def _release_buffers(self) -> None:
        """Blank the columnar state: from now on the agents hold it."""
        for population, names in (("departments", DEPARTMENT_STATE),
                                  ("cadres", (*CADRE_STATE, "hours")),
                                  ("residents", (*RESIDENT_STATE, "previous_share", "month_state"))):
            for name in names:
                setattr(getattr(self, population), name, None)

    def _record(self, work, levers) -> None:
        if self.month < self.calendar.start:  # spin-up: nothing to tally, a row for Mesa's tools
            super()._record(work, levers)
            return
        self._fill_buffers()
        super()._record(work, levers)  # the columnar tallies, on the agents' state
        self._release_buffers()
