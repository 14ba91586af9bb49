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

from functools import partial

import mesa
import numpy as np
import pandas as pd

from ..config import scenario_of
from ..config.schema import REGIONS, Scenario
from .agents import Cadres, Departments, Residents
from .metrics import METRIC_NAMES, Tally, cell_values, county_blocks
from .policy import Calendar, Policy, month_label, prefix_key, select_pilots
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
                 counties: tuple[int, int] | None = None, scenario=None, **kwargs):
        # The overrides are `**kwargs` by that name: mesa 3.3's SolaraViz lets model_params reach a
        # constructor beyond its signature only through a parameter called `kwargs`. `scenario` is Mesa
        # 3.4+'s own keyword (SolaraViz's Reset passes a mesa Scenario): its rng and parameters are taken
        # as rng and overrides; this model's config is `config`.
        if scenario is not None:
            rng, kwargs = mesa_scenario_arguments(scenario, rng, kwargs)
        if config is None:
            raise TypeError("GrassrootsModel needs a config: a path such as 'configs/plan.yaml', a Scenario or a "
                            "LoadedScenario")
        scenario = scenario_of(config, kwargs)
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
        # module-level reporters (not lambdas), so that a model can be pickled: a snapshot (``with_levers_of``)
        reporters = {"date": _date_of, "phase": _phase_of}
        reporters.update({name: partial(_latest, name=name) for name in METRIC_NAMES})
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self._county_region, self._county_base = geography.county_region, geography.county_base

    @staticmethod
    def calendar_of(scenario: Scenario) -> Calendar:
        return Calendar.from_scenario(scenario)

    def with_levers_of(self, config, **overrides) -> "GrassrootsModel":
        """Carry this model on under another scenario that would have simulated the same months so far (the
        same ``sim.model.policy.prefix_key`` at this month): a design continued from a snapshot of its
        baseline or of another design (``pickle.dumps(model)`` after ``run(until=...)``), so that the months
        they share are simulated once. The record so far stays, and from now on the other scenario's levers
        and name hold. Returns the model; a scenario that would have simulated something else (another world,
        or other lever values in force by now) is a ``ValueError``."""
        scenario = scenario_of(config, overrides)
        if prefix_key(scenario, self.month) != prefix_key(self.config, self.month):
            raise ValueError(f"{scenario.name!r} has not simulated what {self.config.name!r} has up to "
                             f"{month_label(self.month)}: another world, or other lever values in force by then")
        self.config = scenario
        self.policy = Policy(scenario, self.calendar, self._county_region, self._county_base, self.policy.pilot,
                             self.streams)
        return self

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

    def run(self, until=None) -> "GrassrootsModel":
        """Spin up at 2023 values, then run the timeline's months: all of them, or through ``until``.

        ``until`` is the last month to simulate: ``'2024-12'`` (the configs' YYYY-MM form), ``(2024, 12)``,
        or anything with ``year`` and ``month`` (a pandas ``Period`` or ``Timestamp``, a ``datetime.date``).
        Months already simulated are not run again, so ``run(until='2023-12')`` then ``run()`` is one
        whole run. It never steps past the timeline's last month; a month outside the timeline (before
        the spin-up or after its end) is a ``ValueError``. Returns the model.
        """
        last = self.calendar.end if until is None else self._month_in_timeline(until, "until")
        while self.running and self.month <= last:
            self.step()
        return self

    def county_tallies(self, months=None, *, years=None) -> tuple[np.ndarray, np.ndarray]:
        """Numerators and denominators of every metric in every county, for the chosen recorded months.

        Give ``months`` (one month or a list, in any form ``run(until=)`` takes) or ``years`` (a year or a
        list: their twelve months each). Returns ``(num, den)``, each of shape (months, metrics, counties),
        months in the order asked and metrics in ``METRIC_NAMES`` order (copies: the record is not
        changed). The model runs on as far as the last month asked, if it has not got there yet.
        """
        rows = self._recorded_rows(months, years)
        self.run(until=month_label(self.calendar.start + max(rows)))
        return self.county_num[rows], self.county_den[rows]

    def county_values(self, months=None, *, years=None) -> np.ndarray:
        """Each county's own value of every metric in the chosen months (see ``county_tallies``): an array
        of shape (months, metrics, counties); where a county has nothing to count, a metric's ``empty``
        value (e.g. no complaint: rectification 1)."""
        num, den = self.county_tallies(months, years=years)
        own = np.eye(self.places.n_counties)
        return np.stack([cell_values(n, d, own) for n, d in zip(num, den)])

    def _month_in_timeline(self, value, what: str) -> int:
        month = month_of(value, what)
        first, last = self.calendar.spin_up_start, self.calendar.end
        if not first <= month <= last:
            raise ValueError(f"{what}={month_label(month)} is outside the timeline: the model runs "
                             f"{month_label(first)} (spin-up) to {month_label(last)}")
        return month

    def _recorded_rows(self, months, years) -> list[int]:
        """Rows of the record (``county_num``) of the months or years asked, checked to be recorded."""
        if (months is None) == (years is None):
            raise TypeError("give months or years (not both)")
        if years is not None:
            chosen = [12 * _year(y) + m for y in _as_list(years, pairs=False) for m in range(12)]
            what = "years"
        else:
            chosen = [month_of(m, "months") for m in _as_list(months)]
            what = "months"
        if not chosen:
            raise ValueError(f"{what}: give at least one")
        recorded = self.calendar.recorded_months
        outside = sorted({month_label(m)[:4 if years is not None else 7] for m in chosen if m not in recorded})
        if outside:
            raise ValueError(f"{what}: {', '.join(outside[:3])}{' ...' if len(outside) > 3 else ''} not recorded; "
                             f"the record runs {month_label(recorded[0])} to {month_label(recorded[-1])}")
        return [m - self.calendar.start for m in chosen]

    def series(self) -> pd.DataFrame:
        """The months recorded so far as a tidy table: one row per month, region, group and metric (after
        ``run(until='2026-12')`` it ends in 2026-12; after a whole run, in the timeline's last month)."""
        done = max(0, self.month - self.calendar.start)
        return tidy_series(self.config.name, self.replicate, self.calendar, self.county_num[:done],
                           self.county_den[:done], self.places.county_region, self.pilot)


def _date_of(model: GrassrootsModel) -> str:
    return month_label(model.month)


def _phase_of(model: GrassrootsModel) -> str:
    return model.calendar.phase(model.month)


def _latest(model: GrassrootsModel, name: str) -> float:
    return model.latest[name]


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


def mesa_scenario_arguments(scenario, rng, overrides: dict) -> tuple[object, dict]:
    """``rng`` and overrides with a Mesa 3.4+ ``mesa.experimental.scenarios.Scenario`` (what SolaraViz's Reset
    passes) taken in: its ``rng``, if set, is the rng and its other parameters are config key paths."""
    try:
        from mesa.experimental.scenarios import Scenario as MesaScenario
    except ImportError:  # mesa 3.3 has no Scenario of its own
        MesaScenario = ()
    if not isinstance(scenario, MesaScenario):
        raise TypeError(f"scenario= takes Mesa's own Scenario, not {type(scenario).__name__}; give this model's "
                        "config as config= (a path, a Scenario or a LoadedScenario)")
    parameters = dict(scenario)
    scenario_rng = parameters.pop("rng", None)
    if scenario_rng is not None:
        if rng is not None and rng is not scenario_rng and rng != scenario_rng:
            raise TypeError("give rng or a Mesa Scenario with its own rng, not both")
        rng = scenario_rng
    return rng, {**parameters, **overrides}


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
    values = np.stack([cell_values(n, d, membership) for n, d in zip(county_num, county_den)]
                      or [np.empty((len(METRIC_NAMES), membership.shape[0]))])[:len(county_num)]
    months = list(calendar.recorded_months)[:len(county_num)]  # the first months, when a run stopped early
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


def month_of(value, what: str = "month") -> int:
    """A month as the model counts it (year * 12 + month - 1) from ``'2024-03'``, ``(2024, 3)`` or anything
    with ``year`` and ``month`` attributes (a pandas ``Period``/``Timestamp``, a ``datetime.date``)."""
    from ..config.schema import month_index

    if isinstance(value, str):
        try:
            return month_index(value.strip())
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not a month in YYYY-MM form (e.g. '2024-12')") from None
    if isinstance(value, tuple) and len(value) == 2:
        year, month = value
    elif hasattr(value, "year") and hasattr(value, "month"):
        year, month = value.year, value.month
    else:
        raise TypeError(f"{what}: {value!r} is not a month; give 'YYYY-MM', (year, month) or a pandas Period")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (year, month)) \
            or not 1 <= month <= 12:
        raise ValueError(f"{what}: {value!r} is not a month: the year and month (1-12) must be whole numbers")
    return int(year) * 12 + int(month) - 1


def _year(value) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"years: {value!r} is not a year; give whole numbers such as 2023")


def _as_list(value, pairs: bool = True) -> list:
    """One month or year, or several. With ``pairs``, a tuple of two whole numbers is one (year, month)."""
    if isinstance(value, (list, range, np.ndarray, pd.Index)):
        return list(value)
    if isinstance(value, tuple):
        one = pairs and len(value) == 2 and all(isinstance(v, (int, np.integer)) for v in value)
        return [value] if one else list(value)
    return [value]
