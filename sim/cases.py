"""The local reform cases as simulator outputs: the evidence the plan reports from local reforms
(policy-facts §7), each a config of its own (``configs/cases/``) and a function of the parameters.

A case is a place, an instrument and a before/after figure. Its config represents the place as the schema
can (region, urban or rural, size), holds the 2023 world before, and switches on only the case's
instrument, in every county from 2024-01 (the model's calendar: 2023 is "the year before", 2024 the first
year after; the case's own years do not matter). ``case_outcome`` applies a parameter set to the case's
config, tunes the case's local baseline to the reported before-value for *that* parameter set (where the
case has a before-level: Pudong), runs the case and reads the outcome as the report states it:

    from sim.cases import CASES, case_outcome, observations
    case_outcome("pudong", {"parameters.cadres.quit_pay": 2.0})
    # {'before': 0.2199, 'after': 0.1201, 'tuned': -2.6998, 'seconds': 1.2}  (committee turnover 2023, 2026)
    observations()      # one row per case: the observed value, its sd and why (the likelihood)

Showcase reports are success-selected (a place reports because its reform worked), come from a single
place, and measure something close to, not the same as, the model's metric: each reported after-value is a
noisy observation with the sd given in ``CASES`` and argued in docs/cases.md, not a number to hit.

Every run uses the columnar engine (``GrassrootsModel.county_tallies``, as ``sim.calibrate`` does) and
common random numbers: the same seed and replicates give the same numbers, for any parameter set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logit

from .config import load_scenario, scenario_from_dict, set_paths
from .model.metrics import METRIC_NAMES, cell_values
from .model.model import GrassrootsModel
from .priors import apply_parameters

__all__ = ["Case", "CASES", "case_outcome", "observations", "case_config"]

ROOT = Path(__file__).resolve().parents[1]
BEFORE_YEAR = 2023  # the model's year before every case; its instrument starts in 2024-01


@dataclass(frozen=True)
class Case:
    """One local reform case: where its config is, what it measures and how, and what was reported."""

    name: str
    place: str
    config: str  # relative to the project root
    metric: str  # a metric of sim/registry/metrics.yaml
    reading: str  # "level": the metric's value in after_year; "relative_change": after_year vs BEFORE_YEAR
    after_year: int  # the model's year the after-value is read in
    how: str  # how the outcome is read, in words
    before: float | None  # the reported before-value (None: the report gives only a change)
    after: float  # the reported after-value, on the scale of the reading
    sd: float  # the observation sd of ``after``
    sd_reason: str
    source: str
    instrument: tuple[str, ...]  # the levers the case switches on (the before-only world keeps their 2023 values)
    tuned: str | None = None  # the local parameter tuned to the before-value (None: nothing to tune)
    tuning: str = ""  # why that parameter, or why none
    tolerance: float = 0.0  # how close the tuned before-value comes to the reported one (a tuned case)
    informs: str = ""  # which parameters the case can inform


CASES: dict[str, Case] = {c.name: c for c in (
    Case(
        name="pudong",
        place="Shanghai Pudong (urban district, east)",
        config="configs/cases/pudong.yaml",
        metric="turnover_rate_committee",
        reading="level",
        after_year=2026,
        how="annual turnover of committee posts (exits / posts filled at the start of each month, x12, pooled "
            "over the year's months and the counties) in the third year after the start, 2026",
        before=0.22,
        after=0.08,
        sd=0.04,
        sd_reason=(
            "success selection (a showcase district, reported because turnover fell: the average district "
            "would see less), a single place (Shanghai's labour market is not the model's east district), and "
            "definitional mismatch ('community workers' vs the model's committee posts; 'within three years' "
            "read as the third year's annual rate; exits include retirements): half the reported level, so "
            "4-12% (+-1 sd) are all consistent with the report"),
        source="plan §5.2, §7.1, §9.2 (policy-facts §7)",
        instrument=("career_ladder", "occupational_annuity"),
        tuned="parameters.cadres.quit_intercept",
        tuning=("the local quit intercept, shifted so that 2023 committee turnover is 22% (the calibrated "
                "national world has ~24%); secant steps on the logit scale with before-only runs through 2023"),
        tolerance=0.008,
        informs="quit_pay, quit_annuity (and grade_pay_step, the ladder's pay) jointly: the drop from 22% to the "
                "third year's level; not each of them alone",
    ),
    Case(
        name="hangzhou_shangcheng",
        place="Hangzhou Shangcheng (urban district, east)",
        config="configs/cases/hangzhou_shangcheng.yaml",
        metric="complaints_per_1000_residents",
        reading="relative_change",
        after_year=2024,
        how="relative change of complaints per 1,000 residents, the first year after (2024) vs the year "
            "before (2023), each pooled over its months and the counties",
        before=None,
        after=-0.65,
        sd=0.15,
        sd_reason=(
            "success selection (a showcase district), a single place, and definitional mismatch: 'complaint "
            "volume' is what the district's channels recorded, and a platform that moves complaints online "
            "also changes what is recorded as one; the model counts residents who complained about any cause. "
            "+-0.15 takes -50% to -80% as consistent with the report"),
        source="plan §5.3, §7.4 (policy-facts §7)",
        instrument=("supervision_platform", "complaint_deadline_days"),
        tuning=("none: the report gives a relative change only, no before-level; the local baseline is the "
                "calibrated 2023 world of an urban east district"),
        informs="attitude_supervision_cut, opacity_supervision_cut, deadline_delay_relief and "
                "deadline_escalation jointly (their combined complaint reduction); the complaint_* weights set "
                "how the reduction splits over causes",
    ),
    Case(
        name="sichuan_capability",
        place="Sichuan (province, west)",
        config="configs/cases/sichuan_capability.yaml",
        metric="training_applied_share",
        reading="level",
        after_year=2024,
        how="share of cadres trained in a month who apply what they learned, pooled over the first year after "
            "(2024) and the counties; 'applied capability up 40%' read as a relative rise of the plan's 31% "
            "(0.31 x 1.4 = 0.434)",
        before=0.31,
        after=0.434,
        sd=0.10,
        sd_reason=(
            "success selection (a province's own report of its plan), definitional mismatch ('applied "
            "capability' may be an assessed score, not a share of cadres applying; '+40%' may be relative, "
            "0.434, or percentage points, 0.71: the relative reading is taken and the points reading is 2.8 sd "
            "away), and the 31% before-figure is national (§2.2.3), not Sichuan's own"),
        source="plan §4.3 (policy-facts §7); before: §2.2.3",
        instrument=("training_coverage", "training_mentoring"),
        tuning=("none: the before-value is the plan's national 31%, the fixed prior of "
                "parameters.cadres.application_rate; the model's before-share is that parameter by construction"),
        informs="application_rate_mentored alone (the share applying under full mentoring): the case pins it "
                "down directly, up to the observation sd",
    ),
)}


@lru_cache(maxsize=None)
def _resolved(name: str) -> dict:
    return load_scenario(ROOT / CASES[name].config).resolved


def _case(name: str) -> Case:
    if name not in CASES:
        raise KeyError(f"unknown case {name!r}; the cases are {', '.join(CASES)}")
    return CASES[name]


def case_config(case_name: str, params: Mapping[str, float] | None = None, instrument: bool = True) -> dict:
    """The case's resolved config with the parameter set applied (``sim.priors.apply_parameters``) and
    implementation fidelity kept at 1 (the case reports a place that implemented); ``instrument=False``:
    the before-only world, the case's instrument levers at their 2023 values."""
    case = _case(case_name)
    config = apply_parameters(_resolved(case_name), dict(params or {}))
    # the case is a place that implemented its instrument: every county implements every lever group
    fidelity = config["implementation"]["fidelity"]
    config = set_paths(config, {f"implementation.fidelity.{group}.{region}": 1.0
                                for group, shares in fidelity.items() for region in shares})
    if not instrument:
        for lever in case.instrument:  # a resolved lever always has its 2023 (baseline) value
            spec = config["levers"][lever]
            spec["values"] = {"baseline": spec["values"]["baseline"]}
    return config


def _annual(scenario, years: list[int], seed: int, replicates: int) -> np.ndarray:
    """Each metric's value in each of ``years``, pooled over the year's months, the counties and the
    replicates: (years, metrics). The runs stop after the last year asked."""
    return _pooled([GrassrootsModel(scenario, seed=seed, replicate=r) for r in range(replicates)], years)


def _pooled(runs: list[GrassrootsModel], years: list[int]) -> np.ndarray:
    """``_annual`` of models already made (one per replicate): each runs on as far as the last year asked
    (months already simulated are not run again)."""
    num = den = 0.0
    for run in runs:
        n, d = run.county_tallies(years=years)
        num = num + n.reshape(len(years), 12, *n.shape[1:]).sum(axis=(1, 3))
        den = den + d.reshape(len(years), 12, *d.shape[1:]).sum(axis=(1, 3))
    everyone = np.ones((1, 1))
    return np.stack([cell_values(n[:, None], d[:, None], everyone)[:, 0] for n, d in zip(num, den)])


def _read(case: Case, values: np.ndarray) -> tuple[float, float]:
    """(before, after) from the annual values of (BEFORE_YEAR, after_year)."""
    i = METRIC_NAMES.index(case.metric)
    before, after = float(values[0, i]), float(values[1, i])
    if case.reading == "relative_change":
        return before, (after - before) / before if before > 0 else math.nan
    return before, after


FIRST_SLOPE = 0.85
"""d logit(monthly exit rate) / d quit intercept for the first tuning step: quits move one for one with the
intercept on their log-odds, retirements (about an eighth of exits in 2023) not at all; measured slopes at
prior draws lie between 0.65 and 1.05 (single-county noise), 0.85 in the middle."""
MAX_STEPS = 5  # tries after the parameter set's own value, at most (each a run through 2023)


def _monthly_logit(annual: float) -> float:
    """The log-odds of the monthly rate of an annual_rate metric (x12): defined for any rate a run gives
    (an annual rate can exceed 1 in a world of prior draws where posts churn)."""
    return float(logit(np.clip(annual / 12.0, 1e-9, 1.0 - 1e-9)))


def _tuned_run(case: Case, params: dict, seed: int, replicates: int) -> tuple[float, float, float]:
    """Tune ``case.tuned`` to the reported before-value and run the case: (tuned value, before, after).

    Each try is the case run stopped after 2023: until 2024-01 the case's instrument is off, so this is the
    before-only world (the case config with the instrument off gives the same 2023, number for number:
    tested), and the run that lands within ``case.tolerance`` of the reported value simply runs on to the
    after-year. Secant steps on the log-odds of the before-value's monthly rate, from the parameter set's
    own value; the first step assumes the slope ``FIRST_SLOPE``, later ones the secant of the last two tries
    (kept within [0.4, 1.6]: single-county noise can make a short secant flat or steep). After
    ``MAX_STEPS`` steps the try closest to the reported value is run on.
    """
    on = case_config(case.name, params)
    node = on
    for key in case.tuned.split("."):
        node = node[key]
    i = METRIC_NAMES.index(case.metric)
    goal = _monthly_logit(case.before)

    def models(x: float) -> list[GrassrootsModel]:
        scenario = scenario_from_dict(set_paths(on, {case.tuned: x}))
        return [GrassrootsModel(scenario, seed=seed, replicate=r) for r in range(replicates)]

    x = float(node)
    tries = []
    for k in range(1 + MAX_STEPS):
        runs = models(x)
        before = float(_pooled(runs, [BEFORE_YEAR])[0, i])
        tries.append((abs(before - case.before), k, x, runs))
        if abs(before - case.before) <= case.tolerance:
            break
        y = _monthly_logit(before)
        if k == 0:
            slope = FIRST_SLOPE
        else:
            slope = float(np.clip((y - y_last) / (x - x_last), 0.4, 1.6)) if abs(x - x_last) > 1e-9 else FIRST_SLOPE
        x_last, y_last = x, y
        x = x + (goal - y) / slope
    _, _, x, runs = min(tries, key=lambda t: (t[0], t[1]))
    before, after = _read(case, _pooled(runs, [BEFORE_YEAR, case.after_year]))
    return x, before, after


def case_outcome(case_name: str, params: Mapping[str, float] | None = None, seed: int = 1,
                 replicates: int = 1) -> dict:
    """Run one case at one parameter set (config key path -> value, as a row of
    ``sim.priors.sample_parameters``; None: the calibrated values).

    The local baseline is tuned to the reported before-value for this parameter set (``Case.tuned``, where
    the case has one; ``_tuned_run``), with the case's instrument on from 2024-01. Returns ``before`` (the
    before-value the run achieved, in the metric's units: for a relative-change case the 2023 level),
    ``after`` (the outcome on the scale of the report: a level, or the relative change), ``tuned`` (the
    tuned local value; NaN when nothing is tuned) and ``seconds`` (wall time). The same seed and
    replicates give the same result.
    """
    case = _case(case_name)
    if not isinstance(replicates, (int, np.integer)) or isinstance(replicates, bool) or replicates < 1:
        raise ValueError(f"replicates must be a positive whole number (got {replicates!r})")
    start = time.perf_counter()
    params = dict(params or {})
    if case.tuned is not None:
        tuned, before, after = _tuned_run(case, params, seed, replicates)
    else:
        tuned = math.nan
        scenario = scenario_from_dict(case_config(case_name, params))
        before, after = _read(case, _annual(scenario, [BEFORE_YEAR, case.after_year], seed, replicates))
    return {"before": before, "after": after, "tuned": tuned, "seconds": time.perf_counter() - start}


def observations() -> pd.DataFrame:
    """The cases' observed values as a tidy table (one row per case): what the lead's likelihood uses.
    ``observed`` is on the scale ``case_outcome(...)["after"]`` returns; ``sd`` its observation sd."""
    return pd.DataFrame([{
        "case": c.name, "place": c.place, "metric": c.metric, "reading": c.reading, "year": c.after_year,
        "before": c.before, "observed": c.after, "sd": c.sd, "reason": c.sd_reason, "source": c.source,
        "tuned": c.tuned, "informs": c.informs,
    } for c in CASES.values()]).set_index("case")


def summary(seeds: int = 10, replicates: int = 1) -> pd.DataFrame:
    """Each case at the calibrated parameters over seeds 1..``seeds``: the mean before- and after-values,
    the after-value's sd over seeds, the reported after-value and the seconds per evaluation, wall and CPU
    (the CPU time does not depend on what else the machine runs; the first evaluation of a process also
    pays for imports and caches: a warm-up evaluation runs first)."""
    case_outcome(next(iter(CASES)))
    rows = []
    for name, case in CASES.items():
        runs = []
        for s in range(1, seeds + 1):
            cpu = time.process_time()
            runs.append({**case_outcome(name, seed=s, replicates=replicates), "cpu": time.process_time() - cpu})
        runs = pd.DataFrame(runs)
        rows.append({"case": name, "before": runs["before"].mean(), "reported_before": case.before,
                     "after": runs["after"].mean(), "after_sd_over_seeds": runs["after"].std(ddof=1),
                     "reported_after": case.after, "observation_sd": case.sd,
                     "seconds_mean": runs["seconds"].mean(), "seconds_max": runs["seconds"].max(),
                     "cpu_seconds_mean": runs["cpu"].mean()})
    return pd.DataFrame(rows).set_index("case")


if __name__ == "__main__":  # python -m sim.cases [SEEDS]: the cases at the calibrated parameters
    import sys

    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary(int(sys.argv[1]) if len(sys.argv) > 1 else 10).round(4))
