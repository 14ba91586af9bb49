"""How long `grassroots explore` takes to redraw after a lever moves: the design's replicates (the baseline's
are cached, and the months before the phase whose lever moved are taken from a snapshot), then the figures on
the page's runner (worker processes) while the page's tables are worked out, as the page does it.

    python benchmarks/bench_explore.py                 # one county, 5 replicates, 2 workers
    python benchmarks/bench_explore.py --geography province --replicates 2
    python benchmarks/bench_explore.py --no-snapshots   # every replicate from the start, for comparison

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
    parser.add_argument("--no-snapshots", action="store_true",
                        help="run every replicate from the start (no snapshots kept): the redraw before them")
    args = parser.parse_args()

    from sim import explore as X

    runner = X.Runner(args.workers, snapshot_bytes=0 if args.no_snapshots else 2 * 1024**3)
    try:
        started = time.perf_counter()
        runner.warm()
        print(f"workers started and warm: {time.perf_counter() - started:.1f} s (load {os.getloadavg()[0]:.1f})")
        design = X.Design(args.start, geography=args.geography, replicates=args.replicates)
        for step, value in enumerate((None, 1.0, 1.1, 1.2)):
            if value is not None:
                design = design.with_change("committee_pay_ratio", "rollout", value)
            started = time.perf_counter()
            series, manifest = X.run_series(design, runner)  # as the page does it (sim.explore_app.run_task)
            ran = time.perf_counter() - started
            drawing = runner.start_drawing(series, manifest, "en")
            result = X.tables_of(series, manifest)
            X.difference_rows(result), X.attainment_rows(result)
            tabled = time.perf_counter() - started
            came = {}
            runner.drawn(drawing, each=lambda name, png: came.setdefault(name, time.perf_counter() - started))
            drawn = time.perf_counter() - started
            what = "first comparison (baseline and design)" if value is None else f"pay ratio {value} (design only)"
            print(f"{what}: runs {ran:.2f} s, tables shown {tabled:.2f} s, headline figure {came['headline']:.2f} s, "
                  f"all figures {drawn:.2f} s (load {os.getloadavg()[0]:.1f})")
    finally:
        runner.close()


if __name__ == "__main__":
    main()
