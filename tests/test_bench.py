"""The benchmark's headline: the four figures of issue 12 against their goals."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench_model():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_model", BENCH / "bench_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def figures(steps_per_s, ratio, province, month_s, build_s=8.0):
    return {"scaling": [{"target": 10**3, "agent_steps_per_s": 1.0, "ratio": 1.0, "cpu_agent_steps_per_s": 1.0},
                        {"target": 10**5, "agent_steps_per_s": steps_per_s, "ratio": ratio,
                         "cpu_agent_steps_per_s": 2 * steps_per_s}],
            "runs": {"province": {"wall_s": province}},
            "national": {"month_s": month_s, "build_s": build_s, "replicate_months": 120,
                         "replicate_s_estimate": build_s + 120 * month_s}}


def test_headline_says_which_goals_are_met(bench_model):
    h = bench_model.headline(figures(26e6, 480.0, 4.0, 1.40))
    assert h["columnar_agent_steps_per_s_1e5"] == 26e6 and h["per_agent_ratio_1e5"] == 480.0
    # 8 s + 120 x 1.40 s = 176 s <= 180 s, and 1.40 s <= (180 - 8) / 120 s
    assert h["met"] == {"columnar_agent_steps_per_s_1e5": True, "per_agent_ratio_1e5": False, "province_run_s": None,
                        "national_month_s": True, "national_replicate_s": True}
    assert h["goals"]["national_month_s"]["value"] == pytest.approx((180 - 8.0) / 120)
    assert h["goals"]["province_run_s"] is None
    slow = bench_model.headline(figures(3e6, 600.0, 15.0, 4.0))
    assert slow["met"]["columnar_agent_steps_per_s_1e5"] is False and slow["met"]["per_agent_ratio_1e5"] is True
    assert slow["met"]["national_replicate_s"] is False and slow["national_replicate_s"] == 8.0 + 480.0


def test_headline_of_a_quick_run_has_no_verdicts(bench_model):
    quick = {"scaling": [{"target": 10**3, "agent_steps_per_s": 1.0, "ratio": 1.0}], "runs": {}}
    h = bench_model.headline(quick)
    assert all(v is None for v in h["met"].values())
    assert h["columnar_agent_steps_per_s_1e5"] is None and h["national_month_s"] is None
