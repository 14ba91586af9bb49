"""The engine of ``grassroots explore`` (the browser app is :mod:`sim.explore_app`): a design being explored,
its paired comparison with the baseline, its figures and tables, saving it as a config, opening stored results.

Nothing here re-implements the library; this module only puts it together for an interactive page:

- the levers, their groups, bounds, units and labels come from the registry (``sim.registry``);
- a design is a starting config (``sim.config.load_scenario``) with lever values changed by phase and a
  geography, validated as overrides are (``sim.config.scenario_of``: a bad value is a ``ConfigError`` that
  names the key and its range);
- its baseline is the same world with every lever at its 2023 value (the registry's default, or the
  calibrated value where ``grassroots calibrate`` fitted one): the same geography, timeline, pilot,
  implementation and parameters, so the two differ only by the design;
- both are run with ``sim.run.run_scenarios`` on common random numbers (replicate k of the design and of the
  baseline share their random streams), one replicate per task on a pool of worker processes; each
  replicate's series is cached by its config hash, seed and replicate, so after a lever moves only the
  design is run again, and each replicate is also kept at the start of each phase (a pickled model,
  ``snapshot_months``), so that a design goes on from the last phase start it shares with a design run
  before (its baseline, or itself before the lever moved): a lever of the full rollout re-runs 2025 on,
  not the spin-up, 2023 and the pilot year. The numbers are those of a run from the start (tested:
  ``GrassrootsModel.with_levers_of``, ``sim.model.policy.prefix_key``);
- levels, paired differences and target attainment are ``sim.compare``'s (the numbers ``grassroots compare``
  writes), figures are ``sim.figures``' (drawn in the worker processes, as matplotlib is not thread-safe),
  the indicator table is the report's (``sim.report.indicator_table``), words are ``sim.text``'s.

Shown to 2027 (``horizon='2027'``, the default) a run stops at the end of 2027, which is what the figures of
the 2027 targets need and takes 30% less time: the random streams are drawn per month, so every month shown
is the month a run to 2030 gives (tested). :func:`save_design` writes the design as a config that
``grassroots validate`` accepts and ``grassroots run`` reproduces, with its full timeline, and the baseline
beside it, so that ``grassroots compare`` reproduces the comparison.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import multiprocessing
import threading
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .config import LoadedScenario, Scenario, config_hash, load_scenario, scenario_of, set_paths
from .config.schema import PHASES, lever_defaults
from .registry import CONFIGS, GROUP_LABELS, HEADLINE, LEVERS, levers_in

REFERENCE = "baseline"
SHOWN_PHASES = tuple(p for p in PHASES if p != "baseline")  # a design moves levers from the pilot on
HORIZONS = ("2027", "end")
MAX_REPLICATES = 200
MAX_DRAWS = 40  # posterior parameter draws a page may ask for (each one is `replicates` more runs per design)
POSTERIOR = Path(__file__).with_name("data") / "posterior.parquet"


class Cancelled(Exception):
    """The run was cancelled from the page."""


def _as_finished(pending: set, stopped=None):
    """Each future of ``pending`` as it finishes, taken out of the set (so that a caller's clean-up sees what
    is left); ``stopped()`` is asked ten times a second, and :class:`Cancelled` raised when it says so."""
    while pending:
        if stopped is not None and stopped():
            raise Cancelled()
        finished, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
        pending.difference_update(finished)
        yield from finished


# --------------------------------------------------------------------------- starting designs and geographies


def starting_designs(extra=()) -> list[str]:
    """The designs a page can start from: the files given on the command line, then the shipped
    ``configs/plan.yaml`` and ``configs/designs/*.yaml`` (absent from an installed wheel)."""
    shipped = [CONFIGS / "plan.yaml", *sorted((CONFIGS / "designs").glob("*.yaml"))] if CONFIGS.is_dir() else []
    out = []
    for path in [*map(str, extra), *(str(p) for p in shipped if p.is_file())]:
        if path not in out:
            out.append(path)
    return out


@dataclass(frozen=True)
class Geography:
    """Where a design is explored: the ``geography`` and ``pilot`` blocks of a config, with overrides."""

    key: str
    en: str
    zh: str
    config: Path | None  # None: as the starting design has it
    overrides: dict = field(default_factory=dict)


GEOGRAPHIES: dict[str, Geography] = {g.key: g for g in (
    Geography("design", "as in the design", "按方案设定", None),
    Geography("county", "one county (rural, central)", "一个县（农村，中部）", CONFIGS / "county.yaml"),
    Geography("dozen", "a dozen counties, one piloting", "12个县（1个试点）", CONFIGS / "plan.yaml",
              {"geography.counties": 12, "pilot.counties": 1}),
    Geography("province", "a province (90 counties)", "一个省（90个县）", CONFIGS / "plan.yaml"),
    Geography("table", "the example province's county table (36 counties)", "示例省份县域表（36个县）",
              CONFIGS / "example_province.yaml"),
)}


_LOADED: dict[tuple[str, float], LoadedScenario] = {}
_LOAD_LOCK = threading.Lock()


def loaded(path: str | Path) -> LoadedScenario:
    """``load_scenario(path)``, cached while the file is unchanged; a ``ConfigError`` for a bad file."""
    path = str(path)
    try:
        stamp = Path(path).stat().st_mtime
    except OSError:
        return load_scenario(path)  # says what is wrong with the path, as `grassroots validate` does
    with _LOAD_LOCK:
        if (path, stamp) not in _LOADED:
            _LOADED[(path, stamp)] = load_scenario(path)
        return _LOADED[(path, stamp)]


# --------------------------------------------------------------------------- the levers


@dataclass(frozen=True)
class LeverControl:
    """What a page needs to draw one lever's control: registry metadata and the design's value by phase."""

    name: str
    group: str
    label: dict  # {"en": ..., "zh": ...}
    unit: str
    low: float
    high: float
    default: float
    values: dict  # phase -> the value in force in that phase (a value holds until the next phase sets another)
    dated: dict  # month keys (YYYY-MM) the config sets, shown but not edited

    @property
    def share(self) -> bool:
        return self.unit.startswith("share")

    @property
    def step(self) -> float:
        span = self.high - self.low
        return 1.0 if span > 20 else 0.01 if span <= 2 else 0.1


def in_force(spec: dict, default: float) -> dict:
    """A resolved lever's value in each phase: the value set for it, else the previous phase's."""
    values, current, out = (spec or {}).get("values", {}), default, {}
    for phase in PHASES:
        current = values.get(phase, current)
        out[phase] = float(current)
    return out


def lever_controls(resolved: dict) -> dict[str, list[LeverControl]]:
    """The levers by group (in the registry's order), each with its value by phase in ``resolved``."""
    out = {}
    for group in GROUP_LABELS:
        items = []
        for name in levers_in(group):
            lever = LEVERS[name]
            spec = resolved.get("levers", {}).get(name) or {}
            if not isinstance(spec, dict):
                spec = {"values": {"baseline": spec}}
            items.append(LeverControl(name, group, {"en": lever.label.en, "zh": lever.label.zh}, lever.unit,
                                      float(lever.bounds.low), float(lever.bounds.high), float(lever.default),
                                      in_force(spec, lever.default),
                                      {k: v for k, v in spec.get("values", {}).items() if k not in PHASES}))
        out[group] = items
    return out


# --------------------------------------------------------------------------- a design


@dataclass(frozen=True)
class Design:
    """A design being explored: a starting config, lever values changed by phase, a geography, and how many
    replicates to run on which seed. Plain data: the page keeps it in its state."""

    start: str
    changes: tuple = ()  # ((lever, phase, value), ...), in the order they were made
    geography: str = "design"
    replicates: int = 5
    seed: int = 0
    horizon: str = "2027"
    name: str = "explored"
    draws: int = 0  # posterior parameter sets (sim/data/posterior.parquet), each run `replicates` times; 0: none

    def with_change(self, lever: str, phase: str, value: float) -> "Design":
        kept = tuple(c for c in self.changes if (c[0], c[1]) != (lever, phase))
        return Design(**{**self.__dict__, "changes": kept + ((lever, phase, float(value)),)})

    def replace(self, **fields) -> "Design":
        return Design(**{**self.__dict__, **fields})


@dataclass(frozen=True)
class Built:
    """A design and its baseline as validated scenarios (``run``: as run on the page, to its horizon) and
    as resolved configs (``saved``: the full timeline, what :func:`save_design` writes)."""

    design: Scenario
    baseline: Scenario
    design_saved: dict
    baseline_saved: dict
    start: LoadedScenario

    @property
    def design_hash(self) -> str:
        return config_hash(self.design.model_dump(mode="json"))


def check_design(design: Design) -> None:
    """Refuse a design the page cannot run, in one line: replicates, draws, seed, horizon, geography, phases."""
    if isinstance(design.draws, bool) or not isinstance(design.draws, int) or not 0 <= design.draws <= MAX_DRAWS:
        raise ValueError(f"parameter draws must be a whole number from 0 (none) to {MAX_DRAWS} (got {design.draws!r})")
    fewest = 1 if design.draws >= 2 else 2  # a comparison's intervals need 2 runs: replicates, or draws x replicates
    if isinstance(design.replicates, bool) or not isinstance(design.replicates, int) \
            or not fewest <= design.replicates <= MAX_REPLICATES:
        raise ValueError(f"replicates must be a whole number from {fewest} to {MAX_REPLICATES} "
                         f"(got {design.replicates!r})" + ("" if design.draws else "; with 2 or more parameter "
                                                             "draws, 1 replicate per draw will do"))
    if design.draws == 1:
        raise ValueError("parameter draws: give 0 (none) or at least 2, so that the bands show their spread")
    if isinstance(design.seed, bool) or not isinstance(design.seed, int) or design.seed < 0:
        raise ValueError(f"the seed must be a whole number of at least 0 (got {design.seed!r})")
    if design.horizon not in HORIZONS:
        raise ValueError(f"unknown horizon {design.horizon!r}; choose from {', '.join(HORIZONS)}")
    if design.geography not in GEOGRAPHIES:
        raise ValueError(f"unknown geography {design.geography!r}; choose from {', '.join(GEOGRAPHIES)}")
    name = design.name.strip()
    if not name or name == REFERENCE or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"the design's name must be letters, digits, _ or - and not {REFERENCE!r} "
                         f"(got {design.name!r})")
    for lever, phase, _ in design.changes:
        if lever not in LEVERS:
            raise ValueError(f"unknown lever {lever!r}")
        if phase not in SHOWN_PHASES:
            raise ValueError(f"unknown phase {phase!r}; choose from {', '.join(SHOWN_PHASES)}")


def build(design: Design) -> Built:
    """:func:`make` the design and its baseline, kept while the starting config is unchanged (a page asks
    for them at every redraw)."""
    stamp = Path(design.start).stat().st_mtime if Path(design.start).is_file() else None
    return _built(design, stamp)


@functools.lru_cache(maxsize=64)
def _built(design: Design, stamp) -> Built:
    return make(design)


def make(design: Design) -> Built:
    """The design and its baseline, validated. A bad starting config, lever value or geography raises a
    ``ConfigError`` (the message names the file or key and the allowed range); a bad setting a ``ValueError``."""
    check_design(design)
    start = loaded(design.start)
    resolved = copy.deepcopy(start.resolved)
    labels = resolved.get("labels") or {}
    resolved["name"] = design.name.strip()
    resolved["labels"] = {"en": f"{labels.get('en') or start.scenario.name} (explored)",
                          "zh": f"{labels.get('zh') or labels.get('en') or start.scenario.name}（调整后）"}
    described = start.resolved.get("description") or ""
    resolved["description"] = {"en": f"Explored from {Path(design.start).name}: {_text(described, 'en')}".strip(),
                               "zh": f"由{Path(design.start).name}调整：{_text(described, 'zh')}".strip()}
    where = GEOGRAPHIES[design.geography]
    overrides = {}
    if where.config is not None:
        place = loaded(where.config).resolved
        resolved["geography"] = copy.deepcopy(place["geography"])
        resolved["pilot"] = copy.deepcopy(place["pilot"])
        overrides.update(where.overrides)
    for lever, phase, value in design.changes:
        spec = resolved["levers"].get(lever)
        if not isinstance(spec, dict):
            resolved["levers"][lever] = {"values": {"baseline": spec}}
        overrides[f"levers.{lever}.values.{phase}"] = value
    scenario_of(resolved, overrides)  # a bad value: a ConfigError naming its key and its range
    saved = _plain(set_paths(resolved, overrides))
    # every lever at the value it has in 2023 in this world: the registry's, or the calibrated one (a lever
    # `grassroots calibrate` fitted, such as social insurance coverage, has its own 2023 value)
    still = {name: {"values": {"baseline": in_force(spec, LEVERS[name].default)["baseline"]}}
             for name, spec in saved["levers"].items()}
    baseline = {**copy.deepcopy(saved), "name": REFERENCE, "levers": {**lever_defaults()["levers"], **still},
                "labels": {"en": "Baseline (no reform)", "zh": "基准情景（不改革）"},
                "description": {"en": f"The world of design {resolved['name']} with every lever at its 2023 value.",
                                "zh": f"与方案{resolved['name']}相同的情境，各项政策杠杆均保持2023年取值。"}}
    end = {"timeline.end": f"{design.horizon}-12"} if design.horizon != "end" else {}
    return Built(scenario_of(saved, end), scenario_of(baseline, end), saved, baseline, start)


def _plain(data):
    """Resolved config data as plain YAML-able values (tuples as lists)."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data


def _text(description, lang: str) -> str:
    from .text import description_in

    return description_in(description, lang)


# --------------------------------------------------------------------------- saving


def design_yaml(design: Design, built: Built | None = None, which: str = "design") -> str:
    """The design (or its baseline, ``which='baseline'``) as a self-contained config: every key resolved,
    so that it runs the same wherever it is saved."""
    built = built or build(design)
    data = built.design_saved if which == "design" else built.baseline_saved
    moved = "\n".join(f"#   {LEVERS[lever].label.en} ({phase}): {value:g}" for lever, phase, value in design.changes)
    head = (f"# Saved by `grassroots explore` from {design.start}"
            + (f", geography: {GEOGRAPHIES[design.geography].en}" if design.geography != "design" else "")
            + (".\n# Levers changed there:\n" + moved if moved else ".") + "\n"
            + ("# Its baseline: every lever at its 2023 value in the same world.\n" if which == "baseline" else "")
            + "# Every key is resolved (no `extends:`): it runs the same wherever it is kept.\n"
            + f"# Reproduce the page: grassroots compare BASELINE.yaml DESIGN.yaml -n {design.replicates} "
            f"--seed {design.seed}" + (f" --draws {design.draws}" if design.draws else "") + "\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def save_design(design: Design, folder: str | Path) -> tuple[Path, Path]:
    """Write ``NAME.yaml`` and ``NAME_baseline.yaml`` into ``folder``; returns their paths."""
    from .store import atomic_write_text, check_writable

    built = build(design)
    folder = check_writable(folder)
    name = design.name.strip()
    paths = (folder / f"{name}.yaml", folder / f"{name}_baseline.yaml")
    atomic_write_text(paths[0], design_yaml(design, built))
    atomic_write_text(paths[1], design_yaml(design, built, "baseline"))
    return paths


# --------------------------------------------------------------------------- running


def snapshot_months(scenario: Scenario) -> list[int]:
    """The months a replicate is kept at, to go on from there under another design: the start of each phase
    of the reform (a lever moved on the page changes a phase's value, so the months before that phase are
    the same as in the design before)."""
    from .model.policy import Calendar

    calendar = Calendar.from_scenario(scenario)
    return sorted({m for p, m in calendar.phase_starts.items()
                   if p in SHOWN_PHASES and calendar.spin_up_start < m <= calendar.end})


def _one_replicate(scenario: Scenario, seed: int, replicate: int, snapshot: bytes | None = None,
                   keep: tuple[int, ...] = ()) -> tuple[pd.DataFrame, dict[int, bytes]]:
    """One replicate of one scenario: its series (the rows of all regions and groups together, as
    ``run_scenarios`` gives them) and snapshots of the model (pickled) at the start of each month of
    ``keep``. Given a ``snapshot`` of a scenario that simulates the same months up to it
    (``sim.model.policy.prefix_key``, same seed and replicate), the run goes on from there under this
    scenario's levers (``GrassrootsModel.with_levers_of``): the same numbers as a run from the start
    (tested), without running those months again."""
    import pickle

    from .model.policy import month_label
    from .run import model_class

    if snapshot is not None:
        model = pickle.loads(snapshot).with_levers_of(scenario)
    else:
        model = model_class(scenario.engine)(scenario, seed=seed, replicate=replicate)
    made = {}
    for month in sorted(keep):
        if month > model.month:
            model.run(until=month_label(month - 1))
            made[month] = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    series = model.run().series()
    return series[(series["region"] == "all") & (series["group"] == "all")].reset_index(drop=True), made


def _worker_init(parent: int) -> None:
    """A worker leaves Ctrl-C to the server and ends when the server does (even by kill -9): it checks its
    parent every second. (``sim.run``'s workers ask Linux for a signal at their parent's death instead, but
    that signal comes when the *thread* that started them ends, and the page's threads come and go.)"""
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # the page's server (its tables, the browser's updates) goes first, the runs and figures after
        os.nice(5)
    except OSError:
        pass

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _warm() -> bool:
    """Import the model and matplotlib in a worker and run and draw once (a short one-county run, a small
    figure): what a worker's first task would otherwise pay, in front of the user's first Run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .figures.style import figure
    from .run import run_block

    county = CONFIGS / "county.yaml"
    if county.is_file():
        scenario = scenario_of(load_scenario(county), {"timeline.spin_up_months": 0, "timeline.end": "2027-01"})
        run_block(scenario, 0, 0, 0, 1)
    fig, ax = figure()
    ax.plot([0, 1], [0, 1])
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return True


class Runner:
    """Runs replicates on a pool of worker processes, keeping each replicate's series (by config hash, seed
    and replicate) so that a scenario already run is not run again. One per server process; thread-safe."""

    def __init__(self, workers: int = 2, cache_size: int = 400, grace: float = 2.0,
                 snapshot_bytes: int = 2 * 1024**3):
        self.workers = max(1, int(workers))
        self.grace = grace  # seconds a cancelled run waits for the replicates already running
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()
        # models kept at the start of each phase, by (month, prefix key, seed, run): what a design shares with
        # its baseline and with the designs before it; at most ``snapshot_bytes`` in all once a run has taken
        # its replicates' snapshots in (0: none kept)
        self.snapshot_bytes = snapshot_bytes
        self._snapshots: OrderedDict = OrderedDict()
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.RLock()

    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                import os

                self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                                 mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_worker_init, initargs=(os.getpid(),))
            return self._pool

    def warm(self) -> None:
        """Start the workers and import the model there, and here what the page's tables need (the model,
        ``sim.compare``, matplotlib: ~3 s), so that the first Run does not wait for it."""
        futures = [self.pool().submit(_warm) for _ in range(self.workers)]
        from . import compare, run  # noqa: F401
        from .figures import style  # noqa: F401

        wait(futures)

    def stop(self) -> None:
        """Terminate the workers at once (a cancelled run); the next run starts new ones."""
        from .run import stop_pool

        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            stop_pool(pool)

    def close(self) -> None:
        self.stop()

    def cached(self, key) -> bool:
        with self._lock:
            return key in self._cache

    def run(self, scenarios: list[Scenario], replicates: int, seed: int, progress=None, stopped=None,
            draws: pd.DataFrame | None = None) -> pd.DataFrame:
        """The series of each scenario over replicates 0..N-1 (all-region, all-group rows), as
        ``run_scenarios`` gives them, each replicate run at most once. ``progress(done, total)`` is called as
        replicates finish; ``stopped()`` is asked every 0.1 s and, when true, the workers are stopped and
        :class:`Cancelled` raised. ``draws`` (posterior parameter sets): ``replicates`` runs under each, run
        numbers and a ``draw`` column as ``run_scenarios(draws=)`` gives them."""
        from .model.policy import prefix_key
        from .run import draw_runs, drawn_scenario

        runs = draw_runs(draws, replicates)  # (draw or None, run number)
        worlds = [[s if d is None else drawn_scenario(s.model_dump(mode="json"), draws.iloc[d]) for d, _ in runs]
                  for s in scenarios]
        keys = [[(config_hash(w.model_dump(mode="json")), seed, k) for w, (_, k) in zip(ws, runs)] for ws in worlds]
        todo = [(i, n) for n in range(len(runs)) for i in range(len(scenarios)) if not self.cached(keys[i][n])]
        # snapshots: by (month, prefix key, seed, run), the months each run is kept at
        months = {(i, n): snapshot_months(worlds[i][n]) if worlds[i][n].engine == "columnar"
                  and self.snapshot_bytes > 0 else [] for i, n in todo}
        known: dict = {}  # prefix keys by (world, month): the world is the same for every run without draws

        def key_of(world, month):
            if (id(world), month) not in known:
                known[(id(world), month)] = prefix_key(world, month)
            return known[(id(world), month)]

        prefixes = {(i, n): {m: (m, key_of(worlds[i][n], m), seed, runs[n][1]) for m in months[(i, n)]}
                    for i, n in todo}
        firsts = {task: mine[months[task][0]] if mine else None for task, mine in prefixes.items()}
        total, done = len(todo), 0
        if progress is not None:
            progress(0, total)
        if todo:
            pool = self.pool()
            futures, waiting, making = {}, {}, set()

            def submit(i, n):
                """Go on from the latest snapshot kept, keeping the later ones. A run whose first snapshot
                another task of this run will bring back (with its result) waits for it, if the workers have
                other tasks meanwhile; else it runs from the start alongside."""
                mine = prefixes[(i, n)]
                have = {m: kept for m in mine if (kept := self._snapshot(mine[m])) is not None}
                first = firsts[(i, n)]
                if not have and first in making and sum(not f.done() for f in futures) >= self.workers:
                    waiting.setdefault(first, []).append((i, n))
                    return None
                if not have and first is not None:
                    making.add(first)
                start = max(have, default=None)
                keep = tuple(m for m in mine if start is None or m > start)
                snapshot = None if start is None else have[start]
                future = pool.submit(_one_replicate, worlds[i][n], seed, runs[n][1], snapshot, keep)
                futures[future] = (i, n)
                return future

            def take(future) -> tuple[int, int]:
                """Keep a finished replicate's series and snapshots (the future is let go: a province's
                snapshots are 88 MB each, and only the kept ones should stay in memory)."""
                i, n = futures.pop(future)
                frame, made = future.result()
                self._keep(keys[i][n], frame)
                for month, snapshot in made.items():
                    self._keep_snapshot(prefixes[(i, n)][month], snapshot)
                return i, n

            for i, n in todo:
                submit(i, n)
            pending = set(futures)
            try:
                for future in _as_finished(pending, stopped):
                    i, n = take(future)
                    making.discard(firsts[(i, n)])
                    for later in waiting.pop(firsts[(i, n)], []):  # (from the start if no snapshot was made)
                        again = submit(*later)
                        if again is not None:
                            pending.add(again)
                    done += 1
                    if progress is not None:
                        progress(done, total)
            except BaseException:  # Cancel (or an error): drop what has not started, and stop the workers
                # only if what they are running takes longer than a moment (a province), since new workers
                # take seconds to start; replicates that finish meanwhile are kept
                # (stop_pool cancels the queued ones itself: cancelling them first races its clean-up, see
                # sim.run._OwnPool)
                running = [future for future in pending if future.running()]
                finished, unfinished = wait(running, timeout=self.grace)
                for future in finished:
                    if future.exception() is None:
                        take(future)
                if unfinished:
                    self.stop()
                else:
                    for future in pending:
                        future.cancel()
                raise
        frames = []
        with self._lock:
            for i, s in enumerate(scenarios):
                for n, (d, _) in enumerate(runs):
                    self._cache.move_to_end(keys[i][n])
                    frame = self._cache[keys[i][n]].assign(scenario=s.name)
                    if d is not None:
                        frame.insert(frame.columns.get_loc("replicate") + 1, "draw", np.int32(d))
                    frames.append(frame)
        series = pd.concat(frames, ignore_index=True)
        for col in ("scenario", "phase", "region", "group", "metric"):
            series[col] = series[col].astype("category")
        return series

    def _snapshot(self, prefix) -> bytes | None:
        with self._lock:
            if prefix not in self._snapshots:
                return None
            self._snapshots.move_to_end(prefix)
            return self._snapshots[prefix]

    def _keep_snapshot(self, prefix, snapshot: bytes) -> None:
        """Keep a snapshot, dropping the least recently used ones beyond ``snapshot_bytes`` in all."""
        with self._lock:
            self._snapshots[prefix] = snapshot
            while self._snapshots and sum(map(len, self._snapshots.values())) > self.snapshot_bytes:
                self._snapshots.popitem(last=False)

    def _keep(self, key, frame: pd.DataFrame) -> None:
        with self._lock:
            self._cache[key] = frame
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def draw(self, series: pd.DataFrame, manifest: dict, lang: str, names=None, stopped=None,
             each=None) -> dict[str, bytes]:
        """The comparison's figures as PNG, drawn on the workers (name -> PNG bytes); ``each(name, png)`` is
        called as each one is ready, so that a page can show it at once."""
        return self.drawn(self.start_drawing(series, manifest, lang, names), stopped, each)

    def start_drawing(self, series: pd.DataFrame, manifest: dict, lang: str, names=None) -> dict:
        """Hand the figures to the workers and return at once (``drawn`` waits for them): a page works out
        its tables meanwhile."""
        pool = self.pool()
        return {pool.submit(figure_png, series, manifest, name, lang): name
                for name in list(names or figure_names(series))}

    def drawn(self, futures: dict, stopped=None, each=None) -> dict[str, bytes]:
        """The figures ``start_drawing`` handed out, as they come (see ``draw``); the rest are cancelled if
        this is stopped."""
        pending, out = set(futures), {}
        try:
            for future in _as_finished(pending, stopped):
                out[futures[future]] = future.result()
                if each is not None:
                    each(futures[future], out[futures[future]])
        finally:
            for future in pending:
                future.cancel()
        return {name: out[name] for name in futures.values()}


# --------------------------------------------------------------------------- a comparison


@dataclass
class Comparison:
    """What the page shows after Run: the series, and ``sim.compare``'s tables of it."""

    series: pd.DataFrame
    manifest: dict
    levels: pd.DataFrame
    differences: pd.DataFrame
    attainment: pd.DataFrame
    seconds: float = 0.0
    design: object = None  # the Design explored (None for stored results)
    shown_as: int = 0  # the page's number for it (sim.explore_app.show_result)
    values: pd.DataFrame | None = None  # sim.compare.replicate_values of the series

    def all_levels(self) -> pd.DataFrame:
        """Every metric's levels, as ``compare`` writes them to levels.csv."""
        from .compare import levels

        return levels(self.values)

    @property
    def reference(self) -> str:
        return self.manifest.get("reference") or self.manifest["scenarios"][0]["name"]

    @property
    def designs(self) -> list[str]:
        from .figures.style import design_order

        return design_order(self.manifest, self.series)


def design_draws(design: Design) -> pd.DataFrame | None:
    """The posterior parameter sets a design runs under (the ensemble's first ``design.draws``), or None."""
    if not design.draws:
        return None
    from .posterior import ensemble_draws

    return ensemble_draws(design.draws, POSTERIOR)


def manifest_of(built: Built, replicates: int, seed: int, draws: pd.DataFrame | None = None) -> dict:
    """What a ``compare`` manifest says of the page's runs (the reports' and tables' words read it)."""
    from .run import draw_runs, draws_record, versions

    scenarios = [{"name": s.name, "config": None, "config_hash": config_hash(s.model_dump(mode="json")),
                  "resolved_config": s.model_dump(mode="json")} for s in (built.baseline, built.design)]
    manifest = {"scenarios": scenarios, "seed": seed, "replicates": replicates,
                "replicate_numbers": [k for _, k in draw_runs(draws, replicates)], "reference": REFERENCE,
                "versions": versions(), "command": "grassroots explore"}
    if draws is not None:
        manifest["draws"] = draws_record(draws, replicates)
    return manifest


def tables_of(series: pd.DataFrame, manifest: dict) -> Comparison:
    """``sim.compare``'s levels, paired differences and target attainment of a series."""
    from .compare import differences, levels, replicate_values, target_attainment

    values = replicate_values(series)
    designs = [s["name"] for s in manifest.get("scenarios", [])]
    reference = manifest.get("reference") if manifest.get("reference") in designs else (designs or [None])[0]
    diff = differences(values, reference) if reference is not None and values["scenario"].nunique() > 1 \
        else pd.DataFrame()
    # the levels of the headline outcomes (what the page shows; all of them: ``all_levels``, for the download)
    headline = levels(values[values["metric"].isin(HEADLINE)])
    return Comparison(series, manifest, headline, diff, target_attainment(values), values=values)


def run_comparison(design: Design, runner: Runner, progress=None, stopped=None) -> Comparison:
    """Build, run and tabulate a design against its baseline (see the module's docstring)."""
    started = time.perf_counter()
    result = tables_of(*run_series(design, runner, progress, stopped))
    result.seconds = time.perf_counter() - started
    return result


def run_series(design: Design, runner: Runner, progress=None, stopped=None) -> tuple[pd.DataFrame, dict]:
    """Build and run a design and its baseline: the series and manifest ``tables_of`` and the figures take."""
    built = build(design)
    draws = design_draws(design)
    series = runner.run([built.baseline, built.design], design.replicates, design.seed, progress, stopped, draws)
    return series, manifest_of(built, design.replicates, design.seed, draws)


FIGURE_NAMES = ("headline", *(f"difference_{m}" for m in HEADLINE), "targets_2027")  # every figure a page shows


def figure_names(series: pd.DataFrame) -> list[str]:
    """The figures of these series: the differences with more than one design, the targets with 2027."""
    designs = series["scenario"].nunique()
    years = set(pd.DatetimeIndex(series["date"]).year)
    return [name for name in FIGURE_NAMES if (designs > 1 or not name.startswith("difference_"))
            and (2027 in years or name != "targets_2027")]


def figure_png(series: pd.DataFrame, manifest: dict, name: str, lang: str = "en", dpi: int = 110) -> bytes:
    """One figure of a comparison (``headline``, ``difference_METRIC``, ``targets_2027``) as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .figures import attainment_heatmap, difference_chart, headline_figure
    from .figures.style import reused_layout

    words = (name, lang, json.dumps([s.get("resolved_config", {}).get("labels") for s in manifest.get("scenarios", [])],
                                    sort_keys=True, default=str))
    with plt.rc_context(), reused_layout(words):
        if name == "headline":
            fig = headline_figure(series, manifest, lang=lang)
        elif name.startswith("difference_"):
            designs = [s["name"] for s in manifest.get("scenarios", [])]
            reference = manifest.get("reference") if manifest.get("reference") in designs else designs[0]
            fig = difference_chart(series, manifest, name[len("difference_"):], reference, lang)
        elif name == "targets_2027":
            fig = attainment_heatmap(series, manifest, lang)
        else:
            raise ValueError(f"unknown figure {name!r}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)  # as the report saves it (sim.figures.style.save)
        plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------- tables for the page


def difference_rows(result: Comparison, lang: str = "en", year: int = 2027) -> pd.DataFrame:
    """The headline outcomes in ``year``: each design's mean, and its paired difference from the reference
    with the 90% interval (shares in percentage points), in words of ``lang``."""
    from .figures.style import design_labels, fmt_value, is_share
    from .text import metric_name

    labels = design_labels(result.manifest, lang)
    zh = lang == "zh"
    rows = []
    for metric in HEADLINE:
        lev = result.levels[(result.levels["metric"] == metric) & (result.levels["year"] == year)]
        row = {("指标" if zh else "outcome"): metric_name(metric, lang)}
        for design in result.designs:
            v = lev.loc[lev["design"] == design, "mean"]
            row[labels.get(design, design)] = fmt_value(metric, float(v.iloc[0])) if len(v) else "—"
        d = result.differences
        if len(d):
            for design in [x for x in result.designs if x != result.reference]:
                r = d[(d["metric"] == metric) & (d["year"] == year) & (d["design"] == design)]
                if len(r):
                    r = r.iloc[0]
                    scale, unit = (100.0, " pp") if is_share(metric) else (1.0, "")
                    head = ("差值（配对90%区间）" if zh else "difference [paired 90%]") + \
                        ("" if len(result.designs) == 2 else f": {labels.get(design, design)}")
                    row[head] = (f"{scale * r['difference']:+.2f}{unit} "
                                 f"[{scale * r['paired_low']:+.2f}, {scale * r['paired_high']:+.2f}]")
        rows.append(row)
    return pd.DataFrame(rows)


def attainment_rows(result: Comparison, lang: str = "en") -> pd.DataFrame:
    """The chance of meeting each 2027 target, per design (``sim.compare.target_attainment``), in words."""
    from .compare import TARGETS_2027
    from .figures.style import design_labels, fmt_value, target_label

    labels = design_labels(result.manifest, lang)
    att = result.attainment
    if att.empty:
        return pd.DataFrame()
    names = {t.label: target_label(t, lang) for t in TARGETS_2027}
    rows = []
    for target in dict.fromkeys(att["target"]):
        row = {("目标（2027年）" if lang == "zh" else "2027 target"): names.get(target, target)}
        for design in result.designs:
            r = att[(att["target"] == target) & (att["design"] == design)]
            row[labels.get(design, design)] = (f"{100 * float(r['probability'].iloc[0]):.0f}% "
                                               f"[{fmt_value(r['metric'].iloc[0], float(r['mean'].iloc[0]))}]"
                                               if len(r) else "—")
        rows.append(row)
    return pd.DataFrame(rows)


def chance(result: Comparison, metric: str, design: str) -> float:
    """The chance (share of replicates) that ``design`` meets the 2027 target measured by ``metric``."""
    att = result.attainment
    rows = att[(att["metric"] == metric) & (att["design"] == design) & (att["reading"].fillna("") == "")]
    return float(rows["probability"].iloc[0])


# --------------------------------------------------------------------------- stored results


@dataclass
class Stored:
    """A results folder opened read-only: its kind and what the page shows of it."""

    folder: Path
    kind: str  # run, sweep or pilot
    comparison: Comparison | None = None  # a run or comparison
    figures: list = field(default_factory=list)  # sweep / pilot: (name, caption, PNG bytes)
    tables: list = field(default_factory=list)  # sweep / pilot: (caption, frame)
    title: str = ""


def open_results(folder: str | Path, lang: str = "en") -> Stored:
    """A ``run``, ``compare``, ``sweep`` or ``evaluate-pilot`` folder, read as ``grassroots report`` reads it
    (``sim.report.kind_of``, ``sim.store.read_run``), nothing written. A folder that is none of them raises a
    ``ResultsError`` (a ``ValueError``) saying what was expected."""
    from .report import kind_of, stored_figures
    from .store import ResultsError, read_run

    path = Path(str(folder).strip()).expanduser()
    if not str(folder).strip():
        raise ResultsError("give the path of a results folder (written by run, compare, sweep or evaluate-pilot)")
    kind = kind_of(path)
    if kind == "run":
        series, manifest = read_run(path)
        # what the page shows is of all counties and groups: the rest need not go to the workers that draw
        series = series[(series["region"] == "all") & (series["group"] == "all")].reset_index(drop=True)
        return Stored(path, kind, comparison=tables_of(series, manifest), title=path.name)
    title, figures, tables = stored_figures(path, kind, lang)
    pngs = []
    for name, caption, fig in figures:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        import matplotlib.pyplot as plt

        plt.close(fig)
        pngs.append((name, caption, buf.getvalue()))
    return Stored(path, kind, figures=pngs, tables=tables, title=title)


def draws_available() -> bool:
    """Whether posterior parameter draws exist (``sim/data/posterior.parquet``): the page shows its
    "parameter draws" control only then."""
    return POSTERIOR.exists()
