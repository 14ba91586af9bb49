"""The policy timeline: which lever value holds in which county in which month.

A lever's values are given by phase (or by YYYY-MM month) in the config, as steps
or, with ``ramp: {months: N}``, each change spread linearly over N months
(``lever_table``). In the baseline phase every county has the baseline value. In
the pilot phase only pilot counties move to the reform's values; in the rollout
phase the other counties adopt it one after another, an equal number each month
over the first ``implementation.adoption_months`` months of the phase, in an order
drawn once per replicate (0: all in the phase's first month). A ramped lever's
ramp starts in each county at its own adoption month (``adopter_table``): a county
that adopts late moves from its 2023 value over N months, like the pilots did,
rather than jumping to where the pilots' ramp has got to. A county that
does not implement a lever group (drawn once per county and group from the
region's implementation fidelity, §6.3) keeps its 2023 values for that group
throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ..config.schema import LEVER_GROUPS, LEVERS, PHASES, REGIONS, LeverSpec, Scenario, month_index
from .streams import Streams


def month_label(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


@dataclass(frozen=True)
class Calendar:
    """Months as integers (year*12 + month-1): the run's span and its phases."""

    spin_up_start: int
    start: int
    end: int
    phase_starts: dict[str, int]

    @classmethod
    def from_scenario(cls, scenario: Scenario, spin_up_months: int | None = None) -> "Calendar":
        """The scenario's calendar, with its own spin-up (``timeline.spin_up_months``) unless one is given."""
        t = scenario.timeline
        spin_up_months = t.spin_up_months if spin_up_months is None else spin_up_months
        starts = {p: month_index(t.phases[p]) for p in PHASES}
        start = month_index(t.start)
        return cls(start - spin_up_months, start, month_index(t.end), starts)

    def phase(self, month: int) -> str:
        current = PHASES[0]
        for p in PHASES:
            if month >= self.phase_starts[p]:
                current = p
        return current

    @property
    def recorded_months(self) -> range:
        return range(self.start, self.end + 1)


def lever_table(value, calendar: Calendar, months: range) -> np.ndarray:
    """The value a lever takes in each month of ``months`` in a county that applies the reform."""
    if not isinstance(value, LeverSpec):
        return np.full(len(months), float(value))
    starts, vals = dated_values(value, calendar)
    if value.ramp is None:
        # the latest key at or before each month; months before the first key take the first value
        idx = np.searchsorted(starts, np.asarray(months), side="right") - 1
        return vals[np.maximum(idx, 0)]
    return _ramped(starts, vals, value.ramp.months, months)


def dated_values(value: LeverSpec, calendar: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """A lever's dated values in month order: (months, values)."""
    keyed = sorted(
        (calendar.phase_starts[k] if k in PHASES else month_index(k), v) for k, v in value.values.items()
    )
    return np.array([m for m, _ in keyed]), np.array([v for _, v in keyed])


def adopter_table(value, calendar: Calendar, months: range, adoption: int, origin: float) -> np.ndarray:
    """The value a lever takes in each month of ``months`` in a county that starts the reform in month
    ``adoption`` (before it, the table holds ``origin``, the 2023 value such a county keeps).

    A step lever is the timeline's value (``lever_table``). A ramped lever's ramp starts at the county's
    own adoption: in its k-th month of the reform the county is k/N of the way from ``origin`` to the
    value the timeline sets at its adoption (the latest dated value at or before it), as a pilot is k
    months after the pilot phase starts; values dated after the adoption ramp as the timeline says, each
    from wherever the county has got to. A county adopting at a dated value's own month (the pilots) gets
    the timeline's table itself."""
    if not isinstance(value, LeverSpec) or value.ramp is None:
        return lever_table(value, calendar, months)
    starts, vals = dated_values(value, calendar)
    at = max(int(np.searchsorted(starts, adoption, side="right")) - 1, 0)  # the key in force at adoption
    later = starts > adoption
    return _ramped(np.concatenate([[min(adoption, months.start) - 1, adoption], starts[later]]),
                   np.concatenate([[origin, vals[at]], vals[later]]), value.ramp.months, months)


def _ramped(starts: np.ndarray, vals: np.ndarray, ramp_months: int, months: range) -> np.ndarray:
    """Each change spread over ``ramp_months`` months from its key's month: in the k-th month of a change
    the value has moved k/ramp_months of the way from the value of the month before the key to the key's
    value. A key that comes before its predecessor's ramp is done starts from wherever that ramp got to."""
    first = min(int(starts[0]), months.start)
    out = np.empty(months.stop - first)
    key, origin, current = 0, float(vals[0]), float(vals[0])
    for j, m in enumerate(range(first, months.stop)):
        while key + 1 < len(starts) and m >= starts[key + 1]:
            key, origin = key + 1, current
        if m >= starts[key] and key > 0:
            current = origin + (vals[key] - origin) * min(1.0, (m - starts[key] + 1) / ramp_months)
        out[j] = current
    return out[months.start - first:]


def good_base_counties(base: np.ndarray, pool: float, minimum: int = 0) -> np.ndarray:
    """The counties 'with a good base': the top ``pool`` share by base score (at least ``minimum``)."""
    chosen = np.zeros(len(base), dtype=bool)
    chosen[np.argsort(-base, kind="stable")[: max(minimum, int(np.ceil(pool * len(base))))]] = True
    return chosen


def select_pilots(scenario: Scenario, region: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Choose the pilot counties: random, or among those with a good base (§8.1).

    At least ``central_west_min_share`` of pilots come from central and western
    counties when there are enough of them. A county table's pilot flags, when it has them, are the pilots.
    """
    design = scenario.pilot
    n = len(region)
    table = scenario.geography.table
    if table is not None and table.pilots is not None:
        return np.array(table.pilots, dtype=bool)
    k = design.counties
    pilot = np.zeros(n, dtype=bool)
    if k == 0:
        return pilot
    noise = rng.random(n)
    if design.selection == "good_base":
        eligible = good_base_counties(base, design.good_base_pool, minimum=k)
    else:
        eligible = np.ones(n, dtype=bool)
    central_west = region != REGIONS.index("east")
    need_cw = int(np.ceil(design.central_west_min_share * k))
    order = np.argsort(noise, kind="stable")
    cw_candidates = [i for i in order if eligible[i] and central_west[i]]
    chosen = cw_candidates[:need_cw]
    if len(chosen) < need_cw:  # not enough eligible central/west counties: widen to all of them
        extra = [i for i in order if central_west[i] and i not in set(chosen)]
        chosen += extra[: need_cw - len(chosen)]
    taken = set(chosen)
    rest = [i for i in order if eligible[i] and i not in taken]
    rest += [i for i in order if not eligible[i] and i not in taken]  # only if the pool is too small
    chosen += rest[: k - len(chosen)]
    pilot[np.array(chosen, dtype=int)] = True
    return pilot


def adoption_months(pilot: np.ndarray, u: np.ndarray, calendar: Calendar, spread: int) -> np.ndarray:
    """The month each county starts the reform: pilots at the pilot phase's start; the others from the
    rollout phase's start, over ``spread`` months. Every county has a slot: its rank r among all n
    counties in the order of ``u`` (a uniform per county from the replicate's streams) puts it at month
    floor(r * spread / n) of the rollout, an equal number of slots each month; a pilot's slot stays
    empty. So a county starts in the same month in every design of a replicate, whichever the pilots."""
    start = np.where(pilot, calendar.phase_starts["pilot"], calendar.phase_starts["rollout"])
    n = len(pilot)
    if spread > 0 and n:
        rank = np.empty(n, dtype=np.int64)
        rank[np.argsort(u, kind="stable")] = np.arange(n)
        start = np.where(pilot, start, start + rank * spread // n)
    return start


class Policy:
    """Lever values per county and month, following the timeline, pilots and fidelity."""

    def __init__(self, scenario: Scenario, calendar: Calendar, region: np.ndarray, base: np.ndarray,
                 pilot: np.ndarray, streams: Streams):
        self.calendar = calendar
        self.pilot = pilot
        months = range(calendar.spin_up_start, calendar.end + 1)
        self._first = calendar.spin_up_start
        self.tables = {name: lever_table(getattr(scenario.levers, name), calendar, months) for name in LEVERS}
        # the 2023 value: what a county that has not (yet) reformed keeps
        base_row = calendar.start - self._first
        self.baseline = {name: table[base_row] for name, table in self.tables.items()}

        impl = scenario.implementation
        # one column per lever group (implements or not) and one for the order of adoption
        u = streams.uniforms("implementation", 0, 0, len(region), len(LEVER_GROUPS) + 1)
        # counties with a good base (the pool pilots are drawn from) implement a little more often
        bonus = impl.good_base_fidelity_bonus * good_base_counties(base, scenario.pilot.good_base_pool)
        self.implements = {}
        for g, group in enumerate(LEVER_GROUPS):
            shares = impl.fidelity.get(group, impl.fidelity["default"])
            fidelity = np.array([getattr(shares, r) for r in REGIONS])[region]
            self.implements[group] = u[g] < np.clip(fidelity + bonus, 0.0, 1.0)
        self.adoption = adoption_months(pilot, u[len(LEVER_GROUPS)], calendar, impl.adoption_months)
        # a ramped lever's table per adoption month (few distinct ones), a row per county's adoption
        adoptions, self._adoption_row = np.unique(self.adoption, return_inverse=True)
        for name in LEVERS:
            spec = getattr(scenario.levers, name)
            if isinstance(spec, LeverSpec) and spec.ramp is not None:
                self.tables[name] = np.stack([adopter_table(spec, calendar, months, int(a), self.baseline[name])
                                              for a in adoptions])

    def reforming(self, month: int) -> np.ndarray:
        """Counties in which the reform's values hold this month (before fidelity)."""
        return month >= self.adoption

    def levers_at(self, month: int) -> dict[str, np.ndarray]:
        """Every lever's value in every county this month."""
        reforming = self.reforming(month)
        row = month - self._first
        out = {}
        for name, (group, *_rest) in LEVERS.items():
            applies = reforming & self.implements[group]
            table = self.tables[name]
            value = table[row] if table.ndim == 1 else table[self._adoption_row, row]
            out[name] = np.where(applies, value, self.baseline[name])
        return out

    def group_started(self, month: int, group: str) -> np.ndarray:
        """Counties where the reform of ``group`` is in force this month."""
        return self.reforming(month) & self.implements[group]


def reform_start(scenario: Scenario) -> int:
    """The first month in which any county can apply the reform's levers: the pilot phase's start (the
    schema puts it before the rollout's; the earlier of the two, to be safe). Before it, a run depends on the
    levers only through their 2023 values."""
    starts = Calendar.from_scenario(scenario).phase_starts
    return min(starts["pilot"], starts["rollout"])


def prefix_key(scenario: Scenario, month: int | None = None) -> str:
    """A hash of everything a run's months before ``month`` (default: ``reform_start``) depend on: the
    scenario without its name, description and labels, with each lever replaced by its 2023 value and what
    sets the values it takes, from the reform's start to the month before ``month``, in a county that adopts
    in any of those months. Two scenarios with the same key, seed and replicate simulate the same months
    before ``month`` (``GrassrootsModel.with_levers_of``)."""
    from ..config import config_hash

    calendar = Calendar.from_scenario(scenario)
    start = reform_start(scenario)
    acting = range(start, max(start, start if month is None else month))
    data = scenario.model_dump(mode="json")
    data.pop("name", None)
    levers = {}
    for name in LEVERS:
        spec = getattr(scenario.levers, name)
        value = float(lever_table(spec, calendar, range(calendar.start, calendar.start + 1))[0])
        if not acting:
            levers[name] = value
            continue
        # what a county adopting in any of these months goes through. A step lever: the value in force at
        # the reform's start and the dated values after it. A ramped one ramps from the 2023 value to the
        # dated value in force at the county's adoption (the first one if none is yet), then on to each later
        # one: every dated value before `month`, the first one and the ramp's length
        keyed = dated_values(spec, calendar) if isinstance(spec, LeverSpec) else (np.array([]), np.array([]))
        if isinstance(spec, LeverSpec) and spec.ramp is not None:
            chosen = keyed[0] < acting.stop
            chosen[:1] = True
            levers[name] = [value, spec.ramp.months,
                            [[int(m), float(v)] for m, v in zip(keyed[0][chosen], keyed[1][chosen])]]
        else:
            later = (keyed[0] > acting.start) & (keyed[0] < acting.stop)
            levers[name] = [value, float(lever_table(spec, calendar, acting[:1])[0]),
                            [[int(m), float(v)] for m, v in zip(keyed[0][later], keyed[1][later])]]
    data["levers"] = levers
    return config_hash(data)
