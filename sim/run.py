"""Run scenarios over replicates, serially or on a process pool, and collect one tidy table.

Replicate k of every scenario uses the same random streams (common random
numbers), so scenario differences are policy, not noise. Results are
gathered in (scenario, replicate) order whatever order workers finish in, so
the same configs and seed give an identical table with any number of
processes.
"""

from __future__ import annotations

import multiprocessing
import platform
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd

from .config import LoadedScenario, Scenario
from .model.model import GrassrootsModel, geography_and_pilots, tidy_series


def run_replicate(scenario: Scenario, seed: int, replicate: int) -> tuple[pd.DataFrame, float]:
    """Run one replicate of one scenario; returns its series and its wall time in seconds."""
    started = time.perf_counter()
    series = GrassrootsModel(scenario, seed=seed, replicate=replicate).run().series()
    return series, time.perf_counter() - started


def run_block(scenario: Scenario, seed: int, replicate: int, first: int, stop: int):
    """Run counties ``first .. stop-1`` of one replicate; returns their monthly tallies (num, den)."""
    model = GrassrootsModel(scenario, seed=seed, replicate=replicate, counties=(first, stop)).run()
    return model.county_num, model.county_den


def county_blocks(n_counties: int, n_blocks: int) -> list[tuple[int, int]]:
    """Split counties 0..n-1 into ``n_blocks`` contiguous blocks of near-equal size."""
    edges = np.linspace(0, n_counties, min(n_blocks, n_counties) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def run_replicate_in_blocks(scenario: Scenario, seed: int, replicate: int, n_blocks: int,
                            executor: Executor | None = None) -> pd.DataFrame:
    """One replicate run as county blocks (serially, or on any Executor such as Dask's) and put together.

    Counties interact only through the policy (pilots, fidelity), which every
    block computes for the whole geography, and each block draws exactly the
    whole run's random numbers for its agents: the result equals the one-piece run.
    """
    places, pilot = geography_and_pilots(scenario, seed, replicate)
    blocks = county_blocks(places.n_counties, n_blocks)
    if executor is None:
        parts = [run_block(scenario, seed, replicate, a, b) for a, b in blocks]
    else:
        futures = [executor.submit(run_block, scenario, seed, replicate, a, b) for a, b in blocks]
        parts = [f.result() for f in futures]
    num = np.concatenate([p[0] for p in parts], axis=2)
    den = np.concatenate([p[1] for p in parts], axis=2)
    model_calendar = GrassrootsModel.calendar_of(scenario)
    return tidy_series(scenario.name, replicate, model_calendar, num, den, places.county_region, pilot)


@dataclass
class RunResult:
    series: pd.DataFrame
    manifest: dict = field(default_factory=dict)


def versions() -> dict:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("grassroots", "mesa", "numpy", "pandas", "scipy", "pydantic"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def run_scenarios(loaded: list[LoadedScenario], replicates: int, seed: int = 0, workers: int = 1,
                  progress: bool = False, executor: Executor | None = None) -> RunResult:
    """Run each scenario for replicates 0..N-1 with the given root seed.

    ``workers`` > 1 uses a local process pool; ``executor`` lets a caller pass
    any ``concurrent.futures.Executor`` (e.g. Dask's ``client.get_executor()``).
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    names = [ls.scenario.name for ls in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be told apart in the results: {names}")
    tasks = [(i, k) for k in range(replicates) for i in range(len(loaded))]  # interleaved: early results cover all
    results: dict[tuple[int, int], tuple[pd.DataFrame, float]] = {}
    started = time.perf_counter()
    bar = _progress(len(tasks), progress)
    own_pool = None
    if executor is None and workers > 1:
        own_pool = executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        if executor is None:
            for i, k in tasks:
                results[(i, k)] = run_replicate(loaded[i].scenario, seed, k)
                bar.update(1)
        else:
            futures = {executor.submit(run_replicate, loaded[i].scenario, seed, k): (i, k) for i, k in tasks}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(1)
    finally:
        bar.close()
        if own_pool is not None:
            own_pool.shutdown(cancel_futures=True)
    wall = time.perf_counter() - started
    frames = [results[(i, k)][0] for i in range(len(loaded)) for k in range(replicates)]
    series = pd.concat(frames, ignore_index=True)
    for col in ("scenario", "phase", "region", "group", "metric"):
        series[col] = series[col].astype("category")
    manifest = {
        "scenarios": [
            {"name": ls.scenario.name, "config": ls.path, "files": list(ls.files), "config_hash": ls.hash,
             "resolved_config": ls.resolved}
            for ls in loaded
        ],
        "seed": seed,
        "replicates": replicates,
        "seeding": "numpy SeedSequence(seed, spawn_key=(replicate, stream, [month])); replicate k shares streams "
                   "across scenarios (common random numbers)",
        "workers": workers if executor is None or own_pool is not None else "external executor",
        "engine": "columnar",
        "versions": versions(),
        "command": " ".join(sys.argv),
        "timings": {
            "wall_seconds": round(wall, 3),
            "replicate_seconds": {f"{names[i]}/{k}": round(results[(i, k)][1], 3) for i, k in sorted(results)},
        },
    }
    return RunResult(series, manifest)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="runs", unit="run", file=sys.stderr, dynamic_ncols=True)
