"""Test helpers: small scenarios built from the real configs, with overrides."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
from sim.config import load_scenario, scenario_from_dict
from sim.model.model import GrassrootsModel

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def deep_update(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


# Three small counties: fast, yet with regions, pilots and non-pilots.
SMALL = {
    "geography": {"scope": "province", "counties": 3, "townships_per_county": 6},
    "pilot": {"counties": 1, "selection": "random"},
    "timeline": {"spin_up_months": 12},
}


def scenario(config: str = "baseline.yaml", **changes):
    """A validated Scenario from a config in configs/, made small, with nested overrides applied."""
    resolved = load_scenario(CONFIGS / config).resolved
    return scenario_from_dict(deep_update(deep_update(resolved, SMALL), changes))


def run(sc, seed: int = 0, replicate: int = 0) -> pd.DataFrame:
    return GrassrootsModel(sc, seed=seed, replicate=replicate).run().series()


def yearly(series: pd.DataFrame, metric: str, years=None, region="all", group="all") -> float:
    sel = series[(series.metric == metric) & (series.region == region) & (series.group == group)]
    if years is not None:
        sel = sel[sel.date.dt.year.isin(list(years))]
    return float(sel.value.mean())


def paired_means(sc_a, sc_b, metric: str, years, replicates: int = 3) -> tuple[float, float]:
    """Mean of ``metric`` over ``years`` for two scenarios on the same replicates (common random numbers)."""
    a = [yearly(run(sc_a, replicate=k), metric, years) for k in range(replicates)]
    b = [yearly(run(sc_b, replicate=k), metric, years) for k in range(replicates)]
    return sum(a) / len(a), sum(b) / len(b)


