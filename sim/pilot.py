"""The 2024 pilot as an evaluation office would see it, beside the truth the simulation knows.

The office observes pilot and non-pilot counties in 2023 and 2024 and
estimates the reform's effect by difference-in-differences (county means,
90% interval from the two groups' variances). The simulation also knows

- the true effect on the pilot counties: the same counties with and without
  the reform, on the same random numbers (the effect on the treated);
- the effect the office actually wants to learn before rolling out: the
  reform in every county against no reform anywhere (the average effect).

Choosing pilots "with a good base" (§8.1) picks counties that implement
better, so the pilot overstates what the rollout will bring; random choice
does not. Running the evaluation over replicates gives the estimate's bias
against each truth and its power (the share of replicates whose interval
excludes zero) for the number of pilot counties chosen.
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .config.schema import LEVERS, PilotDesign
from .model.metrics import METRIC_NAMES
from .registry import HEADLINE
from .run import (_progress, draw_runs, draws_record, drawn_scenario, executor_context, model_class, run_tasks,
                  warn_replaced)

Z90 = 1.6448536269514722  # two-sided 90% interval


def county_values(scenario, seed: int, replicate: int, metrics, years=(2023, 2024)) -> dict:
    """Each county's annual value (mean of its monthly values) of ``metrics`` in ``years``, and pilot flags."""
    model = model_class(scenario.engine)(scenario, seed=seed, replicate=replicate)  # the config's engine
    out = {"pilot": model.pilot.copy()}
    for year in years:
        annual = np.nanmean(model.county_values(years=year), axis=0)  # metrics x counties
        for metric in metrics:
            out[(metric, year)] = annual[METRIC_NAMES.index(metric)]
    return out


def without_reform(scenario):
    """The same scenario with every lever held at its 2023 value (no reform anywhere)."""
    levers = scenario.levers
    frozen = {}
    for name in LEVERS:
        value = getattr(levers, name)
        if hasattr(value, "values"):
            first = value.values.get("baseline", next(iter(value.values.values())))
            value = value.model_copy(update={"values": {"baseline": first}})
        frozen[name] = value
    return scenario.model_copy(update={"levers": levers.model_copy(update=frozen), "name": scenario.name + "_none"})


def everywhere(scenario):
    """The same scenario with every county piloting: the reform's effect if it were rolled out in 2024."""
    pilot = scenario.pilot.model_copy(update={"counties": scenario.geography.counties})
    return scenario.model_copy(update={"pilot": pilot, "name": scenario.name + "_all"})


def did(values: dict, metric: str) -> tuple[float, float]:
    """Difference-in-differences of county means, 2023 to 2024, and its standard error."""
    change = values[(metric, 2024)] - values[(metric, 2023)]
    pilot = values["pilot"]
    a, b = change[pilot], change[~pilot]
    estimate = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))) if len(a) > 1 and len(b) > 1 else np.nan
    return estimate, se


def _validation_problems(exc: ValidationError) -> str:
    """A pydantic error as one line: each problem's key path, message and the value given."""
    return "; ".join(f"pilot.{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})"
                     for e in exc.errors())


def pilot_designs(scenario, selections=("random", "good_base"), pilot_counts=None, quotas=None) -> dict:
    """The scenario with each pilot design (selection rule x central/west quota x number of pilots), keyed
    by ``(selection, quota, pilots)``. Each design is validated against the config schema (a ``ValueError``
    naming the bad value, before anything runs); an evaluation needs at least one pilot county and at
    least one county left to compare with. ``None`` takes the config's own value."""
    selections = list(dict.fromkeys(selections))  # in order, each once
    counts = list(dict.fromkeys(int(k) for k in pilot_counts)) if pilot_counts else [scenario.pilot.counties]
    quotas = list(dict.fromkeys(float(q) for q in quotas)) if quotas else [scenario.pilot.central_west_min_share]
    if not selections:
        raise ValueError("give at least one pilot selection rule (random, good_base)")
    n = scenario.geography.counties
    too_many = [k for k in counts if k >= n]
    if too_many:
        raise ValueError(f"the number of pilots ({', '.join(map(str, too_many))}) must be below the number of "
                         f"counties ({n}), or no county is left to compare with; ask for fewer pilots or more counties")
    wrong = [k for k in counts if k < 1]
    if wrong:
        raise ValueError(f"the number of pilots ({', '.join(map(str, wrong))}) must be at least 1 and below the "
                         f"number of counties ({n}), so that some counties pilot and some are left to compare with")
    reforms = {}
    current = scenario.model_dump()
    for selection in selections:
        for quota in quotas:
            for k in counts:
                try:  # model_copy(update=) would skip validation: rebuild from data, so the schema's bounds apply
                    pilot = PilotDesign.model_validate({**current["pilot"], "selection": selection, "counties": k,
                                                        "central_west_min_share": quota})
                except ValidationError as exc:
                    raise ValueError(_validation_problems(exc)) from None
                reforms[(selection, quota, k)] = type(scenario).model_validate({**current,
                                                                                "pilot": pilot.model_dump()})
    return reforms


def evaluate_pilot(scenario, replicates: int = 5, seed: int = 0, selections=("random", "good_base"),
                   pilot_counts=None, quotas=None,
                   metrics=HEADLINE,
                   workers: int = 1, executor: Executor | None = None, progress: bool = False,
                   dask: str | None = None, counties: int | None = None, out: str | Path | None = None,
                   draws: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per selection rule, central/west quota, number of pilots, metric and replicate: the office's
    estimate and the truths.

    ``scenario`` is a Scenario, a ``LoadedScenario``, a config path or a resolved dict; ``counties``
    simulates that many counties instead of the config's (its number of pilots capped to fit). The designs
    are checked first (``pilot_designs``): a bad one raises a ``ValueError`` before anything runs. With
    ``out``, the folder is checked to be writable before anything runs and gets ``pilot_replicates.csv``
    (this table) and ``pilot_summary.csv`` (``pilot_summary``), each written atomically, as
    ``grassroots evaluate-pilot`` writes them, and ``pilot_manifest.json`` (seed, replicates, draws).

    With ``draws`` (parameter sets, ``sim.posterior.ensemble_draws``), every design runs ``replicates``
    replicates under each parameter set, as ``sim.run.run_scenarios`` does: draw d's replicate r is run
    number ``d * replicates + r`` (the table's ``replicate``; its ``draw`` column says which set), the same
    world for every design and variant, so bias and power are over parameter uncertainty too."""
    scenario = _sized(scenario, counties)
    table = scenario.geography.table
    if table is not None and table.pilots is not None:
        raise ValueError(f"the county table {table.file} names the pilots (its pilot column), so the pilot "
                         "designs compared here would all pilot the same counties: leave the column out")
    reforms = pilot_designs(scenario, selections, pilot_counts, quotas)
    if out is not None:
        from .store import check_writable

        check_writable(out)
    designs = list(reforms)
    runs = draw_runs(draws, replicates)  # (draw or None, run number)
    if draws is None:
        worlds = {None: reforms}
    else:
        resolved = scenario.model_dump(mode="json")
        warn_replaced([resolved], [scenario.name], draws.columns)
        worlds = {d: pilot_designs(drawn_scenario(resolved, draws.iloc[d]), selections, pilot_counts, quotas)
                  for d in range(len(draws))}
    jobs = []
    for design in designs:
        for d, r in runs:
            reform = worlds[d][design]
            for variant, sc in (("reform", reform), ("none", without_reform(reform)), ("all", everywhere(reform))):
                jobs.append(((*design, variant, r), sc))
    with executor_context(executor, workers, dask) as pool, _progress(len(jobs), progress, "pilot runs") as bar:
        tasks = [(sc, seed, key[-1], metrics) for key, sc in jobs]
        panel = {jobs[n][0]: res for n, res in run_tasks(pool, county_values, tasks,
                                                         progress=lambda *_: bar.update(1))}
    rows = []
    for selection, quota, k in designs:
        for d, r in runs:
            reform, none, full = (panel[(selection, quota, k, v, r)] for v in ("reform", "none", "all"))
            pilot = reform["pilot"]
            for metric in metrics:
                estimate, se = did(reform, metric)
                treated = float((reform[(metric, 2024)] - none[(metric, 2024)])[pilot].mean())
                average = float((full[(metric, 2024)] - none[(metric, 2024)]).mean())
                rows.append({"selection": selection, "central_west_quota": quota, "pilots": k, "metric": metric,
                             "replicate": r, **({} if d is None else {"draw": d}),
                             "did_estimate": estimate, "did_low": estimate - Z90 * se,
                             "did_high": estimate + Z90 * se, "true_effect_pilots": treated,
                             "true_effect_rollout": average,
                             "detected": bool(estimate - Z90 * se > 0 or estimate + Z90 * se < 0)})
    table = pd.DataFrame(rows)
    table.attrs["manifest"] = {"config": scenario.name, "seed": seed, "replicates": replicates,
                               "selections": list(selections), "metrics": list(metrics),
                               **({} if draws is None else {"draws": draws_record(draws, replicates)})}
    if out is not None:
        write_pilot_evaluation(table, out)
    return table


PILOT_MANIFEST = "pilot_manifest.json"


def write_pilot_evaluation(table: pd.DataFrame, out: str | Path) -> list[Path]:
    """Write a pilot evaluation's table and its summary into ``out`` (atomically), and what it was run with
    (the table's ``attrs["manifest"]``, when it has one) as ``pilot_manifest.json``; returns the paths."""
    import json

    from .run import versions
    from .store import atomic_write_text

    out = Path(out)
    paths = [atomic_write_text(out / "pilot_replicates.csv", table.to_csv(index=False)),
             atomic_write_text(out / "pilot_summary.csv", pilot_summary(table).to_csv(index=False))]
    if "manifest" in table.attrs:
        record = {**table.attrs["manifest"], "versions": versions()}
        paths.append(atomic_write_text(out / PILOT_MANIFEST, json.dumps(record, indent=2, default=str)))
    return paths


def _sized(config, counties: int | None):
    """The config as a Scenario, with ``counties`` counties (pilots capped to fit) when given."""
    from .config import LoadedScenario, load_scenario, scenario_from_dict, scenario_of
    from .experiments import apply_point

    if counties is None:
        return scenario_of(config)
    if isinstance(config, (str, Path)):
        config = load_scenario(config)
    resolved = config.resolved if isinstance(config, LoadedScenario) else \
        config if isinstance(config, dict) else config.model_dump(mode="json")
    return scenario_from_dict(apply_point(resolved, {}, counties))


def pilot_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per selection rule, number of pilots and metric: mean estimate, truths, biases and power."""
    g = table.groupby(["selection", "central_west_quota", "pilots", "metric"])
    out = g.agg(did_estimate=("did_estimate", "mean"), did_spread=("did_estimate", "std"),
                true_effect_pilots=("true_effect_pilots", "mean"),
                true_effect_rollout=("true_effect_rollout", "mean"), power=("detected", "mean"),
                replicates=("replicate", "count")).reset_index()
    out["bias_vs_pilots"] = out["did_estimate"] - out["true_effect_pilots"]
    out["bias_vs_rollout"] = out["did_estimate"] - out["true_effect_rollout"]
    return out
