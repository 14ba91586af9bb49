"""Sweeps: specs are validated, runs are resumable and recorded exactly once, failures do not stop a sweep,
and the result does not depend on the number of workers."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import CONFIGS
from sim.config import ConfigError
from sim.experiments import design_matrix, load_spec, read_sweep, run_sweep

TINY = f"""extends: {CONFIGS / 'county.yaml'}
geography: {{townships_per_county: 2}}
timeline: {{spin_up_months: 3}}
"""


def spec(tmp_path, body: str, name: str = "tiny") -> str:
    (tmp_path / "tiny_config.yaml").write_text(TINY)
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nconfig: tiny_config.yaml\nseed: 3\nreplicates: 2\n"
                    "outcomes: [turnover_rate, service_time_share]\nyears: [2024, 2027]\n" + body)
    return str(path)


FACTORIAL = """levers:
  levers.inspections_cut.values.rollout: {levels: [0.0, 0.5]}
  levers.committee_pay_ratio.values.rollout: {levels: [0.7, 1.0]}
design: {kind: factorial}
"""


def test_factorial_design_covers_every_combination(tmp_path):
    s, _, _ = load_spec(spec(tmp_path, FACTORIAL))
    matrix = design_matrix(s)
    assert len(matrix) == 4 and len(matrix.drop_duplicates()) == 4


def test_bad_specs_are_refused_with_file_key_and_line(tmp_path):
    bad = spec(tmp_path, "levers:\n  levers.inspections_cut.values.rollout: {range: [0, 0.5]}\n"
                         "design: {kind: factorial}\n", "bad")
    with pytest.raises(ConfigError) as info:
        load_spec(bad)
    assert "bad.yaml" in str(info.value) and "needs 'levels'" in str(info.value)
    unknown = spec(tmp_path, FACTORIAL.replace("design:", "desing:"), "unknown")
    with pytest.raises(ConfigError) as info:
        load_spec(unknown)
    assert "unknown.yaml:" in str(info.value) and "did you mean 'design'" in str(info.value)


def test_a_key_path_the_config_does_not_have_is_refused_before_running(tmp_path):
    path = spec(tmp_path, FACTORIAL.replace("levers.inspections_cut", "levers.inspection_cut"), "typo")
    with pytest.raises(ConfigError) as info:
        run_sweep(path, out_root=tmp_path / "results")
    assert "levers.inspection_cut" in str(info.value)
    assert not list((tmp_path / "results").glob("typo/parts/*.parquet"))


def test_an_interrupted_sweep_resumes_and_runs_each_run_exactly_once(tmp_path):
    path = spec(tmp_path, FACTORIAL)
    out = tmp_path / "results"
    first = run_sweep(path, out_root=out, max_runs=3)  # interrupted after three runs
    assert first["ran"] == 3
    parts = out / "tiny" / "parts"
    early = {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet")}
    # replicate-major order: the first runs are replicate 0 of different points
    assert sorted(early) == ["point00000-rep000.parquet", "point00001-rep000.parquet", "point00002-rep000.parquet"]
    (parts / ".point00003-rep000.parquet.abc.tmp").write_text("half-written")  # a crash mid-write leaves this
    second = run_sweep(path, out_root=out)
    assert second["already_done"] == 3 and second["ran"] == 5 and second["failed"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in parts.glob("*.parquet") if p.name in early} == early
    table = read_sweep(out / "tiny")
    runs = table[["point", "replicate"]].drop_duplicates()
    assert len(runs) == 8 and len(table) == len(table.drop_duplicates(["point", "replicate", "region", "metric",
                                                                         "year"]))
    third = run_sweep(path, out_root=out)
    assert third["ran"] == 0 and third["already_done"] == 8


def test_a_failing_run_is_recorded_and_the_rest_complete(tmp_path, monkeypatch):
    import sim.experiments as experiments

    real = experiments.run_config

    def flaky(config, *args):
        rollout = {name: config["levers"][name]["values"].get("rollout")
                   for name in ("committee_pay_ratio", "inspections_cut")}
        if rollout == {"committee_pay_ratio": 1.0, "inspections_cut": 0.5}:
            raise RuntimeError("simulated crash")
        return real(config, *args)

    monkeypatch.setattr(experiments, "run_config", flaky)
    summary = run_sweep(spec(tmp_path, FACTORIAL), out_root=tmp_path / "results")
    assert summary["failed"] == 2 and summary["ran"] == 6  # point 3, both replicates
    record = pd.read_json(summary["failure_records"][0], typ="series")
    assert "simulated crash" in record["error"] and record["point"] == 3
    monkeypatch.setattr(experiments, "run_config", real)
    again = run_sweep(spec(tmp_path, FACTORIAL), out_root=tmp_path / "results")  # failures are retried
    assert again["ran"] == 2 and again["failure_records"] == []


def test_the_same_spec_gives_the_same_results_with_one_or_two_workers(tmp_path):
    path = spec(tmp_path, FACTORIAL)
    run_sweep(path, out_root=tmp_path / "serial")
    run_sweep(path, out_root=tmp_path / "pool", workers=2)
    serial = read_sweep(tmp_path / "serial" / "tiny").drop(columns="seconds")
    pool = read_sweep(tmp_path / "pool" / "tiny").drop(columns="seconds")
    pd.testing.assert_frame_equal(serial, pool)
    # paired: replicate 0 of the two pay levels is the same world until the rollout
    early = serial[(serial.year == 2024) & (serial.metric == "turnover_rate") & (serial.replicate == 0)
                   & (serial.region == "all")]
    assert early["value"].nunique() == 1


def stored_sweep(tmp_path, path, name, function):
    """A sweep's stored design and parts as `grassroots sweep` writes them, with a known function of the
    design in place of the model, for every outcome and year of the spec."""
    import numpy as np

    s, _, _ = load_spec(path)
    design = design_matrix(s)
    out = tmp_path / "results" / name
    (out / "parts").mkdir(parents=True)
    design.to_csv(out / "design.csv", index_label="point")
    y = function(design.to_numpy())
    frames = [pd.DataFrame({"point": np.arange(len(y)), "replicate": 0, "region": "all", "metric": metric,
                            "year": year, "value": y}) for metric in s.outcomes for year in s.years]
    pd.concat(frames).to_parquet(out / "parts" / "all.parquet")


def test_sobol_indices_of_the_ishigami_function_come_out_right(tmp_path):
    """Through the same path as a model sweep (design -> stored parts -> analysis), with the model
    replaced by SALib's Ishigami function, whose indices are known analytically."""
    import numpy as np
    from SALib.test_functions import Ishigami

    from sim.experiments import analyze_sweep

    body = ("levers:\n" + "".join(f"  x{i}: {{range: [-3.141592653589793, 3.141592653589793]}}\n" for i in (1, 2, 3))
            + "design: {kind: sobol, samples: 1024, seed: 2}\n")
    path = spec(tmp_path, body, "ishigami")
    stored_sweep(tmp_path, path, "ishigami", Ishigami.evaluate)
    result = analyze_sweep(path, out_root=tmp_path / "results")
    result = result[(result.metric == "turnover_rate") & (result.year == 2024)].set_index("factor")
    assert np.allclose(result["S1"], [0.3139, 0.4424, 0.0], atol=0.05)
    assert np.allclose(result["ST"], [0.5576, 0.4424, 0.2437], atol=0.05)


def test_morris_screening_ranks_an_influential_factor_first(tmp_path):
    from sim.experiments import analyze_sweep

    body = ("levers:\n  a: {range: [0, 1]}\n  b: {range: [0, 1]}\n  c: {range: [0, 1]}\n"
            "design: {kind: morris, samples: 20, seed: 1}\n")
    path = spec(tmp_path, body, "linear")
    stored_sweep(tmp_path, path, "linear", lambda x: 5.0 * x[:, 0] + 1.0 * x[:, 1] + 0.0 * x[:, 2])
    result = analyze_sweep(path, out_root=tmp_path / "results")
    mu = result[(result.metric == "turnover_rate") & (result.year == 2024)].set_index("factor")["mu_star"]
    assert mu["a"] == pytest.approx(5.0) and mu["b"] == pytest.approx(1.0) and mu["c"] == pytest.approx(0.0)


def test_a_sweep_on_a_dask_cluster_gives_the_same_results(tmp_path):
    path = spec(tmp_path, FACTORIAL.replace("[0.0, 0.5]", "[0.0]"))
    run_sweep(path, out_root=tmp_path / "serial")
    run_sweep(path, out_root=tmp_path / "dask", workers=2, dask="local")
    serial = read_sweep(tmp_path / "serial" / "tiny").drop(columns="seconds")
    on_dask = read_sweep(tmp_path / "dask" / "tiny").drop(columns="seconds")
    pd.testing.assert_frame_equal(serial, on_dask)


def test_evaluate_runs_one_design_point_for_other_tools(tmp_path):
    from sim.experiments import evaluate

    (tmp_path / "tiny_config.yaml").write_text(TINY)
    config = tmp_path / "tiny_config.yaml"
    low = evaluate(config, levers__committee_pay_ratio__values__rollout=0.6, year=2027)
    high = evaluate(config, levers__committee_pay_ratio__values__rollout=1.2, year=2027)
    assert set(low) == {"turnover_rate", "service_time_share", "participation_rate"}
    assert high["turnover_rate"] < low["turnover_rate"]


@pytest.mark.parametrize("name", sorted(p.name for p in (CONFIGS.parent / "experiments").glob("*.yaml")))
def test_shipped_experiment_specs_are_valid_and_their_paths_exist(name):
    from sim.config import load_scenario
    from sim.experiments import check_points

    path = CONFIGS.parent / "experiments" / name
    s, _, spec_dir = load_spec(path)
    matrix = design_matrix(s)
    assert len(matrix) >= 1
    check_points(path, load_scenario(spec_dir / s.config).resolved, matrix, s.counties)
