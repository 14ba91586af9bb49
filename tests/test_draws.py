"""Forecasts under parameter draws (--draws N): N parameter sets of a posterior ensemble x R replicates each.

Draw d's replicate r is run number d * R + r in every design: the same parameters and the same random numbers,
so designs stay paired; the results are the same serially and on a process pool; the ensemble's values
replace a design's own; the spread then includes parameter uncertainty; every manifest records the draws.
All on one small county (two townships) and ensembles built here, in tmp folders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import CONFIGS
from sim.cli import main
from sim.config import load_scenario
from sim.posterior import ensemble_draws, load_ensemble
from sim.priors import PRIORS, sample_parameters
from sim.run import drawn_scenario, run_scenarios
from sim.store import sha256_of

SMALL = "geography: {townships_per_county: 2}\ntimeline: {spin_up_months: 3, end: 2027-12}\n"
ONE_COUNTY = ("geography: {scope: county, counties: 1, townships_per_county: 2, urban_county_share: 0.0,\n"
              "            region_shares: {east: 0.0, central: 1.0, west: 0.0}}\n"
              "pilot: {counties: 1, selection: random}\ntimeline: {spin_up_months: 3, end: 2027-12}\n")
PATHS = ["parameters.cadres.quit_pay", "parameters.cadres.quit_intercept", "parameters.cadres.quit_burnout"]


def ensemble(path, n: int = 4, shrink: float = 0.25, paths=PATHS, seed: int = 1):
    """A small ensemble: prior draws pulled ``shrink`` of the way from the baseline values toward them."""
    frame = sample_parameters(n, seed=seed, paths=paths)
    for p in paths:
        frame[p] = PRIORS[p].value + shrink * (frame[p] - PRIORS[p].value)
    frame.to_parquet(path)
    path.with_suffix(".json").write_text(json.dumps({"method": "test", "n_draws": n}))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("draws")
    (d / "a.yaml").write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nname: a\n{ONE_COUNTY}")
    (d / "b.yaml").write_text(f"extends: {CONFIGS / 'county.yaml'}\nname: b\n{SMALL}")
    # a's world, with a parameter of its own that the ensemble also holds
    (d / "a_own.yaml").write_text(f"extends: {d / 'a.yaml'}\nname: a_own\n"
                                  "parameters: {cadres: {quit_pay: 3.0}}\n")
    ensemble(d / "posterior.parquet", n=4)
    return d


def loaded(files, *names):
    return [load_scenario(files / f"{n}.yaml") for n in names]


def annual_2027(series, metric="turnover_rate"):
    sel = series[(series.metric == metric) & (series.region == "all") & (series.group == "all")
                 & (series.date.dt.year == 2027)]
    return sel.groupby(["scenario", "replicate"], observed=True)["value"].mean().unstack("scenario")


# --------------------------------------------------------------------------- the ensemble file


def test_a_missing_ensemble_is_one_clear_line(tmp_path):
    with pytest.raises(ValueError, match=r"no posterior ensemble at .*nothing\.parquet: run `grassroots "
                                         r"calibrate --posterior` \(docs/calibration\.md\)"):
        load_ensemble(tmp_path / "nothing.parquet")


def test_an_ensemble_column_that_is_no_parameter_or_out_of_support_is_named(tmp_path):
    frame = sample_parameters(3, seed=1, paths=PATHS[:1])
    frame.assign(**{"levers.inspections_cut.values.rollout": 0.5}).to_parquet(tmp_path / "lever.parquet")
    with pytest.raises(ValueError, match="'levers.inspections_cut.values.rollout' is not a parameter"):
        load_ensemble(tmp_path / "lever.parquet")
    lo, hi = PRIORS[PATHS[0]].prior.support
    frame.assign(**{PATHS[0]: [1.0, hi + 1, 1.0]}).to_parquet(tmp_path / "wide.parquet")
    with pytest.raises(ValueError, match=r"'parameters.cadres.quit_pay' has 1 value\(s\) outside its prior's "
                                         r"support .*draw 1"):
        load_ensemble(tmp_path / "wide.parquet")


def test_draws_are_the_first_rows_and_too_many_says_how_many_there_are(files):
    whole = load_ensemble(files / "posterior.parquet")
    two = ensemble_draws(2, files / "posterior.parquet")
    pd.testing.assert_frame_equal(two, whole.iloc[:2])
    assert two.attrs["posterior"]["sha256"] == sha256_of(files / "posterior.parquet")
    assert two.attrs["posterior"]["provenance"] == {"method": "test", "n_draws": 4}
    with pytest.raises(ValueError, match="holds 4 parameter sets; ask for at most 4"):
        ensemble_draws(5, files / "posterior.parquet")


# --------------------------------------------------------------------------- pairing, precedence, executors


def test_draw_k_is_the_same_world_in_every_design_and_the_ensemble_wins(files):
    """a_own is a with quit_pay = 3 of its own: under draws the ensemble's quit_pay replaces it, so a and a_own
    give the very same numbers run by run (same parameters, same random streams), while draws differ."""
    draws = ensemble_draws(2, files / "posterior.parquet")
    a, a_own = loaded(files, "a", "a_own")
    assert a_own.scenario.parameters.cadres.quit_pay == 3.0
    for d in range(2):
        applied = drawn_scenario(a_own.resolved, draws.iloc[d]).parameters.cadres
        assert applied.quit_pay == pytest.approx(draws.iloc[d][PATHS[0]])
        assert applied.quit_intercept == pytest.approx(draws.iloc[d][PATHS[1]])
    with pytest.warns(UserWarning, match="a_own sets parameters.cadres.quit_pay itself; the posterior draws "
                                         "replace it"):
        result = run_scenarios([a, a_own], 2, seed=5, draws=draws)
    series = result.series
    assert list(series.columns[:3]) == ["scenario", "replicate", "draw"]
    runs = series.drop_duplicates(["scenario", "replicate"])
    assert runs.set_index(["scenario", "replicate"])["draw"].to_dict() == {
        (s, k): k // 2 for s in ("a", "a_own") for k in range(4)}
    values = annual_2027(series)
    np.testing.assert_array_equal(values["a"].to_numpy(), values["a_own"].to_numpy())
    assert values["a"].nunique() == 4  # four distinct worlds: 2 draws x 2 replicates
    assert result.manifest["draws"]["replaced"] == {"a_own": [PATHS[0]]}
    # without draws a_own's own quit_pay counts: a and a_own differ
    plain = annual_2027(run_scenarios([a, a_own], 2, seed=5).series)
    assert not np.allclose(plain["a"], plain["a_own"])


@pytest.mark.slow  # ~25-50 s: two spawned worker processes
def test_draws_give_the_same_results_serially_and_on_a_process_pool(files):
    draws = ensemble_draws(2, files / "posterior.parquet")
    designs = loaded(files, "a", "b")
    serial = run_scenarios(designs, 1, seed=2, draws=draws, by_county=True)
    pooled = run_scenarios(designs, 1, seed=2, draws=draws, by_county=True, workers=2)
    pd.testing.assert_frame_equal(serial.series, pooled.series)
    pd.testing.assert_frame_equal(serial.counties, pooled.counties)
    assert "draw" in serial.counties.columns


def test_draws_give_the_same_results_whatever_order_runs_finish_in(files):
    """On an executor of two threads runs finish out of order; the table is the serial one all the same."""
    from concurrent.futures import ThreadPoolExecutor

    draws = ensemble_draws(2, files / "posterior.parquet")
    designs = loaded(files, "a", "b")
    serial = run_scenarios(designs, 1, seed=2, draws=draws, by_county=True)
    with ThreadPoolExecutor(2) as pool:
        threaded = run_scenarios(designs, 1, seed=2, draws=draws, by_county=True, executor=pool)
    pd.testing.assert_frame_equal(serial.series, threaded.series)
    pd.testing.assert_frame_equal(serial.counties, threaded.counties)
    assert list(serial.counties.columns[:3]) == ["scenario", "replicate", "draw"]


def test_draw_runs_share_streams_with_the_same_run_number_without_draws(files):
    """Run number k under a draw equals run k without draws when the draw holds the config's own values:
    the run number alone seeds the random streams."""
    same = pd.DataFrame({p: [PRIORS[p].value] * 2 for p in PATHS}, index=pd.RangeIndex(2, name="draw"))
    a = loaded(files, "a")
    drawn = run_scenarios(a, 1, seed=4, draws=same).series  # run numbers 0 (draw 0) and 1 (draw 1)
    plain = run_scenarios(a, 2, seed=4).series
    pd.testing.assert_frame_equal(drawn.drop(columns="draw"), plain)


def test_parameter_draws_widen_the_intervals_where_a_parameter_matters(files, tmp_path):
    """The quit hazard's intercept moves turnover strongly: 4 draws x 1 replicate spread turnover far wider
    than 4 replicates at the calibrated value."""
    wide = ensemble(tmp_path / "wide.parquet", n=4, shrink=1.0, paths=["parameters.cadres.quit_intercept"], seed=3)
    a = loaded(files, "a")
    fixed = annual_2027(run_scenarios(a, 4, seed=1).series)["a"]
    drawn = annual_2027(run_scenarios(a, 1, seed=1, draws=ensemble_draws(4, wide)).series)["a"]
    assert drawn.max() - drawn.min() > 3 * (fixed.max() - fixed.min())


# --------------------------------------------------------------------------- manifests and commands


def test_run_and_compare_record_the_draws_in_their_manifests(files, tmp_path):
    post = files / "posterior.parquet"
    runner = CliRunner()
    out = tmp_path / "cmp"
    result = runner.invoke(main, ["compare", str(files / "a.yaml"), str(files / "b.yaml"), "--draws", "2", "-n", "1",
                                  "--posterior", str(post), "-o", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["draws"]
    assert (record["draws"], record["replicates_per_draw"], record["runs_per_scenario"]) == (2, 1, 2)
    assert record["ensemble"]["sha256"] == sha256_of(post)
    assert record["ensemble"]["provenance"]["method"] == "test"
    assert record["parameters"] == PATHS
    assert "2 posterior parameter draws x 1 replicates = 2 runs per design" in (out / "report.md").read_text()
    assert "over 2 runs (2 posterior parameter draws x 1 replicates" in result.output
    assert set(pd.read_parquet(out / "series.parquet")["draw"]) == {0, 1}


def test_the_story_says_what_the_bands_include(files):
    from sim.story import story

    draws = ensemble_draws(2, files / "posterior.parquet")
    result = run_scenarios(loaded(files, "a", "b"), 1, draws=draws)
    en = " ".join(story(result.series, result.manifest, "en").summary)
    zh = " ".join(story(result.series, result.manifest, "zh").summary)
    assert "include parameter uncertainty (2 posterior draws" in en and "2 runs per design" in en
    assert "simulation noise only" not in en
    assert "参数不确定性（行为参数的2组后验抽样" in zh
    plain = run_scenarios(loaded(files, "a", "b"), 2)
    assert "simulation noise only" in " ".join(story(plain.series, plain.manifest, "en").summary)


def test_pilot_evaluation_runs_per_draw_and_records_them(files, tmp_path):
    from sim.pilot import evaluate_pilot

    config = tmp_path / "three.yaml"
    config.write_text(f"extends: {CONFIGS / 'plan.yaml'}\nname: three\n"
                      "geography: {counties: 3, townships_per_county: 2}\npilot: {counties: 1}\n"
                      "timeline: {spin_up_months: 3, end: 2027-12}\n")
    draws = ensemble_draws(2, files / "posterior.parquet")
    table = evaluate_pilot(load_scenario(config), replicates=1, selections=("random",), draws=draws,
                           out=tmp_path / "pilot", metrics=("turnover_rate",))
    assert table[["replicate", "draw"]].drop_duplicates().values.tolist() == [[0, 0], [1, 1]]
    manifest = json.loads((tmp_path / "pilot" / "pilot_manifest.json").read_text())
    assert manifest["draws"]["draws"] == 2 and manifest["replicates"] == 1
    assert manifest["draws"]["ensemble"]["sha256"] == sha256_of(files / "posterior.parquet")


SPEC = """name: tiny
config: {config}
seed: 3
replicates: 1
outcomes: [turnover_rate]
years: [2027]
levers:
  levers.inspections_cut.values.rollout: {{range: [0.0, 0.6]}}
uncertainties:
  parameters.cadres.quit_pay: {{range: [1.0, 2.0]}}
design: {{kind: latin_hypercube, samples: 2, seed: 1}}
"""


def test_a_sweep_runs_every_point_under_every_draw_and_never_reuses_parts_of_other_draws(files, tmp_path):
    from sim.experiments import analyze_sweep, read_sweep, run_sweep
    from sim.store import ResultsError

    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(config=files / "a.yaml"))
    post = files / "posterior.parquet"
    out = tmp_path / "results"
    summary = run_sweep(spec, out_root=out, draws=ensemble_draws(2, post))
    assert summary["planned"] == 4 and summary["ran"] == 4
    table = read_sweep(out / "tiny")
    assert sorted(table[["point", "replicate", "draw"]].drop_duplicates().values.tolist()) == \
        [[0, 0, 0], [0, 1, 1], [1, 0, 0], [1, 1, 1]]
    manifest = json.loads((out / "tiny" / "manifest.json").read_text())
    assert manifest["draws"]["draws"] == 2 and manifest["draws"]["ensemble"]["sha256"] == sha256_of(post)
    runs = pd.read_csv(out / "tiny" / "runs.csv")
    assert list(runs.columns) == ["point", "replicate", "draw", "run_key"]
    # the spec's own factor (quit_pay) keeps the point's value; the ensemble sets the rest
    design = pd.read_csv(out / "tiny" / "design.csv", index_col="point")
    analysis = analyze_sweep(spec, out_root=out)
    assert list(analysis["replicates"]) == [2, 2]  # each point's mean is over its 2 draws x 1 replicate
    assert sorted(analysis["parameters.cadres.quit_pay"]) == sorted(design["parameters.cadres.quit_pay"])
    with pytest.raises(ResultsError, match="parameter draws: 2 -> 3"):
        run_sweep(spec, out_root=out, draws=ensemble_draws(3, post))
    with pytest.raises(ResultsError, match="parameter draws: 2 -> 0"):
        run_sweep(spec, out_root=out)
    again = run_sweep(spec, out_root=out, draws=ensemble_draws(2, post))
    assert again["already_done"] == 4 and again["ran"] == 0


def test_the_point_keeps_its_factor_value_under_draws(files, tmp_path):
    """A sweep factor that the ensemble also holds keeps the point's value (the factor is what is varied)."""
    from sim.experiments import run_sweep

    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(config=files / "a.yaml"))
    import sim.experiments as experiments

    seen = []
    original = experiments._task

    def spy(config, *args):
        seen.append((config["parameters"]["cadres"]["quit_pay"], config["parameters"]["cadres"]["quit_intercept"]))
        return original(config, *args)

    draws = ensemble_draws(2, files / "posterior.parquet")
    experiments._task = spy
    try:
        run_sweep(spec, out_root=tmp_path / "r", draws=draws, max_runs=2)
    finally:
        experiments._task = original
    design = pd.read_csv(tmp_path / "r" / "tiny" / "design.csv", index_col="point")
    assert sorted(q for q, _ in seen) == sorted(design["parameters.cadres.quit_pay"])
    assert {i for _, i in seen} == {draws.iloc[0][PATHS[1]]}  # replicate-major: both points' draw 0 first


@pytest.mark.parametrize("args, words", [
    (["--draws", "-1"], ["-1 is not in the range x>=0"]),
    (["--draws", "500"], ["--draws 500", "holds 4 parameter sets; ask for at most 4"]),
    (["--draws", "2", "--posterior", "{d}/missing.parquet"], ["no posterior ensemble at", "missing.parquet",
                                                             "grassroots calibrate --posterior"]),
    (["--posterior", "{d}/posterior.parquet"], ["--posterior is used with --draws N"]),
], ids=["negative", "too-many", "missing-file", "posterior-without-draws"])
@pytest.mark.parametrize("command", ["run", "compare", "evaluate-pilot", "sweep"])
def test_draws_misuse_is_one_line(files, tmp_path, command, args, words):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(config=files / "a.yaml"))
    inputs = {"run": [str(files / "a.yaml")], "compare": [str(files / "a.yaml"), str(files / "b.yaml")],
              "evaluate-pilot": [str(files / "b.yaml")], "sweep": [str(spec)]}[command]
    extra = [] if "--posterior" in args else ["--posterior", str(files / "posterior.parquet")]
    filled = [a.replace("{d}", str(files)) for a in args]
    result = CliRunner().invoke(main, [command, *inputs, *filled, *extra, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.parquet"))


def test_compare_takes_one_replicate_per_draw_but_not_one_run_in_all(files, tmp_path):
    result = CliRunner().invoke(main, ["compare", str(files / "a.yaml"), str(files / "b.yaml"), "-n", "1",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "needs at least 2 runs per design" in result.stderr and "--draws 2 or more" in result.stderr


def test_a_draw_the_schema_refuses_is_named(files):
    row = pd.Series({PATHS[0]: -5.0}, name=3)
    with pytest.raises(ValueError, match=r"parameter draw 3: parameters.cadres.quit_pay: .*greater than or equal"):
        drawn_scenario(loaded(files, "a")[0].resolved, row)
