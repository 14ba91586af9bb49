"""Experiment sweeps: a spec of levers and uncertainties, a design, replicates; resumable runs.

A spec (``experiments/*.yaml``) names the config to start from, the levers
(the reform design) and uncertainties (behaviour, fidelity, resistance) to
vary by their config key paths, the design (full factorial, Latin hypercube,
Sobol/Saltelli or Morris from SALib, or an explicit list of scenarios),
replicates, and the outcomes and years to keep.

``run_sweep`` runs every (design point, replicate) once:

- in replicate-major order (every point's replicate 0, then every point's
  replicate 1, ...), so a partial sweep already covers the design;
- streaming each finished run to its own Parquet part under
  ``results/<name>/parts/`` (written atomically): memory stays flat and an
  interrupted sweep, started again, runs only the missing parts;
- recording a run that raises under ``results/<name>/failed/`` with its error
  and parameters, without stopping the sweep (failed runs are tried again on
  resume);
- with replicate k drawing the same random streams at every design point
  (common random numbers), so results are identical serially, on a process
  pool or on Dask.
"""

from __future__ import annotations

import itertools
import json
import time
import traceback
from concurrent.futures import Executor, as_completed
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from .config import load_scenario, scenario_from_dict
from .config.loader import load
from .config.schema import Strict
from .store import atomic_write, atomic_write_text
from .summary import annual

# --------------------------------------------------------------------------- the spec


class Factor(Strict):
    """A config value to vary: explicit levels, or a continuous range [low, high]."""

    levels: list[float] | None = None
    range: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "Factor":
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either 'levels' (a list) or 'range' ([low, high]), not both or neither")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"@range: low must be below high (got {list(self.range)})")
        if self.levels is not None and not self.levels:
            raise ValueError("@levels: give at least one level")
        return self


class Design(Strict):
    kind: Literal["factorial", "latin_hypercube", "sobol", "morris", "scenarios"]
    samples: int | None = Field(None, ge=1, description="LHS points, or N of Saltelli (Sobol) / Morris trajectories")
    seed: int = Field(0, ge=0, description="seed of the sampler (the design matrix), not of the model")


class Spec(Strict):
    """An experiment: what to start from, what to vary, how, how often, what to keep."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    config: str
    levers: dict[str, Factor] = {}
    uncertainties: dict[str, Factor] = {}
    scenarios: list[dict[str, float]] | None = None
    design: Design
    replicates: int = Field(ge=1)
    seed: int = Field(0, ge=0)
    outcomes: list[str] = Field(min_length=1)
    years: list[int] = Field(min_length=1)
    counties: int | None = Field(None, ge=1, description="simulate this many counties (default: the config's)")

    @model_validator(mode="after")
    def _consistent(self) -> "Spec":
        from .model.metrics import METRICS

        unknown = [o for o in self.outcomes if o not in METRICS]
        if unknown:
            raise ValueError(f"@outcomes: unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
        factors = {**self.levers, **self.uncertainties}
        kind = self.design.kind
        if kind == "scenarios":
            if not self.scenarios:
                raise ValueError("@scenarios: a 'scenarios' design needs a list of scenarios (key path: value)")
        elif not factors:
            raise ValueError("@levers: vary at least one lever or uncertainty")
        if kind == "factorial":
            missing = [k for k, f in factors.items() if f.levels is None]
            if missing:
                raise ValueError(f"@design.kind: a factorial design needs 'levels' for {', '.join(missing)}")
        if kind in ("latin_hypercube", "sobol", "morris"):
            missing = [k for k, f in factors.items() if f.range is None]
            if missing:
                raise ValueError(f"@design.kind: a {kind} design needs a 'range' for {', '.join(missing)}")
            if self.design.samples is None:
                raise ValueError(f"@design.samples: a {kind} design needs 'samples'")
        return self

    @property
    def factors(self) -> dict[str, Factor]:
        return {**self.levers, **self.uncertainties}


def load_spec(path: str | Path) -> tuple[Spec, dict, Path]:
    """Read and validate a spec (same safe YAML and error messages as configs)."""
    spec, resolved, _ = load(str(path), Spec)
    return spec, resolved, Path(path).resolve().parent


# --------------------------------------------------------------------------- designs


def design_matrix(spec: Spec) -> pd.DataFrame:
    """One row per design point, one column per varied key path (SALib for the sampled designs)."""
    factors = spec.factors
    names = list(factors)
    kind = spec.design.kind
    if kind == "scenarios":
        return pd.DataFrame(spec.scenarios)
    if kind == "factorial":
        return pd.DataFrame(list(itertools.product(*(factors[n].levels for n in names))), columns=names)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(factors[n].range) for n in names]}
    n = spec.design.samples
    if kind == "latin_hypercube":
        from SALib.sample import latin

        values = latin.sample(problem, n, seed=spec.design.seed)
    elif kind == "sobol":
        from SALib.sample import sobol

        values = sobol.sample(problem, n, calc_second_order=False, seed=spec.design.seed)
    else:
        from SALib.sample import morris

        values = morris.sample(problem, n, seed=spec.design.seed)
    return pd.DataFrame(values, columns=names)


def apply_point(resolved: dict, point: dict, counties: int | None = None) -> dict:
    """A copy of a resolved config with each key path set to the point's value.

    Every key but the last must exist; the last may be new (e.g. a lever's value for a phase
    the config did not set), and a wrong one is refused when the config is validated.
    """
    import copy

    config = copy.deepcopy(resolved)
    for path, value in point.items():
        *parents, leaf = path.split(".")
        node = config
        for depth, key in enumerate(parents):
            if not isinstance(node, dict) or not isinstance(node.get(key), dict):
                raise KeyError(f"'{path}': the config has no mapping at '{'.'.join(parents[:depth + 1])}'")
            node = node[key]
        node[leaf] = float(value)
    if counties is not None:
        config["geography"]["counties"] = counties
        config["pilot"]["counties"] = min(config["pilot"]["counties"], counties)
    return config


# --------------------------------------------------------------------------- running


def run_point(resolved: dict, point: dict, counties: int | None, seed: int, replicate: int, outcomes: list[str],
              years: list[int]) -> pd.DataFrame:
    """Run one design point's replicate and return its kept outcomes (annual means, all counties and by region)."""
    from .run import model_class

    scenario = scenario_from_dict(apply_point(resolved, point, counties))
    series = model_class(scenario.engine)(scenario, seed=seed, replicate=replicate).run().series()
    frames = []
    for region in ("all", "east", "central", "west"):
        a = annual(series, region=region)
        a = a[a["metric"].isin(outcomes) & a["year"].isin(years)]
        frames.append(a.assign(region=region))
    out = pd.concat(frames, ignore_index=True)[["region", "metric", "year", "value"]]
    out["metric"] = out["metric"].astype(str)
    return out


def evaluate(config: str | Path, outcomes=("turnover_rate", "service_time_share", "participation_rate"),
             year: int = 2027, seed: int = 0, replicate: int = 0, counties: int | None = None,
             **point: float) -> dict[str, float]:
    """Run one design point and return its outcomes in ``year`` (all counties): the function a notebook
    or another tool (e.g. EMA Workbench) calls. Keyword names are config key paths with '__' for '.',
    e.g. ``evaluate("configs/plan.yaml", levers__inspections_cut__values__rollout=0.5)``."""
    resolved = load_scenario(config).resolved
    paths = {name.replace("__", "."): value for name, value in point.items()}
    frame = run_point(resolved, paths, counties, seed, replicate, list(outcomes), [year])
    frame = frame[frame["region"] == "all"]
    return dict(zip(frame["metric"], frame["value"].astype(float)))


def _part_name(point: int, replicate: int) -> str:
    return f"point{point:05d}-rep{replicate:03d}"


def _task(resolved, point_id, point, counties, seed, replicate, outcomes, years, out_dir: str):
    """Run one (point, replicate), write its part or its failure record; returns (point, replicate, ok)."""
    out = Path(out_dir)
    name = _part_name(point_id, replicate)
    started = time.perf_counter()
    try:
        frame = run_point(resolved, point, counties, seed, replicate, outcomes, years)
    except Exception as exc:  # a failing run is recorded, not fatal
        record = {"point": point_id, "replicate": replicate, "parameters": point, "error": repr(exc),
                  "traceback": traceback.format_exc()}
        atomic_write_text(out / "failed" / f"{name}.json", json.dumps(record, indent=2, default=str))
        return point_id, replicate, False
    frame.insert(0, "replicate", replicate)
    frame.insert(0, "point", point_id)
    frame["seconds"] = round(time.perf_counter() - started, 3)
    atomic_write(out / "parts" / f"{name}.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
    failed = out / "failed" / f"{name}.json"
    if failed.exists():
        failed.unlink()
    return point_id, replicate, True


def check_points(spec_path, resolved: dict, matrix: pd.DataFrame, counties: int | None) -> None:
    """Refuse a spec whose key paths or values make invalid configs, before anything runs."""
    problems = []
    for path in matrix.columns:
        for value in (matrix[path].min(), matrix[path].max()):
            try:
                scenario_from_dict(apply_point(resolved, {path: value}, counties))
            except (KeyError, ValueError) as exc:
                first = str(exc).splitlines()
                detail = " ".join(line.strip() for line in first[:3])
                problems.append(f"{spec_path}: {path} = {value:g}: {detail}")
                break
    if problems:
        raise ValueError("invalid experiment:\n" + "\n".join(problems))


def run_sweep(spec_path: str | Path, out_root: str | Path = "results", workers: int = 1, dask: str | None = None,
              executor: Executor | None = None, progress: bool = False, max_runs: int | None = None) -> dict:
    """Run (or resume) a sweep; returns a summary: runs done, skipped as already done, failed.

    ``max_runs`` stops after that many new runs (a partial sweep, e.g. to test resuming).
    """
    from .run import _progress, executor_context, versions

    spec, spec_resolved, spec_dir = load_spec(spec_path)
    base = load_scenario((spec_dir / spec.config).resolve())
    matrix = design_matrix(spec)
    check_points(spec_path, base.resolved, matrix, spec.counties)
    out = Path(out_root) / spec.name
    (out / "parts").mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "design.csv", matrix.to_csv(index_label="point"))
    manifest = {"spec": spec_resolved, "spec_file": str(spec_path), "config": str(base.path),
                "config_hash": base.hash, "points": len(matrix), "replicates": spec.replicates, "seed": spec.seed,
                "seeding": "replicate k uses the same streams at every design point (common random numbers)",
                "versions": versions()}
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str))
    done = {p.stem for p in (out / "parts").glob("*.parquet")}
    tasks = [(i, k) for k in range(spec.replicates) for i in range(len(matrix))  # replicate-major: even coverage
             if _part_name(i, k) not in done]
    skipped = len(matrix) * spec.replicates - len(tasks)
    if max_runs is not None:
        tasks = tasks[:max_runs]
    points = matrix.to_dict("records")
    counts = {"done": 0, "failed": 0}
    bar = _progress(len(tasks), progress, desc="sweep")
    args = lambda i, k: (base.resolved, i, points[i], spec.counties, spec.seed, k, spec.outcomes,  # noqa: E731
                         spec.years, str(out))
    try:
        with executor_context(executor, workers, dask) as pool:
            results = ((_task(*args(i, k)) for i, k in tasks) if pool is None else
                       (f.result() for f in as_completed([pool.submit(_task, *args(i, k)) for i, k in tasks])))
            for _, _, ok in results:
                counts["done" if ok else "failed"] += 1
                bar.update(1)
                bar.set_postfix(failed=counts["failed"])
    finally:
        bar.close()
    failed_files = sorted(str(p) for p in (out / "failed").glob("*.json")) if (out / "failed").exists() else []
    return {"name": spec.name, "out": str(out), "planned": len(matrix) * spec.replicates, "ran": counts["done"],
            "failed": counts["failed"], "already_done": skipped, "failure_records": failed_files}


def read_sweep(out_dir: str | Path) -> pd.DataFrame:
    """All finished parts of a sweep, joined with the design matrix (one row per point, replicate, region,
    metric, year)."""
    out = Path(out_dir)
    parts = sorted((out / "parts").glob("*.parquet"))
    if not parts:
        return pd.DataFrame()
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    design = pd.read_csv(out / "design.csv", index_col="point")
    return frame.join(design, on="point").sort_values(["point", "replicate", "region", "metric", "year"],
                                                      ignore_index=True)




# --------------------------------------------------------------------------- analysis


def _outcome_means(table: pd.DataFrame, n_points: int, metric: str, year: int, region: str = "all") -> np.ndarray:
    """Each design point's mean over replicates of one outcome in one year (points in design order)."""
    sel = table[(table["metric"] == metric) & (table["year"] == year) & (table["region"] == region)]
    means = sel.groupby("point")["value"].mean().reindex(range(n_points))
    if means.isna().any():
        missing = int(means.isna().sum())
        raise ValueError(f"{missing} of {n_points} design points have no finished run for {metric} {year}: "
                         f"finish the sweep (run it again) before a sensitivity analysis")
    return means.to_numpy()


def analyze(spec: Spec, table: pd.DataFrame, design: pd.DataFrame, region: str = "all") -> pd.DataFrame:
    """Sensitivity or summary for each outcome and year kept, as a tidy table.

    Sobol designs: first- and total-order indices with 95% bootstrap confidence half-widths (SALib);
    Morris designs: mu*, its confidence half-width, mu and sigma (SALib); other designs: each point's
    mean and 90% interval over replicates.
    """
    names = list(design.columns)
    kind = spec.design.kind
    rows = []
    if kind in ("sobol", "morris"):
        problem = {"num_vars": len(names), "names": names,
                   "bounds": [list(spec.factors[n].range) for n in names]}
        for metric, year in itertools.product(spec.outcomes, spec.years):
            y = _outcome_means(table, len(design), metric, year, region)
            if kind == "sobol":
                from SALib.analyze import sobol

                s = sobol.analyze(problem, y, calc_second_order=False, seed=spec.design.seed)
                for i, name in enumerate(names):
                    rows.append({"metric": metric, "year": year, "factor": name, "S1": s["S1"][i],
                                 "S1_conf": s["S1_conf"][i], "ST": s["ST"][i], "ST_conf": s["ST_conf"][i]})
            else:
                from SALib.analyze import morris

                s = morris.analyze(problem, design.to_numpy(), y, seed=spec.design.seed)
                for i, name in enumerate(names):
                    rows.append({"metric": metric, "year": year, "factor": name, "mu_star": s["mu_star"][i],
                                 "mu_star_conf": s["mu_star_conf"][i], "mu": s["mu"][i], "sigma": s["sigma"][i]})
        return pd.DataFrame(rows)
    sel = table[(table["region"] == region) & table["metric"].isin(spec.outcomes) & table["year"].isin(spec.years)]
    summary = (sel.groupby(["point", "metric", "year"])["value"]
               .agg(mean="mean", low_90=lambda v: v.quantile(0.05), high_90=lambda v: v.quantile(0.95),
                    replicates="count").reset_index())
    return summary.join(design, on="point")


def analyze_sweep(spec_path: str | Path, out_root: str | Path = "results", region: str = "all") -> pd.DataFrame:
    """Analyse a finished sweep's stored parts; writes ``analysis.csv`` beside them and returns it."""
    spec, _, _ = load_spec(spec_path)
    out = Path(out_root) / spec.name
    if not (out / "design.csv").exists():
        raise ValueError(f"no sweep results in {out}: run `grassroots sweep {spec_path}` first")
    table = read_sweep(out)
    design = pd.read_csv(out / "design.csv", index_col="point")
    result = analyze(spec, table, design, region)
    atomic_write_text(out / "analysis.csv", result.to_csv(index=False))
    return result
