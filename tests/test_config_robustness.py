"""Configs: every bad value refused with file:line, every valid one runs, and loading has resource limits.

Bad numbers (NaN, inf, booleans), impossible combinations (ages, sizes) and hostile YAML (alias bombs,
deep nesting) are refused with a ConfigError naming file, line and key; edge values that mean something
(an initial share over 45 of 0 or 1) run. A property-based test mutates one number of the plan at a time
and checks that each result is either refused with a line for every problem or runs to clean results.
"""

from __future__ import annotations

import copy
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from helpers import CONFIGS, SMALL, deep_update
from sim.config import ConfigError, load_scenario, scenario_from_dict
from sim.config.loader import Location, format_path
from sim.config.schema import expected_agents
from sim.model.metrics import cell_values
from sim.model.model import GrassrootsModel, cell_membership

# SMALL, on a shorter timeline: 3 counties, 2 months of spin-up, 8 recorded months with all four phases.
TINY = deep_update(SMALL, {"timeline": {
    "spin_up_months": 2, "end": "2023-08",
    "phases": {"baseline": "2023-01", "pilot": "2023-03", "rollout": "2023-05", "consolidation": "2023-07"}}})
PLAN = CONFIGS / "plan.yaml"
PLAN_RESOLVED = load_scenario(PLAN).resolved


def child(tmp_path: Path, text: str, parent: Path = PLAN) -> Path:
    """A config ``text`` that extends ``parent`` made TINY (in a file between the two)."""
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(f"extends: {parent}\n" + yaml.safe_dump(TINY, sort_keys=False))
    path = tmp_path / "child.yaml"
    path.write_text(f"extends: {tiny.name}\n" + text)
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the last line of ``path`` containing ``needle``."""
    return max(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def refusal(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    return info.value


def clean_run(scenario) -> GrassrootsModel:
    """Run one replicate and check its record: finite tallies, no NaN in any cell with counties (a zero
    denominator gives the metric's ``empty`` value)."""
    model = GrassrootsModel(scenario, seed=0, replicate=0).run()
    assert np.isfinite(model.county_num).all() and np.isfinite(model.county_den).all()
    membership = cell_membership(model.places.county_region, model.pilot)
    populated = membership.sum(axis=1) > 0
    for num, den in zip(model.county_num, model.county_den):
        assert np.isfinite(cell_values(num, den, membership)[:, populated]).all()
    return model


# --------------------------------------------------------------------------- numbers: NaN, inf, booleans


def test_nan_refused_in_a_by_region_field(tmp_path):
    path = child(tmp_path, "parameters:\n  cadres:\n    county_pay_yuan: {east: .nan, central: 5000, west: 4800}\n")
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, 'county_pay_yuan')}: parameters.cadres.county_pay_yuan.east: " in msg
    assert "finite number (got nan)" in msg


@pytest.mark.parametrize("section,key", [("cadres", "quit_intercept"), ("cadres", "burnout_intercept"),
                                         ("cadres", "fill_intercept"), ("residents", "attend_intercept")])
def test_nan_refused_in_an_intercept(tmp_path, section, key):
    path = child(tmp_path, f"parameters:\n  {section}:\n    {key}: .nan\n")
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, key)}: parameters.{section}.{key}: Input should be a finite number" in msg


@pytest.mark.parametrize("value", [".nan", "{values: {baseline: 0.1, pilot: .nan}}"])
def test_nan_refused_in_a_lever_value(tmp_path, value):
    path = child(tmp_path, f"levers:\n  inspections_cut: {value}\n")
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, 'inspections_cut')}: levers.inspections_cut" in msg
    assert "finite number" in msg and "(got nan) (got nan)" not in msg


INF, BOOL, TEXT = "finite number", "must be a number, not true/false", "must be a number, not text"


@pytest.mark.parametrize("key,value,message", [
    ("parameters.workload.inspection_hours", ".inf", INF),
    ("parameters.cadres.quit_pay", ".inf", INF),
    ("parameters.cadres.quit_intercept", "-.inf", INF),
    ("parameters.residents.hours_per_case", "1e400", INF),
    ("levers.veto_items_cap", "{values: {pilot: .inf}}", INF),
    ("parameters.workload.inspection_hours", "true", BOOL),
    ("geography.resident_sample_per_committee", "yes", BOOL),
    ("parameters.residents.participation_window_months", "on", BOOL),
    ("levers.recognition", "true", BOOL),
    ("levers.recognition", "{values: {pilot: true}}", BOOL),
    ("geography.committee_posts.rural", "'1.5'", TEXT),  # quoted: text in YAML, not 1.5
    ("geography.resident_sample_per_committee", '"40"', TEXT),
    ("levers.recognition", "{values: {pilot: '0.5'}}", TEXT),
])
def test_a_value_that_is_not_a_finite_number_is_refused_at_its_line(tmp_path, key, value, message):
    *parents, leaf = key.split(".")
    text = "".join("  " * i + f"{k}:\n" for i, k in enumerate(parents)) + "  " * len(parents) + f"{leaf}: {value}\n"
    path = child(tmp_path, text)
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, leaf)}: {key}" in msg and message in msg


# --------------------------------------------------------------------------- valid values run, impossible ones are refused


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_initial_share_over_45_of_0_or_1_runs(tmp_path, share):
    path = child(tmp_path, f"parameters:\n  cadres:\n    initial_share_over_45: {share}\n")
    model = GrassrootsModel(load_scenario(path).scenario, seed=0, replicate=0)
    over = (model.cadres.age > 45)[model.cadres.filled].mean()
    assert over == pytest.approx(share, abs=0.01)  # as close as the truncated-normal age model comes
    clean_run(load_scenario(path).scenario)


def test_hire_age_min_above_the_mean_is_refused_with_the_reason(tmp_path):
    path = child(tmp_path, "parameters:\n  cadres:\n    hire_age_min: 50\n")
    msg = str(refusal(path))
    # a check of two keys is reported at their block, in the file that wrote it last
    mean = load_scenario(CONFIGS / "baseline.yaml").scenario.parameters.cadres.hire_age_mean  # the calibrated one
    assert f"{path}:{line_of(path, 'cadres')}: parameters.cadres: hire_age_mean ({mean:g}) must be within " \
        "hire_age_min and hire_age_max [50, 55]" in msg


def test_hire_age_min_over_45_with_a_share_below_1_is_refused(tmp_path):
    path = child(tmp_path, "parameters:\n  cadres:\n    hire_age_min: 46\n    hire_age_mean: 50\n")
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, 'cadres')}: parameters.cadres: initial_share_over_45 is 0.582, but " \
        "incumbents are aged hire_age_min (46) to retirement_age, so all are over 45" in msg


def test_hire_age_min_over_45_with_everyone_over_45_runs(tmp_path):
    path = child(tmp_path, "parameters:\n  cadres:\n    hire_age_min: 46\n    hire_age_mean: 50\n"
                           "    initial_share_over_45: 1.0\n")
    model = clean_run(load_scenario(path).scenario)
    assert (model.cadres.age[model.cadres.filled] >= 46).all()


@pytest.mark.parametrize("text,where,reason", [
    ("parameters:\n  cadres:\n    hire_age_max: 65\n", "cadres", "would retire at once"),
    ("parameters:\n  cadres:\n    ladder_pay_min_yuan: 9500\n", "cadres", "is above its highest"),
    ("parameters:\n  workload:\n    veto_items: 200\n", "workload", "veto items are among the assessment items"),
    ("parameters:\n  workload:\n    departments_per_county: 10\n", "workload",
     "data departments are among the county's departments"),
    ("parameters:\n  cadres:\n    county_promotion_rate_3y: 0\n", "county_promotion_rate_3y", "greater than or equal"),
    ("timeline:\n  end: 2500-12\n", "end:", "year must be within 1900-2200"),
])
def test_impossible_combinations_are_refused_with_a_reason(tmp_path, text, where, reason):
    path = child(tmp_path, text)
    error = refusal(path)
    (problem,) = error.problems
    assert reason in problem.message
    assert problem.location == Location(str(path), line_of(path, where)), str(error)


def test_a_lever_without_values_is_refused(tmp_path):
    # (a file's `values: {}` merges into the values under it: its parent's, and at the bottom the lever's
    # 2023 value from the registry, which load_scenario puts under every config; without that layer a whole
    # config can leave them empty)
    from sim.config.loader import load
    from sim.config.schema import Scenario

    resolved = copy.deepcopy(PLAN_RESOLVED)
    resolved["levers"]["recognition"]["values"] = {}
    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump(resolved, sort_keys=False))
    assert load_scenario(path).scenario.levers.recognition.values == {"baseline": 0.0}
    with pytest.raises(ConfigError) as info:
        load(path, Scenario)
    msg = str(info.value)
    assert f"{path}:{line_of(path, 'values: {}')}: levers.recognition.values: Dictionary should have at least 1 item" \
        in msg


def test_a_huge_geography_is_refused_with_the_agent_estimate(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text(f"extends: {CONFIGS / 'national.yaml'}\ngeography:\n  resident_sample_per_committee: 500\n")
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, 'geography')}: geography: this geography would create about 299.7 million agents" \
        in msg
    assert "292,021,920 sampled residents" in msg and "at most 50 million" in msg


def test_huge_unit_sizes_are_refused(tmp_path):
    path = child(tmp_path, "geography:\n  committee_posts: {rural: 1.0e+9, urban: 9}\n"
                           "  residents_per_committee: {rural: 1700, urban: 1.0e+12}\n")
    msg = str(refusal(path))
    assert f"{path}:{line_of(path, 'committee_posts')}: geography.committee_posts.rural: must be at most 1,000" in msg
    assert f"{path}:{line_of(path, 'residents_per_committee')}: geography.residents_per_committee.urban:" in msg


def test_the_shipped_national_geography_is_within_the_cap():
    posts, residents = expected_agents(load_scenario(CONFIGS / "national.yaml").scenario.geography)
    assert 16e6 < posts + residents < 18e6  # the run's actual count: 16.9 million (docs/performance.md)


# --------------------------------------------------------------------------- YAML resource limits

BOMB = "".join(  # "billion laughs": 9 levels of 9 aliases each, 9**9 = 387 million strings once expanded
    f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}" if i else "lol"] * 9) + "]\n" for i in range(9))


# Expanded, either bomb would build hundreds of millions of values (minutes and gigabytes); refused, it
# takes well under a second on an idle machine. The bound only tells "refused early" from "expanded" and
# is generous so that a loaded CI machine does not fail it (performance is measured in benchmarks/).
EXPANSION_BOUND_S = 30.0


def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 330
    start = time.perf_counter()
    error = refusal(path)
    assert time.perf_counter() - start < EXPANSION_BOUND_S
    (problem,) = error.problems
    assert problem.location.file == str(path) and problem.location.line is not None
    assert "more than 100,000 values once aliases (*name) are expanded" in str(error)


def test_an_alias_bomb_of_merge_keys_is_refused(tmp_path):
    lines = ["a0: &a0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1}"]
    lines += [f"a{i}: &a{i} {{" + ", ".join(f"k{j}: {{<<: *a{i - 1}, z: 1}}" for j in range(8)) + "}"
              for i in range(1, 9)]
    path = tmp_path / "merge_bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    msg = str(refusal(path))
    assert time.perf_counter() - start < EXPANSION_BOUND_S and "once aliases (*name) are expanded" in msg


@pytest.mark.parametrize("body", ["[" * 500 + "]" * 500, "{a: " * 500 + "1" + "}" * 500,
                                  "\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(500)) + "  " * 501 + "x"])
def test_deep_nesting_is_refused_with_file_and_line(tmp_path, body):
    path = tmp_path / "deep.yaml"
    path.write_text(f"name: deep\ndescription: {body}\n")
    error = refusal(path)
    (problem,) = error.problems
    assert problem.location.file == str(path) and problem.location.line is not None
    assert "nested more than 100 levels deep" in str(error)


def test_nesting_made_deep_by_aliases_is_refused(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text("name: x\n" + "".join(f"a{i}: &a{i} [{'*a' + str(i - 1) if i else 1}]\n" for i in range(300)))
    msg = str(refusal(path))
    assert f"{path}:100: a98[0][0]: mappings and lists are nested more than 100 levels deep once aliases" in msg


def test_a_recursion_error_while_composing_is_a_config_error(tmp_path):
    path = tmp_path / "deepish.yaml"
    path.write_text("name: x\ndescription: " + "[" * 90 + "]" * 90 + "\n")  # within the depth limit
    import inspect

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 150)  # too low for 90 levels of PyYAML's composer
    try:
        with pytest.raises(ConfigError) as info:
            load_scenario(path)
    finally:
        sys.setrecursionlimit(limit)
    assert f"{path}:" in str(info.value) and "nested more than" in str(info.value)


def test_a_long_extends_chain_is_refused_at_the_extends_line(tmp_path):
    for i in range(60):
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n")
    (tmp_path / "c60.yaml").write_text("name: end\n")
    error = refusal(tmp_path / "c0.yaml")
    assert "more than 50 files extend one another" in str(error)
    assert all(p.location.line == 1 for p in error.problems)


# --------------------------------------------------------------------------- property: refused with lines, or runs clean


def _numeric_leaves(data, prefix=()):
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _numeric_leaves(value, prefix + (key,))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield prefix + (key,)


PLAN_LEAVES = sorted(_numeric_leaves(PLAN_RESOLVED), key=str)


def _get(data, path):
    for key in path:
        data = data[key]
    return data


def _mutations(path):
    old = _get(PLAN_RESOLVED, path)
    special = st.sampled_from([math.nan, math.inf, -math.inf, -abs(old) - 1, 1e300, 10**30, 0, 1, 0.0, 1.0,
                               True, False, "abc", "1.5", None])
    return st.one_of(
        special, special,  # half of the values
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
        st.floats(min_value=0.0, max_value=3.0 * abs(old) + 1.0),  # plausible values near the shipped one
    ).map(lambda value: (path, value))


def _nested(path, value):
    for key in reversed(path):
        value = {key: value}
    return value


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLAN_LEAVES).flatmap(_mutations))
def test_a_mutated_plan_is_refused_with_lines_or_runs_clean(mutation):
    path, value = mutation
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "mutated.yaml"
        # the mutation overrides TINY where they meet (e.g. geography.counties)
        config.write_text(yaml.safe_dump({"extends": str(PLAN), **deep_update(TINY, _nested(path, value))},
                                         sort_keys=False))
        try:
            loaded = load_scenario(config)
        except ConfigError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.location.file and problem.location.line is not None, str(exc)
            event("refused")
            return
    # a number that is not finite, or not a number at all, is never valid
    assert not (isinstance(value, (bool, str)) or value is None or not math.isfinite(value)), \
        f"{format_path(path)}: {value!r} accepted"
    event("ran")
    scenario = loaded.scenario
    posts, residents = expected_agents(scenario.geography)
    if posts + residents > 300_000:  # valid but too big for a quick test: the same config with fewer counties
        resolved = copy.deepcopy(loaded.resolved)
        resolved["geography"]["counties"] = counties = max(1, int(3e5 / (posts + residents) * scenario.geography.counties))
        resolved["pilot"]["counties"] = min(resolved["pilot"]["counties"], counties)
        scenario = scenario_from_dict(resolved)
    clean_run(scenario)


def test_a_number_with_an_exponent_and_no_dot_is_a_number(tmp_path):
    # PyYAML (YAML 1.1) reads 1e2 without a dot as text; a config means the number
    path = child(tmp_path, "parameters:\n  workload:\n    inspection_hours: 4e1\n")
    from sim.config import load_scenario

    assert load_scenario(path).scenario.parameters.workload.inspection_hours == 40.0
