"""Does a smaller geography give the province's forecast under parameter draws? The plan against the
baseline with 40 posterior draws x 1 replicate, at province scale (90 counties) and at a smaller number of
counties, the same draws and seed; their 2027 headline forecasts side by side, with the tolerance stated
before the comparison. Writes docs/forecast-geography.md and results/draws_geography/*.csv.

    python experiments/draws_geography.py [--counties 30] [--draws 40] [--workers 2]

Why it can: under draws the spread of a forecast is mostly parameter uncertainty, which is the same at any
geography (a draw is one value for every county), while the simulation noise a smaller geography adds is
small beside it. Why it might not: the province mixes regions and urban/rural counties in fixed shares; a
geography keeps the shares, but with fewer counties the pilots, the counties' adoption months and their
draws of fidelity are fewer, so a value can move.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.compare import TARGETS_2027, compare, likely_met
from sim.config import load_scenario, scenario_from_dict
from sim.experiments import apply_point
from sim.posterior import ensemble_draws
from sim.registry import HEADLINE
from sim.store import atomic_write_text

# fixed before the comparison: a smaller geography "reproduces" the province when, for every headline outcome
# in 2027 under the plan and as the plan's difference from the baseline,
TOLERANCE = {"mean": 0.01,        # the means over draws differ by at most 1 percentage point,
             "interval": 0.02,    # each end of the 90% interval by at most 2 points,
             "chance": 0.10}      # and the chance of meeting the target by at most 0.10 (40 draws: se ~0.07)


def headline_2027(result: dict) -> pd.DataFrame:
    """Per draw, each headline outcome's 2027 value under the plan and its difference from the baseline."""
    series = result["series"]
    rows = series[(series["region"] == "all") & (series["group"] == "all") & series["metric"].isin(HEADLINE)
                  & (pd.DatetimeIndex(series["date"]).year == 2027)]
    values = rows.groupby(["scenario", "metric", "draw"], observed=True)["value"].mean().unstack("scenario")
    return pd.DataFrame({"plan": values["plan"], "difference": values["plan"] - values["baseline"]})


def summary(per_draw: pd.DataFrame) -> pd.DataFrame:
    targets = {t.metric: t for t in TARGETS_2027}
    out = []
    for metric, block in per_draw.groupby(level="metric"):
        for kind in ("plan", "difference"):
            v = block[kind].to_numpy()
            row = {"metric": metric, "what": kind, "mean": v.mean(), "q05": np.quantile(v, 0.05),
                   "q95": np.quantile(v, 0.95)}
            if kind == "plan" and metric in targets:
                row["chance"] = float(np.mean(targets[metric].met(v)))
            out.append(row)
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=30)
    parser.add_argument("--province", type=int, default=None, help="counties of the reference (default: the config's)")
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/draws_geography")
    parser.add_argument("--report", default="docs/forecast-geography.md")
    args = parser.parse_args()
    draws = ensemble_draws(args.draws)
    configs = [load_scenario(path).resolved for path in ("configs/baseline.yaml", "configs/plan.yaml")]
    province = args.province or configs[0]["geography"]["counties"]
    results, seconds = {}, {}
    for counties in (province, args.counties):
        scenarios = [scenario_from_dict(apply_point(c, {}, counties)) for c in configs]
        started = time.perf_counter()
        results[counties] = headline_2027(compare(scenarios, 1, seed=args.seed, workers=args.workers,
                                                  progress=True, draws=draws))
        seconds[counties] = time.perf_counter() - started
        print(f"{counties} counties: {seconds[counties]:.0f} s", flush=True)
    big, small = (summary(results[c]).set_index(["metric", "what"]) for c in (province, args.counties))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for c in (province, args.counties):
        results[c].to_csv(out / f"per_draw_{c}.csv")
    rows, ok = [], True
    for key in big.index:
        b, s = big.loc[key], small.loc[key]
        gaps = {"mean": abs(b["mean"] - s["mean"]), "interval": max(abs(b["q05"] - s["q05"]), abs(b["q95"] - s["q95"])),
                "chance": abs(b.get("chance", np.nan) - s.get("chance", np.nan))}
        inside = all(not (gaps[k] > TOLERANCE[k]) for k in TOLERANCE)  # NaN (no target): not a failure
        ok &= inside
        r = np.corrcoef(results[province].loc[key[0], key[1]], results[args.counties].loc[key[0], key[1]])[0, 1]
        rows.append((key, b, s, gaps, inside, r))

    def pct(x):
        return f"{100 * x:.1f}%" if np.isfinite(x) else "-"

    def chance(x):
        return f"{x:.2f}" if np.isfinite(x) else "-"

    lines = ["# Forecasts under parameter draws: a smaller geography for the province", "",
             f"Written by `python experiments/draws_geography.py` ({args.draws} posterior draws x 1 replicate, "
             f"`configs/plan.yaml` against `configs/baseline.yaml`, seed {args.seed}, {args.workers} workers): "
             f"the same draws at {province} counties (the province) and at {args.counties}. "
             f"**{province} counties took {seconds[province] / 60:.1f} min; {args.counties} counties took "
             f"{seconds[args.counties] / 60:.1f} min.**", "",
             "The tolerance was fixed before the comparison: the means over draws within "
             f"{100 * TOLERANCE['mean']:.0f} percentage point, each end of the 90% interval within "
             f"{100 * TOLERANCE['interval']:.0f} points, the chance of meeting the 2027 target within "
             f"{TOLERANCE['chance']:.2f} (with {args.draws} draws its standard error is at most "
             f"{np.sqrt(0.25 / args.draws):.2f}).", "",
             f"**Result: {'within' if ok else 'NOT within'} tolerance on every line.**", "",
             f"| 2027 | {province} counties: mean [90%] | chance | {args.counties} counties: mean [90%] | chance | "
             "largest gap (mean / interval / chance) | per-draw correlation | within |",
             "|---|---|---|---|---|---|---|---|"]
    for (metric, what), b, s, gaps, inside, r in rows:
        label = f"{metric}, {'plan' if what == 'plan' else 'plan minus baseline'}"
        lines.append(f"| {label} | {pct(b['mean'])} [{pct(b['q05'])}, {pct(b['q95'])}] | "
                     f"{chance(b.get('chance', np.nan))} | {pct(s['mean'])} [{pct(s['q05'])}, {pct(s['q95'])}] | "
                     f"{chance(s.get('chance', np.nan))} | {100 * gaps['mean']:.1f} / {100 * gaps['interval']:.1f} / "
                     f"{chance(gaps['chance'])} | {r:.2f} | {'yes' if inside else '**no**'} |")
    lines += ["", "Chances are shares of draws meeting the target ('-' for a difference, which has no target); a "
              f"design meets a target when the chance is more than 0.5 (`sim.compare.likely_met`: "
              f"{'the same verdicts' if all(likely_met(b.get('chance', 0)) == likely_met(s.get('chance', 0)) for _, b, s, *_ in rows) else 'verdicts differ'} at both geographies). "
              "The per-draw correlation says how much of the spread the parameters carry at both scales."]
    atomic_write_text(args.report, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
