"""The parameters' priors as distributions, and parameter sets drawn from them.

Each parameter's prior is written beside it in the registry (``sim/registry/parameters.yaml``, field
``prior:``; the grammar is in that file's header); this module turns each into a frozen ``scipy.stats``
distribution, one per value a config holds (a by_type / by_region / by_group_and_region parameter has one per
member, under the member's key path, e.g. ``implementation.fidelity.pay.west``):

    from sim.priors import PRIORS, sample_parameters, apply_parameters
    PRIORS["parameters.cadres.quit_pay"].dist.interval(0.9)         # (0.843, 2.67)
    draws = sample_parameters(64, seed=1)                           # 64 parameter sets, one per row
    config = apply_parameters(load_scenario("configs/baseline.yaml").resolved, draws.iloc[0])

``sample_parameters`` is a space-filling design: a scrambled, seeded Latin hypercube (or Sobol' sequence) on
the unit cube, mapped through each prior's inverse CDF, so the same arguments give the same frame on any
machine. A fixed prior (a definition or an exact plan figure) stays at the config's value unless its path is
asked for by name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from . import registry
from .config import set_paths

__all__ = ["ParameterPrior", "PRIORS", "distribution", "sample_parameters", "apply_parameters", "kind_counts"]


class _truncated_lognormal_gen(stats.rv_continuous):
    """``scale · exp(sigma · Z)``, Z a standard normal cut to [a, b] (so ``scale`` is the median before the cut)."""

    def _argcheck(self, sigma, a, b):
        return (sigma > 0) & (a < b)

    def _get_support(self, sigma, a, b):
        return np.exp(sigma * a), np.exp(sigma * b)

    def _pdf(self, x, sigma, a, b):
        return stats.truncnorm.pdf(np.log(x) / sigma, a, b) / (sigma * x)

    def _cdf(self, x, sigma, a, b):
        return stats.truncnorm.cdf(np.log(x) / sigma, a, b)

    def _ppf(self, q, sigma, a, b):
        return np.exp(sigma * stats.truncnorm.ppf(q, a, b))


_truncated_lognormal = _truncated_lognormal_gen(name="truncated_lognormal", a=0.0)


def distribution(prior: registry.Prior, value: float | None = None):
    """The frozen scipy.stats distribution of one (member's) prior; a fixed prior is a point at ``value``."""
    lo, hi = prior.support
    if prior.dist == "fixed":
        if value is None:
            raise ValueError("a fixed prior is a point at the config's value: give the value")
        return stats.rv_discrete(name="fixed", values=([float(value)], [1.0]))
    if prior.dist == "uniform":
        return stats.uniform(loc=lo, scale=hi - lo)
    if prior.dist == "loguniform":
        return stats.loguniform(lo, hi)
    if prior.dist == "triangular":
        return stats.triang((prior.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    if prior.dist == "beta":
        return stats.beta(prior.a, prior.b, loc=lo, scale=hi - lo)
    if prior.dist == "normal":
        return stats.truncnorm((lo - prior.mean) / prior.sd, (hi - prior.mean) / prior.sd, loc=prior.mean,
                               scale=prior.sd)
    if prior.dist == "lognormal":
        with np.errstate(divide="ignore"):
            a, b = (np.log(np.float64(v) / prior.median) / prior.sigma for v in (lo, hi))
        return _truncated_lognormal(prior.sigma, a, b, scale=prior.median)
    if prior.dist == "integers":
        return stats.randint(int(lo), int(hi) + 1)
    raise ValueError(f"unknown dist {prior.dist!r}")  # pragma: no cover - the registry refuses it


@dataclass(frozen=True)
class ParameterPrior:
    """The prior of one value of a config: its key path, the registry entry it belongs to, and the prior."""

    path: str  # the config key path of the value, e.g. implementation.fidelity.pay.west
    parameter: str  # the registry entry, e.g. implementation.fidelity
    prior: registry.Prior
    value: float  # the 2023 (calibrated, where fitted) value of configs/baseline.yaml

    @property
    def kind(self) -> str:
        return self.prior.kind

    @property
    def source(self) -> str:
        return self.prior.source

    @property
    def fixed(self) -> bool:
        return self.prior.dist == "fixed"

    @property
    def count(self) -> bool:
        return registry.PARAMETERS[self.parameter].type == "count"

    @cached_property
    def dist(self):
        """The frozen scipy.stats distribution (``.ppf``, ``.cdf``, ``.interval(0.9)``, ``.rvs``)."""
        return distribution(self.prior, self.value)

    def interval(self, mass: float = 0.9) -> tuple[float, float]:
        lo, hi = self.dist.interval(mass)
        return float(lo), float(hi)

    def text(self) -> str:
        """``Beta(18, 2); 90% [0.774, 0.981]``; a fixed prior: ``fixed at 136``."""
        if self.fixed:
            return f"fixed at {self.value:,}" if isinstance(self.value, int) else f"fixed at {self.value:g}"
        return f"{self.prior.text()}; 90% [{', '.join(_figure(v) for v in self.interval())}]"


def _figure(x: float) -> str:
    """Three significant figures, with thousands separated: 0.774, 27, 5,600."""
    if abs(x) >= 1000:
        return f"{float(f'{x:.3g}'):,.0f}"
    return f"{x:.3g}"


def _priors() -> dict[str, ParameterPrior]:
    from .config import load_scenario

    resolved = load_scenario(registry.CONFIGS / "baseline.yaml").resolved
    out = {}
    for parameter, leaves in registry.PARAMETER_PRIORS.items():
        for path, prior in leaves.items():
            node = resolved
            for key in path.split("."):
                node = node[key]
            out[path] = ParameterPrior(path, parameter, prior, node)
    return out


PRIORS: dict[str, ParameterPrior] = _priors()
"""Config key path -> its prior, for every value whose parameter has one (``registry.MISSING_PRIORS``: those
that have none yet), in registry order."""


def kind_counts(paths=None) -> dict[str, int]:
    """How many values rest on each kind of prior (all of ``PRIORS``, or those of ``paths``)."""
    chosen = [PRIORS[p] for p in (paths or PRIORS)]
    return {kind: sum(p.kind == kind for p in chosen) for kind in registry.PRIOR_KINDS}


def _chosen(kinds, paths) -> list[str]:
    if kinds is not None:
        unknown = [k for k in kinds if k not in registry.PRIOR_KINDS]
        if unknown:
            raise ValueError(f"unknown prior kind {unknown[0]!r}; the kinds are {', '.join(registry.PRIOR_KINDS)}")
    if paths is None:
        return [p for p, pr in PRIORS.items() if not pr.fixed and (kinds is None or pr.kind in kinds)]
    chosen = []
    for path in paths:
        if path not in PRIORS:
            close = difflib.get_close_matches(path, list(PRIORS), n=1)
            missing = path in registry.MISSING_PRIORS
            raise KeyError(f"{path!r} has no prior" + (" yet (registry.MISSING_PRIORS)" if missing else "")
                           + (f" (did you mean {close[0]!r}?)" if close and not missing else ""))
        if kinds is None or PRIORS[path].kind in kinds:
            chosen.append(path)
    return chosen


def sample_parameters(n: int, seed: int, kinds=None, paths=None, method: str = "lhs") -> pd.DataFrame:
    """``n`` parameter sets drawn from the priors: one row per set, one column per config key path.

    ``kinds`` keeps the priors of those kinds (``registry.PRIOR_KINDS``); ``paths`` names the values to
    draw (default: every value with a prior that is not fixed). The design is a scrambled Latin hypercube
    (``method="lhs"``) or a scrambled Sobol' sequence (``method="sobol"``, ``n`` a power of two) on the unit
    cube, seeded by ``seed``, with each column mapped through its prior's inverse CDF: the same arguments give
    the same frame. A count parameter's column holds whole numbers.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive whole number (got {n!r})")
    columns = _chosen(kinds, paths)
    if not columns:
        raise ValueError("no prior matches the kinds and paths asked for")
    d = len(columns)
    if method == "lhs":
        unit = qmc.LatinHypercube(d=d, scramble=True, rng=np.random.default_rng(seed)).random(n)
    elif method == "sobol":
        if n & (n - 1):
            raise ValueError(f"a Sobol' design keeps its balance with a power of two points: n = {n} is not one "
                             f"(take {1 << (n - 1).bit_length()}, or method='lhs')")
        unit = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(seed)).random(n)
    else:
        raise ValueError(f"unknown method {method!r}; choose 'lhs' or 'sobol'")
    unit = np.clip(unit, 1e-12, 1 - 1e-12)  # a point on the cube's face would map to an infinite tail
    data = {}
    for j, path in enumerate(columns):
        values = PRIORS[path].dist.ppf(unit[:, j])
        data[path] = values.astype(np.int64) if PRIORS[path].count else values.astype(np.float64)
    return pd.DataFrame(data, index=pd.RangeIndex(n, name="draw"))


def apply_parameters(resolved: dict, row) -> dict:
    """A copy of a resolved config with the values of one parameter set (a row of ``sample_parameters``, or
    any mapping of config key path -> value) set in it (``sim.config.set_paths``)."""
    values = dict(row.items()) if hasattr(row, "items") else dict(row)
    out = {}
    for path, value in values.items():
        if path in PRIORS and PRIORS[path].count:
            value = int(value)
        out[path] = value.item() if isinstance(value, np.generic) else value
    return set_paths(resolved, out)
