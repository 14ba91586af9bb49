"""The CLI knows a spec from a scenario config: `validate` checks a spec as `sweep` would, `run` says to sweep it;
warnings reach the user as one line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sim.cli import main
from sim.experiments import run_sweep
from test_experiments import spec
from test_sweep_reliability import ONE_LEVER


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_validate_checks_a_spec_and_its_design_points(tmp_path):
    good = spec(tmp_path, ONE_LEVER)
    result = invoke("validate", good)
    assert result.exit_code == 0, result.output
    assert "ok (experiment spec 'tiny', factorial: 2 points x 2 replicates = 4 runs" in result.output
    bad = spec(tmp_path, ONE_LEVER.replace("0.5]", "1.5]"), "bad")
    result = invoke("validate", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"invalid experiment spec {bad} (1 problem):")
    assert "bad.yaml:8: " in result.stderr and "must be within [0, 1]" in result.stderr
    assert not (tmp_path / "results").exists()


def test_run_on_a_spec_says_to_sweep_it(tmp_path):
    path = spec(tmp_path, ONE_LEVER)
    result = invoke("run", path, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {path} is an experiment spec, not a scenario config; run it with "
                                     f"`grassroots sweep {path}`")


def test_a_damaged_part_is_one_warning_line_in_analyze(tmp_path):
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=tmp_path / "results")
    (tmp_path / "results" / "tiny" / "parts" / "point00001-rep000.parquet").write_bytes(b"garbage")
    result = invoke("analyze", path, "-o", tmp_path / "results")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert "point00001-rep000.parquet left out" in warnings[0] and "experiments.py" not in result.stderr
