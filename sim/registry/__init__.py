"""The registries: every lever, parameter and metric of the model, defined once.

Three files hold them, as data in the style of PolicyEngine's parameter files (each entry carries its
unit, bounds, labels and source beside its name):

- ``levers.yaml``: the reform design space. A lever's group, unit, bounds, 2023 value and its source,
  its English and Chinese label, and the rules that read it.
- ``parameters.yaml``: the behavioural parameters and implementation uncertainties of a config's
  ``parameters:`` and ``implementation:`` blocks: type, unit, bounds, source (their values are in the
  configs: ``configs/defaults.yaml`` and ``configs/calibrated.yaml``).
- ``metrics.yaml``: the outputs: unit, what each counts and what it is a share of, how a monthly value
  is read, whether it is a headline outcome (and which way is better), the plan indicator it measures,
  and its labels.

Everything else is derived from them: the config schema (``sim.config.schema``), the labels on figures
(``sim.text``), the metric definitions the engines tally (``sim.model.metrics``), the headline outcomes
and the 2027 target list (``sim.compare``), the tables of ``docs/ODD.md`` (``sim.registry.docs``) and
``grassroots list``. The files are read and validated when this module is imported; a bad entry raises
``RegistryError`` naming the file, the line and the entry's key path. ``docs/extending.md`` says how to
add a lever, a parameter or a metric.

This module imports nothing of the project: the config schema and the model both read it.
``GRASSROOTS_REGISTRY`` may name a folder whose ``levers.yaml``, ``parameters.yaml`` or ``metrics.yaml``
replace the shipped ones (to try an entry out, and in the test that follows docs/extending.md).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

__all__ = ["Bounds", "Labels", "Lever", "Parameter", "Metric", "RegistryError", "LEVERS", "LEVER_GROUPS",
           "GROUP_LABELS", "PARAMETERS", "PARAMETER_BLOCKS", "LIMITS", "METRICS", "HEADLINE",
           "HEADLINE_DIRECTION", "INDICATOR_METRIC", "INDICATOR_READINGS", "COUNTIES_MEETING", "PLAN_TARGETS",
           "PlanTarget", "meets", "lever", "parameter", "metric", "levers_in", "files"]

HERE = Path(__file__).resolve().parent
PLAN_INDICATORS = HERE.parent / "data" / "plan_indicators.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the registry is read on import
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ValueError):
    """A registry file or entry is wrong; the message starts with ``file:line: key.path:``."""


def files() -> dict[str, Path]:
    """The registry files in use: the shipped ones, or those in ``$GRASSROOTS_REGISTRY`` that exist."""
    override = os.environ.get("GRASSROOTS_REGISTRY")
    chosen = {}
    for kind in ("levers", "parameters", "metrics"):
        path = HERE / f"{kind}.yaml"
        if override and (Path(override) / f"{kind}.yaml").is_file():
            path = Path(override) / f"{kind}.yaml"
        chosen[kind] = path
    return chosen


# --------------------------------------------------------------------------- entries


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Labels(_Entry):
    """A name on figures and in reports, per language (``grassroots report --lang``)."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def pick(self, lang: str) -> str:
        return getattr(self, lang)


_INTERVAL = re.compile(r"^\s*([\[(])\s*(-?[\d.eE+]+)\s*,\s*(-?[\d.eE+]+)\s*([\])])\s*$")


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


class Bounds(_Entry):
    """The values a config may give: from ``low`` to ``high``, each end closed unless marked open."""

    low: int | float
    high: int | float
    low_open: bool = False
    high_open: bool = False

    @classmethod
    def parse(cls, value: Any, limits: dict[str, "Bounds"] | None = None) -> "Bounds":
        """``[low, high]`` (closed), an interval such as ``"(0, 120]"``, or the name of a limit."""
        if isinstance(value, Bounds):
            return value
        if isinstance(value, list):
            if len(value) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ValueError(f"bounds must be [low, high] with two numbers (got {value!r})")
            return cls(low=value[0], high=value[1])
        if isinstance(value, str):
            m = _INTERVAL.match(value)
            if m:
                return cls(low=_number(m.group(2)), high=_number(m.group(3)), low_open=m.group(1) == "(",
                           high_open=m.group(4) == ")")
            if limits is not None and value in limits:
                return limits[value]
            known = f"; named limits: {', '.join(limits)}" if limits else ""
            raise ValueError(f"bounds {value!r} is neither [low, high], an interval such as \"(0, 1]\", "
                             f"nor a named limit{known}")
        raise ValueError(f"bounds must be [low, high], an interval or a limit's name (got {value!r})")

    @field_validator("high")
    @classmethod
    def _ordered(cls, high, info: ValidationInfo):
        low = info.data.get("low")
        if low is not None and not low < high:
            raise ValueError(f"the low end ({low:g}) must be below the high end ({high:g})")
        return high

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def field(self) -> dict[str, int | float]:
        """The bounds as pydantic ``Field`` keywords (``ge``/``gt``, ``le``/``lt``)."""
        return {"gt" if self.low_open else "ge": self.low, "lt" if self.high_open else "le": self.high}

    def __str__(self) -> str:
        low, high = (f"{v:,}" if isinstance(v, int) else f"{v:g}" for v in (self.low, self.high))
        return f"{'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"


def _bounds_field(cls, value: Any, info: ValidationInfo) -> Bounds:
    return Bounds.parse(value, (info.context or {}).get("limits"))


class Lever(_Entry):
    """A lever of the reform design: what a reform office sets, by phase or month, in a scenario."""

    name: str
    group: str
    unit: str = Field(min_length=1)
    bounds: Bounds
    default: int | float = Field(description="the 2023 value, from which every scenario starts")
    source: str = Field(min_length=1, description="where the 2023 value comes from")
    label: Labels
    used_by: str = Field(min_length=1, description="the rules and stages that read it")

    _bounds = field_validator("bounds", mode="before")(_bounds_field)

    @field_validator("group")
    @classmethod
    def _known_group(cls, group: str, info: ValidationInfo) -> str:
        groups = (info.context or {}).get("groups", ())
        if group not in groups:
            raise ValueError(f"unknown group {group!r}; the groups are {', '.join(groups)} (add a new one under "
                             "`groups:` first)")
        return group

    @field_validator("default")
    @classmethod
    def _default_in_bounds(cls, default: float, info: ValidationInfo) -> float:
        bounds = info.data.get("bounds")
        if bounds is not None and default not in bounds:
            raise ValueError(f"the 2023 value {default:g} is outside the bounds {bounds}")
        return default


ParameterType = Literal["real", "count", "by_type", "by_region", "by_group_and_region"]


class Parameter(_Entry):
    """A behavioural parameter or implementation uncertainty: a number nobody controls."""

    path: str = Field(description="its key path in a config, e.g. parameters.cadres.quit_pay")
    type: ParameterType = "real"
    unit: str = Field(min_length=1)
    bounds: Bounds
    source: str = Field(min_length=1)
    note: str | None = None
    label: Labels | None = None

    _bounds = field_validator("bounds", mode="before")(_bounds_field)

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[1]

    @property
    def block(self) -> str:
        return self.path.rsplit(".", 1)[0]


_TRANSFORM_WORDS = {"annual_rate": "×12 (a yearly rate)", "annual_probability": "read per year as 1 − (1 − x)^12",
                    "three_year_probability": "read as the chance within three years: 1 − (1 − x)^36"}


class Metric(_Entry):
    """An output: a ratio of sums tallied per county and month (``counts`` / ``share_of``)."""

    name: str
    unit: str = Field(min_length=1)
    counts: str = Field(min_length=1, description="what the numerator sums")
    share_of: str = Field(min_length=1, description="what the denominator sums")
    transform: Literal["annual_rate", "annual_probability", "three_year_probability"] | None = None
    headline: Literal["lower", "higher"] | None = Field(None, description="a headline outcome: which way is better")
    indicator: str | None = Field(None, description="the plan indicator it measures (sim/data/plan_indicators.yaml)")
    reading: Labels | None = Field(None, description="which reading of `indicator` it is, where the plan's wording "
                                   "allows more than one (the first metric of an indicator is its main measure)")
    counties_meeting: str | None = Field(None, description="a metric with an indicator: this one is the share of "
                                         "counties whose own value of it meets the indicator's target")
    set_by: str | None = Field(None, description="the lever that sets its value on paper in a county that "
                               "implements the reform")
    plan: str | None = None
    label: Labels

    @field_validator("set_by")
    @classmethod
    def _known_lever(cls, lever: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("levers", ())
        if lever is not None and lever not in known:
            close = difflib.get_close_matches(lever, known, n=1)
            raise ValueError(f"{lever!r} is not a lever of levers.yaml" + (f" (did you mean {close[0]!r}?)" if close
                                                                             else ""))
        return lever

    @field_validator("indicator")
    @classmethod
    def _known_indicator(cls, indicator: str | None, info: ValidationInfo) -> str | None:
        known = (info.context or {}).get("indicators", ())
        if indicator is not None and indicator not in known:
            close = difflib.get_close_matches(indicator, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{indicator!r} is not an indicator id of sim/data/plan_indicators.yaml{hint}")
        return indicator

    @property
    def description(self) -> str:
        """The definition in one line: numerator / denominator, and how the ratio is read."""
        tail = f", {_TRANSFORM_WORDS[self.transform]}" if self.transform else ""
        return f"{self.counts} / {self.share_of}{tail}"


# --------------------------------------------------------------------------- reading the files


def _read(path: Path) -> tuple[dict, dict[tuple, int]]:
    """A registry file's data and the line of each mapping key (by key path); duplicate keys are errors."""
    try:
        loader = _LOADER(path.read_text(encoding="utf-8"))
        try:  # parsed once: the nodes give the lines, the same nodes the data
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"{path}: cannot be read: {exc}") from None
    lines: dict[tuple, int] = {}

    def walk(n, prefix: tuple) -> None:
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                where = prefix + (key.value,)
                if where in lines:
                    raise RegistryError(f"{path}:{key.start_mark.line + 1}: {'.'.join(where)}: duplicate key "
                                        f"(first at line {lines[where]})")
                lines[where] = key.start_mark.line + 1
                walk(value, where)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                walk(item, prefix)

    walk(node, ())
    if not isinstance(data, dict):
        raise RegistryError(f"{path}: must be a mapping")
    return data, lines


def _fail(path: Path, lines: dict, where: tuple, message: str) -> RegistryError:
    line = next((lines[where[:i]] for i in range(len(where), 0, -1) if where[:i] in lines), None)
    return RegistryError(f"{path}{'' if line is None else f':{line}'}: {'.'.join(map(str, where))}: {message}")


def _entry(cls, file: Path, lines: dict, where: tuple, data: Any, context: dict, **fields):
    """One validated entry; a problem is reported at the entry's file, line and key path."""
    if not isinstance(data, dict):
        raise _fail(file, lines, where, f"must be a mapping of {', '.join(cls.model_fields)} (got {data!r})")
    if not _NAME.match(str(where[-1])):
        raise _fail(file, lines, where, "a name is lower case letters, digits and _ (a Python identifier)")
    try:
        return cls.model_validate({**data, **fields}, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a misspelt field first
        loc = tuple(str(p) for p in error["loc"] if p != "__root__")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field; an entry has {', '.join(f for f in cls.model_fields if f not in fields)}"
        raise _fail(file, lines, where + loc, message) from None


def _sections(path: Path, data: dict, lines: dict, required: tuple[str, ...]) -> None:
    unknown = [k for k in data if k not in required]
    missing = [k for k in required if k not in data]
    if unknown or missing:
        key = (unknown or missing)[0]
        what = "unknown section" if unknown else "missing section"
        raise _fail(path, lines, (key,), f"{what}; the file has {', '.join(required)}")


def _levers(path: Path) -> tuple[dict[str, Labels], dict[str, Lever]]:
    data, lines = _read(path)
    _sections(path, data, lines, ("groups", "levers"))
    groups = {name: _entry(Labels, path, lines, ("groups", name), labels, {})
              for name, labels in (data["groups"] or {}).items()}
    context = {"groups": tuple(groups)}
    levers = {name: _entry(Lever, path, lines, ("levers", name), entry, context, name=name)
              for name, entry in (data["levers"] or {}).items()}
    return groups, levers


def _parameters(path: Path) -> tuple[dict[str, Bounds], dict[str, str], dict[str, Parameter]]:
    data, lines = _read(path)
    _sections(path, data, lines, ("limits", "parameters", "implementation"))
    limits = {}
    for name, entry in (data["limits"] or {}).items():
        if not isinstance(entry, dict) or set(entry) != {"bounds", "why"}:
            raise _fail(path, lines, ("limits", name), "a limit has `bounds` and `why` (the reason for them)")
        try:
            limits[name] = Bounds.parse(entry["bounds"])
        except (ValueError, ValidationError) as exc:
            raise _fail(path, lines, ("limits", name, "bounds"), str(exc)) from None
    blocks = {("parameters", name): block for name, block in (data["parameters"] or {}).items()}
    blocks[("implementation",)] = data["implementation"]
    about, parameters = {}, {}
    for where, block in blocks.items():
        if not isinstance(block, dict) or set(block) != {"about", "entries"}:
            raise _fail(path, lines, where, "a block has `about` (what it holds) and `entries`")
        prefix = ".".join(where)
        about[prefix] = block["about"]
        for name, entry in (block["entries"] or {}).items():
            parameters[f"{prefix}.{name}"] = _entry(Parameter, path, lines, where + ("entries", name), entry,
                                                    {"limits": limits}, path=f"{prefix}.{name}")
    return limits, about, parameters


class PlanTarget(_Entry):
    """A plan indicator's target (sim/data/plan_indicators.yaml): its value, which way it points, its year."""

    value: float
    direction: Literal["at_least", "at_most"]
    year: int = 2027


def meets(values, target: PlanTarget):
    """Whether ``values`` (a number or an array) meet ``target``, to within rounding (1e-12)."""
    import numpy as np  # here, not at the top: the registry is read before numpy is needed

    v = np.asarray(values, dtype=float)
    return v >= target.value - 1e-12 if target.direction == "at_least" else v <= target.value + 1e-12


def _plan_targets() -> dict[str, PlanTarget | None]:
    data = yaml.load(PLAN_INDICATORS.read_text(encoding="utf-8"), Loader=_LOADER)
    return {ind["id"]: None if ind.get("target") is None else
            PlanTarget(value=ind["target"], direction=ind["direction"], year=ind.get("year", 2027))
            for ind in data["indicators"]}


def _metrics(path: Path, levers: tuple[str, ...] | None = None, targets: dict | None = None) -> dict[str, Metric]:
    """The metrics of ``path``, checked against the levers' names and the plan's indicators (default: the
    levers read and the plan's indicators)."""
    levers = tuple(LEVERS) if levers is None else levers
    targets = _plan_targets() if targets is None else targets
    data, lines = _read(path)
    context = {"indicators": tuple(targets), "levers": levers}
    metrics = {name: _entry(Metric, path, lines, (name,), entry, context, name=name) for name, entry in data.items()}
    measured: dict[str, str] = {}
    for name, m in metrics.items():
        if m.reading is not None and m.indicator is None:
            raise _fail(path, lines, (name, "reading"), "a reading is a reading of an indicator: give `indicator`")
        if m.indicator is not None and m.indicator in measured and m.reading is None:
            raise _fail(path, lines, (name, "indicator"),
                        f"{m.indicator!r} is already measured by {measured[m.indicator]}; a further metric of an "
                        "indicator names its `reading` (the plan's wording read another way)")
        if m.indicator is not None:
            measured.setdefault(m.indicator, name)
        if m.counties_meeting is not None:
            source = metrics.get(m.counties_meeting)
            if source is None or source.indicator is None or targets.get(source.indicator) is None:
                raise _fail(path, lines, (name, "counties_meeting"),
                            f"{m.counties_meeting!r} is not a metric (listed before this one) of an indicator with "
                            "a target")
    return metrics


_FILES = files()
GROUP_LABELS, LEVERS = _levers(_FILES["levers"])
LEVER_GROUPS: tuple[str, ...] = tuple(GROUP_LABELS)  # in the order of the implementation draws
LIMITS, PARAMETER_BLOCKS, PARAMETERS = _parameters(_FILES["parameters"])
PLAN_TARGETS: dict[str, PlanTarget | None] = _plan_targets()
"""Plan indicator id -> its target (None where the plan gives none)."""
METRICS: dict[str, Metric] = _metrics(_FILES["metrics"], tuple(LEVERS), PLAN_TARGETS)

HEADLINE: tuple[str, ...] = tuple(name for name, m in METRICS.items() if m.headline)
"""The three headline outcomes, in registry order: cadre turnover, service time, participation."""
HEADLINE_DIRECTION: dict[str, float] = {m: -1.0 if METRICS[m].headline == "lower" else 1.0 for m in HEADLINE}
"""+1 where more is better, -1 where less is (turnover)."""
INDICATOR_READINGS: dict[str, tuple[str, ...]] = {}
for _name, _m in METRICS.items():
    if _m.indicator:
        INDICATOR_READINGS[_m.indicator] = (*INDICATOR_READINGS.get(_m.indicator, ()), _name)
"""Plan indicator id -> the metrics that read it: its main measure first, then its further readings."""
INDICATOR_METRIC: dict[str, str] = {i: names[0] for i, names in INDICATOR_READINGS.items()}
"""Plan indicator id -> the metric that measures it (its main reading)."""
COUNTIES_MEETING: dict[str, str] = {name: m.counties_meeting for name, m in METRICS.items() if m.counties_meeting}
"""Metric that is a share of counties meeting a target -> the metric whose county values it compares."""


# --------------------------------------------------------------------------- lookups


def _lookup(table: dict, name: str, what: str):
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, list(table), n=1)
    raise KeyError(f"unknown {what} {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))


def lever(name: str) -> Lever:
    """The lever called ``name``; a KeyError names the closest one."""
    return _lookup(LEVERS, name, "lever")


def parameter(path: str) -> Parameter:
    """The parameter at config key path ``path`` (``parameters.cadres.quit_pay``, ``implementation.rebound_share``)."""
    return _lookup(PARAMETERS, path, "parameter")


def metric(name: str) -> Metric:
    """The metric called ``name``; a KeyError names the closest one."""
    return _lookup(METRICS, name, "metric")


def levers_in(group: str) -> tuple[str, ...]:
    """The names of the levers of one group, in registry order."""
    _lookup(GROUP_LABELS, group, "lever group")
    return tuple(name for name, lv in LEVERS.items() if lv.group == group)
