"""Before/after on a busy machine: two checkouts timed in turn, round after round, best and median kept.

A shared machine's load moves by a factor of several within minutes, so two benchmark runs one after
the other can differ more than the change being measured. This script alternates the checkouts
(A, B, A, B, ...), each round in fresh processes, and reports per checkout the best and the median
time per recorded month (no spin-up; one untimed warm-up month after construction), in CPU time of
the process (``time.process_time``: other jobs' load hardly moves it, though they still share caches
and memory bandwidth) and in wall time, and B's speed-up over A on both. Sizes: ``1e5`` (configs/county.yaml over 17 counties, 89,435 agents, the headline
size of bench_model.py) and ``province`` (configs/plan.yaml, 538,270 agents).

Usage: python benchmarks/bench_ab.py A_CHECKOUT B_CHECKOUT [--rounds 5] [--months 6] [--sizes 1e5 province]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def child(size: str, months: int) -> dict:
    from common import select_tree, without_spin_up

    root = select_tree()
    from sim import GrassrootsModel, load_scenario

    if size == "province":
        scenario = load_scenario(root / "configs" / "plan.yaml").scenario
    else:  # the 1e5 size of bench_model.py: county.yaml over 17 counties
        base = load_scenario(root / "configs" / "county.yaml").scenario
        geo = base.geography.model_copy(update={"counties": 17, "scope": "province"})
        scenario = base.model_copy(update={"geography": geo, "pilot": base.pilot.model_copy(update={"counties": 1})})
    model = GrassrootsModel(without_spin_up(scenario), seed=0, replicate=0)
    model.step()
    t, cpu = time.perf_counter(), time.process_time()
    for _ in range(months):
        model.step()
    return {"ms_per_month": 1000 * (time.perf_counter() - t) / months,
            "cpu_ms_per_month": 1000 * (time.process_time() - cpu) / months,
            "agents": int(model.cadres.n + model.residents.n + len(model.departments.county))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", nargs="?")
    ap.add_argument("b", nargs="?")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--sizes", nargs="+", default=["1e5", "province"], choices=["1e5", "province"])
    ap.add_argument("--json")
    ap.add_argument("--_child")
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        print(json.dumps(child(args._child, args.months)))
        return
    if not (args.a and args.b):
        ap.error("give two checkouts: A (before) and B (after)")
    results: dict = {size: {"A": [], "B": []} for size in args.sizes}
    for _ in range(args.rounds):
        for size in args.sizes:
            for label, tree in (("A", args.a), ("B", args.b)):
                out = subprocess.run([sys.executable, __file__, "--_child", size, "--months", str(args.months),
                                      "--tree", tree], capture_output=True, text=True, check=True)
                results[size][label].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"A = {args.a}\nB = {args.b}\n{args.rounds} rounds x {args.months} recorded months, alternating A and B")
    summary = {}
    for size, runs in results.items():
        agents = runs["A"][0]["agents"]
        summary[size] = {"agents": agents}
        for clock in ("cpu_ms_per_month", "ms_per_month"):
            ms = {k: [r[clock] for r in v] for k, v in runs.items()}
            best = {k: min(v) for k, v in ms.items()}
            median = {k: statistics.median(v) for k, v in ms.items()}
            summary[size][clock] = {"runs": ms, "best": best, "median": median}
            print(f"{size:9s} {agents:>9,} agents, {'CPU ' if clock.startswith('cpu') else 'wall'} ms/month: "
                  f"A best {best['A']:8.1f} (median {median['A']:8.1f}), B best {best['B']:8.1f} (median "
                  f"{median['B']:8.1f}); B/A speed-up {best['A'] / best['B']:.2f}x best, {median['A'] / median['B']:.2f}x "
                  f"median; B best = {agents / best['B'] * 1e3 / 1e6:.2f} M agent-steps/s")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
