"""National-scale run: wall time, peak memory and where the time goes.

Runs one replicate of configs/national.yaml (about 2,844 counties, 580,000
committees, 7.6 million cadre posts, 9.3 million sampled residents) in this
process, then prints:

- construction time, seconds per month over the timed months and the whole
  replicate's time (construction + 120 x seconds per month; measured, not
  extrapolated, when the whole horizon is run);
- peak resident memory of the process (VmHWM from /proc/self/status);
- a profile of a few months (cProfile, functions under sim/), so it is clear
  where the time goes.

By default the whole horizon runs (spin-up included), after one warm-up month
and the profiled months. ``--months N`` times only N months, and
``--recorded`` drops the spin-up so that the timed months are recorded
(tallied, dearer) months: ``bench_model.py`` takes its ``national_month_s``
figure that way (``--months 3 --recorded``).

Usage: python benchmarks/bench_national.py [--months N] [--recorded] [--profile-months N] [--json PATH]
[--tree CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import national_months, print_profile, select_tree  # noqa: E402

ROOT = select_tree()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=None, help="time this many months (default: all)")
    parser.add_argument("--recorded", action="store_true", help="no spin-up: the timed months are recorded ones")
    parser.add_argument("--profile-months", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--tree", type=Path, default=None, help="benchmark the sim package of this checkout")
    args = parser.parse_args()

    r = national_months(ROOT, args.months, warm_up=1, profile_months=args.profile_months, recorded=args.recorded)
    print(f"national: {r['counties']:,} counties, {r['townships']:,} townships, {r['committees']:,} committees, "
          f"{r['cadres']:,} cadre posts, {r['residents']:,} sampled residents, {r['departments']:,} departments")
    print(f"construction: {r['build_s']:.1f} s, peak RSS after it {r['rss_after_build_mib']:,.0f} MiB")
    kind = "recorded" if args.recorded else "spin-up and recorded"
    print(f"run: {r['timed_months']} {kind} months in {r['timed_s']:.1f} s = {r['month_s']:.2f} s/month "
          f"({r['agent_steps_per_s'] / 1e6:.1f} M agent-steps/s), after {r['warm_up_months']} warm-up and "
          f"{r['profiled_months']} profiled months")
    whole = "measured" if args.months is None else "estimated"
    print(f"whole replicate ({r['replicate_months']} months incl. spin-up): {r['replicate_s_estimate']:.0f} s = "
          f"{r['replicate_s_estimate'] / 60:.1f} min ({whole}: construction + months x s/month)")
    print(f"peak RSS: {r['peak_rss_mib']:,.0f} MiB")
    if r["profile"]:
        print(f"\nwhere the time goes ({args.profile_months} profiled months, % of profiled time):")
        print_profile(r["profile"])
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
