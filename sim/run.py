"""Run scenarios over replicates, serially, on a process pool or on Dask, and collect one tidy table.

Replicate k of every scenario uses the same random streams (common random
numbers), so scenario differences are policy, not noise. A replicate may be
split into county blocks (``blocks`` > 1): each block draws exactly the random
numbers the whole run draws for its agents, so the pieces put together equal
the one-piece run. Results are gathered in (scenario, replicate) order
whatever order tasks finish in: the same configs and seed give an identical
table with any number of processes, blocks or Dask workers. Under parameter draws
(``draws=``, ``--draws N``) draw d's replicate r is run number d * R + r, the
same parameters and streams in every scenario (see "parameter draws" below). A scenario that simulates
its first months as an earlier one does (a design and its baseline, before the reform starts) goes on
from a copy of that one's run instead of running those months again (``run_branches``): the same numbers.

One seam runs every model run of the package (``run_scenarios``, sweeps,
calibration, pilot evaluation, validation patterns, robustness):
``executor_context`` decides where tasks run (serially here, a local process
pool, Dask, or any ``concurrent.futures.Executor`` the caller passes) and
``run_tasks`` hands them out and collects the results, with progress and
cancellation.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import pandas as pd

from .config import LoadedScenario, Scenario
from .model.model import GrassrootsModel, geography_and_pilots, tidy_series

ENGINES = ("columnar", "agents")


def run_tasks(pool: Executor | None, fn, tasks, *, ordered: bool = True, progress=None):
    """Call ``fn(*args)`` for each ``args`` tuple of ``tasks``: the one way every runner hands out work.

    ``pool`` is what ``executor_context`` yields: None runs the tasks here, one after another (lazily, as
    the results are taken); an Executor gets them all submitted at once. Yields ``(index, result)``
    pairs: in task order (``ordered``), or as each task finishes (``ordered=False``, so a caller can
    store each result as soon as it arrives). ``progress(done, total)`` is called after each result.
    Tasks not yet started are cancelled when the generator is closed or an error, Ctrl-C or ``Stopped``
    unwinds through it (a pool made by ``executor_context`` is also stopped there); a caller that may stop
    while it handles a result wraps it in ``contextlib.closing``.
    """
    if pool is None:
        total = len(tasks) if hasattr(tasks, "__len__") else None
        for i, args in enumerate(tasks):
            result = fn(*args)
            if progress is not None:
                progress(i + 1, total)
            yield i, result
        return
    futures = []
    try:
        for args in tasks:
            futures.append(pool.submit(fn, *args))
        index = {future: i for i, future in enumerate(futures)}
        finished = futures if ordered else as_completed(futures)
        for done, future in enumerate(finished, start=1):
            result = future.result()
            if progress is not None:
                progress(done, len(futures))
            yield index[future], result
    finally:
        if not isinstance(pool, _OwnPool):  # a pool of our own cancels its tasks as it stops (executor_for)
            for future in futures:
                future.cancel()


def map_tasks(pool: Executor | None, fn, *iterables, progress=None):
    """``fn`` over the iterables, like ``map``: results in order, computed on ``pool`` (see ``run_tasks``)."""
    return (result for _, result in run_tasks(pool, fn, zip(*iterables), progress=progress))


def model_class(engine: str):
    """The model class of an engine: 'columnar' (numpy columns) or 'agents' (one mesa.Agent each)."""
    if engine == "columnar":
        return GrassrootsModel
    if engine == "agents":
        from .model.reference import AgentGrassrootsModel

        return AgentGrassrootsModel
    raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")


def run_block(scenario: Scenario, seed: int, replicate: int, first: int, stop: int, engine: str = "columnar"):
    """Run counties ``first .. stop-1`` of one replicate; returns their monthly tallies and wall time."""
    return run_branches(scenario, seed, replicate, first, stop, engine)[0]


def run_branches(scenario: Scenario, seed: int, replicate: int, first: int, stop: int, engine: str = "columnar",
                 branches: tuple = ()) -> list:
    """``run_block`` of ``scenario``, and of each ``(other, month)`` of ``branches``: a scenario that simulates
    the months before ``month`` as this one does (``branch_month``) goes on from a copy of this run's model
    at that month under its own levers (``GrassrootsModel.with_levers_of``), the same numbers as its own run
    from the start (tested) without running those months again. Returns one ``run_block`` result each, this
    scenario's first; a branch's time is its own months'."""
    import pickle

    from .model.policy import month_label

    started = time.perf_counter()
    model = model_class(engine)(scenario, seed=seed, replicate=replicate, counties=(first, stop))
    copies = {}
    for month in sorted({month for _, month in branches}):
        model.run(until=month_label(month - 1))
        copies[month] = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    model.run()
    done = [(model.county_num, model.county_den, time.perf_counter() - started)]
    for other, month in branches:
        started = time.perf_counter()
        branch = pickle.loads(copies[month]).with_levers_of(other).run()
        done.append((branch.county_num, branch.county_den, time.perf_counter() - started))
    return done


def plan_branches(scenarios: list, engines: list, splits: dict) -> dict[int, list[tuple[int, int]]]:
    """Which scenarios go on from which one's run, and from when: ``{i: [(j, month), ...]}`` for each scenario
    j that simulates its months before ``month`` as an earlier scenario i does (``branch_month``; the first
    such i that runs from the start itself, on the columnar engine and in the same county blocks)."""
    branches = {i: [] for i in range(len(scenarios))}
    branched = set()
    for j in range(len(scenarios)):
        for i in range(j):
            if i in branched or engines[i] != "columnar" or engines[j] != "columnar" or splits[i] != splits[j]:
                continue
            month = branch_month(scenarios[i], scenarios[j])
            if month is not None:
                branches[i].append((j, month))
                branched.add(j)
                break
    return branches


def branch_month(scenario: Scenario, other: Scenario) -> int | None:
    """The latest start of a phase of ``scenario``'s reform before which ``other`` simulates the same months
    (``sim.model.policy.prefix_key``, same seed and replicate), after the spin-up; None if there is none."""
    from .model.policy import Calendar, prefix_key

    calendar = Calendar.from_scenario(scenario)
    months = sorted({m for m in calendar.phase_starts.values() if calendar.spin_up_start < m <= calendar.end})
    return next((m for m in reversed(months) if prefix_key(scenario, m) == prefix_key(other, m)), None)


def county_blocks(n_counties: int, n_blocks: int) -> list[tuple[int, int]]:
    """Split counties 0..n-1 into ``n_blocks`` contiguous blocks of near-equal size."""
    edges = np.linspace(0, n_counties, min(n_blocks, n_counties) + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def assemble(scenario: Scenario, seed: int, replicate: int, parts: list, by_county: bool = False):
    """Put the county tallies of a replicate's blocks (in county order) together into its series; with
    ``by_county``, return ``(series, counties)``: also its table by named county (``sim.counties``)."""
    places, pilot = geography_and_pilots(scenario, seed, replicate)
    num = np.concatenate([p[0] for p in parts], axis=2)
    den = np.concatenate([p[1] for p in parts], axis=2)
    calendar = GrassrootsModel.calendar_of(scenario)
    series = tidy_series(scenario.name, replicate, calendar, num, den, places.county_region, pilot)
    if not by_county:
        return series
    from .counties import county_frame

    return series, county_frame(scenario, replicate, calendar, num, den, places, pilot)


def run_replicate(scenario: Scenario, seed: int, replicate: int, blocks: int = 1, engine: str = "columnar",
                  executor: Executor | None = None) -> pd.DataFrame:
    """One replicate of one scenario, in one piece or as ``blocks`` county blocks."""
    return run_scenarios([scenario], 1, seed=seed, blocks=blocks, engine=engine, executor=executor,
                         first_replicate=replicate).series


@dataclass
class RunResult:
    series: pd.DataFrame
    manifest: dict = field(default_factory=dict)
    counties: pd.DataFrame | None = None  # by named county and year (run_scenarios(by_county=True))


def versions() -> dict:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("grassroots", "mesa", "numpy", "pandas", "scipy", "pydantic", "distributed"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


class DaskUnavailable(ValueError):
    """A ``--dask`` address that is malformed, or a scheduler that cannot be reached."""


DASK_TIMEOUT = 10.0  # seconds to reach a scheduler; GRASSROOTS_DASK_TIMEOUT overrides it


def check_dask_address(address: str) -> str:
    """``address`` if it is ``local`` or a scheduler address such as ``tcp://host:8786`` (also ``tls://``,
    ``ucx://``, ``ws://``, ``wss://`` with host:port, or ``inproc://...``); else a ``DaskUnavailable``."""
    import re

    host_port = r"(\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d{1,5}/?"
    if address == "local" or re.fullmatch(r"(tcp|tls|ucx|ws|wss)://" + host_port, address or "") \
            or re.fullmatch(r"inproc://\S+", address or ""):
        return address
    raise DaskUnavailable(f"--dask {address!r} is not 'local' or a scheduler address like tcp://HOST:8786 "
                          "(tls://, ucx://, ws://, wss:// or inproc:// also work)")


def dask_timeout(timeout: float | None = None) -> float:
    """Seconds to wait for a Dask scheduler: ``timeout``, else $GRASSROOTS_DASK_TIMEOUT, else 10."""
    if timeout is not None:
        return float(timeout)
    text = os.environ.get("GRASSROOTS_DASK_TIMEOUT", "")
    try:
        value = float(text) if text.strip() else DASK_TIMEOUT
    except ValueError:
        raise DaskUnavailable(f"GRASSROOTS_DASK_TIMEOUT={text!r} is not a number of seconds") from None
    if not value > 0:
        raise DaskUnavailable(f"GRASSROOTS_DASK_TIMEOUT={text!r} must be a positive number of seconds")
    return value


@contextmanager
def executor_for(workers: int = 1, dask: str | None = None, timeout: float | None = None):
    """The executor to run on: None (serial), a local process pool, or Dask (what ``executor_context`` opens
    when the caller gives no executor of its own).

    ``dask='local'`` starts a LocalCluster of ``workers`` single-threaded worker
    processes; any other value is the address of an existing scheduler
    (``tcp://host:8786``), reached within ``timeout`` seconds (default
    $GRASSROOTS_DASK_TIMEOUT or 10). A malformed address or an unreachable
    scheduler raises ``DaskUnavailable`` (a ``ValueError``).
    """
    if dask:
        check_dask_address(dask)
        seconds = dask_timeout(timeout)
        from distributed import Client

        cluster = _local_cluster(workers) if dask == "local" else None
        try:
            client = Client(cluster if cluster is not None else dask, timeout=seconds)
        except (OSError, TimeoutError):
            if cluster is not None:
                cluster.close()
            raise DaskUnavailable(f"cannot reach the Dask scheduler at {dask} within {seconds:g} s") from None
        except (ValueError, TypeError) as exc:  # e.g. tls:// without a TLS configuration
            if cluster is not None:
                cluster.close()
            raise DaskUnavailable(f"cannot connect to the Dask scheduler at {dask}: {exc}") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    elif workers > 1:
        pool = _OwnPool(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                        initializer=_worker_ignores_interrupts)
        try:
            yield pool
        except BaseException:  # an error, Ctrl-C or SIGTERM: stop now, do not wait for running tasks
            stop_pool(pool)
            raise
        pool.shutdown(cancel_futures=True)
    else:
        yield None


class _OwnPool(ProcessPoolExecutor):
    """The process pool ``executor_for`` makes, and stops itself: terminated with ``stop_pool`` when its block
    fails, shut down with its queued tasks cancelled when it ends. ``run_tasks`` leaves its futures to it:
    cancelling them first races the clean-up of a pool whose workers were terminated (on Python 3.11 its
    manager thread then fails with InvalidStateError on the cancelled futures)."""


def _local_cluster(workers: int):
    """A LocalCluster of single-threaded worker processes that leave Ctrl-C to this process: they are started
    with SIGINT ignored (inherited through exec), so a terminal's Ctrl-C, sent to the whole process group,
    stops the run once here instead of printing a traceback from every nanny and worker. Its routine
    shutdown warnings are kept out of the user's terminal."""
    import logging
    import signal
    import threading

    from distributed import LocalCluster

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                            silence_logs=logging.ERROR)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)


def stop_pool(pool: ProcessPoolExecutor, grace: float = 3.0) -> None:
    """Stop a process pool at once: queued tasks are cancelled and running workers terminated (SIGTERM, then
    SIGKILL after ``grace`` seconds), so no worker goes on computing or writing after its caller stopped."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
    # with its workers gone the pool is broken and its manager thread ends at once; waiting for it here
    # (not at interpreter exit) keeps Python 3.11 from printing an ignored error about a closed pipe
    pool.shutdown(wait=True, cancel_futures=True)


class Stopped(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, SIGHUP): it unwinds like Ctrl-C, through every cleanup
    (worker pools terminated, temporary files removed), and is not caught by ``except Exception``."""

    def __init__(self, signum: int):
        import signal

        self.signal_name = signal.Signals(signum).name
        super().__init__(self.signal_name)


@contextmanager
def stop_on_signals():
    """While the block runs, SIGTERM and SIGHUP (what ``timeout``, a scheduler or a service manager send) raise
    ``Stopped`` in the main thread, so a run stops as it does on Ctrl-C instead of dying mid-write with its
    workers left running. Further SIGTERMs are ignored while it cleans up. Outside the main thread: no-op."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]

    def handler(signum, frame):
        for s in wanted:
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _worker_ignores_interrupts() -> None:
    """Ctrl-C reaches every process of the terminal's group; a worker leaves it to the main process, which
    stops the pool (so the user sees one message, not a traceback per worker). On Linux a worker is also
    sent SIGTERM when its parent dies (even by kill -9), instead of finishing its task for nobody."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # another C library: the worker ends after its task instead
            return
        parent = multiprocessing.parent_process()
        if parent is not None and os.getppid() != parent.pid:  # the parent died before the line above
            os._exit(1)


def executor_context(executor: Executor | None = None, workers: int = 1, dask: str | None = None,
                     timeout: float | None = None):
    """Where every runner's tasks run (a context manager; hand what it yields to ``run_tasks``):

    - ``executor``: any ``concurrent.futures.Executor`` the caller made (a thread or process pool, Dask's
      ``client.get_executor()``...); it is used as it is and left open;
    - else ``dask``: ``'local'`` (a LocalCluster of ``workers`` processes) or a scheduler address,
      reached within ``timeout`` seconds (see ``executor_for``);
    - else ``workers`` > 1: a local process pool, stopped at once on an error, Ctrl-C or ``Stopped``;
    - else None: the tasks run here, one after another.
    """
    if executor is not None:
        if not callable(getattr(executor, "submit", None)):
            raise TypeError(f"executor must be a concurrent.futures.Executor (with submit), not {executor!r}")
        return _given(executor)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a whole number of at least 1, not {workers!r}")
    return executor_for(workers, dask, timeout)


def executor_label(executor: Executor | None = None, workers: int = 1, dask: str | None = None) -> str:
    """How ``executor_context`` runs tasks, in a word for a manifest."""
    return "dask " + dask if dask and executor is None else ("external" if executor is not None else
                                                              ("process pool" if workers > 1 else "serial"))


def as_scenario(item) -> tuple[Scenario, dict]:
    if isinstance(item, LoadedScenario):
        return item.scenario, {"name": item.scenario.name, "config": item.path, "files": list(item.files),
                               "config_hash": item.hash, "resolved_config": item.resolved}
    return item, {"name": item.name, "config": None, "resolved_config": item.model_dump(mode="json")}


# --------------------------------------------------------------------------- parameter draws
#
# A forecast with parameter uncertainty runs every design under each of N parameter sets (draws of the
# posterior ensemble, sim.posterior) and R replicates per set. Draw d's replicate r is run number d * R + r:
# the number every table's ``replicate`` column holds and the random streams it seeds, so code that groups
# by replicate pools draws and replicates, and the same (d, r) of two designs is one simulated world: the
# same parameters and the same random numbers. The ensemble sets parameters only (its columns are key paths
# of sim.priors.PRIORS, never levers): where a design's config sets one of them itself, the ensemble's value
# wins (the parameters are the world's, not the design's), and the manifest says so.


def draw_runs(draws: pd.DataFrame | None, replicates: int, first_replicate: int = 0) -> list[tuple[int | None, int]]:
    """The (draw, run number) of every run of a scenario, in run order: without draws ``(None, k)`` for the
    replicates ``first_replicate`` on; with N draws ``(d, first_replicate + d * replicates + r)``."""
    if draws is None:
        return [(None, first_replicate + r) for r in range(replicates)]
    if not len(draws):
        raise ValueError("draws: give at least one parameter set (or none at all)")
    return [(d, first_replicate + d * replicates + r) for d in range(len(draws)) for r in range(replicates)]


def drawn_scenario(resolved: dict, row, keep=()):
    """The scenario of a resolved config under one parameter set (a row of an ensemble): its values replace
    the config's (``sim.priors.apply_parameters``), except the key paths in ``keep`` (a sweep's own factors).
    A value the schema refuses is a ``ValueError`` naming the key path and the draw."""
    from pydantic import ValidationError

    from .config import scenario_from_dict

    values = {path: value for path, value in row.items() if path not in set(keep)}
    try:
        return scenario_from_dict(with_parameters(resolved, values))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"parameter draw {getattr(row, 'name', '')}: {where}: {first['msg']} "
                         f"(the ensemble's values do not make a valid config of {resolved.get('name')})") from None


def with_parameters(resolved: dict, row) -> dict:
    """A copy of a resolved config with one parameter set's values in it (``sim.priors.apply_parameters``)."""
    from .priors import apply_parameters

    return apply_parameters(resolved, row)


def _with_draw(frame, draw: int):
    """A replicate's series (or ``(series, counties)``) with a ``draw`` column after ``replicate``."""
    if isinstance(frame, tuple):
        return tuple(_with_draw(f, draw) for f in frame)
    frame.insert(frame.columns.get_loc("replicate") + 1, "draw", np.int32(draw))
    return frame


def draws_record(draws: pd.DataFrame, replicates: int, resolved: list[dict] | None = None,
                 names: list[str] | None = None) -> dict:
    """What a manifest records about the parameter draws of a run: how many, replicates per draw, how run
    numbers map to them, a hash of the values used, the ensemble file (path, SHA-256, provenance) and, per
    design, the parameters its own config set that the draws replaced."""
    import hashlib

    values = pd.util.hash_pandas_object(draws.reset_index(drop=True), index=True).to_numpy()
    record = {"draws": int(len(draws)), "replicates_per_draw": int(replicates),
              "runs_per_scenario": int(len(draws) * replicates),
              "run_numbers": "draw d, replicate r -> replicate number d * replicates_per_draw + r (+ the first "
                             "replicate); the same number is the same parameter set and random streams in every "
                             "scenario",
              "parameters": list(draws.columns), "rows": [int(i) for i in draws.index],
              "values_sha256": hashlib.sha256(values.tobytes()).hexdigest()[:24],
              "ensemble": draws.attrs.get("posterior"),
              "precedence": "the ensemble sets parameters only; where a design sets one itself, the ensemble wins"}
    if resolved is not None:
        record["replaced"] = {name: replaced for name, config in zip(names or [], resolved)
                              if (replaced := replaced_parameters(config, draws.columns))}
    return record


def warn_replaced(resolved: list[dict], names: list[str], paths) -> None:
    """A warning for each design whose config sets parameters that the draws replace."""
    import warnings

    for name, config in zip(names, resolved):
        replaced = replaced_parameters(config, paths)
        if replaced:
            shown = ", ".join(replaced[:3]) + (f" and {len(replaced) - 3} more" if len(replaced) > 3 else "")
            them = "it" if len(replaced) == 1 else "them"
            warnings.warn(f"{name} sets {shown} itself; the posterior draws replace {them} "
                          "(parameters are the world's, not the design's)", stacklevel=3)


def replaced_parameters(resolved: dict, paths) -> list[str]:
    """The key paths among ``paths`` that a config sets to a value other than the baseline's (the prior's
    ``value``): what an ensemble's draws replace in that design."""
    from .priors import PRIORS

    out = []
    for path in paths:
        node = resolved
        for key in path.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None and path in PRIORS and node != PRIORS[path].value:
            out.append(path)
    return out


def run_scenarios(loaded: list, replicates: int, seed: int = 0, workers: int = 1, progress: bool = False,
                  executor: Executor | None = None, blocks: int = 1, engine: str | None = None,
                  dask: str | None = None, first_replicate: int = 0, by_county: bool = False,
                  draws: pd.DataFrame | None = None) -> RunResult:
    """Run each scenario (``LoadedScenario`` or ``Scenario``) for replicates 0..N-1 with the root seed.

    ``workers`` > 1 uses a local process pool (or that many Dask workers with
    ``dask='local'``); ``executor`` lets a caller pass any Executor. ``engine``
    overrides each scenario's own ``engine``. ``by_county`` also gives the result's ``counties``: every
    metric by named county and year, replicate by replicate (``sim.counties.county_frame``).

    ``draws`` (parameter sets, one per row, e.g. ``sim.posterior.ensemble_draws``): every scenario runs
    ``replicates`` replicates under each parameter set, paired: draw d is the same parameter set for every
    scenario (the ensemble's values replace the scenario's own, :func:`drawn_scenario`), and its replicate r
    is run number ``d * replicates + r`` (:func:`draw_runs`), with that number's random streams in every
    scenario. The series (and counties) get a ``draw`` column; the manifest records the draws
    (:func:`draws_record`).
    """
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    pairs = [as_scenario(item) for item in loaded]
    scenarios = [s for s, _ in pairs]
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be told apart in the results: {names}")
    engines = [engine or s.engine for s in scenarios]
    runs = draw_runs(draws, replicates, first_replicate)  # (draw or None, run number), in run order
    reps = [k for _, k in runs]
    draw_of = dict((k, d) for d, k in runs)
    if draws is None:
        world = {(i, None): s for i, s in enumerate(scenarios)}
    else:
        warn_replaced([m["resolved_config"] for _, m in pairs], names, draws.columns)
        world = {(i, d): drawn_scenario(meta["resolved_config"], draws.iloc[d])
                 for i, (_, meta) in enumerate(pairs) for d in range(len(draws))}
    splits = {i: county_blocks(s.geography.counties, blocks) for i, s in enumerate(scenarios)}
    # a scenario whose first months are an earlier one's (the baseline's, say, before the reform starts) goes
    # on from that one's run at the month they part (run_branches); per draw, as drawn parameters count
    branches_of = {d: plan_branches([world[(i, d)] for i in range(len(scenarios))], engines, splits)
                   for d in sorted({draw_of[k] for k in reps}, key=lambda d: -1 if d is None else d)}
    branched = {d: {j for followers in b.values() for j, _ in followers} for d, b in branches_of.items()}
    # interleaved: replicate k of every scenario before replicate k+1, so early results cover all
    every = [(i, k, b) for k in reps for i in range(len(scenarios)) for b in range(len(splits[i]))]
    tasks = [(i, k, b) for i, k, b in every if i not in branched[draw_of[k]]]
    if len(tasks) < (1 if executor is None and dask is None and workers <= 1 else max(workers, 2)):
        # fewer tasks than workers (one replicate of a pair on two): running each scenario on its own is sooner
        branches_of = {d: {i: [] for i in range(len(scenarios))} for d in branches_of}
        tasks = every
    started = time.perf_counter()

    def call(i, k, b):
        first, stop = splits[i][b]
        d = draw_of[k]
        return (world[(i, d)], seed, k, first, stop, engines[i],
                tuple((world[(j, d)], month) for j, month in branches_of[d][i]))

    runs_in = [1 + len(branches_of[draw_of[k]][i]) for i, k, _ in tasks]
    with _progress(sum(runs_in), progress) as bar, executor_context(executor, workers, dask) as pool:
        done = run_tasks(pool, run_branches, [call(*task) for task in tasks], ordered=False)
        parts = {}
        for n, results in done:
            i, k, b = tasks[n]
            for j, part in zip([i] + [j for j, _ in branches_of[draw_of[k]][i]], results):
                parts[(j, k, b)] = part
            bar.update(runs_in[n])
    wall = time.perf_counter() - started
    frames = [assemble(world[(i, draw_of[k])], seed, k, [parts[(i, k, b)] for b in range(len(splits[i]))],
                       by_county) for i in range(len(scenarios)) for k in reps]
    if draws is not None:
        frames = [_with_draw(f, draw_of[k]) for f, k in zip(frames, [k for _ in scenarios for k in reps])]
    counties = None
    if by_county:
        from .counties import categorical

        frames, by_county_frames = [f for f, _ in frames], [c for _, c in frames]
        counties = categorical(pd.concat(by_county_frames, ignore_index=True))
    series = pd.concat(frames, ignore_index=True)
    for col in ("scenario", "phase", "region", "group", "metric"):
        series[col] = series[col].astype("category")
    manifest = {
        "scenarios": [meta for _, meta in pairs],
        "seed": seed,
        "replicates": replicates,
        "replicate_numbers": list(reps),
        **({} if draws is None else {"draws": draws_record(draws, replicates, [m["resolved_config"] for _, m in pairs],
                                                           names)}),
        "seeding": "per agent: PCG64(SeedSequence(seed, spawn_key=(replicate, stream, month, column))) advanced "
                   "to the agent's global index; replicate k shares streams across scenarios (common random numbers)",
        "engine": dict(zip(names, engines)),
        "blocks": {names[i]: len(splits[i]) for i in splits},
        "executor": executor_label(executor, workers, dask),
        "workers": workers,
        "versions": versions(),
        "command": " ".join(sys.argv),
        "timings": {
            "wall_seconds": round(wall, 3),
            "task_seconds": {f"{names[i]}/{k}/{b}": round(parts[(i, k, b)][2], 3) for i, k, b in sorted(parts)},
        },
    }
    return RunResult(series, manifest, counties)


@contextmanager
def _given(executor: Executor):
    yield executor


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix(self, **values) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_NoBar":
        return self

    def __exit__(self, *exc) -> None:
        pass


def _progress(total: int, enabled: bool, desc: str = "runs"):
    """A progress bar on stderr (runs done, rate, time left), or nothing."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, dynamic_ncols=True)
