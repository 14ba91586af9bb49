"""Compare reform designs: paired differences, the chance of meeting the plan's 2027 targets, a ranking.

Designs are run on common random numbers (replicate k of every design sees the
same random streams), so the difference between two designs in replicate k
is the policy's effect in one simulated world. The paired interval of those
differences is narrower than the unpaired one (every replicate of A against
every other replicate of B); the report says by how much.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .registry import COUNTIES_MEETING, HEADLINE, HEADLINE_DIRECTION, INDICATOR_READINGS
from .summary import annual, markdown_table

COMPARE_YEARS = (2024, 2025, 2026, 2027, 2030)


@dataclass(frozen=True)
class Target:
    metric: str
    value: float
    direction: str  # "at_least" or "at_most"
    label: str
    source: str
    reading: str = ""  # which reading of the indicator, for a further one ("" for the indicator's main measure)

    def met(self, values):
        from .registry import PlanTarget, meets

        return meets(values, PlanTarget(value=self.value, direction=self.direction))


TARGET_YEAR = 2027
# Shown first, in this order; the other targets follow in the order of the plan's indicator table.
_FIRST = (*HEADLINE, "meeting_attendance_rate")


def _targets() -> tuple[Target, ...]:
    """The plan's targets for 2027 (policy-facts §3, ``sim/data/plan_indicators.yaml``) that the model
    produces: indicators with a model metric and no other target year. Where the plan's wording allows two
    readings (``reading`` in sim/registry/metrics.yaml), each reading is a target of its own, named by it."""
    from .model.metrics import METRICS
    from .registry import metric as registry_metric
    from .text import plan_indicators

    targets = []
    for ind in plan_indicators():
        if ind.get("target") is None or ind.get("year", TARGET_YEAR) != TARGET_YEAR:
            continue
        value = float(ind["target"])
        shown = f"{value:g}" if "unit" in ind else f"{100 * value:g}%"
        sign = ">=" if ind["direction"] == "at_least" else "<="
        # the metrics measuring it (sim/registry/metrics.yaml): its main measure, then further readings
        for k, metric in enumerate(INDICATOR_READINGS.get(ind["id"], ())):
            if metric not in METRICS:
                continue
            reading = registry_metric(metric).reading
            name = f"{ind['en']}, {reading.en}" if k and reading else ind["en"]
            targets.append(Target(metric, value, ind["direction"], f"{name} {sign} {shown}", ind["source"],
                                  reading.en if k and reading else ""))
    first = {m: i for i, m in enumerate(_FIRST)}
    return tuple(sorted(targets, key=lambda t: first.get(t.metric, len(first))))


TARGETS_2027: tuple[Target, ...] = _targets()


def replicate_values(series: pd.DataFrame, years=COMPARE_YEARS, region: str = "all") -> pd.DataFrame:
    """Annual value per design (scenario), metric, year and replicate."""
    a = annual(series, region=region)
    a = a[a["year"].isin(years)].copy()
    a["scenario"] = a["scenario"].astype(str)
    a["metric"] = a["metric"].astype(str)
    return a


def _interval(values: np.ndarray, level: float = 0.90) -> tuple[float, float]:
    lo = (1 - level) / 2
    return float(np.quantile(values, lo)), float(np.quantile(values, 1 - lo))


def differences(values: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each design minus the reference, per metric and year: mean, paired and unpaired 90% intervals."""
    rows = []
    wide = values.pivot_table(index=["metric", "year", "replicate"], columns="scenario", values="value")
    for (metric, year), block in wide.groupby(level=["metric", "year"]):
        ref = block[reference].to_numpy()
        for design in block.columns:
            if design == reference:
                continue
            a = block[design].to_numpy()
            paired = a - ref
            unpaired = (a[:, None] - ref[None, :])[~np.eye(len(a), dtype=bool)] if len(a) > 1 else paired
            p_lo, p_hi = _interval(paired)
            u_lo, u_hi = _interval(unpaired)
            rows.append({"design": design, "reference": reference, "metric": metric, "year": int(year),
                         "difference": float(paired.mean()), "paired_low": p_lo, "paired_high": p_hi,
                         "unpaired_low": u_lo, "unpaired_high": u_hi,
                         "paired_width_share": (p_hi - p_lo) / (u_hi - u_lo) if u_hi > u_lo else np.nan})
    return pd.DataFrame(rows)


def levels(values: pd.DataFrame) -> pd.DataFrame:
    """Each design's mean and 90% interval over replicates, per metric and year."""
    out = values.groupby(["scenario", "metric", "year"])["value"].agg(
        mean="mean", low=lambda v: v.quantile(0.05), high=lambda v: v.quantile(0.95), replicates="count")
    return out.reset_index().rename(columns={"scenario": "design"})


# metric -> the metric that is the share of counties meeting its target (where the plan states it per county)
_COUNTIES_MET = {source: name for name, source in COUNTIES_MEETING.items()}


def target_attainment(values: pd.DataFrame, targets=TARGETS_2027, year: int = TARGET_YEAR) -> pd.DataFrame:
    """Per design and target: the share of replicates whose ``year`` value meets it (the value pooled over
    counties), the mean shortfall, and where the plan states the target per county (``counties_meeting`` in
    sim/registry/metrics.yaml) the mean share of counties meeting it themselves (NaN elsewhere)."""
    rows = []
    for design, block in values[values["year"] == year].groupby("scenario"):
        for t in targets:
            v = block.loc[block["metric"] == t.metric, "value"].to_numpy()
            if not len(v):
                continue
            gap = (t.value - v) if t.direction == "at_least" else (v - t.value)
            counties = block.loc[block["metric"] == _COUNTIES_MET.get(t.metric), "value"].to_numpy()
            rows.append({"design": design, "target": t.label, "metric": t.metric, "target_value": t.value,
                         "direction": t.direction, "source": t.source, "reading": t.reading,
                         "probability": float(t.met(v).mean()), "mean": float(v.mean()),
                         "mean_shortfall": float(np.clip(gap, 0, None).mean()),
                         "share_of_counties_meeting": float(counties.mean()) if len(counties) else float("nan")})
    return pd.DataFrame(rows)


LIKELY = 0.5  # a target is "likely met" by a design that meets it in more than this share of its runs


def likely_met(probability):
    """Whether a chance of meeting a target counts as meeting it: met in more than :data:`LIKELY` (half) of the
    runs, so that 1 of 2 replicates is not "met" (a tie between met and missed is not a majority)."""
    return probability > LIKELY


def ranking(attainment: pd.DataFrame, order=None) -> pd.DataFrame:
    """Designs ranked by the targets they likely meet (in more than :data:`LIKELY` of the replicates:
    :func:`likely_met`), then by their mean chance of meeting a target. Designs equal on both share a rank
    (``tied`` True) and keep the order they were run in (``order``, else as they come in ``attainment``): a
    tie is not broken by name.
    ``missed`` lists the targets not likely met, with the mean 2027 value and the mean shortfall (shares in
    percent); ``missed_metrics`` their metrics. An indicator counts once, by its main measure (its further
    readings are in the attainment table, not in the ranking)."""
    if "reading" in attainment:
        attainment = attainment[attainment["reading"].fillna("") == ""]
    present = list(dict.fromkeys(attainment["design"]))
    order = [d for d in (order or []) if d in present] + [d for d in present if d not in (order or [])]
    rows = []
    for design in order:
        b = attainment[attainment["design"] == design]
        short = b[~likely_met(b["probability"])]
        rows.append({"design": design, "targets_likely_met": int(likely_met(b["probability"]).sum()),
                     "mean_probability": float(b["probability"].mean()),
                     "missed": "; ".join(f"{r.target} (mean {_shown(r.target_value, r['mean'], r.target)}, "
                                         f"short by {_shown(r.target_value, r.mean_shortfall, r.target)})"
                                         for _, r in short.iterrows()),
                     "missed_metrics": ";".join(short["metric"])})
    table = pd.DataFrame(rows)
    if table.empty:
        return table.assign(rank=[], tied=[])
    key = list(zip(table["targets_likely_met"], table["mean_probability"].round(12)))
    table["rank"] = [1 + sum(other > mine for other in key) for mine in key]
    table["tied"] = table["rank"].map(table["rank"].value_counts()) > 1
    table = table.sort_values("rank", kind="stable")
    return table[["rank", "design", "tied", "targets_likely_met", "mean_probability", "missed", "missed_metrics"]] \
        .reset_index(drop=True)


def _shown(target_value: float, value: float, label: str) -> str:
    """A value beside a target: in percent where the target is given in percent."""
    return f"{100 * value:.1f}%" if label.endswith("%") else f"{value:.3g}"


def runs_phrase(replicates: int, draws: int = 0) -> str:
    """How many runs a design's numbers pool, and what their spread includes."""
    if not draws:
        return f"{replicates} replicates per design on common random numbers"
    return (f"{draws} posterior parameter draws x {replicates} replicates = {draws * replicates} runs per design, "
            "paired across designs (draw d's replicate r is the same parameters and random numbers in every "
            "design); the spread includes parameter uncertainty and simulation noise")


def check_runs(replicates: int, draws=None) -> None:
    """A comparison's intervals need at least two runs per design (replicates, or draws x replicates)."""
    runs = replicates * (1 if draws is None else len(draws))
    if runs < 2:
        raise ValueError(f"a comparison needs at least 2 runs per design for its intervals, got {runs} "
                         f"({replicates} replicate(s){'' if draws is None else f' x {len(draws)} draw(s)'}); "
                         "give -n 2 or more, or --draws 2 or more")


def compare_report(level_table, diff_table, attainment, ranks, replicates: int, reference: str,
                   draws: int = 0) -> str:
    """The comparison in Markdown (``draws``: parameter sets the ``replicates`` were run under, 0 for none)."""
    headline = HEADLINE
    d = diff_table[diff_table["metric"].isin(headline)]
    narrower = 1 - d["paired_width_share"].median() if len(d) else float("nan")
    lines = ["# Comparison of designs", "",
             f"{runs_phrase(replicates, draws)}; differences are design minus "
             f"`{reference}`. The paired 90% intervals of the headline outcomes are a median "
             f"{100 * narrower:.0f}% narrower than unpaired ones.", "",
             "## Ranking by the plan's 2027 targets", "",
             f"A design meets a target when it does in more than {100 * LIKELY:.0f}% of the replicates; designs are "
             "ranked by the targets they meet, then by their mean chance of meeting a target; designs equal on both "
             "share a rank (`tied`). A year's value is the mean of its twelve months.", "",
             markdown_table(ranks.drop(columns=["missed_metrics"], errors="ignore")), "",
             "## Probability of meeting each 2027 target", "",
             markdown_table(attainment.pivot_table(index="target", columns="design", values="probability"),
                            digits=2, index=True), "",
             *_per_county_section(attainment),
             "## Differences from the reference (headline outcomes)", "",
             markdown_table(d.drop(columns=["reference"]), digits=4), "",
             "## Levels", "",
             markdown_table(level_table[level_table["metric"].isin(headline)], digits=4), ""]
    return "\n".join(lines)


def _per_county_section(attainment: pd.DataFrame) -> list[str]:
    """The share of counties meeting each target the plan states per county, beside the chance that the
    value pooled over counties meets it (the probability above); nothing if no such target was produced."""
    if "share_of_counties_meeting" not in attainment:
        return []
    per_county = attainment.dropna(subset=["share_of_counties_meeting"])
    if per_county.empty:
        return []
    return ["## Share of counties meeting the targets stated per county (2027, mean over replicates)", "",
            "A county meets the target when its own value does; the probability above is for the value pooled "
            "over counties, which a cut set exactly at the target reaches only if every county implements it.", "",
            markdown_table(per_county.pivot_table(index="target", columns="design",
                                                  values="share_of_counties_meeting"), digits=2, index=True), ""]


def design_names(loaded: list) -> list[str]:
    """The designs' scenario names, in order; a ``ValueError`` naming the config files if two share a name
    (the same file given twice, or two files with the same ``name:``): their results could not be told apart."""
    names, sources = [], {}
    for item in loaded:
        name = getattr(item, "scenario", item).name
        names.append(name)
        sources.setdefault(name, []).append(getattr(item, "path", None))
    problems = []
    for name, paths in sources.items():
        if len(paths) < 2:
            continue
        if None in paths:
            problems.append(f"{len(paths)} scenarios are named {name!r}")
        elif len({Path(p).resolve() for p in paths}) == 1:
            problems.append(f"{paths[0]} is given {len(paths)} times (scenario {name!r}); list each config once")
        else:
            problems.append(f"{' and '.join(paths)} share the scenario name {name!r}; give each its own `name:`")
    if problems:
        raise ValueError("each scenario needs its own name, or its results could not be told apart: "
                         + "; ".join(problems))
    return names


def check_designs(loaded: list, reference: str | None = None) -> str:
    """Refuse, before anything runs, designs that cannot be compared: fewer than two, two with one name, or
    a ``reference`` that is none of them. Returns the reference (default: the first design)."""
    names = design_names(loaded)
    if len(names) < 2:
        raise ValueError(f"a comparison needs at least two designs, got {len(names)}"
                         + (f" ({names[0]})" if names else "") + "; `grassroots run` runs a single design")
    if reference is not None and reference not in names:
        raise ValueError(f"reference {reference!r} is not one of the designs: {', '.join(names)}")
    return reference or names[0]


def compare(loaded: list, replicates: int, seed: int = 0, reference: str | None = None, workers: int = 1,
            dask: str | None = None, progress: bool = False, executor: Executor | None = None,
            draws: pd.DataFrame | None = None) -> dict:
    """Run the designs paired by replicate and compute levels, differences, target attainment and ranking.

    With ``draws`` (parameter sets, ``sim.posterior.ensemble_draws``), ``replicates`` runs per parameter set
    (``sim.run.run_scenarios``): draw d's replicate r is the same world for every design, and intervals,
    target chances and the ranking are over all draws x replicates, so they include parameter uncertainty.
    Designs that cannot be compared (see ``check_designs``) are refused before anything runs."""
    from .run import run_scenarios

    reference = check_designs(loaded, reference)
    check_runs(replicates, draws)
    result = run_scenarios(loaded, replicates, seed=seed, workers=workers, dask=dask, progress=progress,
                           executor=executor, draws=draws)
    values = replicate_values(result.series)
    level_table, diff_table = levels(values), differences(values, reference)
    attainment = target_attainment(values)
    ranks = ranking(attainment, order=design_names(loaded))
    return {"levels": level_table, "differences": diff_table, "attainment": attainment, "ranking": ranks,
            "report": compare_report(level_table, diff_table, attainment, ranks, replicates, reference,
                                     draws=0 if draws is None else len(draws)),
            "manifest": {**result.manifest, "reference": reference}, "series": result.series}


COMPARE_TABLES = ("levels", "differences", "attainment", "ranking")


def compare_and_write(loaded: list, replicates: int, out: str | Path, seed: int = 0, reference: str | None = None,
                      workers: int = 1, dask: str | None = None, uncertainty: str | Path | None = None,
                      progress: bool = False, draws: pd.DataFrame | None = None) -> dict:
    """:func:`compare` the designs and write the comparison into ``out`` as one set (all of it or none):
    ``levels.csv``, ``differences.csv``, ``attainment.csv``, ``ranking.csv``, ``report.md``, ``series.parquet``
    and ``manifest.json``. With an ``uncertainty`` spec, also :func:`robustness` across the futures it samples:
    ``robustness_shares.csv``, ``robustness_regret.csv`` and a section of ``report.md``.

    Returns what :func:`compare` returns, its ``report`` with the robustness section, and ``robustness`` (or
    None). Refused before anything runs: designs that cannot be compared (:func:`check_designs`), an
    uncertainty spec that cannot be read (``ConfigError``) or does not fit a design (``ValueError``), an
    ``out`` that cannot be written."""
    from .store import check_writable, write_run

    check_designs(loaded, reference)
    check_runs(replicates, draws)
    if uncertainty:
        robustness_futures(loaded, uncertainty)
    check_writable(out)
    result = compare(loaded, replicates, seed=seed, reference=reference, workers=workers, dask=dask,
                     progress=progress, draws=draws)
    files = {f"{name}.csv": result[name].to_csv(index=False) for name in COMPARE_TABLES}
    robust = None
    if uncertainty:
        robust = robustness(loaded, uncertainty, workers=workers, dask=dask)
        files["robustness_shares.csv"] = robust["shares"].to_csv(index=False)
        files["robustness_regret.csv"] = robust["regret"].to_csv(index=False)
        result = {**result, "report": result["report"] + "\n" + robustness_report(robust)}
    files["report.md"] = result["report"]
    write_run(out, result["series"], result["manifest"], extra=files)
    return {**result, "robustness": robust}


# --------------------------------------------------------------------------- robustness across futures


def _future_task(resolved, point, counties, seed, replicate, metrics):
    from .experiments import run_point

    frame = run_point(resolved, point, counties, seed, replicate, list(metrics), [TARGET_YEAR])
    frame = frame[frame["region"] == "all"]
    return dict(zip(frame["metric"], frame["value"].astype(float)))


def robustness_futures(loaded: list, spec_path):
    """The uncertainty spec and the futures it samples. A spec that cannot be read (``ConfigError``) or whose
    key paths or values do not fit a design (``ValueError``) is refused here, before anything runs."""
    from .experiments import check_points, design_matrix, load_spec

    spec, _, _ = load_spec(spec_path)
    futures = design_matrix(spec)
    for item in loaded:
        check_points(spec_path, item.resolved, futures, spec.counties)
    return spec, futures


def robustness(loaded: list, spec_path, workers: int = 1, dask: str | None = None,
               executor: Executor | None = None) -> dict:
    """Evaluate each design across the futures an uncertainty spec samples (EMA Workbench style).

    The spec's ``uncertainties`` and ``design`` (e.g. a Latin hypercube) give the futures, its
    ``replicates``, ``seed`` and ``counties`` how each is run. Returns, per design and 2027 target, the
    share of futures in which the design meets it (replicate mean), and per design and headline outcome
    the worst-case regret: the largest shortfall, over futures, from the best design in that future.
    """
    from .run import executor_context, map_tasks

    spec, futures = robustness_futures(loaded, spec_path)
    metrics = sorted({t.metric for t in TARGETS_2027} | set(HEADLINE_DIRECTION))
    jobs = [(d, f, r) for d in range(len(loaded)) for f in range(len(futures)) for r in range(spec.replicates)]
    points = futures.to_dict("records")
    with executor_context(executor, workers, dask) as pool:
        args = [(loaded[d].resolved, points[f], spec.counties, spec.seed, r, metrics) for d, f, r in jobs]
        results = list(map_tasks(pool, _future_task, *zip(*args)))
    rows = [{"design": loaded[d].scenario.name, "future": f, "replicate": r, "metric": m, "value": v}
            for (d, f, r), res in zip(jobs, results) for m, v in res.items()]
    values = pd.DataFrame(rows).groupby(["design", "future", "metric"])["value"].mean().reset_index()
    shares = []
    for t in TARGETS_2027:
        v = values[values["metric"] == t.metric]
        for design, block in v.groupby("design"):
            shares.append({"design": design, "target": t.label, "share_of_futures_met": float(t.met(block["value"]).mean())})
    regrets = []
    for metric, sign in HEADLINE_DIRECTION.items():
        wide = values[values["metric"] == metric].pivot(index="future", columns="design", values="value") * sign
        regret = wide.max(axis=1).to_numpy()[:, None] - wide.to_numpy()
        for j, design in enumerate(wide.columns):
            regrets.append({"design": design, "metric": metric, "worst_case_regret": float(regret[:, j].max()),
                            "mean_regret": float(regret[:, j].mean())})
    return {"futures": futures, "values": values, "shares": pd.DataFrame(shares), "regret": pd.DataFrame(regrets)}


def robustness_report(result: dict) -> str:
    shares = result["shares"].pivot(index="target", columns="design", values="share_of_futures_met")
    return "\n".join(["## Robustness across futures", "",
                      f"{len(result['futures'])} sampled futures (uncertainties: "
                      f"{', '.join(result['futures'].columns)}).", "",
                      "Share of futures in which each 2027 target is met:", "",
                      markdown_table(shares, digits=2, index=True), "",
                      "Regret (shortfall from the best design in the same future; turnover counted downward):", "",
                      markdown_table(result["regret"], digits=3), ""])
