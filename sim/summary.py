"""Summaries of a run's series: annual values per replicate, mean and 90% interval."""

from __future__ import annotations

import pandas as pd

from .registry import HEADLINE  # noqa: F401 (the headline outcomes; sim/registry/metrics.yaml)

SUMMARY_YEARS = (2023, 2024, 2026, 2027, 2030)


def annual(series: pd.DataFrame, region: str = "all", group: str = "all") -> pd.DataFrame:
    """Each replicate's annual value of each metric: the mean of its monthly values in that year.

    For annualised monthly rates (turnover) this is the year's rate; for
    shares it is the year's average share.
    """
    sel = series[(series["region"] == region) & (series["group"] == group)]
    sel = sel.assign(year=sel["date"].dt.year)
    return (sel.groupby(["scenario", "metric", "year", "replicate"], observed=True)["value"].mean()
            .reset_index())


def interval_summary(series: pd.DataFrame, metrics=HEADLINE, years=SUMMARY_YEARS, region: str = "all",
                     group: str = "all", level: float = 0.90) -> pd.DataFrame:
    """Mean and central ``level`` interval over replicates, per scenario, metric and year."""
    a = annual(series, region, group)
    a = a[a["metric"].isin(metrics) & a["year"].isin(years)]
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    out = (a.groupby(["scenario", "metric", "year"], observed=True)["value"]
           .agg(mean="mean", low=lambda v: v.quantile(lo), high=lambda v: v.quantile(hi), n="count")
           .reset_index())
    return out


def format_summary(summary: pd.DataFrame) -> str:
    """A compact text table: one row per scenario and metric, one column per year ('mean [low, high]')."""
    pct = summary.assign(cell=summary.apply(
        lambda r: f"{100 * r['mean']:5.1f}% [{100 * r['low']:4.1f}, {100 * r['high']:4.1f}]", axis=1))
    table = pct.pivot_table(index=["scenario", "metric"], columns="year", values="cell", aggfunc="first",
                            observed=True)
    table.columns = [str(c) for c in table.columns]
    n = int(summary["n"].max()) if len(summary) else 0
    return (f"Headline outcomes, all counties: mean [90% interval over {n} replicates]\n"
            + table.to_string())


def markdown_table(frame: pd.DataFrame, digits: int = 3, index: bool = False) -> str:
    """A DataFrame as a Markdown table (numbers to ``digits`` significant digits)."""
    frame = frame.reset_index() if index else frame
    cell = lambda v: f"{v:.{digits}g}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
