"""`grassroots explore`'s engine (sim/explore.py): a design is a starting config with levers moved by phase, run
against its baseline on common random numbers; its numbers are `grassroots compare`'s, the config it saves is
one that `grassroots validate` accepts and `grassroots run` / `compare` reproduce exactly; bad input is a
one-line error; stored results open read-only. The page itself is driven in a browser by
tests/test_explore_browser.py."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from helpers import CONFIGS
from sim import explore as X
from sim.cli import main
from sim.config import ConfigError, load_scenario
from sim.registry import GROUP_LABELS, LEVERS
from sim.store import ResultsError

COUNTY = str(CONFIGS / "county.yaml")
PAY = "committee_pay_ratio"


@pytest.fixture(scope="module")
def runner():
    r = X.Runner(workers=2)
    yield r
    r.close()


@pytest.fixture(scope="module")
def pair(runner):
    """The county plan and the same with a higher committee pay ratio from the rollout, 2 replicates each."""
    plan = X.Design(COUNTY, replicates=2)
    totals = []
    first = X.run_comparison(plan, runner, progress=lambda done, total: totals.append(total))
    higher = plan.with_change(PAY, "rollout", 1.3)
    second_totals = []
    second = X.run_comparison(higher, runner, progress=lambda done, total: second_totals.append(total))
    return plan, first, higher, second, totals[0], second_totals[0]


def test_the_levers_are_the_registry_s_by_group_with_the_value_in_force_in_each_phase():
    controls = X.lever_controls(load_scenario(CONFIGS / "plan.yaml").resolved)
    assert list(controls) == list(GROUP_LABELS)
    listed = {c.name: c for group in controls.values() for c in group}
    assert set(listed) == set(LEVERS)
    pay = listed[PAY]
    assert (pay.low, pay.high, pay.default) == (LEVERS[PAY].bounds.low, LEVERS[PAY].bounds.high, LEVERS[PAY].default)
    assert pay.label == {"en": LEVERS[PAY].label.en, "zh": LEVERS[PAY].label.zh}
    # plan.yaml sets the rollout only: the pilot keeps the 2023 value, the consolidation keeps the rollout's
    assert pay.values == {"baseline": pay.default, "pilot": pay.default, "rollout": 0.9, "consolidation": 0.9}


def test_the_baseline_is_the_design_s_world_with_every_lever_at_2023():
    built = X.build(X.Design(COUNTY, geography="dozen").with_change(PAY, "rollout", 1.1))
    assert built.design.geography == built.baseline.geography and built.design.geography.counties == 12
    assert built.design.parameters == built.baseline.parameters and built.design.pilot == built.baseline.pilot
    assert built.design.levers.committee_pay_ratio.values["rollout"] == 1.1
    # every lever at its 2023 value, as configs/baseline.yaml has them (social insurance at its calibrated value)
    assert built.baseline.levers == load_scenario(CONFIGS / "baseline.yaml").scenario.levers
    assert built.baseline.levers.social_insurance_coverage.values["baseline"] != LEVERS["social_insurance_coverage"].default
    assert built.design.timeline.end == built.baseline.timeline.end == "2027-12"  # shown to 2027
    assert built.design_saved["timeline"]["end"] == "2030-12"  # saved with its own timeline


def test_after_a_lever_moves_only_the_design_is_run_again(pair):
    *_, first_total, second_total = pair
    assert (first_total, second_total) == (4, 2)


def test_a_higher_pay_ratio_lowers_turnover_against_the_same_baseline(pair):
    _, first, _, second, *_ = pair
    base = first.series[first.series["scenario"] == "baseline"].reset_index(drop=True)
    again = second.series[second.series["scenario"] == "baseline"].reset_index(drop=True)
    pd.testing.assert_frame_equal(base, again)  # the cached baseline replicates

    def turnover(result):
        d = result.differences
        return float(d[(d["metric"] == "turnover_rate") & (d["year"] == 2027)]["difference"].iloc[0])

    assert turnover(second) < turnover(first) < 0
    rows = X.difference_rows(second)
    assert list(rows.columns) == ["outcome", "Baseline (no reform)", "county_plan (explored)",
                                  "difference [paired 90%]"]
    assert rows.iloc[0, -1].startswith(f"{100 * turnover(second):+.2f} pp")


def test_after_a_lever_moves_the_design_goes_on_from_a_snapshot_to_the_same_numbers(pair, runner):
    from sim.model.policy import prefix_key

    plan, _, higher, second, *_ = pair
    rollout = X.snapshot_months(X.make(higher).design)[1]  # the full rollout, where the lever moved
    shared = prefix_key(X.make(higher).design, rollout)
    assert shared == prefix_key(X.make(plan).design, rollout)
    assert {(rollout, shared, plan.seed, k) for k in range(2)} <= set(runner._snapshots)  # the plan's, kept
    fresh = X.Runner(workers=1, snapshot_bytes=0)  # every replicate from the start
    try:
        again = X.run_comparison(higher, fresh)
    finally:
        fresh.close()
    assert not fresh._snapshots
    pd.testing.assert_frame_equal(again.series, second.series)


def test_a_figure_drawn_again_with_the_same_words_reuses_its_layout(pair, monkeypatch):
    import matplotlib.figure

    from sim.figures import style

    _, first, _, second, *_ = pair
    monkeypatch.setattr(style, "_LAYOUTS", {})
    laid_out = []
    tight = matplotlib.figure.Figure.tight_layout
    monkeypatch.setattr(matplotlib.figure.Figure, "tight_layout",
                        lambda self, *a, **k: (laid_out.append(1), tight(self, *a, **k))[1])
    png = X.figure_png(first.series, first.manifest, "difference_turnover_rate")
    again = X.figure_png(second.series, second.manifest, "difference_turnover_rate")  # after a lever moved
    assert len(laid_out) == 1 and png[:4] == again[:4] == b"\x89PNG" and png != again
    X.figure_png(first.series, first.manifest, "difference_turnover_rate", lang="zh")  # other words: laid out
    assert len(laid_out) == 2


def test_the_saved_design_validates_and_run_and_compare_reproduce_the_page(pair, tmp_path):
    _, _, higher, second, *_ = pair
    design_file, baseline_file = X.save_design(higher, tmp_path / "designs")
    cli = CliRunner()
    checked = cli.invoke(main, ["validate", str(design_file), str(baseline_file)])
    assert checked.exit_code == 0, checked.output
    assert "scenario 'explored'" in checked.output and "scenario 'baseline'" in checked.output
    assert "# Levers changed there:\n#   Committee pay" in design_file.read_text(encoding="utf-8")

    out = tmp_path / "compare"
    done = cli.invoke(main, ["compare", str(baseline_file), str(design_file), "-n", "2", "--seed", "0",
                             "--out", str(out)])
    assert done.exit_code == 0, done.output
    for name in ("differences", "attainment"):  # the numbers `compare` writes are the page's, in 2027
        written = pd.read_csv(out / f"{name}.csv")
        page = getattr(second, name)
        if "year" in written:
            written, page = written[written["year"] == 2027], page[page["year"] == 2027]
        key = ["design", "metric"] + (["year"] if "year" in written else ["target"])
        merged = written.merge(page, on=key, suffixes=("_written", "_page"))
        assert len(merged) == len(page) > 0
        value = "difference" if name == "differences" else "probability"
        assert (merged[f"{value}_written"] == merged[f"{value}_page"]).all()
        if name == "attainment":
            assert (merged["mean_written"] == merged["mean_page"]).all()
    written = pd.read_csv(out / "levels.csv")
    page = second.all_levels()
    merged = written[written["year"] == 2027].merge(page, on=["design", "metric", "year"])
    assert len(merged) == len(page[page["year"] == 2027]) > 0 and (merged["mean_x"] == merged["mean_y"]).all()

    run_out = tmp_path / "run"
    ran = cli.invoke(main, ["run", str(design_file), "-n", "2", "--seed", "0", "--out", str(run_out), "--no-figure",
                            "--no-progress"])
    assert ran.exit_code == 0, ran.output
    series = pd.read_parquet(run_out / "series.parquet")
    series = series[(series["region"] == "all") & (series["group"] == "all")]
    page = second.series[second.series["scenario"] == "explored"]
    key = ["replicate", "date", "metric"]
    merged = page.merge(series, on=key, suffixes=("_page", "_run"))
    assert len(merged) == len(page)  # every month the page shows (to 2027) ...
    assert merged["value_page"].equals(merged["value_run"])  # ... is the full run's, to the bit
    assert series["date"].max() > page["date"].max()  # which goes on to 2030


@pytest.mark.parametrize("change, expected", [
    ({"changes": ((PAY, "rollout", 5.0),)}, "committee_pay_ratio"),
    ({"replicates": 1}, "replicates must be a whole number from 2"),
    ({"draws": 1}, "at least 2"),
    ({"draws": X.MAX_DRAWS + 1}, f"parameter draws must be a whole number from 0 (none) to {X.MAX_DRAWS}"),
    ({"geography": "moon"}, "unknown geography 'moon'"),
    ({"name": "baseline"}, "the design's name must be"),
    ({"start": "no/such.yaml"}, "no/such.yaml"),
])
def test_bad_input_is_an_error_naming_it(change, expected):
    with pytest.raises((ConfigError, ValueError)) as caught:
        X.build(X.Design(COUNTY).replace(**change))
    assert expected in str(caught.value)
    if "changes" in change:
        assert "must be within" in str(caught.value)


def test_a_config_that_fails_validation_is_reported_not_run(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {COUNTY}\nname: bad\nlevers:\n  committee_pay_ratio: {{values: {{rollout: 9}}}}\n")
    with pytest.raises(ConfigError, match="must be within"):
        X.build(X.Design(str(bad)))


def test_stored_results_open_read_only_with_the_compare_numbers(pair, tmp_path):
    from sim.compare import compare_and_write

    folder = tmp_path / "c"
    from sim.config import scenario_of

    # two small designs, one county each, to 2027 without spin-up: quick to run
    loaded = [load_scenario(CONFIGS / "baseline.yaml"), load_scenario(COUNTY)]
    designs = [scenario_of(item, {"geography.counties": 1, "pilot.counties": 1, "timeline.end": "2027-12",
                                  "timeline.spin_up_months": 0}) for item in loaded]
    compare_and_write(designs, 2, folder)
    def files():  # the results (not the lock file a reader takes, as `grassroots report` does)
        return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir() if p.name != ".lock"}

    before = files()
    stored = X.open_results(folder)
    assert stored.kind == "run" and stored.comparison is not None
    written = pd.read_csv(folder / "attainment.csv")
    assert written["probability"].tolist() == stored.comparison.attainment["probability"].tolist()
    assert files() == before  # nothing written
    with pytest.raises(ResultsError, match="no stored results to report on"):
        X.open_results(tmp_path)
    with pytest.raises(ResultsError, match="give the path"):
        X.open_results("  ")


def test_parameter_draws_are_offered_only_once_a_posterior_exists(monkeypatch, tmp_path):
    monkeypatch.setattr(X, "POSTERIOR", tmp_path / "posterior.parquet")
    assert not X.draws_available()
    (tmp_path / "posterior.parquet").write_bytes(b"")
    assert X.draws_available()


def test_under_parameter_draws_the_page_runs_what_compare_draws_runs(runner, tmp_path):
    design = X.Design(COUNTY, replicates=1, draws=2).with_change(PAY, "rollout", 1.2)
    result = X.run_comparison(design, runner)
    series = result.series
    assert sorted(series["draw"].unique()) == [0, 1] and sorted(series["replicate"].unique()) == [0, 1]
    assert result.manifest["draws"]["runs_per_scenario"] == 2
    plain = X.run_comparison(design.replace(draws=0, replicates=2), runner).series  # calibrated values only
    mine = series[series["scenario"] == "baseline"].drop(columns="draw").reset_index(drop=True)
    assert not mine["value"].equals(plain[plain["scenario"] == "baseline"].reset_index(drop=True)["value"])

    design_file, baseline_file = X.save_design(design, tmp_path / "designs")
    assert "--draws 2" in design_file.read_text(encoding="utf-8")
    out = tmp_path / "compare"
    done = CliRunner().invoke(main, ["compare", str(baseline_file), str(design_file), "-n", "1", "--draws", "2",
                                     "--seed", "0", "--out", str(out)])
    assert done.exit_code == 0, done.output
    written = pd.read_csv(out / "differences.csv")
    written = written[written["year"] == 2027]
    page = result.differences[result.differences["year"] == 2027]
    merged = written.merge(page, on=["design", "metric", "year"], suffixes=("_written", "_page"))
    assert len(merged) == len(page) > 0 and (merged["difference_written"] == merged["difference_page"]).all()


def test_a_cancelled_run_stops_and_the_next_one_runs():
    runner = X.Runner(workers=1, grace=0.0)  # no waiting: the running replicate's worker is stopped
    try:
        built = X.build(X.Design(COUNTY, replicates=2))
        asked = []
        with pytest.raises(X.Cancelled):
            runner.run([built.baseline, built.design], 2, 0, stopped=lambda: asked.append(1) or len(asked) > 1)
        assert runner._pool is None  # the worker was stopped, not left computing for nobody
        series = runner.run([built.design], 2, 0)
        assert sorted(series["replicate"].unique()) == [0, 1]
    finally:
        runner.close()


def test_the_page_says_what_is_wrong_with_a_config_and_with_a_typed_value(tmp_path, monkeypatch):
    """The page rendered headlessly (as tests/test_solara.py renders SolaraViz): a starting config that fails
    validation and an out-of-range value typed into a lever's field are messages on the page."""
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    import sim.explore_app as app

    monkeypatch.setattr(app, "_RUNNER", X.Runner(1))  # no workers are started: nothing runs here
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {COUNTY}\nname: bad\nlevers:\n  committee_pay_ratio: {{values: {{rollout: 9}}}}\n")
    first = app.design.value
    try:
        app.design.set(X.Design(str(bad)))
        _, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
        alerts = [str(w.children) for w in rc.find(v.Alert).widgets]
        assert any("bad.yaml:4: levers.committee_pay_ratio.values.rollout: must be within [0.2, 2]" in a
                   for a in alerts), alerts

        app.design.set(X.Design(COUNTY))
        rc.find(v.BtnToggle, class_="gr-groups").widget.v_model = list(GROUP_LABELS).index("pay")
        field = rc.find(v.TextField, class_="lever-committee_pay_ratio-rollout").widget
        field.v_model = "1.25"
        field.fire_event("keyup.enter", None)
        assert app.design.value.changes == ((PAY, "rollout", 1.25),) and app.message.value == ""
        field = rc.find(v.TextField, class_="lever-committee_pay_ratio-rollout").widget
        field.v_model = "5"
        field.fire_event("keyup.enter", None)
        assert app.design.value.changes == ((PAY, "rollout", 1.25),)  # refused: the design keeps its value
        assert app.message.value.startswith("Committee pay (ratio to county seat) (full rollout): "
                                            "levers.committee_pay_ratio.values.rollout: must be within [0.2, 2]")
        assert any(app.message.value in str(w.children) for w in rc.find(v.Alert).widgets)  # on the page
    finally:
        app.design.set(first)
        app.message.set("")
