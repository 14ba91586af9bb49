"""The scenario schema: what a config may say, with types and ranges.

This module owns the *shape* of a scenario. It holds no behavioural numbers:
the levers and parameters, with their units, bounds and sources, are defined in
the registry (``sim/registry/``), and the fields of ``Levers``, ``Implementation``
and the ``Parameters`` blocks are made from it; the values live in YAML files
under ``configs/`` (``configs/defaults.yaml`` for the 2023 world, the scenario
files for reforms; a lever's 2023 value is its registry default). A field only
says what kind of value is allowed and within what bounds, so that a wrong
config is refused before anything runs.

Vocabulary (EMA Workbench's XLRM): ``levers`` are the reform design that a
reform office controls; ``implementation`` and ``parameters`` are uncertainties
(behaviour, fidelity, resistance) that nobody controls; outcomes are the
metrics the model reports.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Annotated, Any, Literal

from pydantic import (AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, create_model,
                      field_validator, model_validator)

from .. import registry as _registry

REGIONS = ("east", "central", "west")
PHASES = ("baseline", "pilot", "rollout", "consolidation")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _not_a_bool(value: Any) -> Any:
    """Numbers are numbers: pydantic's lax mode would read YAML ``true`` as 1 (or 1.0), and ``'1.5'`` as 1.5."""
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):  # bool, numpy.bool_ (numpy 2: bool)
        raise ValueError("must be a number, not true/false (YAML reads unquoted true/false, yes/no, on/off "
                         "as booleans)")
    if isinstance(value, str):
        if _EXPONENT.match(value):  # PyYAML (YAML 1.1) reads 1e5 and 2E-3, without a dot, as text
            return float(value)
        raise ValueError("must be a number, not text (in YAML a quoted number is text: drop the quotes)")
    return value


_EXPONENT = re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$")


# Every number in a config: finite (no .nan / .inf: each quantity here has a finite meaning) and not a boolean.
# ``Strict`` also refuses inf/nan for any plain float, so both hold whatever annotation a subclass uses.
Real = Annotated[float, BeforeValidator(_not_a_bool), AllowInfNan(False)]
Count = Annotated[int, BeforeValidator(_not_a_bool)]

# Agents one run creates (cadre posts + sampled residents). The national config creates ~17 million and
# peaks at 4.4 GiB (docs/performance.md: ~270 bytes per agent); 50 million would need ~13 GiB, and beyond
# that a run's arrays (e.g. 8 bytes x 6 uniforms per resident) cannot be allocated on an ordinary machine.
MAX_AGENTS = 50_000_000
BYTES_PER_AGENT = 270
# Simulated calendar: pandas dates hold 1678-2262; the plan's horizon is 2023-2030.
YEAR_MIN, YEAR_MAX = 1900, 2200
RUN_MONTHS_MAX = 600  # start to end; the record holds months x metrics x counties


def month_index(text: str) -> int:
    """'2024-03' -> months since year 0 (a plain integer, easy to compare)."""
    m = _MONTH.match(text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a month in YYYY-MM form: {text!r}")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


class Strict(BaseModel):
    """Base for every config block: unknown keys are errors, values are checked, numbers are finite."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------- geography


class ByType(Strict):
    """A quantity that differs between rural (villages) and urban (communities); bounds are set per use."""

    rural: Real = Field(ge=0)
    urban: Real = Field(ge=0)


class ShareByType(Strict):
    rural: Real = Field(ge=0, le=1)
    urban: Real = Field(ge=0, le=1)


class ShareByRegion(Strict):
    east: Real = Field(ge=0, le=1)
    central: Real = Field(ge=0, le=1)
    west: Real = Field(ge=0, le=1)


# Upper bounds of the geography's unit sizes (means per unit; 2023 values in configs/defaults.yaml):
# each is about a hundred times the largest real unit, and keeps rounded sizes within integer range.
_SIZE_BOUNDS = {
    "committees_per_township": (1_000, "committees (2023: 15.2 on average)"),
    "committee_posts": (1_000, "posts per committee (2023: 6-9)"),
    "township_posts": (10_000, "posts per township (2023: 85-110)"),
    "residents_per_committee": (1_000_000, "residents per committee (2023: 2,400 on average)"),
}


def expected_agents(g: "Geography") -> tuple[float, float]:
    """About how many cadre posts and sampled residents ``synthesise_places`` creates for a geography
    (means; every unit has at least one township, committee and post; a county table's exact counts)."""
    if g.table is not None:
        rows = g.table.counties
        return (float(sum(r.committee_posts + r.township_posts for r in rows)),
                float(sum(r.committees for r in rows) * g.resident_sample_per_committee))
    townships = g.counties * max(1.0, g.townships_per_county)
    posts = residents = 0.0
    for kind, share in (("rural", 1 - g.urban_county_share), ("urban", g.urban_county_share)):
        committees = max(1.0, getattr(g.committees_per_township, kind))
        posts += share * townships * (committees * max(1.0, getattr(g.committee_posts, kind))
                                      + max(1.0, getattr(g.township_posts, kind)))
        residents += share * townships * committees * g.resident_sample_per_committee
    return posts, residents


class CountyRow(Strict):
    """One county of a county table (``sim/config/table.py`` reads and checks the file)."""

    name: str = Field(min_length=1)
    region: Literal["east", "central", "west"]
    type: Literal["rural", "urban"]
    townships: Count = Field(ge=1)
    committees: Count = Field(ge=1)
    committee_posts: Count = Field(ge=1)
    township_posts: Count = Field(ge=1)
    residents: Count = Field(ge=1)
    base: Real | None = None
    pilot: bool | None = None


class CountyTable(Strict):
    """A geography's own counties: the table file as the config names it, its SHA-256 and its rows.

    A config writes ``geography: {table: path}`` (relative to the config file); loading reads the file
    into this form, so the resolved config (manifests, config hashes, sweeps, worker processes) holds
    the table's content itself."""

    file: str
    sha256: str = ""
    counties: tuple[CountyRow, ...] = Field(min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _unique(self) -> "CountyTable":
        names = [r.name for r in self.counties]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"@counties: county names must differ ({', '.join(map(repr, twice))} repeated)")
        flags = [r.pilot for r in self.counties]
        if any(f is not None for f in flags) and any(f is None for f in flags):
            raise ValueError("@counties: give every county a pilot flag, or none")
        return self

    @property
    def pilots(self) -> tuple[bool, ...] | None:
        """The table's pilot flags, county by county (None when the table has no pilot column)."""
        return None if self.counties[0].pilot is None else tuple(bool(r.pilot) for r in self.counties)


def _table_shape(value: Any) -> Any:
    """A table given as a path (a config in memory): read it relative to the current folder."""
    if isinstance(value, (str, os.PathLike)):
        from .loader import ConfigError
        from .table import read_county_table

        try:
            rows, digest = read_county_table(value)
        except ConfigError as exc:
            raise ValueError("; ".join(str(p) for p in exc.problems)) from None
        return {"file": os.fspath(value), "sha256": digest, "counties": rows}
    return value


def apply_table(data: Any, read: bool = False) -> Any:
    """A config's data with its county table's consequences: pilot flags, when the table has them, fix
    ``pilot.counties`` (their number); and a table read here (given as a path) or just read by the loader
    (``read``) sets ``geography.counties`` to its number of rows. (A resolved config that already holds
    the rows keeps its ``counties``, so that a changed count, e.g. a ``--counties`` option, is refused by
    the geography's check rather than ignored.) Returns ``data`` unchanged when there is no table (or
    the parts are not mappings: the fields' own checks report that)."""
    if not isinstance(data, dict) or not isinstance(data.get("geography"), dict):
        return data
    geography = data["geography"]
    table = geography.get("table")
    if isinstance(table, (str, os.PathLike)):
        try:
            table = _table_shape(table)
        except ValueError:
            return data  # reported by the field's own check
    if not isinstance(table, dict) or not isinstance(table.get("counties"), (list, tuple)):
        return data
    rows = table["counties"]
    if read or geography.get("table") is not table:  # read just now: the table's rows are the counties
        geography = {**geography, "counties": len(rows)}
    data = {**data, "geography": {**geography, "table": table}}
    flags = [r.get("pilot") if isinstance(r, dict) else None for r in rows]
    if rows and all(isinstance(f, bool) for f in flags) and isinstance(data.get("pilot"), dict):
        data["pilot"] = {**data["pilot"], "counties": sum(flags)}
    return data


class Geography(Strict):
    """Which counties exist and how big their parts are (policy-facts §1), drawn from the means below or
    read from a county table (``table``: then ``counties`` is its number of rows, and the table's counts
    replace ``region_shares``, ``urban_county_share`` and the unit sizes)."""

    table: Annotated[CountyTable | None, BeforeValidator(_table_shape)] = Field(None, description=(
        "a county table (CSV or Parquet, one row per county; path relative to the config file): "
        "see sim/config/table.py"))
    scope: Literal["county", "province", "national"]
    counties: Count = Field(ge=1, le=5000)
    region_shares: ShareByRegion
    urban_county_share: Real = Field(ge=0, le=1)
    townships_per_county: Real = Field(gt=0, le=100)
    committees_per_township: ByType
    committee_posts: ByType  # establishment posts per committee
    township_posts: ByType  # establishment posts per township (staff and service units)
    residents_per_committee: ByType
    resident_sample_per_committee: Count = Field(ge=1, le=500)
    elderly_share: ShareByType = Field(description="share of residents aged 60+")
    size_dispersion: Real = Field(ge=0, le=1, description="coefficient of variation of unit sizes")

    @field_validator(*_SIZE_BOUNDS)
    @classmethod
    def _size_bounds(cls, value: ByType, info: ValidationInfo) -> ByType:
        high, unit = _SIZE_BOUNDS[info.field_name]
        for kind in ("rural", "urban"):
            v = getattr(value, kind)
            if v > high:
                raise ValueError(f"@{kind}: must be at most {high:,} {unit} (got {v:g})")
        return value

    @model_validator(mode="after")
    def _table_counties(self) -> "Geography":
        if self.table is not None and self.counties != len(self.table.counties):
            raise ValueError(f"@counties: {self.counties}, but the county table {self.table.file} has "
                             f"{len(self.table.counties)} counties (with a table, counties is its number of rows)")
        return self

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> "Geography":
        s = self.region_shares
        total = s.east + s.central + s.west
        if abs(total - 1) > 1e-6:
            raise ValueError(f"@region_shares: east + central + west must be 1 (got {total:g})")
        return self

    @model_validator(mode="after")
    def _fits_in_memory(self) -> "Geography":
        posts, residents = expected_agents(self)
        total = posts + residents
        if total > MAX_AGENTS:
            raise ValueError(
                f"this geography would create about {total / 1e6:,.1f} million agents ({posts:,.0f} cadre posts "
                f"+ {residents:,.0f} sampled residents, about {total * BYTES_PER_AGENT / 2**30:,.0f} GiB); a run "
                f"holds at most {MAX_AGENTS / 1e6:g} million (the national config has about 17 million): lower counties, "
                "townships_per_county, committees_per_township, committee_posts, township_posts or "
                "resident_sample_per_committee")
        return self


# --------------------------------------------------------------------------- timeline


class Timeline(Strict):
    """Phase start months; a phase runs until the next one starts (policy-facts §4, §8)."""

    start: str = Field(description="first simulated month, YYYY-MM")
    end: str = Field(description="last simulated month, YYYY-MM")
    spin_up_months: Count = Field(ge=0, le=240, description="months run at 2023 values before start, not recorded")
    phases: dict[Literal["baseline", "pilot", "rollout", "consolidation"], str]

    @model_validator(mode="after")
    def _possible(self) -> "Timeline":
        for key in ("start", "end"):
            try:
                month_index(getattr(self, key))
            except ValueError as exc:
                raise ValueError(f"@{key}: {exc}") from None
        for key in ("start", "end"):
            year = month_index(getattr(self, key)) // 12
            if not YEAR_MIN <= year <= YEAR_MAX:
                raise ValueError(f"@{key}: the year must be within {YEAR_MIN}-{YEAR_MAX} (got {year})")
        start, end = month_index(self.start), month_index(self.end)
        if end - start + 1 > RUN_MONTHS_MAX:
            raise ValueError(f"@end: the run spans {end - start + 1} months; at most {RUN_MONTHS_MAX} "
                             f"({RUN_MONTHS_MAX // 12} years) are simulated")
        if end < start:
            raise ValueError(f"@end: the run ends ({self.end}) before it starts ({self.start})")
        missing = [p for p in PHASES if p not in self.phases]
        if missing:
            raise ValueError(f"@phases: missing phase(s) {', '.join(missing)}")
        previous = None
        for phase in PHASES:
            try:
                m = month_index(self.phases[phase])
            except ValueError as exc:
                raise ValueError(f"@phases.{phase}: {exc}") from None
            if previous is not None and m <= previous[1]:
                raise ValueError(
                    f"@phases.{phase}: starts {self.phases[phase]}, not after "
                    f"{previous[0]} ({self.phases[previous[0]]}); phases must be in order "
                    + " < ".join(PHASES)
                )
            previous = (phase, m)
        if month_index(self.phases["baseline"]) != start:
            raise ValueError(f"@phases.baseline: must start with the run ({self.start})")
        if month_index(self.phases["consolidation"]) > end:
            raise ValueError(f"@phases.consolidation: starts after the run ends ({self.end})")
        return self


def pilot_count(share: float, counties: int) -> int:
    """The pilot counties a share of ``counties`` stands for, rounded half up (100 / 2,844 of 90 -> 3)."""
    return int(share * counties + 0.5)


class PilotDesign(Strict):
    """Which counties pilot the reform in the pilot phase (policy-facts §4, §8.1).

    The number of pilots is ``counties`` when a config gives it, else ``share`` of the geography's
    counties (rounded half up), so that the pilot is the same size relative to any geography.
    """

    counties: Count | None = Field(None, ge=0, le=5000, description=(
        "number of pilot counties in this geography; when given, it wins over share"))
    share: Real | None = Field(None, ge=0, le=1, description=(
        "pilot counties as a share of the geography's counties (used when counties is not given)"))
    central_west_min_share: Real = Field(ge=0, le=1)
    selection: Literal["random", "good_base"]
    good_base_pool: Real = Field(
        gt=0, le=1, description="with good_base: pilots are drawn from this top share of counties by base"
    )

    @model_validator(mode="after")
    def _sized(self) -> "PilotDesign":
        if self.counties is None and self.share is None:
            raise ValueError("give the number of pilot counties (counties) or their share of the geography's "
                             "counties (share)")
        return self


# --------------------------------------------------------------------------- levers
# Every lever, and its group, unit, bounds and 2023 value, is defined once in sim/registry/levers.yaml;
# the fields of ``Levers`` are made from it.

LEVER_GROUPS = _registry.LEVER_GROUPS

# name -> (group, lower bound, upper bound, unit), from the registry: the shape the engines read.
LEVERS: dict[str, tuple[str, float, float, str]] = {
    name: (lv.group, lv.bounds.low, lv.bounds.high, lv.unit) for name, lv in _registry.LEVERS.items()}


def _ramp_shape(value: Any) -> Any:
    """A ramp is a mapping; say what one looks like rather than pydantic's 'valid dictionary'."""
    if value is not None and not isinstance(value, (dict, BaseModel)):
        raise ValueError(f"must be a mapping such as {{months: 12}} (each change of value spread over that many "
                         f"months), not {value!r}")
    return value


class Ramp(Strict):
    """How a lever moves to each new value: linearly, over ``months`` months from the value's date."""

    months: Count = Field(ge=1, le=120, description=(
        "months each change of value takes: from its phase's (or month's) first month, the value moves by "
        "1/months of the change each month and holds the new value from the months-th month on"))


class LeverSpec(Strict):
    """A lever's value over time: a value per phase (or per YYYY-MM month), with its source.

    Without ``ramp`` a value applies from the start of its phase (or month) until the next one (a step).
    With ``ramp: {months: N}`` each change is spread over N months from that start: the value moves
    linearly from the value before to the new one, reaching it in the N-th month (N = 1 is a step).
    Months before the first key keep the 2023 value (the lever's ``default`` in the registry).
    """

    values: dict[str, Real] = Field(min_length=1)  # at least one value: the lever has none otherwise
    ramp: Annotated[Ramp | None, BeforeValidator(_ramp_shape)] = None
    unit: str | None = None
    source: str | None = None
    note: str | None = None


LeverValue = Real | LeverSpec


def lever_defaults() -> dict:
    """Every lever at its 2023 value, as a config's ``levers:`` block: the layer under every scenario."""
    return {"levers": {name: {"values": {"baseline": lv.default}} for name, lv in _registry.LEVERS.items()}}


class _LeverChecks(Strict):
    """The reform design: every lever of policy-facts §5 the mechanisms can express (sim/registry/levers.yaml).

    A lever a config does not mention keeps its 2023 value.
    """

    @field_validator("*")
    @classmethod
    def _in_range(cls, value, info: ValidationInfo):
        """Each lever's values within its own range, keyed by phase or month (checked lever by lever,
        so every bad lever is reported at once)."""
        name = info.field_name
        _, lo, hi, unit = LEVERS[name]
        items = value.values.items() if isinstance(value, LeverSpec) else [(None, value)]
        for key, v in items:
            # a plain value's message gets "(got ...)" from the loader; a keyed one says it here
            where, got = (f"@values.{key}: ", f" (got {v:g})") if key is not None else ("", "")
            if key is not None and key not in PHASES:
                try:
                    month_index(key)
                except ValueError:
                    raise ValueError(
                        f"@values: {key!r} is neither a phase ({', '.join(PHASES)}) nor a YYYY-MM month") from None
            if not lo <= v <= hi:
                raise ValueError(f"{where}must be within [{lo:g}, {hi:g}] {unit}{got}")
        return value


Levers = create_model("Levers", __base__=_LeverChecks, __module__=__name__, **{
    name: (LeverValue, Field(default_factory=lambda d=lv.default: LeverSpec(values={"baseline": d}),
                             description=lv.unit))
    for name, lv in _registry.LEVERS.items()})


# --------------------------------------------------------------------------- parameters
# Every parameter's type, unit, bounds and source is defined once in sim/registry/parameters.yaml; the
# fields of the blocks below are made from it, and the blocks add the checks of two keys at once.


@functools.cache
def _members(kind: str, keys: tuple[str, ...], bounds: _registry.Bounds) -> type[Strict]:
    """A value given per member (rural/urban, east/central/west), each member within ``bounds``; a module
    attribute (e.g. ``ByRegion_100_1000000``), so that scenarios pickle to worker processes."""
    name = re.sub(r"\W", "_", f"{kind}_{bounds.low}_{bounds.high}".replace("-", "m"))
    model = create_model(name, __base__=Strict, __module__=__name__,
                         **{key: (Real, Field(**bounds.field())) for key in keys})
    globals()[name] = model
    return model


def _parameter_field(p: _registry.Parameter) -> tuple[Any, Any]:
    """A registry parameter as a pydantic field: its type and bounds."""
    if p.type == "real":
        return Real, Field(description=p.unit, **p.bounds.field())
    if p.type == "count":
        return Count, Field(description=p.unit, **p.bounds.field())
    if p.type == "by_type":
        return _members("ByType", ("rural", "urban"), p.bounds), Field(description=p.unit)
    by_region = _members("ByRegion", REGIONS, p.bounds)
    if p.type == "by_region":
        return by_region, Field(description=p.unit)
    groups = Literal[("default", *LEVER_GROUPS)]  # by_group_and_region
    return dict[groups, by_region], Field(description=p.unit)


def _block(name: str, prefix: str, checks: type[Strict] = Strict) -> type[Strict]:
    """The config block at ``prefix`` (e.g. ``parameters.cadres``): one field per registry entry under it,
    the registry's ``about`` as its docstring, and the checks of two keys at once that ``checks`` adds."""
    fields = {p.name: _parameter_field(p) for p in _registry.PARAMETERS.values() if p.block == prefix}
    return create_model(name, __base__=checks, __module__=__name__, __doc__=_registry.PARAMETER_BLOCKS[prefix],
                        **fields)


class _ImplementationChecks(Strict):
    @model_validator(mode="after")
    def _has_default(self) -> "Strict":
        if "default" not in self.fidelity:
            raise ValueError("@fidelity: needs a 'default' entry (east/central/west shares)")
        return self


class _WorkloadChecks(Strict):
    # Checks of two keys at once are reported at the block (in the last file that writes it): either key
    # may be the one to change.
    @model_validator(mode="after")
    def _consistent(self) -> "Strict":
        if self.veto_items > self.assessment_items_per_year:
            raise ValueError(f"veto items are among the assessment items: veto_items ({self.veto_items:g}) is more "
                             f"than assessment_items_per_year ({self.assessment_items_per_year:g})")
        if self.data_departments > self.departments_per_county:
            raise ValueError(f"the data departments are among the county's departments: data_departments "
                             f"({self.data_departments}) is more than departments_per_county "
                             f"({self.departments_per_county})")
        return self


class _CadreChecks(Strict):
    # Checks of two keys at once are reported at the block (in the last file that writes it): either key
    # may be the one to change.
    @model_validator(mode="after")
    def _possible(self) -> "Strict":
        if self.ladder_pay_min_yuan > self.ladder_pay_max_yuan:
            raise ValueError(f"the career ladder's lowest pay, ladder_pay_min_yuan ({self.ladder_pay_min_yuan:g}), "
                             f"is above its highest, ladder_pay_max_yuan ({self.ladder_pay_max_yuan:g})")
        # New hires' ages are a normal truncated to [hire_age_min, hire_age_max]; incumbents' to
        # [hire_age_min, retirement_age]. A mean outside its range would leave no probability to draw from.
        if not self.hire_age_min < self.hire_age_max:
            raise ValueError(f"hire_age_min ({self.hire_age_min:g}) must be below hire_age_max "
                             f"({self.hire_age_max:g})")
        if self.hire_age_max > self.retirement_age:
            raise ValueError(f"hire_age_max ({self.hire_age_max:g}) is above retirement_age "
                             f"({self.retirement_age:g}): hires that old would retire at once")
        if not self.hire_age_min <= self.hire_age_mean <= self.hire_age_max:
            raise ValueError(f"hire_age_mean ({self.hire_age_mean:g}) must be within hire_age_min and hire_age_max "
                             f"[{self.hire_age_min:g}, {self.hire_age_max:g}]: hires' ages are drawn around it "
                             "within that range")
        if self.hire_age_min >= 45 and self.initial_share_over_45 < 1:
            raise ValueError(f"initial_share_over_45 is {self.initial_share_over_45:g}, but incumbents are aged "
                             f"hire_age_min ({self.hire_age_min:g}) to retirement_age, so all are over 45: "
                             "lower hire_age_min below 45 or set the share to 1")
        return self


Implementation = _block("Implementation", "implementation", _ImplementationChecks)
Workload = _block("Workload", "parameters.workload", _WorkloadChecks)
CadreParams = _block("CadreParams", "parameters.cadres", _CadreChecks)
ResidentParams = _block("ResidentParams", "parameters.residents")
CountyParams = _block("CountyParams", "parameters.counties")


class Parameters(Strict):
    """Behavioural parameters: uncertainties calibrated to 2023 (docs/ODD.md)."""

    workload: Workload
    cadres: CadreParams
    residents: ResidentParams
    counties: CountyParams


# --------------------------------------------------------------------------- scenario


class Labels(Strict):
    """A design's name on figures and in reports, per language (``grassroots report --lang``)."""

    en: str | None = Field(None, min_length=1)
    zh: str | None = Field(None, min_length=1)


class Scenario(Strict):
    """One simulated world: geography, timeline, reform design and behaviour."""

    name: str = Field(min_length=1)
    description: str | Labels = Field("", description=(
        "what the design does, in a sentence: one text, or per language like `labels` (`{en: ..., zh: ...}`); "
        "shown under the design's name in reports; not inherited, and not part of the config hash"))
    labels: Labels = Field(default_factory=Labels, description=(
        "the design's name on figures, per language; not inherited: a config that extends this one "
        "is another design and names itself (its `name` is used where it gives no label)"))
    engine: Literal["columnar", "agents"] = Field(
        "columnar", description="columnar (numpy columns, fast) or agents (one mesa.Agent each, for small runs)")
    geography: Geography
    timeline: Timeline
    pilot: PilotDesign
    levers: Levers
    implementation: Implementation
    parameters: Parameters

    @model_validator(mode="before")
    @classmethod
    def _pilot_from_share(cls, data: Any) -> Any:
        """``pilot.share`` becomes a number of counties of this geography, unless ``pilot.counties`` is given
        (a bad share or geography is reported by the fields' own checks). A county table sets the number of
        counties, and its pilot flags the number of pilots (``apply_table``)."""
        data = apply_table(data)
        if isinstance(data, dict):
            pilot, geography = data.get("pilot"), data.get("geography")
            if isinstance(pilot, dict) and pilot.get("counties") is None and isinstance(geography, dict):
                share, counties = pilot.get("share"), geography.get("counties")
                if (isinstance(share, (int, float)) and isinstance(counties, int) and not isinstance(share, bool)
                        and not isinstance(counties, bool) and 0 <= share <= 1 and 1 <= counties <= 5000):
                    data = {**data, "pilot": {**pilot, "counties": pilot_count(share, counties)}}
        return data

    @model_validator(mode="after")
    def _pilot_fits(self) -> "Scenario":
        if self.pilot.counties > self.geography.counties:
            raise ValueError(
                f"@pilot.counties: {self.pilot.counties} pilot counties but the geography has "
                f"only {self.geography.counties}"
            )
        return self
