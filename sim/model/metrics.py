"""The model's outputs: each metric is a ratio of sums, tallied per county each month.

Tallying numerator and denominator per county (rather than a value per
county) is what makes every aggregate properly weighted: a region's value is
the sum of its counties' numerators over the sum of their denominators, so
large counties count for more and residents count by their sample weights.
Definitions (and how each matches the plan's indicator) are in docs/ODD.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


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


METRICS: dict[str, Metric] = {
    # --- headline outcomes
    "turnover_rate": Metric("share per year", "separations (quits + retirements) in the month / headcount at its start, x12", _annualise_rate),
    "service_time_share": Metric("share", "cadre hours serving residents / all hours worked"),
    "participation_rate": Metric("share", "residents (weighted) taking part, in person or online, in the decisions put to them this month"),
    "meeting_attendance_rate": Metric("share", "residents (weighted) attending in person the meetings held this month"),
    "participation_12m_share": Metric("share", "residents (weighted) who took part in at least one decision in the last 12 months"),
    # --- cadres
    "quit_rate": Metric("share per year", "voluntary quits / headcount at the month's start, x12", _annualise_rate),
    "compliance_heavy_share": Metric("share", "cadres spending >= 80% of their hours on compliance and duplicate data entry"),
    "burnout": Metric("0-1", "mean cadre burnout (exhaustion)"),
    "vacancy_rate": Metric("share", "vacant posts / establishment posts (end of month)"),
    "talent_gap_filled": Metric("share", "vacancies of the run's first month filled since then: 1 - vacancies / vacancies at start"),
    "recruitment_fill_rate": Metric("share per year", "chance a vacancy open at the month's start is filled, annualised", _annualise_probability),
    "share_under_45": Metric("share", "cadres under 45"),
    "share_college": Metric("share", "cadres with junior-college education or above"),
    "share_professional": Metric("share", "professionals (social work, medical, nursing)"),
    "social_insurance_coverage": Metric("share", "contract staff with social insurance"),
    "pay_match": Metric("share", "cadres whose pay per hour worked is at least 90% of a county-seat peer's"),
    "mean_skill": Metric("0-1", "mean cadre skill"),
    "promotion_rate_3y": Metric("share in 3 years", "promotions in the month / cadres in post, as the chance of "
                                "promotion within three years", _three_years_probability),
    # --- residents
    "satisfaction": Metric("0-100", "residents' (weighted) satisfaction with grassroots services"),
    "complaint_rectification_rate": Metric("share", "complaints substantively rectified / complaints made this month"),
    "needs_served_share": Metric("share", "residents' needs settled this month (served, or referral resolved) / needs and referrals open"),
    "local_resolution_share": Metric("share", "issues needing a power that could be settled in the township"),
    "committee_decision_share": Metric("share", "major decisions taken directly by the two committees, not put to residents"),
    "trust": Metric("0-1", "residents' (weighted) trust in the committee"),
    # --- departments and counties
    "authority_devolved_share": Metric("share", "share of the 28 powers held by townships (township-weighted)"),
    "data_shared_share": Metric("share", "data-holding departments sharing on the platform"),
    "assessment_items_cut": Metric("share", "official assessment items cut vs 2023 (township-weighted)"),
    "assessment_items_actual": Metric("items per township per year", "assessment items actually pushed down, including rebound"),
    "veto_items": Metric("items per township", "official one-vote veto items"),
    "rebound_share": Metric("share", "share of the cut work pushed back through other channels"),
    "inspections_per_committee": Metric("per year", "inspections a committee actually hosts, annualised"),
}

METRIC_NAMES = tuple(METRICS)


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
    Returns (metrics, cells); NaN where a cell has no denominator.
    """
    n = num @ membership.T
    d = den @ membership.T
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(d > 0, n / np.where(d > 0, d, 1.0), np.nan)
    for i, name in enumerate(METRIC_NAMES):
        transform = METRICS[name].transform
        if transform is not None:
            values[i] = transform(values[i])
    return values
