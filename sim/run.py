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

import pandas as pd

from .config import LoadedScenario, Scenario
from .model.model import GrassrootsModel


def run_replicate(scenario: Scenario, seed: int, replicate: int) -> tuple[pd.DataFrame, float]:
    """Run one replicate of one scenario; returns its series and its wall time in seconds."""
    started = time.perf_counter()
    series = GrassrootsModel(scenario, seed=seed, replicate=replicate).run().series()
    return series, time.perf_counter() - started


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
