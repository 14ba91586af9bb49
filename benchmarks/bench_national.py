"""National-scale run: wall time, peak memory and where the time goes.

Runs one replicate of configs/national.yaml (about 2,844 counties, 580,000
committees, 7.6 million cadre posts, 9.3 million sampled residents) from
construction to December 2030 in this process, then prints:

- construction time, run time, months simulated and seconds per month;
- peak resident memory of the process (VmHWM from /proc/self/status);
- a profile of a few months (cProfile, functions under sim/), so it is clear
  where the time goes.

Usage: python benchmarks/bench_national.py [--months N] [--profile-months N] [--json PATH]
(--months limits the run for a quick look; the default runs the whole horizon).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=None, help="stop after this many months (default: all)")
    parser.add_argument("--profile-months", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from sim import GrassrootsModel, load_scenario

    scenario = load_scenario(ROOT / "configs" / "national.yaml").scenario
    t0 = time.perf_counter()
    model = GrassrootsModel(scenario, seed=0, replicate=0)
    build = time.perf_counter() - t0
    print(f"national: {model.places.n_counties:,} counties, {model.places.n_townships:,} townships, "
          f"{model.places.n_committees:,} committees, {model.cadres.n:,} cadre posts, "
          f"{model.residents.n:,} sampled residents, {len(model.departments.county):,} departments")
    print(f"construction: {build:.1f} s, peak RSS so far {peak_rss_mib():,.0f} MiB")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.profile_months):
        model.step()
    profiler.disable()
    total_months = model.calendar.end - model.calendar.spin_up_start + 1
    limit = total_months if args.months is None else min(args.months, total_months)
    t1 = time.perf_counter()
    while model.month <= model.calendar.end and (model.month - model.calendar.spin_up_start) < limit:
        model.step()
    run_time = time.perf_counter() - t1
    months = limit - args.profile_months
    per_month = run_time / max(months, 1)
    whole = build + per_month * total_months
    agents = model.cadres.n + model.residents.n + len(model.departments.county)
    print(f"run: {months} months in {run_time:.1f} s = {per_month:.2f} s/month "
          f"({agents * months / run_time / 1e6:.1f} M agent-steps/s)")
    print(f"whole horizon ({total_months} months incl. spin-up): {whole:.0f} s = {whole / 60:.1f} min "
          f"{'(measured)' if args.months is None else '(extrapolated)'}")
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB")

    stats = pstats.Stats(profiler)
    total = sum(v[3] for v in stats.stats.values() if v) or 1.0
    rows = sorted(((v[3], v[2], k) for k, v in stats.stats.items() if "/sim/" in k[0]), reverse=True)[:15]
    print(f"\nwhere the time goes ({args.profile_months} profiled months, cumulative % of step time):")
    step_total = max(r[0] for r in rows) if rows else total
    for cum, own, (file, line, name) in rows:
        short = file.split("/sim/")[-1]
        print(f"  {100 * cum / step_total:5.1f}%  self {100 * own / step_total:5.1f}%  {short}:{line}({name})")
    if args.json:
        args.json.write_text(json.dumps({"build_s": build, "s_per_month": per_month, "whole_run_s": whole,
                                         "peak_rss_mib": peak_rss_mib(), "agents": agents}, indent=2))


if __name__ == "__main__":
    main()
