"""How long `grassroots explore` takes to redraw after a lever moves: the design's replicates (the baseline's
are cached), the page's tables, then the figures, on the page's runner (worker processes).

    python benchmarks/bench_explore.py                 # one county, 5 replicates, 2 workers
    python benchmarks/bench_explore.py --geography province --replicates 2

Prints the first comparison (baseline and design both run) and three lever changes (the design only).
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geography", default="county")
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--start", default="configs/plan.yaml")
    args = parser.parse_args()

    from sim import explore as X

    runner = X.Runner(args.workers)
    try:
        started = time.perf_counter()
        runner.warm()
        print(f"workers started and warm: {time.perf_counter() - started:.1f} s (load {os.getloadavg()[0]:.1f})")
        design = X.Design(args.start, geography=args.geography, replicates=args.replicates)
        for step, value in enumerate((None, 1.0, 1.1, 1.2)):
            if value is not None:
                design = design.with_change("committee_pay_ratio", "rollout", value)
            started = time.perf_counter()
            result = X.run_comparison(design, runner)
            ran = time.perf_counter() - started
            X.difference_rows(result), X.attainment_rows(result)
            tabled = time.perf_counter() - started
            runner.draw(result.series, result.manifest, "en")
            drawn = time.perf_counter() - started
            what = "first comparison (baseline and design)" if value is None else f"pay ratio {value} (design only)"
            print(f"{what}: runs {ran:.2f} s, tables shown {tabled:.2f} s, all figures {drawn:.2f} s "
                  f"(load {os.getloadavg()[0]:.1f})")
    finally:
        runner.close()


if __name__ == "__main__":
    main()
