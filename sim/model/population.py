"""Synthetic geography: counties -> townships -> committees, with sizes from config.

Counties get a region (east / central / west), a type (urban district or rural
county) and a 'base' (fiscal capacity, staffing, social capital: one latent
score). Townships, committees, posts and residents per committee vary around
the config's means with a common coefficient of variation. Everything is
drawn from the 'population' stream, which no lever touches, so every scenario
of a replicate has the same places.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.optimize import brentq
from scipy.stats import norm

from ..config.schema import REGIONS, Scenario
from ..config.table import MIN_RESIDENTS_PER_COMMITTEE


def lognormal_factor(rng: np.random.Generator, cv: float, size) -> np.ndarray:
    """Multiplicative noise with mean 1 and coefficient of variation ``cv``."""
    if cv == 0:
        return np.ones(size)
    sigma2 = np.log1p(cv * cv)
    return rng.lognormal(-sigma2 / 2.0, np.sqrt(sigma2), size)


def mean_for_share_above(threshold: float, share: float, sd: float, low: float = -np.inf,
                         high: float = np.inf) -> float:
    """Mean of a normal truncated to [low, high] whose share above ``threshold`` is ``share``.

    The mean is sought within 3 sd beyond the range. A share no mean there reaches (0 or 1 exactly: a
    normal always has some mass on both sides; or any share when the whole range is on one side of
    ``threshold``) gets the nearest end: the closest the truncated normal comes to it.
    """
    def gap(mean: float) -> float:
        a, b, t = (norm.cdf((x - mean) / sd) for x in (low, high, threshold))
        return (b - t) / (b - a) - share

    lo = (low if np.isfinite(low) else threshold) - 3 * sd
    hi = (high if np.isfinite(high) else threshold) + 3 * sd
    if gap(lo) >= 0:  # even the lowest mean puts at least ``share`` above the threshold
        return float(lo)
    if gap(hi) <= 0:  # even the highest mean puts at most ``share`` above it
        return float(hi)
    return float(brentq(gap, lo, hi))


# Draws by inverse CDF from uniforms: one uniform per agent whatever the parameters, so that
# scenarios differing in a distribution's parameters still give each agent its own draw.


def logit_normal(u: np.ndarray, median: float, logit_sd: float) -> np.ndarray:
    """A 0-1 attribute: logistic(logit(median) + sd * z), z standard normal from ``u``."""
    m = min(max(median, 1e-9), 1 - 1e-9)
    return 1.0 / (1.0 + np.exp(-(np.log(m / (1 - m)) + logit_sd * ndtri(np.clip(u, 1e-12, 1 - 1e-12)))))


def truncated_normal(u: np.ndarray, mean: float, sd: float, low: float, high: float) -> np.ndarray:
    """A normal draw restricted to [low, high] (not piled up at the bounds)."""
    a, b = ndtr((low - mean) / sd), ndtr((high - mean) / sd)
    return mean + sd * ndtri(np.clip(a + u * (b - a), 1e-12, 1 - 1e-12))


def apportion(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer counts proportional to ``shares`` summing to ``total`` (largest remainder)."""
    raw = shares * total
    counts = np.floor(raw).astype(int)
    counts[np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]] += 1
    return counts


@dataclass
class Places:
    """Arrays describing places; index i of ``county_*`` is county i, and so on.

    Places are ordered county by county (townships of county 0, then of county 1,
    ...; committees township by township), so the places of a block of counties
    are contiguous. ``first_*`` give the global index of a block's first county,
    township, committee and cadre post (0 for the whole geography): random draws
    are addressed by global index, so a block draws what the whole run draws.
    """

    county_region: np.ndarray  # 0 east, 1 central, 2 west
    county_urban: np.ndarray
    county_base: np.ndarray  # latent 'good base' score, mean 0
    township_county: np.ndarray
    committee_township: np.ndarray
    committee_county: np.ndarray
    committee_urban: np.ndarray
    committee_population: np.ndarray
    committee_posts: np.ndarray
    township_posts: np.ndarray
    first_county: int = 0
    first_township: int = 0
    first_committee: int = 0
    first_post: int = 0

    @property
    def n_counties(self) -> int:
        return len(self.county_region)

    @property
    def n_townships(self) -> int:
        return len(self.township_county)

    @property
    def n_committees(self) -> int:
        return len(self.committee_township)

    @property
    def committees_per_township(self) -> np.ndarray:
        return np.bincount(self.committee_township, minlength=self.n_townships)

    @property
    def townships_per_county(self) -> np.ndarray:
        return np.bincount(self.township_county, minlength=self.n_counties)

    @property
    def posts_per_county(self) -> np.ndarray:
        return (np.bincount(self.committee_county, weights=self.committee_posts, minlength=self.n_counties)
                + np.bincount(self.township_county, weights=self.township_posts, minlength=self.n_counties)
                ).astype(int)

    def post_units(self) -> np.ndarray:
        """The unit of each cadre post, county by county (a county's committee posts, then its
        township posts). Units: committees are 0..m-1, townships m..m+t-1."""
        m = self.n_committees
        units = np.concatenate([np.arange(m), m + np.arange(self.n_townships)])
        county = np.concatenate([self.committee_county, self.township_county])
        order = np.argsort(county * 2 + (units >= m), kind="stable")
        sizes = np.concatenate([self.committee_posts, self.township_posts])
        return np.repeat(units[order], sizes[order])

    def block(self, first: int, stop: int) -> "Places":
        """The places of counties ``first .. stop-1``, indexed locally, with global offsets."""
        if not 0 <= first < stop <= self.n_counties:
            raise ValueError(f"county block {first}..{stop} outside 0..{self.n_counties}")
        t0, t1 = np.searchsorted(self.township_county, [first, stop])
        m0, m1 = np.searchsorted(self.committee_county, [first, stop])
        return Places(
            county_region=self.county_region[first:stop],
            county_urban=self.county_urban[first:stop],
            county_base=self.county_base[first:stop],
            township_county=self.township_county[t0:t1] - first,
            committee_township=self.committee_township[m0:m1] - t0,
            committee_county=self.committee_county[m0:m1] - first,
            committee_urban=self.committee_urban[m0:m1],
            committee_population=self.committee_population[m0:m1],
            committee_posts=self.committee_posts[m0:m1],
            township_posts=self.township_posts[t0:t1],
            first_county=self.first_county + first,
            first_township=self.first_township + int(t0),
            first_committee=self.first_committee + int(m0),
            first_post=self.first_post + int(self.posts_per_county[:first].sum()),
        )


def synthesise_places(scenario: Scenario, rng: np.random.Generator) -> Places:
    g = scenario.geography
    if g.table is not None:
        return places_from_table(scenario, rng)
    cv = g.size_dispersion
    n = g.counties
    shares = np.array([getattr(g.region_shares, r) for r in REGIONS])
    region = rng.permutation(np.repeat(np.arange(3), apportion(shares, n)))
    urban = np.zeros(n, dtype=bool)
    urban[rng.permutation(n)[: int(round(g.urban_county_share * n))]] = True
    base = rng.normal(0.0, scenario.parameters.counties.base_sd, n)

    townships = np.maximum(1, np.round(g.townships_per_county * lognormal_factor(rng, cv, n))).astype(int)
    township_county = np.repeat(np.arange(n), townships)
    t_urban = urban[township_county]
    per_township = np.where(t_urban, g.committees_per_township.urban, g.committees_per_township.rural)
    committees = np.maximum(1, np.round(per_township * lognormal_factor(rng, cv, len(township_county)))).astype(int)
    committee_township = np.repeat(np.arange(len(township_county)), committees)
    committee_county = township_county[committee_township]
    c_urban = urban[committee_county]
    m = len(committee_township)

    def sized(by_type, is_urban, size, minimum):
        mean = np.where(is_urban, by_type.urban, by_type.rural)
        return np.maximum(minimum, np.round(mean * lognormal_factor(rng, cv, size))).astype(int)

    return Places(
        county_region=region,
        county_urban=urban,
        county_base=base,
        township_county=township_county,
        committee_township=committee_township,
        committee_county=committee_county,
        committee_urban=c_urban,
        committee_population=sized(g.residents_per_committee, c_urban, m, 50),
        committee_posts=sized(g.committee_posts, c_urban, m, 1),
        township_posts=sized(g.township_posts, t_urban, len(township_county), 1),
    )


def base_scores(values: list, base_sd: float, rng: np.random.Generator) -> np.ndarray:
    """Counties' latent base from a table's ``base`` column: only the order counts. The county ranked k-th
    lowest of the n given gets the normal score ndtri((k - 1/2) / n) * ``base_sd`` (ties share their mean
    rank), so revenue per head, a fiscal-capacity index or an expert's 1-5 rating all give base scores of
    the spread the model is calibrated with. Counties with no value draw theirs as a synthesised county does."""
    from scipy.stats import rankdata

    base = rng.normal(0.0, base_sd, len(values))
    given = np.array([v is not None for v in values])
    if given.any():
        ranks = rankdata([v for v in values if v is not None])
        base[given] = ndtri((ranks - 0.5) / given.sum()) * base_sd
    return base


def _spread(rng: np.random.Generator, cv: float, sizes: np.ndarray, totals: np.ndarray, minimum: int) -> np.ndarray:
    """Split each county's total over its ``sizes[i]`` units: ``minimum`` each, the rest in proportion to
    lognormal weights of coefficient of variation ``cv`` (largest remainder), so the units vary in size
    and add up to the table's total exactly."""
    weights = lognormal_factor(rng, cv, int(sizes.sum()))
    out, start = np.empty(int(sizes.sum()), dtype=int), 0
    for size, total in zip(sizes, totals):
        w = weights[start:start + size]
        out[start:start + size] = minimum + apportion(w / w.sum(), int(total) - minimum * int(size))
        start += size
    return out


def places_from_table(scenario: Scenario, rng: np.random.Generator) -> Places:
    """A county table's places: each county's region, type, townships, committees, posts and residents as
    the table gives them. Within a county, committees are spread over its townships, and posts and
    residents over its units, around equal shares with the geography's ``size_dispersion`` (at least one
    committee per township and one post per unit, at least 50 residents per committee), adding up to the
    table's counts exactly. The base comes from the table's ``base`` column (``base_scores``)."""
    g = scenario.geography
    rows = g.table.counties
    cv = g.size_dispersion
    region = np.array([REGIONS.index(r.region) for r in rows])
    urban = np.array([r.type == "urban" for r in rows])
    base = base_scores([r.base for r in rows], scenario.parameters.counties.base_sd, rng)
    townships = np.array([r.townships for r in rows])
    committees = np.array([r.committees for r in rows])
    township_county = np.repeat(np.arange(len(rows)), townships)
    per_township = _spread(rng, cv, townships, committees, 1)
    committee_township = np.repeat(np.arange(len(township_county)), per_township)
    committee_county = township_county[committee_township]
    return Places(
        county_region=region,
        county_urban=urban,
        county_base=base,
        township_county=township_county,
        committee_township=committee_township,
        committee_county=committee_county,
        committee_urban=urban[committee_county],
        committee_population=_spread(rng, cv, committees, np.array([r.residents for r in rows]),
                                     MIN_RESIDENTS_PER_COMMITTEE),
        committee_posts=_spread(rng, cv, committees, np.array([r.committee_posts for r in rows]), 1),
        township_posts=_spread(rng, cv, townships, np.array([r.township_posts for r in rows]), 1),
    )
