"""How far the headline metrics move from one month to the next (issue 13: "reforms roll out over time").

Runs a config for a few replicates, takes the mean over replicates of each headline metric in the
all-regions, all-groups cell, and reports per metric the largest move between two consecutive months
(percentage points, with the month it lands in), and the yearly mean of ``--year``. The goal for
configs/plan.yaml at province scale: no move larger than 3 points. ``--cells`` also reports the largest
move in every region x group cell (the pilot group of 3 counties moves in steps: each county is 1/3 of it).

``--tree PATH`` measures another checkout with the same script (e.g. ``git worktree add /tmp/before
main``), so before/after figures come from one script.

Usage: python benchmarks/rollout_jumps.py [CONFIG] [--replicates 5] [--seed 1] [--year 2027] [--cells]
       [--tree PATH] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

HEADLINE = ("turnover_rate", "service_time_share", "participation_rate")


def one_run(args: tuple[str, str, int, int]):
    tree, config, seed, replicate = args
    sys.path.insert(0, tree)
    from sim import GrassrootsModel

    s = GrassrootsModel(config, seed=seed, replicate=replicate).run().series()
    s = s[s["metric"].isin(HEADLINE)]
    return s[["date", "region", "group", "metric", "value"]].assign(replicate=replicate)


def monthly_means(frames) -> "pd.DataFrame":
    """Mean over replicates: one column per (metric, region, group), one row per month (in points)."""
    import pandas as pd

    s = pd.concat(frames)
    s["metric"] = s["metric"].astype(str)
    table = s.pivot_table(index="date", columns=["metric", "region", "group"], values="value", aggfunc="mean",
                          observed=True)
    return table.sort_index() * 100


def largest_moves(table) -> "pd.DataFrame":
    """Per column: the largest absolute change between consecutive months, and the month it lands in."""
    import pandas as pd

    moves = table.diff().iloc[1:]
    size = moves.abs().max()
    when = moves.abs().idxmax()
    signed = pd.Series({c: moves.loc[when[c], c] for c in moves.columns})
    return pd.DataFrame({"largest_move_pp": size, "signed_pp": signed,
                         "month": [d.strftime("%Y-%m") for d in when]})


def main(argv: list[str] | None = None) -> None:
    from common import select_tree

    root = select_tree(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="configs/plan.yaml")
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--year", type=int, default=2027)
    parser.add_argument("--cells", action="store_true", help="also every region x group cell")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tree", default=None, help="measure the checkout at this path")
    args = parser.parse_args(argv)
    config = str((root / args.config) if not Path(args.config).is_absolute() else args.config)
    jobs = [(str(root), config, args.seed, r) for r in range(args.replicates)]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        frames = list(pool.map(one_run, jobs))
    table = monthly_means(frames)
    moves = largest_moves(table)
    print(f"{args.config} ({root}), seed {args.seed}, {args.replicates} replicates; points (pp)")
    print(f"{'metric':22s} {'largest monthly move':>21s} {'month':>8s} {args.year} mean")
    for metric in HEADLINE:
        key = (metric, "all", "all")
        row = moves.loc[key]
        year_mean = table[key][table.index.year == args.year].mean()
        print(f"{metric:22s} {row.signed_pp:+18.2f} pp {row.month:>8s} {year_mean:8.2f} %")
    if args.cells:
        print("\nlargest move in any region x group cell:")
        for metric in HEADLINE:
            cell = moves.loc[metric]["largest_move_pp"].idxmax()
            row = moves.loc[(metric, *cell)]
            print(f"{metric:22s} {row.signed_pp:+8.2f} pp {row.month} ({cell[0]}, {cell[1]})")


if __name__ == "__main__":
    main()
