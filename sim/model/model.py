"""GrassrootsModel: cadres, residents and departments under the reform, month by month.

A county's departments push assessment items, inspections and ad hoc tasks
down to townships and village/residents' committees. Cadres spend their hours
on that compliance first (veto items first of all), on duplicate data entry
where departments do not share data, and serve residents with what is left.
Residents bring needs, are served or referred upward, judge the service,
complain, and decide whether to take part in decisions. Cadres burn out, weigh
their pay and prospects against a job in the county seat, and quit or retire;
vacancies are refilled only as fast as pay and the recruitment pipeline allow.
A policy timeline changes the levers at phase boundaries, in pilot counties
first, with implementation fidelity that differs by region.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from ..config.schema import REGIONS, Scenario
from ..rules import residents as resident_rules
from .agents import Cadres, Departments, Residents
from .metrics import METRIC_NAMES, Tally, cell_values
from .policy import Calendar, Policy, month_label, select_pilots
from .population import synthesise_places
from .streams import Streams

REGION_LABELS = (*REGIONS, "all")
GROUP_LABELS = ("pilot", "non-pilot", "all")
HEADLINE = ("turnover_rate", "service_time_share", "participation_rate")


class GrassrootsModel(mesa.Model):
    """The grassroots reform model (see module docstring); one replicate of one scenario."""

    def __init__(self, scenario: Scenario, seed: int = 0, replicate: int = 0):
        self.streams = Streams(seed, replicate)
        super().__init__(rng=self.streams.mesa_seed())
        # not `self.scenario`: Mesa 3.4+ reserves that name for its own Scenario objects
        self.config = scenario
        self.seed, self.replicate = seed, replicate
        self.calendar = Calendar.from_scenario(scenario, scenario.timeline.spin_up_months)
        self.month = self.calendar.spin_up_start

        self.places = synthesise_places(scenario, self.streams.setup("population"))
        pl = self.places
        pilot = select_pilots(scenario, pl.county_region, pl.county_base, self.streams.setup("pilot"))
        self.policy = Policy(scenario, self.calendar, pl.county_region, pl.county_base, pilot, self.streams)
        start_levers = self.policy.levers_at(self.calendar.spin_up_start)
        setup = self.streams.setup("agents")
        self.departments = Departments(scenario, pl, start_levers["devolved_power_share"], setup)
        self.cadres = Cadres(scenario, pl, setup)
        self.residents = Residents(scenario, pl, pl.county_base, setup)
        self.case_hours = np.concatenate([
            np.full(pl.n_committees, scenario.parameters.residents.hours_per_case),
            np.full(pl.n_townships, scenario.parameters.residents.township_hours_per_case)])
        self.posts_per_unit = np.concatenate([pl.committee_posts, pl.township_posts])

        self.membership = self._cell_membership(pl.county_region, pilot)
        n_months = len(self.calendar.recorded_months)
        self.records = np.full((n_months, len(METRIC_NAMES), self.membership.shape[0]), np.nan)
        self.latest: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: (lambda m, name=name: m.latest[name]) for name in HEADLINE})

    @staticmethod
    def _cell_membership(region: np.ndarray, pilot: np.ndarray) -> np.ndarray:
        cells = []
        for r, _ in enumerate(REGION_LABELS):
            in_region = np.ones_like(pilot) if r == len(REGIONS) else region == r
            for group in GROUP_LABELS:
                in_group = {"pilot": pilot, "non-pilot": ~pilot, "all": np.ones_like(pilot)}[group]
                cells.append(in_region & in_group)
        return np.array(cells, dtype=float)

    @property
    def pilot(self) -> np.ndarray:
        return self.policy.pilot

    def step(self) -> None:
        """One month: departments push work, residents bring needs, cadres allocate time, residents are
        served and take part, cadres stay or leave, vacancies are filled, training and data sharing
        advance, and the month is recorded."""
        month, streams, p = self.month, self.streams, self.config.parameters.residents
        levers = self.policy.levers_at(month)
        m = self.places.n_committees

        work = self.departments.push_tasks(levers, self.policy.group_started(month, "burden"), month, streams)
        staffing = self.cadres.headcount() / self.posts_per_unit
        committee_cases, township_cases = self.residents.bring_needs(
            levers, self.departments.devolved, staffing[m:], month, streams)
        demand = np.concatenate([committee_cases, township_cases])
        self.cadres.allocate_time(work, demand * self.case_hours, levers)

        capacity = self.cadres.service_capacity_cases(self.case_hours)
        coverage = resident_rules.coverage(capacity, demand, p.service_capacity_cap)
        spare = np.clip(np.where(demand > 0, capacity / np.where(demand > 0, demand, 1.0) - 1.0, 1.0), 0.0, 1.0)
        self.residents.get_served(coverage, spare[:m], self.cadres.unit_mean(self.cadres.skill),
                                  self.cadres.unit_mean(self.cadres.burnout), levers, month, streams)
        self.residents.take_part(levers, coverage[:m], month, streams)

        self.cadres.stay_or_leave(levers, month, streams)
        self.cadres.fill_vacancies(levers, self.places.county_base, month, streams)
        self.cadres.train_promote_and_age(levers, levers["social_insurance_coverage"], month, streams,
                                          self.config.implementation.insurance_enrol_months)
        self.departments.share_data_and_devolve(levers, month, streams)

        self._record(work, levers)
        self.month += 1

    def _record(self, work, levers) -> None:
        if self.month < self.calendar.start:
            return
        tally = Tally(self.places.n_counties)
        self.departments.tally(tally, work)
        self.cadres.tally(tally, levers)
        self.residents.tally(tally, self.month)
        values = cell_values(tally.num, tally.den, self.membership)
        self.records[self.month - self.calendar.start] = values
        overall = self.membership.shape[0] - 1  # region all, group all
        self.latest = {name: float(values[i, overall]) for i, name in enumerate(METRIC_NAMES)}
        self.datacollector.collect(self)

    def run(self) -> "GrassrootsModel":
        """Spin up at 2023 values, then run every month of the timeline."""
        while self.month <= self.calendar.end:
            self.step()
        return self

    def series(self) -> pd.DataFrame:
        """The recorded months as a tidy table: one row per month, region, group and metric."""
        months = list(self.calendar.recorded_months)
        n_cells = self.membership.shape[0]
        regions = np.repeat(REGION_LABELS, len(GROUP_LABELS))
        groups = np.tile(GROUP_LABELS, len(REGION_LABELS))
        t, k, c = np.meshgrid(np.arange(len(months)), np.arange(len(METRIC_NAMES)), np.arange(n_cells), indexing="ij")
        dates = pd.to_datetime([month_label(mo) + "-01" for mo in months])
        phases = [self.calendar.phase(mo) for mo in months]
        frame = pd.DataFrame({
            "scenario": self.config.name,
            "replicate": self.replicate,
            "date": dates[t.ravel()],
            "phase": np.array(phases)[t.ravel()],
            "region": regions[c.ravel()],
            "group": groups[c.ravel()],
            "metric": np.array(METRIC_NAMES)[k.ravel()],
            "value": self.records.ravel(),
        })
        for col in ("scenario", "phase", "region", "group", "metric"):
            frame[col] = frame[col].astype("category")
        return frame
