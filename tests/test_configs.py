"""Scenario configs: the shipped ones are valid, and every kind of mistake is refused with file, key and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import CONFIGS, ROOT
from sim.cli import main
from sim.config import ConfigError, load_scenario

SCENARIOS = sorted(p.name for p in CONFIGS.glob("*.yaml"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_shipped_configs_are_valid(name):
    loaded = load_scenario(CONFIGS / name)
    assert loaded.scenario.name
    assert loaded.files[-1].endswith(name)


def test_plan_gives_a_source_for_every_lever_it_moves():
    plan = load_scenario(CONFIGS / "plan.yaml")
    base = load_scenario(CONFIGS / "baseline.yaml")
    moved = [k for k, v in plan.resolved["levers"].items() if v != base.resolved["levers"][k]]
    assert len(moved) >= 20
    for key in moved:
        assert "§" in plan.resolved["levers"][key]["source"], key


def test_single_lever_variants_move_only_their_group():
    from sim.config.schema import LEVERS

    base = load_scenario(CONFIGS / "baseline.yaml").resolved["levers"]
    expected = {"burden_only.yaml": {"burden", "data"}, "pay_careers_only.yaml": {"pay", "careers"},
                "devolution_only.yaml": {"devolution"}, "participation_only.yaml": {"participation"}}
    for name, groups in expected.items():
        levers = load_scenario(CONFIGS / name).resolved["levers"]
        moved = {LEVERS[k][0] for k, v in levers.items() if v != base[k]}
        assert moved == groups, name


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def parent_line(tmp_path) -> str:
    return f"extends: {CONFIGS / 'baseline.yaml'}\n"


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    return str(info.value)


def test_unknown_key_names_file_key_line_and_suggests(tmp_path):
    path = write(tmp_path, parent_line(tmp_path) + "name: x\nlevers:\n  assesment_items_cut: 0.3\n")
    msg = error_of(path)
    assert f"{path}:4: levers.assesment_items_cut: unknown key" in msg
    assert "did you mean 'assessment_items_cut'" in msg


def test_wrong_type_is_refused(tmp_path):
    path = write(tmp_path, parent_line(tmp_path) + "name: x\ngeography:\n  counties: many\n")
    msg = error_of(path)
    assert f"{path}:4: geography.counties:" in msg and "'many'" in msg


def test_out_of_range_lever_value_is_refused(tmp_path):
    text = parent_line(tmp_path) + "name: x\nlevers:\n  assessment_items_cut:\n    values: {pilot: 1.3}\n"
    msg = error_of(write(tmp_path, text))
    assert "levers.assessment_items_cut.values.pilot" in msg and "within [0, 1]" in msg and "1.3" in msg


def test_impossible_timeline_is_refused(tmp_path):
    text = parent_line(tmp_path) + "name: x\ntimeline:\n  phases:\n    rollout: 2023-06\n"
    path = write(tmp_path, text)
    msg = error_of(path)
    assert f"{path}:5: timeline.phases.rollout:" in msg and "must be in order" in msg


def test_unknown_phase_key_in_lever_values_is_refused(tmp_path):
    text = parent_line(tmp_path) + "name: x\nlevers:\n  recognition:\n    values: {pilott: 1}\n"
    msg = error_of(write(tmp_path, text))
    assert "levers.recognition.values" in msg and "'pilott'" in msg


def test_more_pilots_than_counties_is_refused(tmp_path):
    text = parent_line(tmp_path) + "name: x\npilot:\n  counties: 500\n"
    path = write(tmp_path, text)
    assert f"{path}:4: pilot.counties:" in error_of(path)


def test_yaml_cannot_execute_code(tmp_path):
    marker = tmp_path / "pwned"
    text = parent_line(tmp_path) + f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    msg = error_of(write(tmp_path, text))
    assert "bad.yaml:2" in msg
    assert not marker.exists()


def test_validate_command_reports_problems_and_exit_code(tmp_path):
    bad = write(tmp_path, parent_line(tmp_path) + "name: x\nlevers:\n  assesment_items_cut: 0.3\n")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "did you mean 'assessment_items_cut'" in result.output
    ok = CliRunner().invoke(main, ["validate", str(CONFIGS / "plan.yaml")])
    assert ok.exit_code == 0 and "ok" in ok.output


def test_run_command_writes_series_and_manifest(tmp_path):
    small = write(tmp_path, f"extends: {CONFIGS / 'county.yaml'}\ntimeline: {{spin_up_months: 6}}\n", "small.yaml")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "sim", "run", str(small), "-n", "2", "--seed", "3", "--out",
                             str(out), "--no-progress"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Headline outcomes" in result.stdout and "Annual cadre turnover" in result.stdout
    # fits a 100-column terminal (but the lines naming the output folder, as long as its path)
    assert max(len(line) for line in result.stdout.splitlines() if str(out) not in line) <= 100
    assert f"grassroots report {out}" in result.stdout  # where the files are, and what to do next
    series = pd.read_parquet(out / "series.parquet")
    assert {"scenario", "replicate", "date", "region", "group", "metric", "value"} <= set(series.columns)
    assert sorted(series.replicate.unique()) == [0, 1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["replicates"] == 2
    assert manifest["scenarios"][0]["config_hash"] and manifest["scenarios"][0]["resolved_config"]["levers"]
    assert manifest["versions"]["numpy"] and manifest["timings"]["wall_seconds"] > 0
    assert (out / "headline.png").stat().st_size > 10_000
    assert not list(out.glob("*.tmp"))
