"""Fingerprints of the series of a few shipped configs, to show a refactor leaves results bit-identical.

Runs configs/county.yaml (columnar, seed 1), configs/baseline.yaml (province, seed 3), the per-agent
engine on configs/county.yaml (seed 2) and, without ``--quick``, configs/plan.yaml (seed 5) and
configs/designs/burden_then_pay.yaml (seed 1); prints a SHA-256 prefix of each run's series (sorted,
hashed with ``pandas.util.hash_pandas_object``) and of all of them. Run it before and after a change
(e.g. ``git stash``) and compare the lines; a deliberate change of results is listed in CHANGELOG.md.

Hashes at commit a4fca1e (2026-12-01), unchanged through the issue-12 redesign:
  county 1 c4b774765fc88f55, baseline 3 03dae4a1d8e616b3, per-agent county 2 8624a0e71d18e709,
  plan 5 326ae31a3fe0ba98, burden_then_pay 1 fc0439797612b5ca, all 4877d5f04ebf10de.
After the ramps and adoption of issue 13 (deliberate; CHANGELOG): county 1 b7fcb5c9e25a390a, baseline 3
  03dae4a1d8e616b3 (unchanged), per-agent county 2 dd34f8f7834fb175, plan 5 2f4823866bab2bb8,
  burden_then_pay 1 6571dd26da3d7289, all 2272709ec7bba687.
After each county's own ramp (issue 13, deliberate; CHANGELOG), with the issue's new metrics dropped
(--drop): county 1, baseline 3 and per-agent county 2 unchanged, plan 5 ad0b458326bfadae, burden_then_pay 1
  3f3e026419699640, all 8590a6632eb35ed5.
After all of issue 13 and the recalibration with steady opinions (deliberate; CHANGELOG; 50,688 rows):
  county 1 0bedd6dee54bde0b, baseline 3 f7d3719e75677134, per-agent county 2 96d12c7d43eec021, plan 5
  7ee2a9abf634dd36, burden_then_pay 1 8f52b9c69a36d0b1, all 1797dad53a0b508a.

``--drop m1,m2`` hashes the series without those metrics: a change that only adds metrics leaves the
hashes of the others as they were.

Usage: python benchmarks/series_hash.py [--quick] [--drop METRIC,...]   (~1.5 min; --quick ~40 s)
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from sim import GrassrootsModel  # noqa: E402
from sim.model.reference import AgentGrassrootsModel  # noqa: E402


def series_hash(series: pd.DataFrame) -> str:
    s = series.sort_values(list(series.columns.drop("value"))).reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(s, index=False).values.tobytes()).hexdigest()[:16]


def main(quick: bool, drop: tuple[str, ...] = ()) -> None:
    cases = [("configs/county.yaml", 1, GrassrootsModel), ("configs/baseline.yaml", 3, GrassrootsModel),
             ("configs/county.yaml", 2, AgentGrassrootsModel)]
    if not quick:
        cases += [("configs/plan.yaml", 5, GrassrootsModel),
                  ("configs/designs/burden_then_pay.yaml", 1, GrassrootsModel)]
    total = hashlib.sha256()
    for path, seed, cls in cases:
        series = cls(str(ROOT / path), seed=seed).run().series()
        if drop:
            series = series[~series["metric"].isin(drop)]
        h = series_hash(series)
        total.update(h.encode())
        print(f"{path:45s} seed {seed} {cls.__name__:22s} rows {len(series):7d} {h}")
    print("all", total.hexdigest()[:16])


if __name__ == "__main__":
    args = sys.argv[1:]
    dropped = tuple(args[args.index("--drop") + 1].split(",")) if "--drop" in args else ()
    main("--quick" in args, dropped)
