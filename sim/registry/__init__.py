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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

__all__ = ["Bounds", "Labels", "Lever", "Parameter", "Prior", "Metric", "RegistryError", "LEVERS", "LEVER_GROUPS",
           "GROUP_LABELS", "PARAMETERS", "PARAMETER_BLOCKS", "LIMITS", "METRICS", "HEADLINE",
           "HEADLINE_DIRECTION", "INDICATOR_METRIC", "INDICATOR_READINGS", "COUNTIES_MEETING", "PLAN_TARGETS",
           "PlanTarget", "meets", "PRIOR_KINDS", "DISTRIBUTIONS", "PARAMETER_PRIORS", "MISSING_PRIORS", "lever",
           "parameter", "metric", "levers_in", "files"]

HERE = Path(__file__).resolve().parent
CONFIGS = HERE.parents[1] / "configs"  # the 2023 values a prior must allow (absent in an installed wheel: not checked)
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


# --------------------------------------------------------------------------- priors

PriorKind = Literal["published", "plan", "plan-fit", "assumption", "definition", "derived"]
PRIOR_KINDS: tuple[str, ...] = ("published", "plan", "plan-fit", "assumption", "definition", "derived")
"""What a prior rests on: a published value, a plan figure (§), a plan figure the calibration fits (the prior
is the fit's range), the developers' assumption (a wide range, with the reason), a definition (a unit,
convention or normalisation: a point prior), or derived (a point the calibration computes from the other
parameters, e.g. the 2023 steady state of residents' opinions: its calibrated value may differ from the
2023 default)."""

DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # dist: (its arguments, its optional arguments). Each maps to a scipy.stats distribution (sim/priors.py).
    "fixed": ((), ()),                                 # the config's value (a point)
    "uniform": (("low", "high"), ()),
    "loguniform": (("low", "high"), ()),               # uniform in log(x); low > 0
    "triangular": (("low", "mode", "high"), ()),
    "beta": (("a", "b"), ("low", "high")),             # on [low, high], by default [0, 1]
    "lognormal": (("median", "sigma"), ("low", "high")),  # log x ~ Normal(log median, sigma), cut to [low, high]
    "normal": (("mean", "sd"), ("low", "high")),       # Normal(mean, sd) cut to [low, high]
    "integers": (("low", "high"), ()),                 # each whole number from low to high equally likely
}
_ARGUMENTS = ("low", "high", "mode", "a", "b", "median", "sigma", "mean", "sd")
_INHERITED = ("kind", "source", "conversion")
_UNSOURCED = re.compile(r"^\s*(none|n/a|-|—|assumption)\b", re.I)


def _g(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10000 else f"{x:g}"


class Prior(_Entry):
    """A parameter's prior: a distribution (``dist`` and its arguments), what it rests on (``kind``) and its
    ``source``. A by_type / by_region / by_group_and_region parameter gives one prior per member (``members``)
    or one for all of them (``shared``: why one will do; each member is drawn from it on its own). Members
    take ``kind``, ``source`` and ``conversion`` from the prior around them unless they give their own."""

    kind: PriorKind
    source: str = Field(min_length=1, description="the study, the plan's §, or (an assumption) the reason")
    dist: str | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    a: float | None = None
    b: float | None = None
    median: float | None = None
    sigma: float | None = None
    mean: float | None = None
    sd: float | None = None
    conversion: str | None = Field(None, description="how the study's figure becomes the model's scale")
    shared: str | None = Field(None, description="why one prior serves every member")
    members: dict[str, "Prior"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _inherit(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("members"), dict):
            data = {**data, "members": {
                k: ({**{f: data[f] for f in _INHERITED if f in data}, **m} if isinstance(m, dict) else m)
                for k, m in data["members"].items()}}
        return data

    @model_validator(mode="after")
    def _well_formed(self) -> "Prior":
        if self.members is not None:
            if self.dist is not None or any(getattr(self, f) is not None for f in _ARGUMENTS):
                raise ValueError("a prior has either `dist` (with its arguments) or `members`, not both")
            if not self.members:
                raise ValueError("`members` is empty")
            return self
        if self.dist is None:
            raise ValueError(f"a prior needs `dist` (one of {', '.join(DISTRIBUTIONS)}) or `members`")
        if self.dist not in DISTRIBUTIONS:
            close = difflib.get_close_matches(self.dist, list(DISTRIBUTIONS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown dist {self.dist!r}{hint}; the distributions are {', '.join(DISTRIBUTIONS)}")
        needed, optional = DISTRIBUTIONS[self.dist]
        given = [f for f in _ARGUMENTS if getattr(self, f) is not None]
        missing = [f for f in needed if f not in given]
        extra = [f for f in given if f not in needed + optional]
        takes = (f"takes {', '.join(needed)}" if needed else "takes no arguments") + \
            (f" (and optionally {', '.join(optional)})" if optional else "")
        if missing or extra:
            wrong = f"missing {', '.join(missing)}" if missing else f"no {', '.join(extra)}"
            raise ValueError(f"a {self.dist} prior {takes}: {wrong}")
        if self.dist == "fixed" and self.kind not in ("definition", "plan", "derived"):
            raise ValueError(f"a fixed prior is for a definition, an exact plan figure or a derived value, not kind "
                             f"{self.kind!r}: give a distribution wide enough to say what is not known")
        if self.kind == "derived" and self.dist != "fixed":
            raise ValueError("a derived value is computed from the other parameters: its prior is `dist: fixed`")
        if self.kind == "published" and _UNSOURCED.match(self.source):
            raise ValueError(f"a published prior names its study (source is {self.source!r})")
        lo, hi = self.support
        if not lo < hi and self.dist != "fixed" and not (self.dist == "integers" and lo == hi):
            raise ValueError(f"low ({_g(lo)}) must be below high ({_g(hi)})")
        checks = {"a": self.a, "b": self.b, "sigma": self.sigma, "sd": self.sd, "median": self.median}
        for name, value in checks.items():
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive (got {_g(value)})")
        if self.dist == "loguniform" and not lo > 0:
            raise ValueError(f"a loguniform prior needs low > 0 (got {_g(lo)})")
        if self.dist == "lognormal" and lo < 0:
            raise ValueError(f"a lognormal prior lies above 0: low must be 0 or more (got {_g(lo)})")
        if self.dist == "triangular" and not lo <= self.mode <= hi:
            raise ValueError(f"the mode ({_g(self.mode)}) must be within low and high [{_g(lo)}, {_g(hi)}]")
        if self.dist == "integers" and not (float(lo).is_integer() and float(hi).is_integer()):
            raise ValueError(f"an integers prior runs between whole numbers (got {_g(lo)}, {_g(hi)})")
        if self.dist in ("lognormal", "normal") and self.low is not None and self.high is not None:
            centre = self.median if self.dist == "lognormal" else self.mean
            if not self.low <= centre <= self.high:
                raise ValueError(f"the {'median' if self.dist == 'lognormal' else 'mean'} ({_g(centre)}) must be "
                                 f"within low and high [{_g(self.low)}, {_g(self.high)}]")
        return self

    @property
    def support(self) -> tuple[float, float]:
        """The values the prior can give (a fixed prior: any; its value is the config's)."""
        inf = float("inf")
        if self.dist in ("beta",):
            return (0.0 if self.low is None else self.low, 1.0 if self.high is None else self.high)
        if self.dist == "lognormal":
            return (0.0 if self.low is None else self.low, inf if self.high is None else self.high)
        if self.dist == "normal":
            return (-inf if self.low is None else self.low, inf if self.high is None else self.high)
        if self.dist == "fixed":
            return (-inf, inf)
        return (self.low, self.high)

    def contains(self, value: float) -> bool:
        lo, hi = self.support
        if self.dist == "integers":
            return float(value).is_integer() and lo <= value <= hi
        return lo <= value <= hi

    def text(self) -> str:
        """The distribution in a few characters: ``Beta(18, 2)``, ``LogNormal(median 12, σ 0.5) on [3, 48]``."""
        cut = "" if self.low is None and self.high is None else \
            f" on [{_g(self.support[0])}, {_g(self.support[1])}]"
        return {
            "fixed": lambda: "fixed",
            "uniform": lambda: f"Uniform({_g(self.low)}, {_g(self.high)})",
            "loguniform": lambda: f"LogUniform({_g(self.low)}, {_g(self.high)})",
            "triangular": lambda: f"Triangular({_g(self.low)}, {_g(self.mode)}, {_g(self.high)})",
            "beta": lambda: f"Beta({_g(self.a)}, {_g(self.b)}){cut}",
            "lognormal": lambda: f"LogNormal(median {_g(self.median)}, σ {_g(self.sigma)}){cut}",
            "normal": lambda: f"Normal({_g(self.mean)}, {_g(self.sd)}){cut}",
            "integers": lambda: f"integers {_g(self.low)}–{_g(self.high)}",
        }[self.dist]()


Prior.model_rebuild()


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
    prior: Prior | None = Field(None, description="its prior (sim/priors.py); a parameter without one is listed "
                                                  "by tests/test_priors.py")

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
    empty: float = Field(description="its value where the denominator is 0 in a populated cell or county "
                                     "(before the transform); docs/ODD.md section 9 says why for each")
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
        if error["type"] == "extra_forbidden" and "prior" in loc:
            message = f"unknown field; a prior has {', '.join(Prior.model_fields)}"
        elif error["type"] == "extra_forbidden":
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


def _parameters(path: Path) -> tuple[dict[str, Bounds], dict[str, str], dict[str, Parameter],
                                      dict[str, dict[str, Prior]]]:
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
    values = _config_values()
    blocks = {("parameters", name): block for name, block in (data["parameters"] or {}).items()}
    blocks[("implementation",)] = data["implementation"]
    about, parameters, priors = {}, {}, {}
    for where, block in blocks.items():
        if not isinstance(block, dict) or set(block) != {"about", "entries"}:
            raise _fail(path, lines, where, "a block has `about` (what it holds) and `entries`")
        prefix = ".".join(where)
        about[prefix] = block["about"]
        for name, entry in (block["entries"] or {}).items():
            p = _entry(Parameter, path, lines, where + ("entries", name), entry, {"limits": limits},
                       path=f"{prefix}.{name}")
            if p.prior is not None:
                priors[p.path] = _prior_leaves(p, path, lines, where + ("entries", name, "prior"), values)
            parameters[p.path] = p
    return limits, about, parameters, priors


_MEMBERS = {"by_type": ("rural", "urban"), "by_region": ("east", "central", "west")}


def _config_values() -> list[tuple[str, Path, dict, dict]]:
    """The parameter values a prior must allow: the 2023 world (``configs/defaults.yaml``) and the calibrated
    values (``configs/calibrated.yaml``), each as (what, file, data, lines); none where the configs are absent."""
    found = []
    for what, name in (("the 2023 value", "defaults.yaml"), ("the calibrated value", "calibrated.yaml")):
        file = CONFIGS / name
        if file.is_file():
            data, lines = _read(file)
            found.append((what, file, data, lines))
    return found


def _prior_leaves(p: Parameter, file: Path, lines: dict, where: tuple,
                  values: list[tuple[str, Path, dict, dict]]) -> dict[str, Prior]:
    """The prior of each value a parameter stands for (``parameters.cadres.county_pay_yuan.east``...), checked
    against the parameter: its type, its bounds, and the configs' values (each inside the prior's support; a
    fixed prior's parameter is not fitted). A problem is reported at the prior's file, line and key path."""
    prior = p.prior

    def fail(at: tuple, message: str) -> RegistryError:
        return _fail(file, lines, where + at, message)

    # the members' keys, and where each leaf's prior sits
    if p.type in ("real", "count"):
        if prior.members is not None:
            raise fail(("members",), f"a {p.type} parameter has one prior, not members")
        leaves = {(): ((), prior)}
    else:
        regions = _MEMBERS["by_region"]
        first = _MEMBERS.get(p.type) or ("default", *LEVER_GROUPS)
        if prior.members is None:
            if prior.dist != "fixed" and not prior.shared:
                raise fail((), f"a {p.type} parameter gives a prior per member (`members`) or one for all of them "
                                "with `shared:` saying why one will do")
            keys = _MEMBERS.get(p.type) or ("default",)
            leaves = {(k,): ((), prior) for k in keys} if p.type != "by_group_and_region" else \
                {(g, r): ((), prior) for g in keys for r in regions}
        else:
            unknown = [k for k in prior.members if k not in first]
            missing = [k for k in _MEMBERS.get(p.type, ()) if k not in prior.members]
            if unknown or missing:
                bad = f"unknown member {unknown[0]!r}" if unknown else f"no prior for member {missing[0]!r}"
                raise fail(("members", unknown[0]) if unknown else ("members",),
                           f"{bad}; the members are {', '.join(first)}")
            leaves = {}
            for key, member in prior.members.items():
                at = ("members", key)
                if p.type != "by_group_and_region":
                    if member.members is not None:
                        raise fail(at, f"a {p.type} member has one prior, not members")
                    leaves[(key,)] = (at, member)
                elif member.members is None:
                    if member.dist != "fixed" and not member.shared:
                        raise fail(at, "a group gives a prior per region (`members`) or one for all of them with "
                                       "`shared:` saying why one will do")
                    leaves.update({(key, r): (at, member) for r in regions})
                else:
                    unknown = [r for r in member.members if r not in regions]
                    missing = [r for r in regions if r not in member.members]
                    if unknown or missing:
                        bad = f"unknown region {unknown[0]!r}" if unknown else f"no prior for region {missing[0]!r}"
                        raise fail(at + ("members", unknown[0]) if unknown else at + ("members",),
                                   f"{bad}; a group's members are {', '.join(regions)}")
                    leaves.update({(key, r): (at + ("members", r), m) for r, m in member.members.items()})

    keys = tuple(p.path.split("."))
    out = {}
    for member, (at, leaf) in leaves.items():
        name = ".".join((p.path, *member))
        if p.type == "count" and leaf.dist not in ("integers", "fixed"):
            raise fail(at, f"a count parameter takes whole numbers: an integers (or fixed) prior, not {leaf.dist}")
        if p.type != "count" and leaf.dist == "integers":
            raise fail(at, "an integers prior is for a count parameter")
        lo, hi = leaf.support
        # a continuous prior reaches its ends with probability 0, so an end may touch an open bound
        inside = (lo in p.bounds and hi in p.bounds) if leaf.dist == "integers" else \
            leaf.dist == "fixed" or (p.bounds.low <= lo and hi <= p.bounds.high)
        if not inside:
            raise fail(at, f"the prior {leaf.text()} reaches outside the parameter's bounds {p.bounds}")
        seen = []
        for what, config, data, config_lines in values:
            node = data
            for k in keys + member:
                node = node.get(k) if isinstance(node, dict) else None
            if node is None or isinstance(node, (dict, list, bool)):
                continue
            line = config_lines.get(keys + member)
            shown = f"{config.parent.name}/{config.name}" + (f":{line}" if line else "")
            if not leaf.contains(node):
                lo_, hi_ = (_g(v) for v in leaf.support)
                raise fail(at, f"{what} of {'.'.join((p.name, *member))}, {_g(node)} "
                               f"({shown}), is outside the prior's support [{lo_}, {hi_}]")
            if leaf.dist == "fixed" and leaf.kind != "derived" and seen and node != seen[0]:
                raise fail(at, f"a fixed prior's parameter is not fitted, but {what} ({_g(node)}, {shown}) is not "
                               f"the 2023 value {_g(seen[0])}")
            seen.append(node)
        out[name] = leaf
    # a group the 2023 config sets must have a prior
    if p.type == "by_group_and_region" and values and prior.members is not None:
        node = values[0][2]
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        for group in (node or {}):
            if group not in prior.members:
                raise fail(("members",), f"configs/defaults.yaml sets {p.name}.{group}, which has no prior")
    return out


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
LIMITS, PARAMETER_BLOCKS, PARAMETERS, PARAMETER_PRIORS = _parameters(_FILES["parameters"])
"""``PARAMETER_PRIORS``: parameter path -> the prior of each value it stands for, by config key path (one for a
real or count parameter, one per member otherwise). The distributions themselves: ``sim.priors``."""
MISSING_PRIORS: tuple[str, ...] = tuple(path for path, p in PARAMETERS.items() if p.prior is None)
"""The parameters that have no prior yet (a test lists them)."""
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
