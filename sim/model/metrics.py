"""The model's outputs: each metric is a ratio of sums, tallied per county each month.

Tallying numerator and denominator per county (rather than a value per
county) is what makes every aggregate properly weighted: a region's value is
the sum of its counties' numerators over the sum of their denominators, so
large counties count for more and residents count by their sample weights.
Definitions (and the plan indicator each measures) are in sim/registry/metrics.yaml and docs/ODD.md §9.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import registry


def _annualise_rate(r):
    return 12.0 * r


def _annualise_probability(p):
    return 1.0 - (1.0 - np.clip(p, 0.0, 1.0)) ** 12


def _three_years_probability(p):
    return 1.0 - (1.0 - np.clip(p, 0.0, 1.0)) ** 36


@dataclass(frozen=True)
class Metric:
    unit: str
    description: str
    transform: Callable | None = None


# How a monthly ratio is read, by the name the registry gives it (``transform`` in metrics.yaml).
TRANSFORMS: dict[str, Callable] = {"annual_rate": _annualise_rate, "annual_probability": _annualise_probability,
                                   "three_year_probability": _three_years_probability}

# Every metric, in the order of the tally arrays: defined in sim/registry/metrics.yaml.
METRICS: dict[str, Metric] = {name: Metric(m.unit, m.description, TRANSFORMS[m.transform] if m.transform else None)
                              for name, m in registry.METRICS.items()}

METRIC_NAMES = tuple(METRICS)

# Each metric's value where its denominator is 0 in a populated cell or county (``empty`` in metrics.yaml),
# before the transform, in the order of the tally arrays.
EMPTY = np.array([registry.METRICS[name].empty for name in METRIC_NAMES])


def metric_rows(names) -> np.ndarray:
    """The rows of the metrics ``names`` in the tally arrays (``Tally.num``, ``Tally.den``)."""
    return np.array([METRIC_NAMES.index(name) for name in names], dtype=np.intp)


def group_sum(index: np.ndarray, values, size: int) -> np.ndarray:
    """Sum of ``values`` (an array per agent, or one number for all) over each group of ``index``.

    The same bits as ``np.bincount(index, weights=values, minlength=size)`` (sums in index order); with
    numba, a compiled loop (``sim.model.kernels``) does it 3-5x faster where indices come in runs.
    """
    if np.ndim(values) == 0:
        return np.bincount(index, minlength=size) * float(values)
    kernels = _kernels()
    if kernels is None:
        return np.bincount(index, weights=values, minlength=size)
    return kernels.group_sum(index, values, size)


_KERNELS: list = []


def _kernels():
    """``sim.model.kernels`` if numba is installed (imported on first use: numba takes ~0.6 s), else None."""
    if not _KERNELS:
        from . import kernels
        _KERNELS.append(kernels if kernels.AVAILABLE else None)
    return _KERNELS[0]


def county_blocks(n_counties: int, *indices: np.ndarray) -> dict:
    """For per-agent county indices stored county by county (sorted): each county's first row, and which
    counties have none. ``Tally`` then sums counts with ``np.add.reduceat`` over the blocks, about ten
    times faster than ``np.bincount``; integer sums are exact, so the result is the same to the bit."""
    blocks = {}
    for index in indices:
        if len(index) and np.all(index[1:] >= index[:-1]):
            starts = np.searchsorted(index, np.arange(n_counties))
            empty = np.bincount(index, minlength=n_counties) == 0
            blocks[id(index)] = (index, starts[starts < len(index)], empty)  # trailing empty counties dropped
    return blocks


class Tally:
    """Numerators and denominators per metric and county for one month."""

    def __init__(self, n_counties: int, blocks: dict | None = None):
        self.n = n_counties
        self._blocks = blocks or {}  # from county_blocks: sorted county indices the tally may sum by block
        self.num = np.zeros((len(METRIC_NAMES), n_counties))
        self.den = np.zeros((len(METRIC_NAMES), n_counties))
        # many metrics share a denominator array: sum it once. Entries keep the arrays alive,
        # so an id() can't be reused by another array while this tally exists.
        self._denominators: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _sum(self, county: np.ndarray, values) -> np.ndarray:
        block = self._blocks.get(id(county))
        if block is not None and block[0] is county and isinstance(values, np.ndarray) and values.dtype.kind in "bi":
            _, starts, empty = block
            sums = np.zeros(self.n)
            sums[:len(starts)] = np.add.reduceat(values, starts, dtype=np.int64)
            sums[empty] = 0.0  # reduceat gives the next block's first element where a county has no rows
            return sums
        return group_sum(county, values, self.n)

    def _denominator_sum(self, county: np.ndarray, values) -> np.ndarray:
        if np.ndim(values) == 0:
            return self._sum(county, values)
        key = (id(county), id(values))
        if key not in self._denominators:
            self._denominators[key] = (county, values, self._sum(county, values))
        return self._denominators[key][2]

    def add(self, name: str, county: np.ndarray, numerator, denominator=1.0) -> None:
        """Add per-agent (or per-place) numerators and denominators to their counties."""
        i = METRIC_NAMES.index(name)
        self.num[i] += self._sum(county, numerator)
        self.den[i] += self._denominator_sum(county, denominator)


def cell_values(num: np.ndarray, den: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """Aggregate county tallies into cells (region x group) and apply each metric's transform.

    ``num``/``den``: (metrics, counties); ``membership``: (cells, counties) 0/1.
    Returns (metrics, cells). Where a populated cell has no denominator (no decision put to residents,
    no complaint, no data department...), a metric takes its ``empty`` value of the registry (``EMPTY``);
    only a cell without counties (pilots of a region that has none) is NaN.
    """
    n = num @ membership.T
    d = den @ membership.T
    values = np.where(d > 0, n / np.where(d > 0, d, 1.0), EMPTY[:, None])
    populated = np.asarray(membership.sum(axis=1)).ravel() > 0  # dense or sparse (per-county tables)
    values[:, ~populated] = np.nan
    for i, name in enumerate(METRIC_NAMES):
        transform = METRICS[name].transform
        if transform is not None:
            values[i] = transform(values[i])
    return values
