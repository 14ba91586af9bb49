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

from ..config import scenario_of
from ..config.schema import REGIONS, Scenario
from ..rules import residents as resident_rules
from .agents import Cadres, Departments, Residents
from .metrics import METRIC_NAMES, Tally, cell_values, county_blocks
from .policy import Calendar, Policy, month_label, select_pilots
from .population import synthesise_places
from .memory import keep_large_blocks_in_heap
from .streams import Streams

REGION_LABELS = (*REGIONS, "all")
GROUP_LABELS = ("pilot", "non-pilot", "all")
LARGE_RUN_COMMITTEES = 50_000  # above this, tune the allocator for big arrays (sim/model/memory.py)


class GrassrootsModel(mesa.Model):
    """The grassroots reform model (see module docstring): one replicate of one scenario.

    ``config`` is a config file's path, a ``LoadedScenario``, a ``Scenario`` or a resolved config dict;
    ``overrides`` set config key paths, with ``__`` between keys
    (``levers__committee_pay_ratio__values__rollout=1.1``), as ``mesa.batch_run`` parameters do. The root
    seed is ``seed``, or Mesa's ``rng`` (an integer, or anything ``numpy.random.default_rng`` takes), or 0:
    the same seed and replicate give the same run. ``counties=(first, stop)`` runs only that block of
    counties, drawing exactly the random numbers the whole-geography run draws for them; the county
    tallies of blocks can be put together into the whole run's results (``sim.run.assemble``).

    Mesa's conventions hold: ``step()`` is one month, ``running`` turns False after the last month, and
    the DataCollector has a model reporter for every metric (all regions, all groups) and the month's
    ``date`` and ``phase``, collected every step (spin-up months are not recorded: their metrics are NaN).
    """

    def __init__(self, config=None, *, rng=None, seed: int | None = None, replicate: int = 0,
                 counties: tuple[int, int] | None = None, **overrides):
        if config is None:
            raise TypeError("GrassrootsModel needs a config: a path such as 'configs/plan.yaml', a Scenario or a "
                            "LoadedScenario")
        scenario = scenario_of(config, overrides)
        seed = root_seed(seed, rng)
        self.streams = Streams(seed, replicate)
        super().__init__(rng=self.streams.mesa_seed())
        # not `self.scenario`: Mesa 3.4+ reserves that name for its own Scenario objects
        self.config = scenario
        self.seed, self.replicate = seed, replicate
        self.calendar = self.calendar_of(scenario)
        self.month = self.calendar.spin_up_start

        geography, pilot = geography_and_pilots(scenario, seed, replicate)
        if geography.n_committees > LARGE_RUN_COMMITTEES:
            keep_large_blocks_in_heap()
        self.policy = Policy(scenario, self.calendar, geography.county_region, geography.county_base, pilot,
                             self.streams)
        first, stop = counties if counties is not None else (0, geography.n_counties)
        self.block = slice(first, stop)
        self.places = geography if counties is None else geography.block(first, stop)
        pl = self.places
        start_levers = self.levers_at(self.calendar.spin_up_start)
        self.departments = Departments(scenario, pl, start_levers["devolved_power_share"], self.streams)
        self.cadres = Cadres(scenario, pl, self.streams)
        self.residents = Residents(scenario, pl, self.streams)
        self._county_blocks = county_blocks(pl.n_counties, self.cadres.county, self.residents.county)
        self.case_hours = np.concatenate([
            np.full(pl.n_committees, scenario.parameters.residents.hours_per_case),
            np.full(pl.n_townships, scenario.parameters.residents.township_hours_per_case)])
        self.posts_per_unit = np.concatenate([pl.committee_posts, pl.township_posts])

        n_months = len(self.calendar.recorded_months)
        shape = (n_months, len(METRIC_NAMES), pl.n_counties)
        self.county_num, self.county_den = np.zeros(shape), np.zeros(shape)  # the record: tallies per county
        self.latest: dict[str, float] = dict.fromkeys(METRIC_NAMES, float("nan"))
        reporters = {"date": lambda m: month_label(m.month), "phase": lambda m: m.calendar.phase(m.month)}
        reporters.update({name: (lambda m, name=name: m.latest[name]) for name in METRIC_NAMES})
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    @staticmethod
    def calendar_of(scenario: Scenario) -> Calendar:
        return Calendar.from_scenario(scenario, scenario.timeline.spin_up_months)

    @property
    def pilot(self) -> np.ndarray:
        """Pilot flag of each county in this model."""
        return self.policy.pilot[self.block]

    def levers_at(self, month: int) -> dict[str, np.ndarray]:
        return {name: values[self.block] for name, values in self.policy.levers_at(month).items()}

    def step(self) -> None:
        """One month: departments push work, residents bring needs, cadres allocate time, residents are
        served and take part, cadres stay or leave, vacancies are filled, training and data sharing
        advance, and the month is recorded. After the last month of the timeline it does nothing."""
        if not self.running:
            return
        month, streams, p = self.month, self.streams, self.config.parameters.residents
        levers = self.levers_at(month)
        m = self.places.n_committees

        burden_started = self.policy.group_started(month, "burden")[self.block]
        work = self.departments.push_tasks(levers, burden_started, month, streams)
        heads = self.cadres.headcount()  # filled posts per unit; unchanged until cadres stay or leave
        staffing, share = self.cadres.staffing(heads)
        committee_cases, township_cases = self.residents.bring_needs(
            levers, self.departments.devolved, staffing[m:], month, streams)
        demand = np.concatenate([committee_cases, township_cases])
        self.cadres.allocate_time(work, demand, self.case_hours, share, levers)

        service = self.cadres.service(demand, heads, self.case_hours, p.service_capacity_cap)
        self.residents.get_served(service, levers, month, streams)
        self.residents.take_part(levers, service.coverage[:m], month, streams)

        self.cadres.stay_or_leave(levers, month, streams)
        self.cadres.fill_vacancies(levers, self.places.county_base, month, streams)
        self.cadres.train_promote_and_age(levers, levers["social_insurance_coverage"], month, streams,
                                          self.config.implementation.insurance_enrol_months)
        self.departments.share_data_and_devolve(levers, month, streams)

        self._record(work, levers)
        self._next_month()

    def _next_month(self) -> None:
        """Move the clock on; after the timeline's last month the model stops running (Mesa's ``running``)."""
        self.month += 1
        self.running = self.month <= self.calendar.end

    def _record(self, work, levers) -> None:
        if self.month < self.calendar.start:  # spin-up: a row for Mesa's tools, nothing recorded
            self.datacollector.collect(self)
            return
        tally = Tally(self.places.n_counties, self._county_blocks)
        self.departments.tally(tally, work)
        self.cadres.tally(tally, levers)
        self.residents.tally(tally, self.month)
        row = self.month - self.calendar.start
        self.county_num[row], self.county_den[row] = tally.num, tally.den
        overall = cell_values(tally.num, tally.den, np.ones((1, self.places.n_counties)))[:, 0]
        self.latest = dict(zip(METRIC_NAMES, overall.tolist()))
        self.datacollector.collect(self)

    def run(self) -> "GrassrootsModel":
        """Spin up at 2023 values, then run every month of the timeline."""
        while self.running:
            self.step()
        return self

    def series(self) -> pd.DataFrame:
        """The recorded months as a tidy table: one row per month, region, group and metric."""
        return tidy_series(self.config.name, self.replicate, self.calendar, self.county_num, self.county_den,
                           self.places.county_region, self.pilot)


def root_seed(seed: int | None, rng) -> int:
    """The run's root seed from our ``seed`` or Mesa's ``rng`` (both None: 0, so a run is reproducible)."""
    if seed is not None and rng is not None:
        raise TypeError("give seed or rng, not both")
    if seed is None and rng is None:
        return 0
    value = seed if seed is not None else rng
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if seed is not None:
        raise TypeError(f"seed must be a non-negative integer, not {seed!r}")
    return int(np.random.default_rng(rng).integers(0, 2**63))


def geography_and_pilots(scenario: Scenario, seed: int, replicate: int):
    """The whole geography's places and pilot flags of a replicate (cheap: no agents)."""
    streams = Streams(seed, replicate)
    places = synthesise_places(scenario, streams.generator("population"))
    pilot = select_pilots(scenario, places.county_region, places.county_base, streams.generator("pilot"))
    return places, pilot


def cell_membership(region: np.ndarray, pilot: np.ndarray) -> np.ndarray:
    """(cells, counties) 0/1: which counties make up each region x group cell, 'all' included."""
    cells = []
    for r, _ in enumerate(REGION_LABELS):
        in_region = np.ones_like(pilot) if r == len(REGIONS) else region == r
        for group in GROUP_LABELS:
            in_group = {"pilot": pilot, "non-pilot": ~pilot, "all": np.ones_like(pilot)}[group]
            cells.append(in_region & in_group)
    return np.array(cells, dtype=float)


def tidy_series(scenario: str, replicate: int, calendar: Calendar, county_num: np.ndarray, county_den: np.ndarray,
                region: np.ndarray, pilot: np.ndarray) -> pd.DataFrame:
    """Turn per-county monthly tallies into the tidy table: region x group cells, properly weighted."""
    membership = cell_membership(region, pilot)
    values = np.stack([cell_values(n, d, membership) for n, d in zip(county_num, county_den)])
    months = list(calendar.recorded_months)
    n_cells = membership.shape[0]
    regions = np.repeat(REGION_LABELS, len(GROUP_LABELS))
    groups = np.tile(GROUP_LABELS, len(REGION_LABELS))
    t, k, c = np.meshgrid(np.arange(len(months)), np.arange(len(METRIC_NAMES)), np.arange(n_cells), indexing="ij")
    dates = pd.to_datetime([month_label(mo) + "-01" for mo in months])
    phases = np.array([calendar.phase(mo) for mo in months])
    frame = pd.DataFrame({
        "scenario": scenario,
        "replicate": replicate,
        "date": dates[t.ravel()],
        "phase": phases[t.ravel()],
        "region": regions[c.ravel()],
        "group": groups[c.ravel()],
        "metric": np.array(METRIC_NAMES)[k.ravel()],
        "value": values.ravel(),
    })
    for col in ("scenario", "phase", "region", "group", "metric"):
        frame[col] = frame[col].astype("category")
    return frame
