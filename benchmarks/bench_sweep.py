"""Sweep throughput: runs per minute serially, on a 2-process pool and on a Dask LocalCluster.

Runs the same small factorial sweep (6 counties of the province in
configs/baseline.yaml, 2023-2030 after the usual spin-up; 2 x 2 levels x
replicates) three times into fresh folders, one executor each, and prints runs per minute and
the speed-up over serial. Start-up costs (process spawn, Dask cluster) are
included, as a user would see them. Compare the ratios within one run: the
machine is shared and absolute times move.

Usage: python benchmarks/bench_sweep.py [--replicates N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPEC = """name: bench
config: config.yaml
levers:
  levers.inspections_cut.values.rollout: {{levels: [0.0, 0.5]}}
  levers.committee_pay_ratio.values.rollout: {{levels: [0.7, 1.0]}}
design: {{kind: factorial}}
replicates: {replicates}
seed: 1
outcomes: [turnover_rate, service_time_share, participation_rate]
years: [2024, 2027, 2030]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=6)
    args = parser.parse_args()
    from sim.experiments import read_sweep, run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "config.yaml").write_text(f"extends: {ROOT / 'configs' / 'baseline.yaml'}\n"
                                         "geography: {counties: 6}\npilot: {counties: 1}\n")
        (tmp / "bench.yaml").write_text(SPEC.format(replicates=args.replicates))
        rows, tables = [], {}
        for label, kwargs in (("serial", {}), ("process pool, 2 workers", {"workers": 2}),
                              ("Dask LocalCluster, 2 workers", {"workers": 2, "dask": "local"})):
            out = tmp / label.split()[0].lower()
            started = time.perf_counter()
            summary = run_sweep(tmp / "bench.yaml", out_root=out, **kwargs)
            wall = time.perf_counter() - started
            rows.append((label, summary["ran"], wall, 60.0 * summary["ran"] / wall))
            tables[label] = read_sweep(out / "bench").drop(columns="seconds")
        serial_rate = rows[0][3]
        print(f"sweep throughput: {rows[0][1]} runs (4 points x {args.replicates} replicates), 6 counties, "
              "2023-2030 after the spin-up")
        print(f"{'executor':32s} {'runs':>5s} {'wall s':>8s} {'runs/min':>9s} {'vs serial':>10s}")
        for label, runs, wall, rate in rows:
            print(f"{label:32s} {runs:5d} {wall:8.1f} {rate:9.1f} {rate / serial_rate:9.2f}x")
        same = all(t.equals(tables["serial"]) for t in tables.values())
        print(f"identical results on every executor: {same}")


if __name__ == "__main__":
    main()
