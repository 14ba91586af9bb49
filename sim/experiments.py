"""Experiment sweeps: a spec of levers and uncertainties, a design, replicates; resumable runs.

A spec (``experiments/*.yaml``) names the config to start from, the levers
(the reform design) and uncertainties (behaviour, fidelity, resistance) to
vary by their config key paths, the design (full factorial, Latin hypercube,
Sobol/Saltelli or Morris from SALib, or an explicit list of scenarios),
replicates, and the outcomes and years to keep.

``run_sweep`` runs every (design point, replicate) once:

- after checking every design point as a whole config, so nothing runs on a spec that cannot finish;
- in replicate-major order (every point's replicate 0, then every point's
  replicate 1, ...), so a partial sweep already covers the design;
- with each run identified by its ``run_key`` (a hash of the point's resolved
  config, seed, replicate, outcomes, years and code version), listed in
  ``runs.csv`` and written into its part's footer;
- on workers that only compute: the coordinator writes each finished run to
  its own Parquet part under ``results/<name>/parts/`` (atomically, with page
  checksums), so workers need not share its disk and memory stays flat;
- resumably: started again, it runs only the runs with no intact part of the
  right key. A damaged part is run again; a folder holding runs of a different
  spec is refused with what changed (or cleared with ``fresh``), never mixed;
- recording a run that raises under ``results/<name>/failed/`` with its error
  and parameters, without stopping the sweep (failed runs are tried again on
  resume);
- with one sweep per folder at a time (a lock), and the temporary files of a
  killed write removed;
- with replicate k drawing the same random streams at every design point
  (common random numbers), so results are identical serially, on a process
  pool or on Dask.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import itertools
import json
import re
import time
import traceback
import warnings
from concurrent.futures import Executor
from contextlib import closing
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, StrictFloat, StrictInt, model_validator

from . import __version__
from .config import ConfigError, load_scenario, scenario_from_dict, set_paths
from .config.loader import format_path, load
from .config.schema import Strict
from .registry import HEADLINE
from .store import (MANIFEST, ResultsError, atomic_write, atomic_write_text, check_writable, folder_lock, read_json,
                    remove_temporaries, sha256_of)
from .summary import annual

# --------------------------------------------------------------------------- the spec

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"  # a folder name under --out: no path, no leading dot


class Factor(Strict):
    """A config value to vary: explicit levels, or a continuous range [low, high]."""

    levels: list[StrictFloat] | None = None  # strict: YAML `true` or "0.5" is not a level
    range: tuple[StrictFloat, StrictFloat] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "Factor":
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either 'levels' (a list) or 'range' ([low, high]), not both or neither")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"@range: low must be below high (got {list(self.range)})")
        if self.levels is not None and not self.levels:
            raise ValueError("@levels: give at least one level")
        if self.levels is not None and len(set(self.levels)) != len(self.levels):
            raise ValueError(f"@levels: each level once (got {self.levels})")
        return self


class Design(Strict):
    kind: Literal["factorial", "latin_hypercube", "sobol", "morris", "scenarios"]
    samples: StrictInt | None = Field(None, ge=1, le=1_000_000,
                                description="LHS points, or N of Saltelli (Sobol) / Morris trajectories")
    seed: StrictInt = Field(0, ge=0, description="seed of the sampler (the design matrix), not of the model")


class Spec(Strict):
    """An experiment: what to start from, what to vary, how, how often, what to keep."""

    name: str = Field(min_length=1, max_length=120, pattern=NAME_PATTERN,
                      description="the results folder under --out: letters, digits, _ . -, not starting with a dot")
    description: str = ""
    config: str
    levers: dict[str, Factor] = {}
    uncertainties: dict[str, Factor] = {}
    scenarios: list[dict[str, StrictFloat]] | None = None
    design: Design
    replicates: StrictInt = Field(ge=1, le=100_000)
    seed: StrictInt = Field(0, ge=0)
    outcomes: list[str] = Field(min_length=1)
    years: list[StrictInt] = Field(min_length=1)
    counties: StrictInt | None = Field(None, ge=1, le=5000,
                                 description="simulate this many counties (default: the config's)")

    @model_validator(mode="after")
    def _consistent(self) -> "Spec":
        from .registry import METRICS

        unknown = [o for o in self.outcomes if o not in METRICS]
        if unknown:
            raise ValueError(f"@outcomes: unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
        for key in ("outcomes", "years"):
            values = getattr(self, key)
            twice = sorted({str(v) for v in values if values.count(v) > 1})
            if twice:
                raise ValueError(f"@{key}: each once ({', '.join(twice)} given more than once)")
        both = sorted(set(self.levers) & set(self.uncertainties))
        if both:
            raise ValueError(f"@uncertainties: {', '.join(both)} is both a lever and an uncertainty; "
                             "a key is one or the other")
        factors = {**self.levers, **self.uncertainties}
        kind = self.design.kind
        if kind == "scenarios":
            if not self.scenarios:
                raise ValueError("@design.kind: a 'scenarios' design needs a list of 'scenarios' (key path: value)")
            if factors:
                raise ValueError(f"@{'levers' if self.levers else 'uncertainties'}: a 'scenarios' design takes its "
                                 "points from 'scenarios'; levers and uncertainties are not used by it")
            first = list(self.scenarios[0])
            if not first:
                raise ValueError("@scenarios.0: a scenario sets at least one key path")
            for i, point in enumerate(self.scenarios[1:], start=1):
                if set(point) != set(first):
                    missing = sorted(set(first) - set(point))
                    extra = sorted(set(point) - set(first))
                    said = "; ".join(filter(None, [missing and f"does not set {', '.join(missing)}",
                                                   extra and f"sets {', '.join(extra)}"]))
                    raise ValueError(f"@scenarios.{i}: {said}, unlike the first scenario; every scenario must set "
                                     f"the same key paths ({', '.join(first)})")
        else:
            if self.scenarios is not None:
                raise ValueError(f"@scenarios: only a 'scenarios' design uses 'scenarios' (this one is {kind})")
            if not factors:
                written = [k for k in ("levers", "uncertainties") if k in self.model_fields_set] or ["design.kind"]
                raise ValueError(f"@{written[0]}: a {kind} design varies at least one lever or uncertainty")
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
    try:
        spec, resolved, _ = load(str(path), Spec)
    except ConfigError as exc:
        raise ConfigError(exc.file, exc.problems, what="experiment spec") from None
    return spec, resolved, Path(path).resolve().parent


def _checked(path: str | Path):
    """The spec, its resolved data, its base config and its design matrix, after every check ``run_sweep``
    makes before it runs: the spec, its base config and every design point as a whole config."""
    spec, resolved, spec_dir = load_spec(path)
    base = base_config(path, spec, spec_dir)
    matrix = design_matrix(spec)
    check_points(path, base.resolved, matrix, spec.counties, spec)
    return spec, resolved, base, matrix


def check_spec(path: str | Path) -> dict:
    """Check a spec as ``run_sweep`` would, without running; returns a summary (name, points, replicates,
    runs, config, kind)."""
    spec, _, base, matrix = _checked(path)
    return {"name": spec.name, "points": len(matrix), "replicates": spec.replicates,
            "runs": len(matrix) * spec.replicates, "config": str(base.path), "kind": spec.design.kind}


def base_config(spec_path: str | Path, spec: Spec, spec_dir: Path):
    """The scenario config a spec starts from (``config:``, relative to the spec); a missing or unreadable file
    is reported at the spec's ``config:`` line, a problem inside it at its own file and line."""
    from .config.loader import Location, Problem, resolve

    path = (spec_dir / spec.config).resolve()
    if not path.is_file():
        _, provenance = resolve(str(spec_path))
        where = provenance.get(("config",), Location(str(spec_path)))
        raise ConfigError(str(spec_path), [Problem(where, ("config",), f"no such config file: {path}")],
                          what="experiment spec")
    return load_scenario(path)


# --------------------------------------------------------------------------- designs


def design_matrix(spec: Spec) -> pd.DataFrame:
    """One row per design point, one column per varied key path (SALib for the sampled designs)."""
    factors = spec.factors
    names = list(factors)
    kind = spec.design.kind
    if kind == "scenarios":
        return pd.DataFrame(spec.scenarios, columns=list(spec.scenarios[0]))
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
    """A copy of a resolved config with each key path set to the point's value (``sim.config.set_paths``),
    and with ``counties`` counties (the pilots capped to fit) when given."""
    config = set_paths(resolved, point)
    if counties is not None:
        config["geography"]["counties"] = counties
        if config["pilot"].get("counties") is not None:  # a pilot given as a share scales by itself
            config["pilot"]["counties"] = min(config["pilot"]["counties"], counties)
    return config


def check_points(spec_path, resolved: dict, matrix: pd.DataFrame, counties: int | None,
                 spec: Spec | None = None) -> None:
    """Refuse a spec whose design points make invalid configs, before anything runs.

    Each point is checked as a whole (every key path it sets, together), so a valid combination of
    factors is accepted and an invalid one is refused however its factors look alone. With ``spec``,
    its years are checked against the config's timeline too. Raises ConfigError with the spec's file
    and the line of the factor (or scenario) concerned.
    """
    from .config.loader import Location, Problem, resolve, validate
    from .config.schema import Scenario, month_index

    _, provenance = resolve(str(spec_path))
    where = {}  # key path -> (spec path, location)
    for group in ("levers", "uncertainties"):
        for name in matrix.columns:
            if (group, name) in provenance:
                where[name] = ((group, name), provenance[(group, name)])
    fallback = Location(str(spec_path), None)
    failures: dict[tuple, list[int]] = {}  # (where, key, message) -> failing points
    scenarios = spec is not None and spec.design.kind == "scenarios"
    for i, point in enumerate(matrix.to_dict("records")):
        try:
            validate(apply_point(resolved, point, counties), {}, Scenario, root_file=str(spec_path))
            continue
        except KeyError as exc:
            key = next(k for k in point if exc.args[0].startswith(f"'{k}'"))
            details = [(key, exc.args[0].split(": ", 1)[1])]
        except ConfigError as exc:
            details = [(format_path(p.path), p.message) for p in exc.problems]
        for key, message in details:
            culprit = ("scenarios", i) if scenarios else next((c for c in matrix.columns if key.startswith(c)), None)
            failures.setdefault((culprit, key, message), []).append(i)
    problems = []
    for (culprit, key, message), failing in failures.items():
        if scenarios:
            path, location = culprit, provenance.get(culprit, fallback)
        elif culprit in where:
            path, location = where[culprit]
        elif counties is not None and key in ("geography.counties", "pilot.counties"):
            path, location = ("counties",), provenance.get(("counties",), fallback)
        else:  # not a factor's doing: the base config, as the design sets it, is at fault
            path, location = ("config",), provenance.get(("config",), fallback)
        first = matrix.iloc[failing[0]].to_dict()
        listed = ", ".join(map(str, failing[:5])) + (f" and {len(failing) - 5} more" if len(failing) > 5 else "")
        example = ", ".join(f"{k} = {v:g}" for k, v in first.items())
        problems.append(Problem(location, path, f"{key}: {message} (design point{'s' if len(failing) > 1 else ''} "
                                                f"{listed} of {len(matrix)}; point {failing[0]}: {example})"))
    if spec is not None:
        timeline = resolved.get("timeline", {})
        first, last = (month_index(timeline[k]) // 12 for k in ("start", "end"))
        outside = [y for y in spec.years if not first <= y <= last]
        if outside:
            problems.append(Problem(provenance.get(("years",), fallback), ("years",),
                                    f"{', '.join(map(str, outside))} outside the simulated years {first}-{last} "
                                    f"of {spec.config}"))
    if problems:
        raise ConfigError(str(spec_path), problems, what="experiment spec")


# --------------------------------------------------------------------------- running


def run_config(config: dict, seed: int, replicate: int, outcomes: list[str], years: list[int]) -> pd.DataFrame:
    """Run one replicate of a resolved config and return its kept outcomes (annual means, all counties and by
    region; a region with no county in the geography has no rows)."""
    from .run import model_class

    scenario = scenario_from_dict(config)
    series = model_class(scenario.engine)(scenario, seed=seed, replicate=replicate).run().series()
    populated = set(series.loc[series["value"].notna(), "region"].astype(str))
    frames = []
    for region in ("all", "east", "central", "west"):
        if region not in populated:
            continue
        a = annual(series, region=region)
        a = a[a["metric"].isin(outcomes) & a["year"].isin(years)]
        frames.append(a.assign(region=region))
    out = pd.concat(frames, ignore_index=True)[["region", "metric", "year", "value"]]
    out["metric"] = out["metric"].astype(str)
    return out


def run_point(resolved: dict, point: dict, counties: int | None, seed: int, replicate: int, outcomes: list[str],
              years: list[int]) -> pd.DataFrame:
    """Run one design point's replicate and return its kept outcomes (annual means, all counties and by region)."""
    return run_config(apply_point(resolved, point, counties), seed, replicate, outcomes, years)


def evaluate(config: str | Path, outcomes=HEADLINE,
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


# --------------------------------------------------------------------------- run identity and parts

RUNS = "runs.csv"
DESIGN = "design.csv"
_PART = re.compile(r"^point(\d{5,})-rep(\d{3,})$")
_KEY, _ROWS = b"grassroots.run_key", b"grassroots.rows"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The package version and a hash of the source that decides a run's numbers (model, rules, config,
    annual summaries and ``run_config``): results of other code are other runs."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("model/*.py"), *root.glob("rules/*.py"), *root.glob("config/*.py"),
                        root / "summary.py"]):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(inspect.getsource(run_config).encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def run_key(config: dict, seed: int, replicate: int, outcomes, years, draws: dict | None = None) -> str:
    """What identifies a run: a hash of the resolved config of its point (names and labels left out), the
    root seed, the replicate, the outcomes and years kept and the code version; with parameter draws also
    ``draws`` (how many, replicates per draw, the ensemble's hash, this run's draw), so a sweep run with
    another ``--draws`` or ensemble never reuses these parts."""
    content = {"config": {k: v for k, v in config.items() if k not in ("name", "description", "labels")},
               "seed": int(seed), "replicate": int(replicate), "outcomes": sorted(set(outcomes)),
               "years": sorted(set(int(y) for y in years)), "code": code_version()}
    if draws is not None:
        content["draws"] = draws
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _part_name(point: int, replicate: int) -> str:
    return f"point{point:05d}-rep{replicate:03d}"


def write_part(path: Path, frame: pd.DataFrame, key: str) -> None:
    """Write a run's part atomically, with its run key and row count in the footer and page checksums, so a
    damaged or foreign part is recognised when it is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _KEY: key.encode(),
                                           _ROWS: str(len(frame)).encode()})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, write_page_checksum=True))


def read_part(path: Path, key: str | None = None) -> pd.DataFrame:
    """A part's table, checked (footer, page checksums, row count, and its run key when ``key`` is given).
    Raises ValueError saying what is wrong; the table's ``attrs["run_key"]`` is the key it carries."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except Exception as exc:  # truncated, zero bytes, garbage: pyarrow raises several kinds
        reason = re.sub(r"^Could not open Parquet input source '[^']*': ", "", str(exc).split("\n")[0])
        raise ValueError(f"unreadable: {reason or type(exc).__name__}") from None
    meta = table.schema.metadata or {}
    stored = meta.get(_KEY, b"").decode()
    if key is not None and stored != key:
        raise ValueError(f"it is another run (run key {stored or 'none'}, expected {key})")
    if _ROWS in meta and int(meta[_ROWS]) != table.num_rows:
        raise ValueError(f"{table.num_rows} rows, {int(meta[_ROWS])} written")
    frame = table.to_pandas()
    frame.attrs["run_key"] = stored
    return frame


def _task(config: dict, seed: int, replicate: int, outcomes: list[str], years: list[int]):
    """Run one (point, replicate) on a worker; returns (table or None, error or None, seconds). The worker
    writes nothing: the coordinator stores every result, so workers need not share its disk."""
    started = time.perf_counter()
    try:
        frame = run_config(config, seed, replicate, outcomes, years)
    except Exception as exc:  # a failing run is recorded, not fatal
        return None, {"error": repr(exc), "traceback": traceback.format_exc()}, time.perf_counter() - started
    return frame, None, time.perf_counter() - started


def _changes(old: dict, new: dict) -> list[str]:
    """What differs between two sweep manifests, in words (a factor's levels or range by its key path)."""
    def shown(value) -> str:
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."

    out = []
    old_spec, new_spec = old.get("spec", {}) or {}, new.get("spec", {}) or {}
    for key in sorted(set(old_spec) | set(new_spec)):
        a, b = old_spec.get(key), new_spec.get(key)
        if key == "description" or a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    out.append(f"{key}.{sub}: {shown(a.get(sub, 'absent'))} -> {shown(b.get(sub, 'absent'))}")
        else:
            out.append(f"{key}: {shown(a)} -> {shown(b)}")
    if old.get("config_hash") != new.get("config_hash"):
        if old.get("config") == new.get("config"):
            out.append(f"base config {new.get('config')} changed: hash {old.get('config_hash')} -> "
                       f"{new.get('config_hash')}")
        else:
            out.append(f"base config: {old.get('config')} (hash {old.get('config_hash')}) -> {new.get('config')} "
                       f"(hash {new.get('config_hash')})")
    draws_of = lambda m: (m.get("draws") or {}).get("draws", 0)  # noqa: E731
    sha_of = lambda m: (m.get("draws") or {}).get("values_sha256")  # noqa: E731
    if draws_of(old) != draws_of(new):
        out.append(f"parameter draws: {draws_of(old)} -> {draws_of(new)}")
    elif sha_of(old) != sha_of(new):
        out.append(f"parameter draws: other values (ensemble {sha_of(old)} -> {sha_of(new)})")
    if old.get("code_version") != new.get("code_version"):
        out.append(f"code version: {old.get('code_version', 'unrecorded')} -> {new.get('code_version')}")
    return out


def run_sweep(spec_path: str | Path, out_root: str | Path = "results", workers: int = 1, dask: str | None = None,
              executor: Executor | None = None, progress: bool = False, max_runs: int | None = None,
              fresh: bool = False, log=None, draws: pd.DataFrame | None = None) -> dict:
    """Run (or resume) a sweep; returns a summary: runs done, skipped as already done, failed.

    Each run is identified by ``run_key`` (its point's resolved config, seed, replicate, outcomes, years
    and code version), recorded in ``runs.csv`` and in its part. A part is reused only if it is intact
    and carries the key the spec now gives it: a damaged part is run again, and a folder holding runs of
    another spec (other levels, seed, base config, code...) is refused with what changed, unless
    ``fresh`` discards them. Only one sweep may write a folder at a time. ``max_runs`` stops after that
    many new runs (a partial sweep, e.g. to test resuming). ``log`` receives one-line notes.

    ``draws`` (parameter sets, ``sim.posterior.ensemble_draws``): every design point runs the spec's
    replicates under each parameter set, draw d's replicate r being run number ``d * replicates + r`` (its
    part's ``replicate``; the part has a ``draw`` column), the same at every point. The ensemble sets every
    parameter it holds except the spec's own factors, which keep the point's value. The analysis averages
    each point over all its runs (draws and replicates), so indices are of the expected outcome over
    parameter uncertainty.
    """
    from .run import _progress, draw_runs, draws_record, drawn_scenario, executor_context, run_tasks, versions

    say = log or (lambda message: None)
    spec, spec_resolved, base, matrix = _checked(spec_path)
    points = matrix.to_dict("records")
    runs = draw_runs(draws, spec.replicates)  # (draw or None, run number) of every point
    draw_of = dict((k, d) for d, k in runs)
    factors = list(matrix.columns)
    if draws is not None:
        record = draws_record(draws, spec.replicates)
        identity = {"draws": record["draws"], "replicates_per_draw": record["replicates_per_draw"],
                    "values_sha256": record["values_sha256"]}
        for d in range(len(draws)):  # every parameter set makes a valid config (ConfigError, before anything runs)
            drawn_scenario(base.resolved, draws.iloc[d], keep=factors)

    def point_config(i: int, k: int) -> dict:
        """The resolved config of point i's run k: under its draw's parameters, the point's factors kept."""
        resolved = base.resolved
        if draws is not None:
            from .run import with_parameters

            row = draws.iloc[draw_of[k]]
            resolved = with_parameters(resolved, {p: v for p, v in row.items() if p not in factors})
        return apply_point(resolved, points[i], spec.counties)

    def key_draws(k: int):
        return None if draws is None else {**identity, "draw": draw_of[k]}
    out = Path(out_root) / spec.name
    check_writable(out)
    with folder_lock(out, f"sweep {spec.name}"):
        parts_dir, failed_dir = out / "parts", out / "failed"
        removed = remove_temporaries(out, parts_dir, failed_dir)
        if removed:
            say(f"removed {len(removed)} temporary file(s) left by an interrupted write")
        if fresh:
            for stale in [*parts_dir.glob("*.parquet"), *failed_dir.glob("*.json"),
                          *(out / n for n in (DESIGN, RUNS, MANIFEST, "analysis.csv"))]:
                stale.unlink(missing_ok=True)
        keys = {}
        for i, point in enumerate(points):
            config = apply_point(base.resolved, point, spec.counties) if draws is None else None
            for _, k in runs:
                keys[(i, k)] = run_key(config or point_config(i, k), spec.seed, k, spec.outcomes, spec.years,
                                       key_draws(k))
        manifest = {"spec": spec_resolved, "spec_file": str(spec_path), "config": str(base.path),
                    "config_hash": base.hash, "points": len(matrix), "replicates": spec.replicates,
                    "seed": spec.seed, "code_version": code_version(),
                    "seeding": "replicate k uses the same streams at every design point (common random numbers)",
                    "run_identity": "run_key: SHA-256 of the point's resolved config, seed, replicate, outcomes, "
                                    "years and code version (runs.csv; each part's footer)",
                    "versions": versions()}
        if draws is not None:
            manifest["draws"] = record
            manifest["draws_analysis"] = ("each design point's outcome is the mean over all its runs: "
                                          f"{record['draws']} parameter draws x {spec.replicates} replicates")
        done, damaged, foreign = _scan_parts(parts_dir, keys)
        try:
            previous = read_json(out / MANIFEST, "sweep manifest") if (out / MANIFEST).exists() else None
        except ResultsError:
            previous = None
        changed = None if previous is None else _changes(previous, manifest)
        if foreign and changed == []:  # the same spec: an intact part with another run's key was copied over
            damaged += [(path, "it holds another run's results") for path in foreign]
            foreign = []
        if foreign:  # refused before anything in the folder is touched
            what = "; ".join(changed) if changed else "its manifest is missing or unreadable, so the runs cannot be told apart"
            files = ", ".join(p.name for p in foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise ResultsError(
                f"{out} holds {len(foreign)} run(s) of another spec ({what}: {files}); they would be mixed with "
                f"this one. Give the spec another name or use another --out, or run again with --fresh to "
                f"discard them")
        for path, reason in damaged:
            say(f"{path} is damaged ({reason}); running it again")
            path.unlink(missing_ok=True)
        listing = pd.DataFrame([(i, k, key) for (i, k), key in keys.items()], columns=["point", "replicate", "run_key"])
        if draws is not None:
            listing.insert(2, "draw", listing["replicate"].map(draw_of))
        atomic_write_text(out / DESIGN, matrix.to_csv(index_label="point"))
        atomic_write_text(out / RUNS, listing.to_csv(index=False))
        manifest["files"] = {DESIGN: sha256_of(out / DESIGN), RUNS: sha256_of(out / RUNS)}
        atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, default=str))
        tasks = [(i, k) for _, k in runs for i in range(len(matrix))  # replicate-major: even coverage
                 if (i, k) not in done]
        skipped = len(keys) - len(tasks)
        if max_runs is not None:
            tasks = tasks[:max_runs]
        counts = {"done": 0, "failed": 0}
        bar = _progress(len(tasks), progress, desc="sweep")

        def submit_args(i, k):
            return (point_config(i, k), spec.seed, k, spec.outcomes, spec.years)

        try:
            # each result is stored as it arrives, whichever run finishes first; if this process is stopped
            # while it writes one, closing the results cancels the runs not yet started
            with executor_context(executor, workers, dask) as pool, \
                    closing(run_tasks(pool, _task, (submit_args(i, k) for i, k in tasks), ordered=False)) as results:
                for n, (frame, error, seconds) in results:
                    i, k = tasks[n]
                    name = _part_name(i, k)
                    if error is None:
                        if draws is not None:
                            frame.insert(0, "draw", draw_of[k])
                        frame.insert(0, "replicate", k)
                        frame.insert(0, "point", i)
                        frame["run_key"] = keys[(i, k)]
                        frame["seconds"] = round(seconds, 3)
                        write_part(parts_dir / f"{name}.parquet", frame, keys[(i, k)])
                        (failed_dir / f"{name}.json").unlink(missing_ok=True)
                    else:
                        failure = {"point": i, "replicate": k, **({} if draws is None else {"draw": draw_of[k]}),
                                   "run_key": keys[(i, k)], "parameters": points[i], **error}
                        atomic_write_text(failed_dir / f"{name}.json", json.dumps(failure, indent=2, default=str))
                    counts["done" if error is None else "failed"] += 1
                    bar.update(1)
                    bar.set_postfix(failed=counts["failed"])
        finally:
            bar.close()
    current = {_part_name(i, k) for i, k in keys}
    failed_files = sorted(str(p) for p in failed_dir.glob("*.json") if p.stem in current) \
        if failed_dir.exists() else []
    return {"name": spec.name, "out": str(out), "planned": len(keys), "ran": counts["done"],
            "failed": counts["failed"], "already_done": skipped, "failure_records": failed_files}


def _scan_parts(parts_dir: Path, keys: dict) -> tuple[set, list, list]:
    """Sort the parts on disk: runs done (an intact part with the expected key), damaged parts (path, reason),
    and intact parts whose key or place this spec does not give (another spec's runs). Touches nothing."""
    done, damaged, foreign = set(), [], []
    for path in sorted(parts_dir.glob("*.parquet")) if parts_dir.exists() else []:
        match = _PART.match(path.stem)
        run = (int(match.group(1)), int(match.group(2))) if match else None
        try:
            stored = read_part(path).attrs["run_key"]
        except ValueError as exc:
            damaged.append((path, str(exc)))
            continue
        if run not in keys or stored != keys[run]:
            foreign.append(path)
        else:
            done.add(run)
    return done, damaged, foreign


def read_design(out_dir: str | Path, manifest: dict | None = None) -> pd.DataFrame:
    """A sweep's design matrix (one row per point), checked: readable, numeric, complete, and the file its
    manifest describes. Raises ResultsError naming the file."""
    path = Path(out_dir) / DESIGN
    if not path.exists():
        raise ResultsError(f"{path}: missing (no sweep results here; run `grassroots sweep` on its spec)")
    expected = (manifest or {}).get("files", {}).get(DESIGN)
    if expected is not None and sha256_of(path) != expected:
        raise ResultsError(f"{path} does not match the manifest beside it (changed since the sweep wrote it); "
                           "run the sweep again")
    try:
        design = pd.read_csv(path, index_col="point")
    except Exception as exc:  # pandas raises several kinds for a damaged file
        raise ResultsError(f"{path}: corrupt design matrix ({str(exc).splitlines()[0]})") from None
    bad = [c for c in design.columns if not pd.api.types.is_numeric_dtype(design[c])]
    empty = design.isna().any(axis=1)
    index_ok = pd.api.types.is_integer_dtype(design.index) and list(design.index) == list(range(len(design)))
    if design.empty or bad or empty.any() or not index_ok:
        where = (f"non-numeric column(s) {', '.join(bad)}" if bad else
                 f"empty cells in point(s) {', '.join(map(str, design.index[empty][:5]))}" if empty.any() else
                 "points not numbered 0, 1, 2, ..." if not index_ok else "no design points")
        raise ResultsError(f"{path}: corrupt design matrix ({where}); run the sweep again")
    spec = (manifest or {}).get("spec", {})
    factors = list(spec.get("scenarios", [{}])[0]) if spec.get("design", {}).get("kind") == "scenarios" else \
        [*spec.get("levers", {}), *spec.get("uncertainties", {})]
    if spec and list(design.columns) != factors:
        raise ResultsError(f"{path}: columns {', '.join(design.columns)} are not the spec's factors "
                           f"{', '.join(factors)}; run the sweep again")
    return design


def read_sweep(out_dir: str | Path) -> pd.DataFrame:
    """All finished runs of a sweep, joined with the design matrix (one row per point, replicate, region,
    metric, year). Only parts that are intact and carry the run key of ``runs.csv`` are read; a damaged
    one is left out with a warning (the next ``sweep`` runs it again)."""
    out = Path(out_dir)
    manifest = read_json(out / MANIFEST, "sweep manifest") if (out / MANIFEST).exists() else None
    design = read_design(out, manifest)
    parts = sorted((out / "parts").glob("*.parquet"))
    keys = None
    if manifest is not None and RUNS in manifest.get("files", {}):
        runs_path = out / RUNS
        if not runs_path.exists() or sha256_of(runs_path) != manifest["files"][RUNS]:
            raise ResultsError(f"{runs_path} is missing or does not match {out / MANIFEST}; run the sweep again")
        runs = pd.read_csv(runs_path)
        keys = {_part_name(p, r): key for p, r, key in runs[["point", "replicate", "run_key"]].itertuples(False)}
    elif (out / RUNS).exists():
        raise ResultsError(f"{out / MANIFEST} is missing or lists no checksums, so {out / RUNS} and the parts "
                           f"cannot be checked; run the sweep again")
    frames = []
    for path in parts:
        if keys is not None and path.stem not in keys:
            continue
        try:
            frames.append(read_part(path, None if keys is None else keys[path.stem]))
        except ValueError as exc:
            warnings.warn(f"{path} left out: {exc}; run the sweep again to redo it", stacklevel=2)
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True).drop(columns=["run_key"], errors="ignore")
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
    """Analyse a finished sweep's stored parts; writes ``analysis.csv`` beside them and returns it.

    The stored sweep must be of this spec (as it reads now): results of an earlier version of it are refused
    with what changed."""
    spec, resolved, _ = load_spec(spec_path)
    out = Path(out_root) / spec.name
    if not (out / DESIGN).exists():
        raise ResultsError(f"no sweep results in {out}: run `grassroots sweep {spec_path}` first")
    manifest = read_json(out / MANIFEST, "sweep manifest") if (out / MANIFEST).exists() else None
    if manifest is not None and "spec" in manifest:
        changed = _changes({"spec": manifest["spec"]}, {"spec": resolved})
        if changed:
            raise ResultsError(f"{out} was written by another version of {spec_path} ({'; '.join(changed)}); "
                               f"run `grassroots sweep {spec_path}` first")
    table = read_sweep(out)
    design = read_design(out, manifest)
    result = analyze(spec, table, design, region)
    atomic_write_text(out / "analysis.csv", result.to_csv(index=False))
    return result
