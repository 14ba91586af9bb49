"""Comparing designs: pairing is real, identical designs differ by exactly zero, target chances are honest."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from helpers import scenario
from sim.compare import Target, compare, differences, ranking, replicate_values, target_attainment


def small(config, **changes):
    return scenario(config, geography={"counties": 2}, pilot={"counties": 1}, **changes)


def test_a_design_identical_to_the_reference_differs_by_exactly_zero():
    a = small("plan.yaml")
    b = a.model_copy(update={"name": "plan_again"})
    result = compare([a, b], replicates=2, seed=4)
    assert (result["differences"]["difference"] == 0.0).all()
    assert (result["differences"]["paired_low"] == 0.0).all() and (result["differences"]["paired_high"] == 0.0).all()


def test_paired_intervals_are_narrower_than_unpaired_for_a_one_lever_difference():
    base = small("baseline.yaml")
    pay = small("baseline.yaml", name="pay", levers={"committee_pay_ratio": {"values": {"rollout": 1.0}}})
    result = compare([base, pay], replicates=6, seed=2)
    d = result["differences"].set_index(["metric", "year"]).loc[("turnover_rate", 2027)]
    assert d["difference"] < 0  # higher pay, fewer quits
    assert d["paired_high"] - d["paired_low"] < 0.8 * (d["unpaired_high"] - d["unpaired_low"])
    headline = result["differences"][result["differences"]["metric"].isin(
        ["turnover_rate", "service_time_share", "participation_rate"])]
    stated = re.search(r"a median (\d+)% narrower than unpaired", result["report"])
    assert stated and int(stated.group(1)) == round(100 * (1 - headline["paired_width_share"].median()))


def synthetic(values_a, values_b, metric="turnover_rate", year=2027):
    rows = [{"scenario": name, "metric": metric, "year": year, "replicate": k, "value": v}
            for name, values in (("a", values_a), ("b", values_b)) for k, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_target_probabilities_are_zero_or_one_when_every_replicate_misses_or_meets():
    values = synthetic([0.05, 0.08, 0.09], [0.12, 0.15, 0.2])
    t = (Target("turnover_rate", 0.10, "at_most", "turnover below 10%", "§9.2"),)
    att = target_attainment(values, targets=t).set_index("design")
    assert att.loc["a", "probability"] == 1.0 and att.loc["b", "probability"] == 0.0
    assert att.loc["b", "mean_shortfall"] > 0 and att.loc["a", "mean_shortfall"] == 0
    ranks = ranking(att.reset_index())
    assert list(ranks["design"]) == ["a", "b"] and "turnover below 10%" in ranks.set_index("design").loc["b", "missed"]


def test_a_target_met_in_half_the_replicates_is_not_met():
    values = synthetic([0.05, 0.15], [0.05, 0.06])  # a: 1 of 2 replicates under 10%; b: both
    t = (Target("turnover_rate", 0.10, "at_most", "turnover below 10%", "§9.2"),)
    att = target_attainment(values, targets=t)
    ranks = ranking(att).set_index("design")
    assert att.set_index("design").loc["a", "probability"] == 0.5
    assert ranks.loc["a", "targets_likely_met"] == 0 and ranks.loc["b", "targets_likely_met"] == 1
    assert ranks.loc["a", "missed_metrics"] == "turnover_rate"


def test_differences_are_per_replicate_pairs():
    values = synthetic([1.0, 2.0, 3.0], [1.5, 2.5, 3.5])
    d = differences(values, "a").iloc[0]
    assert d["difference"] == 0.5 and d["paired_low"] == 0.5 and d["paired_high"] == 0.5
    assert d["unpaired_high"] - d["unpaired_low"] > 1.0


def test_replicate_values_are_annual_means(baseline_series):
    values = replicate_values(baseline_series, years=(2024,))
    monthly = baseline_series[(baseline_series.metric == "turnover_rate") & (baseline_series.region == "all")
                              & (baseline_series.group == "all") & (baseline_series.date.dt.year == 2024)]
    assert np.isclose(values[values.metric == "turnover_rate"]["value"].iloc[0], monthly["value"].mean())


def two_designs_and_futures(tmp_path):
    """A one-county plan and no reform, and a spec sampling three futures: (designs, spec path)."""
    from helpers import CONFIGS
    from sim.config import load_scenario

    tiny = "geography: {townships_per_county: 2}\ntimeline: {spin_up_months: 3}\n"
    (tmp_path / "base.yaml").write_text(f"extends: {CONFIGS / 'county.yaml'}\nname: plan_county\n" + tiny)
    (tmp_path / "none.yaml").write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nname: no_reform\n"
                                        "geography: {scope: county, counties: 1, townships_per_county: 2}\n"
                                        "pilot: {counties: 1, selection: random}\ntimeline: {spin_up_months: 3}\n")
    (tmp_path / "futures.yaml").write_text(
        "name: futures\nconfig: base.yaml\nuncertainties:\n  implementation.rebound_share: {range: [0.0, 0.6]}\n"
        "  parameters.cadres.quit_pay: {range: [0.8, 2.2]}\ndesign: {kind: latin_hypercube, samples: 3, seed: 1}\n"
        "replicates: 1\noutcomes: [turnover_rate]\nyears: [2027]\n")
    return [load_scenario(tmp_path / "none.yaml"), load_scenario(tmp_path / "base.yaml")], tmp_path / "futures.yaml"


def test_robustness_counts_futures_and_regret(tmp_path):
    from sim.compare import robustness

    designs, futures = two_designs_and_futures(tmp_path)
    result = robustness(designs, futures)
    assert len(result["futures"]) == 3
    shares = result["shares"].set_index(["design", "target"])["share_of_futures_met"]
    assert shares[("plan_county", "Annual cadre turnover <= 10%")] >= shares[("no_reform", "Annual cadre turnover <= 10%")]
    regret = result["regret"].set_index(["design", "metric"])["worst_case_regret"]
    assert regret[("plan_county", "turnover_rate")] == 0.0 and regret[("no_reform", "turnover_rate")] > 0.0


def test_compare_and_write_writes_what_it_returns_as_one_set(tmp_path):
    """The library call behind `grassroots compare`: every table, the report and the series, readable as a set."""
    from sim.compare import COMPARE_TABLES, compare_and_write
    from sim.store import read_run

    designs, futures = two_designs_and_futures(tmp_path)
    out = tmp_path / "out"
    result = compare_and_write(designs, 2, out, seed=3, uncertainty=futures)
    for name in COMPARE_TABLES:
        assert (out / f"{name}.csv").read_text() == result[name].to_csv(index=False)
    assert (out / "robustness_regret.csv").read_text() == result["robustness"]["regret"].to_csv(index=False)
    report = (out / "report.md").read_text()
    assert report == result["report"] and "## Robustness across futures" in report
    series, manifest = read_run(out)
    assert manifest["reference"] == "no_reform" and set(manifest["files"]) >= {"report.md", "ranking.csv"}
    pd.testing.assert_frame_equal(series, result["series"].reset_index(drop=True), check_categorical=False)


def test_compare_and_run_at_another_number_of_counties(tmp_path):
    """`--counties N` runs every design at N counties (the pilots capped or scaled), and says so in the
    manifest; a config whose counties a county table fixes is refused in one line, before anything runs."""
    import json

    from click.testing import CliRunner

    from helpers import CONFIGS
    from sim.cli import main

    out = tmp_path / "c"
    baseline = tmp_path / "b.yaml"
    baseline.write_text(f"extends: {CONFIGS / 'county.yaml'}\nname: other\n"
                        "levers: {committee_pay_ratio: {values: {rollout: 1.2}}}\n")
    done = CliRunner().invoke(main, ["compare", str(CONFIGS / "county.yaml"), str(baseline), "-n", "2",
                                     "--counties", "2", "-o", str(out)])
    assert done.exit_code == 0, done.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["resolved_config"]["geography"]["counties"] for s in manifest["scenarios"]] == [2, 2]
    assert [s["resolved_config"]["pilot"]["counties"] for s in manifest["scenarios"]] == [1, 1]  # as in the config
    refused = CliRunner().invoke(main, ["run", str(CONFIGS / "example_province.yaml"), "--counties", "5", "-n", "1",
                                        "-o", str(tmp_path / "r")])
    assert refused.exit_code == 2 and "county table" in refused.output and len(refused.output.splitlines()) == 1
