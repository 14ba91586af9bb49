"""The registries (sim/registry/*.yaml): each lever, parameter and metric defined once, everything else
derived from them; docs/extending.md's recipe followed once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from sim import registry
from sim.config import ConfigError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def test_the_generated_tables_in_the_odd_are_up_to_date():
    from sim.registry.docs import ODD, updated

    _, changed = updated(ODD.read_text(encoding="utf-8"))
    assert changed == [], f"run `python -m sim.registry.docs`: the {', '.join(changed)} table(s) of docs/ODD.md are stale"


def test_the_schema_labels_and_metric_definitions_are_the_registry():
    from sim.config.schema import LEVERS, Implementation, Levers, Parameters
    from sim.model.metrics import METRIC_NAMES, METRICS
    from sim.text import LEVER_NAMES, PARAMETER_NAMES
    from sim.text import METRIC_NAMES as METRIC_LABELS

    assert list(Levers.model_fields) == list(registry.LEVERS) == list(LEVERS)
    assert all(LEVERS[n] == (lv.group, lv.bounds.low, lv.bounds.high, lv.unit) for n, lv in registry.LEVERS.items())
    fields = {f"implementation.{name}" for name in Implementation.model_fields}
    for block, model in Parameters.model_fields.items():
        fields |= {f"parameters.{block}.{name}" for name in model.annotation.model_fields}
    assert fields == set(registry.PARAMETERS)
    assert METRIC_NAMES == tuple(registry.METRICS)
    assert {n: m.unit for n, m in METRICS.items()} == {n: m.unit for n, m in registry.METRICS.items()}
    assert LEVER_NAMES["councils"] == ("Residents' councils", "居民议事会")
    assert METRIC_LABELS["turnover_rate"] == ("Cadre turnover (per year)", "基层干部流失率（每年）")
    assert PARAMETER_NAMES["parameters.cadres.quit_pay"] == ("Quit response to pay", "离职对薪酬的敏感度")


def test_a_parameter_is_bounded_as_its_registry_entry_says(tmp_path):
    entry = registry.parameter("implementation.rebound_months")
    assert str(entry.bounds) == "(0, 120]"
    path = tmp_path / "c.yaml"
    path.write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nname: c\nimplementation:\n  rebound_months: 0\n")
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert f"{path}:4: implementation.rebound_months: Input should be greater than 0" in str(info.value)


def test_every_scenario_starts_from_the_registry_defaults():
    defaults = load_scenario(CONFIGS / "defaults.yaml")
    assert defaults.resolved["levers"] == {n: {"values": {"baseline": lv.default}} for n, lv in registry.LEVERS.items()}
    assert "levers" not in yaml.safe_load((CONFIGS / "defaults.yaml").read_text())  # no second home
    plan = load_scenario(CONFIGS / "plan.yaml").scenario.levers
    assert plan.veto_items_cap.values == {"baseline": 18, "pilot": 10}
    assert plan.evaluation_service_weight.values == {"baseline": 0.1, "rollout": 0.5}


def test_headline_and_targets_come_from_the_registry():
    from sim.compare import TARGETS_2027
    from sim.text import plan_indicators

    assert registry.HEADLINE == ("turnover_rate", "service_time_share", "participation_rate")
    assert registry.HEADLINE_DIRECTION == {"turnover_rate": -1.0, "service_time_share": 1.0, "participation_rate": 1.0}
    with_2027_target = {ind["id"] for ind in plan_indicators()
                        if ind.get("target") is not None and ind.get("year", 2027) == 2027}
    assert [t.metric for t in TARGETS_2027][:4] == [*registry.HEADLINE, "meeting_attendance_rate"]
    assert {t.metric for t in TARGETS_2027} == {m for i, ms in registry.INDICATOR_READINGS.items()
                                                 if i in with_2027_target for m in ms}
    # a further reading is a target of its own, named by its reading; the main measure carries no reading
    effective = next(t for t in TARGETS_2027 if t.metric == "assessment_items_cut_effective")
    paper = next(t for t in TARGETS_2027 if t.metric == "assessment_items_cut")
    assert effective.reading == "effective, with rebound" and "effective, with rebound" in effective.label
    assert paper.reading == "" and effective.value == paper.value == 0.30
    assert registry.INDICATOR_METRIC["talent_gap_fill_rate"] == "talent_gap_filled"


def _write_levers(tmp_path: Path, extra: str) -> Path:
    text = (registry.HERE / "levers.yaml").read_text(encoding="utf-8") + textwrap.indent(textwrap.dedent(extra), "  ")
    path = tmp_path / "levers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    """The last line of ``path`` holding ``needle`` (the added entry is at the end)."""
    return max(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize("entry, where, message", [
    ("x_cut:\n  group: burden\n  unit: share\n  bounds: [0, 1]\n  default: 1.5\n  source: s\n"
     "  label: {en: X, zh: 某}\n  used_by: r\n", "levers.x_cut.default", "the 2023 value 1.5 is outside the bounds [0, 1]"),
    ("x_cut:\n  group: burdens\n  unit: share\n  bounds: [0, 1]\n  default: 0\n  source: s\n"
     "  label: {en: X, zh: 某}\n  used_by: r\n", "levers.x_cut.group", "unknown group 'burdens'"),
    ("x_cut:\n  group: burden\n  unit: share\n  bounds: [0, 1]\n  default: 0\n  source: s\n"
     "  label: {en: X}\n  used_by: r\n", "levers.x_cut.label.zh", "Field required"),
    ("x_cut:\n  group: burden\n  units: share\n  bounds: [0, 1]\n  default: 0\n  source: s\n"
     "  label: {en: X, zh: 某}\n  used_by: r\n", "levers.x_cut.units", "unknown field"),
    ("councils:\n  group: burden\n  unit: share\n  bounds: [0, 1]\n  default: 0\n  source: s\n"
     "  label: {en: X, zh: 某}\n  used_by: r\n", "levers.councils", "duplicate key"),
])
def test_a_bad_registry_entry_names_its_file_line_and_key(tmp_path, entry, where, message):
    path = _write_levers(tmp_path, entry)
    with pytest.raises(registry.RegistryError) as info:
        registry._levers(path)
    line = _line(path, "label: {en: X}" if where.endswith(".zh") else where.split(".")[-1] + ":")
    assert str(info.value).startswith(f"{path}:{line}: {where}: "), str(info.value)
    assert message in str(info.value)


def test_a_metric_measures_a_real_plan_indicator(tmp_path):
    path = tmp_path / "metrics.yaml"
    path.write_text("x_share:\n  unit: share\n  counts: a\n  share_of: b\n  indicator: turnover_rat\n"
                    "  label: {en: X, zh: 某}\n", encoding="utf-8")
    with pytest.raises(registry.RegistryError, match=r"metrics.yaml:5: x_share.indicator: 'turnover_rat' is not an "
                                                     r"indicator id .* \(did you mean 'turnover_rate'\?\)"):
        registry._metrics(path)


_METRIC = "  unit: share\n  counts: a\n  share_of: b\n  empty: 0\n  label: {en: X, zh: 某}\n"


@pytest.mark.parametrize("entries, where, message", [
    ("x_share:\n  indicator: turnover_rate\n" + _METRIC + "y_share:\n  indicator: turnover_rate\n" + _METRIC,
     "y_share.indicator", "already measured by x_share; a further metric of an indicator names its `reading`"),
    ("x_share:\n  reading: {en: r, zh: 某}\n" + _METRIC, "x_share.reading", "give `indicator`"),
    ("x_share:\n  counties_meeting: trust\n" + _METRIC, "x_share.counties_meeting",
     "'trust' is not a metric (listed before this one) of an indicator with a target"),
    ("x_share:\n  set_by: councills\n" + _METRIC, "x_share.set_by", "(did you mean 'councils'?)"),
])
def test_readings_of_an_indicator_are_named_and_checked(tmp_path, entries, where, message):
    path = tmp_path / "metrics.yaml"
    path.write_text(entries, encoding="utf-8")
    with pytest.raises(registry.RegistryError) as info:
        registry._metrics(path)
    assert "metrics.yaml:" in str(info.value) and f": {where}: " in str(info.value) and message in str(info.value)


def test_a_named_reading_is_a_further_metric_of_its_indicator(tmp_path):
    path = tmp_path / "metrics.yaml"
    path.write_text("x_share:\n  indicator: turnover_rate\n" + _METRIC + "y_share:\n  indicator: turnover_rate\n"
                    "  reading: {en: other, zh: 另}\n" + _METRIC + "z_share:\n  counties_meeting: y_share\n" + _METRIC,
                    encoding="utf-8")
    metrics = registry._metrics(path)
    assert metrics["y_share"].reading.en == "other" and metrics["z_share"].counties_meeting == "y_share"
    assert registry.INDICATOR_READINGS["assessment_items_cut"] == ("assessment_items_cut",
                                                                   "assessment_items_cut_effective")
    assert registry.INDICATOR_METRIC["assessment_items_cut"] == "assessment_items_cut"


# --------------------------------------------------------------------------- docs/extending.md, followed once

NEW_LEVER = """
trial_mentoring_hours:
  group: careers
  unit: "hours of mentoring per new hire per month"
  bounds: [0, 40]
  default: 2
  source: "assumption (a test lever)"
  label: {en: "Mentoring hours", zh: "导师带教时长"}
  used_by: "`application_probability`"
"""

NEW_METRIC = """
mentored_share:
  unit: share
  counts: filled posts whose holder was mentored this year
  share_of: filled posts (end)
  empty: 0
  label: {en: "Cadres mentored", zh: "接受导师带教的干部占比"}
"""

# Runs in a fresh interpreter that reads the temporary registry: every derived place is asked about the new
# entries, and nothing else is edited.
PROBE = r"""
import json, sys
from pathlib import Path
from click.testing import CliRunner
from sim.config import ConfigError, load_scenario
from sim.config.schema import LEVERS as SCHEMA_LEVERS, Levers
from sim.model.metrics import METRIC_NAMES, Tally
from sim.model.policy import LEVERS as POLICY_LEVERS
from sim.registry.docs import lever_table, metric_table
from sim.text import LEVER_NAMES, METRIC_NAMES as METRIC_LABELS, factor_name, metric_name
from sim.cli import main

good, bad, silent = sys.argv[1:4]
out = {}
out["value"] = load_scenario(good).scenario.levers.trial_mentoring_hours.values
out["default"] = load_scenario(silent).resolved["levers"]["trial_mentoring_hours"]
try:
    load_scenario(bad)
    out["refused"] = None
except ConfigError as exc:
    out["refused"] = str(exc)
out["schema"] = ["trial_mentoring_hours" in Levers.model_fields, SCHEMA_LEVERS.get("trial_mentoring_hours"),
                 "trial_mentoring_hours" in POLICY_LEVERS]
out["labels"] = [LEVER_NAMES.get("trial_mentoring_hours"), factor_name("levers.trial_mentoring_hours.values.rollout", "zh"),
                 METRIC_LABELS.get("mentored_share"), metric_name("mentored_share", "zh")]
out["docs"] = [row for row in lever_table().splitlines() + metric_table().splitlines()
               if "trial_mentoring_hours" in row or "mentored_share" in row]
out["cli"] = [CliRunner().invoke(main, ["list", kind, "--lang", "zh"]).output for kind in ("levers", "metrics")]
out["tally"] = [METRIC_NAMES[-1], Tally(2).num.shape[0]]
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """A registry with one lever and one metric more (their entries only), probed in a fresh interpreter."""
    folder = tmp_path_factory.mktemp("registry")
    (folder / "levers.yaml").write_text((registry.HERE / "levers.yaml").read_text(encoding="utf-8")
                                        + textwrap.indent(NEW_LEVER, "  "), encoding="utf-8")
    (folder / "metrics.yaml").write_text((registry.HERE / "metrics.yaml").read_text(encoding="utf-8") + NEW_METRIC,
                                         encoding="utf-8")
    configs = {}
    for name, body in (("good", "levers:\n  trial_mentoring_hours: {values: {pilot: 8, rollout: 12}}\n"),
                       ("bad", "levers:\n  trial_mentoring_hours:\n    values: {rollout: 41}\n"), ("silent", "")):
        configs[name] = folder / f"{name}.yaml"
        configs[name].write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nname: {name}\n{body}", encoding="utf-8")
    env = {**os.environ, "GRASSROOTS_REGISTRY": str(folder), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, *(str(configs[k]) for k in ("good", "bad", "silent"))],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), configs


def test_a_lever_is_added_by_its_registry_entry_alone(extended):
    out, configs = extended
    assert out["value"] == {"baseline": 2, "pilot": 8, "rollout": 12}  # the 2023 value is the registry default
    assert out["default"] == {"values": {"baseline": 2}}
    refusal = out["refused"]
    assert refusal is not None and f"{configs['bad']}:5: levers.trial_mentoring_hours.values.rollout: must be within " \
        "[0, 40] hours of mentoring per new hire per month (got 41)" in refusal
    assert out["schema"] == [True, ["careers", 0, 40, "hours of mentoring per new hire per month"], True]
    assert out["labels"][:2] == [["Mentoring hours", "导师带教时长"], "导师带教时长（全面推进）"]
    assert any(row.startswith("| `trial_mentoring_hours` | careers | hours of mentoring per new hire per month | [0, 40] | "
                              "2 (assumption (a test lever)) |") for row in out["docs"])
    assert "trial_mentoring_hours" in out["cli"][0] and "导师带教时长" in out["cli"][0] and "职业发展与培训" in out["cli"][0]


def test_a_metric_is_added_by_its_registry_entry_alone(extended):
    out, _ = extended
    assert out["labels"][2:] == [["Cadres mentored", "接受导师带教的干部占比"], "接受导师带教的干部占比"]
    assert out["tally"] == ["mentored_share", len(registry.METRICS) + 1]
    assert any(row.startswith("| `mentored_share` | share | filled posts whose holder was mentored this year / "
                              "filled posts (end) |") for row in out["docs"])
    assert "mentored_share" in out["cli"][1]


def test_a_scenario_made_from_the_registry_pickles_to_worker_processes():
    import pickle

    scenario = load_scenario(CONFIGS / "plan.yaml").scenario
    again = pickle.loads(pickle.dumps(scenario))
    assert again == scenario
    assert type(again.parameters.cadres.county_pay_yuan) is type(scenario.parameters.cadres.county_pay_yuan)
