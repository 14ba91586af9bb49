"""The per-agent engine: the same model with one ``mesa.Agent`` per department, cadre post and resident.

``AgentGrassrootsModel`` runs exactly the model of ``GrassrootsModel`` (the
columnar engine, where each population is numpy columns and a stage function is
applied to all rows at once), but month by month agent by agent: every decision
is a call of the same stage function of ``sim.rules`` (``@stage``) on one
agent's plain Python numbers. It is meant for reading, debugging and teaching,
and as the equivalence reference for the columnar engine
(``tests/test_engines.py``: same series, bit for bit).

How it keeps to the columnar engine:

- Set-up reuses the columnar constructors (same draws); then one agent is made
  per row, holding that row's state as Python scalars. From then on the agents'
  attributes are the state. Places that are not agents keep their few state
  variables as Python lists on the model (county: devolved share and start of the
  burden reform; committee: attendance at its last meeting; unit: its compliance routine), and their stage
  functions (``county_workload``, ``committee_decisions``...) are applied place
  by place in Python loops.
- Each month runs in the stages of ``GrassrootsModel.step``; in each stage the
  model hands every agent, in row order, the unit and county quantities it sees
  and its own entries of the month's random draws. The draws are the very arrays
  the columnar engine draws (same ``Streams.uniforms`` calls), drawn once per
  month at model level; Poisson counts and a newcomer's age are turned from
  uniforms by the same inverse CDFs.
- Group quantities (headcounts, case demand, service output, unit sums of
  skill and burnout, meeting attendance, data sharing, insurance) are Python
  sums over agents in row order: the order in which ``np.bincount`` adds, so
  sums are bit-identical.
- What is left here is routing: which unit, committee or county an agent
  belongs to, which draws are its own, the group sums, and writing a stage's
  results back onto the agent (``plain`` turns numpy's 0-d results into Python
  numbers). No decision arithmetic: ``tests/test_stages.py`` scans this module
  and ``agents.py`` for it.
- Recording: ``GrassrootsModel._record`` tallies ``self.departments``,
  ``self.cadres`` and ``self.residents``, which here are ``Tallied`` views: the
  set-up columns that never change plus the agents' state gathered into columns
  of the same names, handed to the one definition of the metrics
  (``tally_departments``, ``tally_cadres``, ``tally_residents`` in ``agents.py``).
  The model holds no state columns of its own.
"""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np

from ..rules import cadres as cadre_rules
from ..rules import departments as dept_rules
from ..rules import residents as resident_rules
from .agents import Work, rows, rows_record, tally_cadres, tally_departments, tally_residents
from .model import GrassrootsModel
from .population import truncated_normal
from .streams import poisson_from_uniform

# the columnar populations' state: here the agents hold it, gathered into columns at each record (``Tallied``)
DEPARTMENT_STATE = ("shared", "devolved", "burden_reform_start")
CADRE_STATE = ("filled", "age", "college", "professional", "contract", "insured", "tenure", "skill", "burnout",
               "grade", "intention", "month_exits", "month_quits", "month_hires", "month_promotions", "vacant_at_start",
               "filled_at_start", "month_trained", "month_applied")
CADRE_HOURS = ("veto", "other", "data", "service", "worked")
RESIDENT_STATE = ("pending", "request_month", "request_day", "last_part", "satisfaction", "trust", "efficacy")
RESIDENT_MONTH = ("need", "authority", "local", "referred", "served", "resolved", "complains", "cause", "rectified",
                  "had_issue", "settled", "days", "meeting", "attends", "took_part")
# the type of each resident column that is not a flag
RESIDENT_TYPES = {"request_month": int, "last_part": int, "cause": int, "request_day": float, "satisfaction": float,
                  "trust": float, "efficacy": float, "days": float}


def compiled(stage):
    """``stage`` as the columnar engine's compiled loops run it, for one agent's numbers (``rows.one``; the
    function itself without numba): both engines then do the same machine arithmetic on every CPU."""
    loops = rows()
    return stage if loops is None else loops.one(stage)


def plain(value):
    """One agent's result of a stage function as a plain Python number (numpy returns 0-d arrays or scalars)."""
    return value.item() if isinstance(value, (np.ndarray, np.generic)) else value


def plain_all(result):
    """Every field of a stage function's result (a tuple or NamedTuple) as plain Python numbers."""
    values = map(plain, result)
    return type(result)(*values) if hasattr(result, "_fields") else tuple(values)


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
        """Join the county's data platform this month or not (``share_data``)."""
        self.shared = plain(dept_rules.share_data(self.shared, self.holds_data, self.refuses, county_shared_share,
                                                  target, u, self.model.config.implementation))


class CadreAgent(mesa.Agent):
    """A cadre post and its holder: splits the month's hours, burns out, quits or retires, is refilled, trains, ages."""

    def __init__(self, model: "AgentGrassrootsModel", index: int, **state):
        super().__init__(model)
        self.index = index  # row in the columnar population: addresses this agent's draws
        self.hours_veto = self.hours_other = self.hours_data = self.hours_service = self.hours_worked = 0.0
        self.month_exits = self.month_quits = self.month_hires = self.month_promotions = False
        self.month_trained = self.month_applied = False
        for name, value in state.items():
            setattr(self, name, value)

    def pay(self, lev: dict) -> tuple[float, float]:
        """The post's pay and its holder's outside option (``post_pay``)."""
        m = self.model
        return plain_all(cadre_rules.post_pay(
            self.township_post, self.college, self.grade, self.ladder_u, m.county_pay[self.region],
            m.wage_index[self.region], lev["township_pay_ratio"], lev["committee_pay_ratio"], lev["career_ladder"],
            m.cadre_params))

    # -- the month
    def allocate_time(self, veto: float, other: float, data: float, habit: float, service: float, share: float,
                      service_weight: float) -> None:
        """Take ``share`` of the unit's work (``habit``: the compliance its routine keeps beyond the load;
        ``service``: the hours its residents' cases ask for) and split the month; burnout follows
        (``spend_month``)."""
        m = self.model
        self.filled_at_start = self.filled
        self.vacant_at_start = not self.filled
        month = plain_all(compiled(cadre_rules.spend_month)(
            self.filled, self.burnout, veto, other, data, habit, service, share, service_weight,
            m.contract_hours, m.max_hours, float(m.workload.compliance_trimming), m.cadre_record))
        (self.hours_veto, self.hours_other, self.hours_data, self.hours_service, self.hours_worked,
         self.burnout) = month

    def stay_or_leave(self, lev: dict, u: float) -> None:
        """Weigh the job, update the quit intention, then retire, quit or stay (``stay_or_leave``)."""
        m = self.model
        self.intention, self.month_quits, self.month_exits, self.filled = plain_all(compiled(cadre_rules.stay_or_leave)(
            self.filled, self.intention, self.burnout, self.insured, self.age, self.college, self.contract,
            self.tenure, self.township_post, self.grade, self.ladder_u, m.county_pay[self.region],
            m.wage_index[self.region], lev["township_pay_ratio"], lev["committee_pay_ratio"], lev["career_ladder"],
            lev["occupational_annuity"], lev["promotion_rate_3y"], lev["recognition"], u, m.cadre_record))

    def consider_applicants(self, lev: dict, base_quality: float, u: tuple) -> None:
        """A post vacant at the start of the month may be filled and the newcomer drawn (``fill_vacancy``);
        ``u`` are the post's 7 ``hires`` draws (``newcomer``)."""
        self.month_hires = False
        if not self.vacant_at_start:  # only posts vacant at the start of the month look for applicants
            return
        m = self.model
        p = m.cadre_params
        u_fill, u_age, u_col, u_prof, u_con, u_ins, u_skill = u
        vacancy = plain_all(cadre_rules.fill_vacancy(
            self.township_post, self.ladder_u, m.county_pay[self.region], m.wage_index[self.region], base_quality,
            lev["township_pay_ratio"], lev["committee_pay_ratio"], lev["career_ladder"], lev["recruitment_drive"],
            u_fill, p))
        if not vacancy.hired:
            return
        self.month_hires = True
        (self.college, self.professional, self.contract, self.insured, self.skill, self.tenure, self.grade,
         self.burnout, self.intention) = plain_all(cadre_rules.newcomer(
            vacancy.rel_pay, lev["recruitment_drive"], self.contract_p, lev["social_insurance_coverage"], u_col,
            u_prof, u_con, u_ins, u_skill, p))
        # the newcomer's age: an inverse-CDF draw, like the population's
        self.age = plain(truncated_normal(u_age, p.hire_age_mean, p.hire_age_sd, p.hire_age_min, p.hire_age_max))
        self.filled = True

    def train_promote_and_age(self, lev: dict, county_coverage: float, enrol_months: float, u: tuple) -> None:
        """Training, skill decay, promotion, social-insurance enrolment, and a month older
        (``train_promote_and_age``); ``u`` are the post's 4 ``training`` draws."""
        u_train, u_apply, u_prom, u_ins = u
        (self.skill, self.grade, self.month_promotions, self.insured, self.age, self.tenure, self.month_trained,
         self.month_applied) = plain_all(compiled(cadre_rules.train_promote_and_age)(
            self.filled, self.skill, self.grade, self.insured, self.contract, self.age, self.tenure, county_coverage,
            lev["training_coverage"], lev["training_mentoring"], lev["promotion_rate_3y"],
            lev["social_insurance_coverage"], float(enrol_months), u_train, u_apply, u_prom, u_ins,
            self.model.cadre_record))


class ResidentAgent(mesa.Agent):
    """A sampled resident (weighted): brings needs, is served or referred, judges, complains, trusts and takes part."""

    def __init__(self, model: "AgentGrassrootsModel", index: int, **state):
        super().__init__(model)
        self.index = index  # row in the columnar population: addresses this agent's draws
        self.committee_cases = self.township_cases = self.attended_weight = 0.0
        for name in RESIDENT_MONTH:
            setattr(self, name, RESIDENT_TYPES.get(name, bool)())
        for name, value in state.items():
            setattr(self, name, value)

    def bring_need(self, devolved: float, township_staffing: float, month: int, u: tuple) -> None:
        """Bring a need this month or not; one needing a power is settled locally only if it was devolved;
        a new need opens a case (``bring_need``)."""
        u_need, u_auth, u_local = u
        (self.need, self.authority, self.local, self.referred, self.committee_cases, self.township_cases,
         self.request_month, self.request_day) = plain_all(compiled(resident_rules.bring_need)(
            self.pending, self.elderly, self.weight, devolved, township_staffing, self.request_month,
            self.request_day, month, u_need, u_auth, u_local, self.model.resident_record))

    def get_served(self, unit, outreach: float, lev: dict, month: int, u: tuple) -> None:
        """Be served as far as the unit's capacity allows; judge, complain, update trust; a settled case
        has its days from request (``get_served``).

        ``unit`` is the service (``unit_service``) of the unit handling the need (committee or township);
        ``outreach`` is the committee's spare capacity; ``lev`` the county's levers.
        """
        u_served, u_ref, u_comp, u_rect = u
        served = plain_all(compiled(resident_rules.get_served)(
            self.need, self.referred, self.pending, self.satisfaction, self.trust, unit.coverage, unit.load,
            unit.skill, unit.burnout, outreach, lev["supervision_platform"], lev["disclosure"],
            lev["grid_integration"], lev["complaint_deadline_days"], self.request_month, self.request_day, month,
            u_served, u_ref, u_comp, u_rect, self.model.resident_record))
        (self.served, self.resolved, self.complains, self.cause, self.rectified, self.had_issue, self.settled,
         self.days, self.satisfaction, self.trust, self.pending) = served

    def take_part(self, decisions, previous_share: float, month: int, u: tuple) -> None:
        """If the committee puts a decision to residents, attend or vote online, and learn whether decisions
        are carried out (``take_part``); ``decisions`` are the committee's (``committee_decisions``)."""
        u_attend, u_online = u
        self.meeting = decisions.deliberated
        (self.attends, self.took_part, self.attended_weight, self.last_part,
         self.efficacy) = plain_all(compiled(resident_rules.take_part)(
            decisions.deliberated, decisions.council, decisions.online, decisions.points, previous_share,
            decisions.carried, decisions.disclosed, self.cost, self.trust, self.efficacy, self.age, self.threshold,
            self.weight, self.last_part, month, u_attend, u_online, self.model.resident_record))


# =========================================================================== model


class AgentGrassrootsModel(GrassrootsModel):
    """``GrassrootsModel`` computed agent by agent (see module docstring); same constructor, same results."""

    def __init__(self, config=None, *, rng=None, seed: int | None = None, replicate: int = 0,
                 counties: tuple[int, int] | None = None, scenario=None, **kwargs):
        # `**kwargs` and `scenario` as in GrassrootsModel (what Mesa's SolaraViz passes, on mesa 3.3 and 3.4+)
        super().__init__(config, rng=rng, seed=seed, replicate=replicate, counties=counties, scenario=scenario,
                         **kwargs)
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
        self.compliance_habit = c.compliance_habit.tolist()  # per unit: hours of its compliance routine
        self.unit_county = c.unit_county.tolist()
        self.committee_weight = r.committee_weight.tolist()  # per committee: its sample's weight

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
        self.carried = [False] * self.m
        self.disclosed = [False] * self.m
        # where each population's draws start (global row of its first agent)
        self.first_department, self.first_post, self.first_resident = d.first, c.first, r.first
        # from now on the agents hold the state: what is recorded is read from them (``Tallied``)
        self.departments = Tallied(d, DEPARTMENT_STATE, self.department_columns, tally_departments)
        self.cadres = Tallied(c, (*CADRE_STATE, "hours", "vacancies_first", "compliance_habit"), self.cadre_columns,
                              tally_cadres, memory=("vacancies_first",))
        self.residents = Tallied(r, (*RESIDENT_STATE, "previous_share", "month_state"), self.resident_columns,
                                 tally_residents)

    @property
    def resident_record(self):
        """The residents' parameters as compiled stages take them (the pydantic block itself without numba)."""
        return rows_record(self.resident_params)

    @property
    def cadre_record(self):
        """The cadres' parameters as compiled stages take them (the pydantic block itself without numba)."""
        return rows_record(self.cadre_params)

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

    def county_sum(self, agents, attribute: str) -> list[float]:
        """Per county: how many of ``agents`` have ``attribute`` true."""
        total = [0.0] * self.places.n_counties
        for a in agents:
            if getattr(a, attribute):
                total[a.county] += 1.0
        return total

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
        staffing, share = zip(*(plain_all(cadre_rules.unit_staffing(h, posts))
                                for h, posts in zip(heads, self.unit_posts)))
        demand = self._bring_needs(staffing, month)

        # cadres allocate time: each unit's compliance routine, then each post's month
        routines = [plain_all(cadre_rules.compliance_routine(
            habit, work.veto[u], work.expected_other[u], work.data[u], lev[self.unit_county[u]]["evaluation_service_weight"],
            self.workload.compliance_trimming, self.workload.compliance_habit_months))
            for u, habit in enumerate(self.compliance_habit)]
        self.compliance_habit = [r.habit for r in routines]
        service_work = [plain(cadre_rules.service_demand(d, h)) for d, h in zip(demand, self.unit_case_hours)]
        for a in self.cadre_list:
            u = a.unit
            a.allocate_time(work.veto[u], work.other[u], work.data[u], routines[u].habit_hours, service_work[u],
                            share[u], lev[a.county]["evaluation_service_weight"])

        # residents are served and take part
        output, skill, burnout = [0.0] * self.n_units, [0.0] * self.n_units, [0.0] * self.n_units
        for a in self.cadre_list:
            hours, in_post_skill, in_post_burnout = plain_all(cadre_rules.service_output(
                a.hours_service, a.skill, a.burnout, a.filled))
            output[a.unit] += hours
            skill[a.unit] += in_post_skill
            burnout[a.unit] += in_post_burnout
        cap = self.resident_params.service_capacity_cap
        service = [plain_all(resident_rules.unit_service(*unit, cap)) for unit in zip(
            output, self.unit_case_hours, demand, skill, burnout, heads)]
        self._get_served(service, lev, month)
        self._take_part(lev, [unit.coverage for unit in service], month)

        # cadres stay or leave, vacancies are filled, training, promotion, insurance and ageing
        u_quit = streams.uniforms("quits", month, self.first_post, len(self.cadre_list)).tolist()
        for a, u in zip(self.cadre_list, u_quit):
            a.stay_or_leave(lev[a.county], u)
        u_hire = list(zip(*streams.uniforms("hires", month, self.first_post, len(self.cadre_list), 7).tolist()))
        for a, u in zip(self.cadre_list, u_hire):
            a.consider_applicants(lev[a.county], self.county_base[a.county], u)
        self._train_promote_and_age(lev, month)

        # data sharing and devolution
        county_share = [plain(dept_rules.county_shared_share(s, h)) for s, h in zip(
            self.county_sum(self.department_list, "shared"), self.county_sum(self.department_list, "holds_data"))]
        u_data = streams.uniforms("data", month, self.first_department, len(self.department_list)).tolist()
        for a, u in zip(self.department_list, u_data):
            a.share_data(county_share[a.county], lev[a.county]["data_sharing_target"], u)
        months = self.config.implementation.devolution_months
        self.devolved = [plain(dept_rules.devolve_powers(dv, lv["devolved_power_share"], months))
                         for dv, lv in zip(self.devolved, lev)]

        self._record(work, levers)
        self._next_month()

    def _push_tasks(self, lev: list[dict], burden_started: list[bool], month: int) -> Work:
        """Departments push work down: per county (``county_workload``), then per township
        (``township_workload``) and committee (``committee_workload``). Mirrors ``Departments.push_tasks``."""
        w, impl, pl = self.workload, self.config.implementation, self.places
        propensity = [0.0] * pl.n_counties
        for a in self.department_list:
            propensity[a.county] += a.rebound_propensity
        shared = self.county_sum(self.department_list, "shared")
        county = []
        for c, L in enumerate(lev):
            load = plain_all(dept_rules.county_workload(
                self.reform_start[c], burden_started[c], month, propensity[c], shared[c], L["assessment_items_cut"],
                L["veto_items_cap"], L["inspections_cut"], L["task_access_control"], L["power_list_coverage"],
                L["grid_integration"], w, impl))
            self.reform_start[c] = load.reform_start
            county.append(load)

        u_adhoc = self.streams.uniforms("adhoc", month, pl.first_township, pl.n_townships).tolist()
        u_insp = self.streams.uniforms("tasks", month, pl.first_committee, pl.n_committees).tolist()
        township = []  # per township: (township veto, township other, per-committee veto, other)
        usual = []  # the same at the expected counts of ad hoc tasks (what a unit's routine follows)
        for t, c in enumerate(self.township_county):
            adhoc = plain(poisson_from_uniform(u_adhoc[t], county[c].adhoc_rate))  # the month's Poisson draw
            township.append(plain_all(dept_rules.township_workload(county[c].items, county[c].veto, adhoc,
                                                                   self.committees_in_township[t], w)))
            usual.append(plain_all(dept_rules.township_workload(county[c].items, county[c].veto, county[c].adhoc_rate,
                                                                self.committees_in_township[t], w)))
        veto, other, data, inspections, expected_other = [], [], [], [], []
        for k, t in enumerate(self.committee_township):
            c = self.committee_county[k]
            count = plain(poisson_from_uniform(u_insp[k], county[c].inspections_per_month))
            inspections.append(count)
            veto.append(township[t][2])
            other.append(plain(dept_rules.committee_workload(township[t][3], count, w)))
            expected_other.append(plain(dept_rules.committee_workload(usual[t][3], county[c].inspections_per_month, w)))
            data.append(county[c].data_hours)
        for t, c in enumerate(self.township_county):
            veto.append(township[t][0])
            other.append(township[t][1])
            expected_other.append(usual[t][1])
            data.append(county[c].data_hours)
        return Work(veto=veto, other=other, data=data, expected_other=expected_other,
                    items_official=np.array([x.items_official for x in county]),
                    items_actual=np.array([x.items for x in county]),
                    veto_official=np.array([x.veto_official for x in county]),
                    rebound=np.array([x.rebound for x in county]), inspections=np.array(inspections))

    def _bring_needs(self, staffing: list[float], month: int) -> list[float]:
        """Residents bring needs; returns weighted case demand per unit (committees, then townships)."""
        m = self.m
        u_needs = zip(*self.streams.uniforms("needs", month, self.first_resident, len(self.resident_list), 3).tolist())
        demand = [0.0] * self.n_units
        for a, u in zip(self.resident_list, u_needs):
            a.bring_need(self.devolved[a.county], staffing[m + a.township], month, u)
            demand[a.committee] += a.committee_cases  # a routine need: the committee's case
        for a in self.resident_list:
            demand[m + a.township] += a.township_cases  # a need for a devolved power the township can exercise
        return demand

    def _get_served(self, service: list, lev: list[dict], month: int) -> None:
        """Each resident is served by the unit handling its need. Mirrors ``Residents.get_served``."""
        n, first, m = len(self.resident_list), self.first_resident, self.m
        u_served, u_ref = self.streams.uniforms("service", month, first, n, 2).tolist()
        u_comp, u_rect = self.streams.uniforms("complaints", month, first, n, 2).tolist()
        for a, u in zip(self.resident_list, zip(u_served, u_ref, u_comp, u_rect)):
            unit = service[m + a.township if a.local else a.committee]  # who handles the need
            a.get_served(unit, service[a.committee].spare, lev[a.county], month, u)

    def _take_part(self, lev: list[dict], coverage: list[float], month: int) -> None:
        """Committees take decisions (``committee_decisions``), some put to residents, who take part
        (``take_part``); then each committee remembers its attendance. Mirrors ``Residents.take_part``."""
        p, m, streams = self.resident_params, self.m, self.streams
        first, n = self.first_resident, len(self.resident_list)
        u_committee = zip(*streams.uniforms("decisions", month, self.places.first_committee, m, 4).tolist())
        u_part = zip(*streams.uniforms("participation", month, first, n, 2).tolist())
        decisions = []
        for k, (u, fixed) in enumerate(zip(u_committee, zip(*self.committee_u))):
            L = lev[self.committee_county[k]]
            decisions.append(plain_all(resident_rules.committee_decisions(
                *u, *fixed, L["deliberation_share"], L["councils"], L["online_voting"], L["points_system"],
                L["disclosure"], L["supervision_platform"], L["council_execution_followup"], coverage[k], p)))
            self.decided[k], self.deliberated[k] = decisions[k].decided, decisions[k].deliberated
            self.carried[k], self.disclosed[k] = decisions[k].carried, decisions[k].disclosed
        attended = [0.0] * m
        for a, u in zip(self.resident_list, u_part):
            k = a.committee
            a.take_part(decisions[k], self.previous_share[k], month, u)
            attended[k] += a.attended_weight
        self.previous_share = [plain(resident_rules.remember_attendance(d.deliberated, a, w, previous))
                               for d, a, w, previous in zip(decisions, attended, self.committee_weight,
                                                            self.previous_share)]

    def _train_promote_and_age(self, lev: list[dict], month: int) -> None:
        """Each county's insurance coverage (``insurance_coverage``), then each post trains, is promoted,
        insured and ages. Mirrors ``Cadres.train_promote_and_age``."""
        n_counties = self.places.n_counties
        contract, insured = [0.0] * n_counties, [0.0] * n_counties
        for a in self.cadre_list:
            if a.filled and a.contract:
                contract[a.county] += 1.0
                if a.insured:
                    insured[a.county] += 1.0
        coverage = [plain(cadre_rules.insurance_coverage(i, c)) for i, c in zip(insured, contract)]
        enrol_months = self.config.implementation.insurance_enrol_months
        u_train = zip(*self.streams.uniforms("training", month, self.first_post, len(self.cadre_list), 4).tolist())
        for a, u in zip(self.cadre_list, u_train):
            a.train_promote_and_age(lev[a.county], coverage[a.county], enrol_months, u)

    # -- observation: the agents' attributes as columns
    def department_columns(self) -> dict[str, np.ndarray]:
        return {"shared": gather(self.department_list, "shared", bool),
                "devolved": np.array(self.devolved), "burden_reform_start": np.array(self.reform_start)}

    def cadre_columns(self) -> dict:
        cadres = {name: gather(self.cadre_list, name, float if name in (
            "age", "tenure", "skill", "burnout", "grade", "intention") else bool) for name in CADRE_STATE}
        cadres["hours"] = {h: gather(self.cadre_list, f"hours_{h}", float) for h in CADRE_HOURS}
        cadres["compliance_habit"] = np.array(self.compliance_habit)
        return cadres

    def resident_columns(self) -> dict:
        residents = {name: gather(self.resident_list, name, RESIDENT_TYPES.get(name, bool)) for name in RESIDENT_STATE}
        residents["month_state"] = {name: gather(self.resident_list, name, RESIDENT_TYPES.get(name, bool))
                                    for name in RESIDENT_MONTH}
        residents["month_state"]["decided"] = np.array(self.decided, dtype=bool)
        residents["month_state"]["deliberated"] = np.array(self.deliberated, dtype=bool)
        residents["month_state"]["carried"] = np.array(self.carried, dtype=bool)
        residents["month_state"]["disclosed"] = np.array(self.disclosed, dtype=bool)
        residents["previous_share"] = np.array(self.previous_share)
        return residents

    def agent_columns(self) -> dict[str, dict[str, np.ndarray]]:
        """The agents' state gathered into arrays, named as the columnar populations' attributes."""
        return {"departments": self.department_columns(), "cadres": self.cadre_columns(),
                "residents": self.resident_columns()}


def gather(agents: list, attribute: str, dtype) -> np.ndarray:
    """One attribute of every agent, in row order, as a column."""
    return np.fromiter((getattr(a, attribute) for a in agents), dtype=dtype, count=len(agents))


class Tallied:
    """A population as ``GrassrootsModel._record`` tallies it in the per-agent engine.

    It holds the columnar population's set-up columns that never change (county, weight, parameters...),
    and at each record hands the one definition of the metrics (``tally_function``: ``tally_departments``,
    ``tally_cadres`` or ``tally_residents`` of ``agents.py``) those columns together with the agents'
    state gathered into columns of the same names (``gather``). ``memory`` names what the tally keeps
    from one record to the next (the first recorded month's vacancies). It holds no state of its own; the
    set-up columns are also its attributes, named as the columnar population's (``model.cadres.n``).
    """

    def __init__(self, population, state: tuple[str, ...], gather, tally_function, memory: tuple[str, ...] = ()):
        self.constants = {name: value for name, value in vars(population).items() if name not in state}
        self.gather, self.tally_function = gather, tally_function
        self.memory = dict.fromkeys(memory)
        for name, value in self.constants.items():  # read like a columnar population's: model.cadres.n, .county
            setattr(self, name, value)

    def tally(self, tally, *args) -> None:
        columns = SimpleNamespace(**self.constants, **self.gather(), **self.memory)
        self.tally_function(tally, columns, *args)
        self.memory = {name: getattr(columns, name) for name in self.memory}
