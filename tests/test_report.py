"""Report figures are built from stored results: files exist as valid images of the expected size, the axes
carry their labels, and the target line sits at the target value."""

from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import matplotlib.pyplot as plt
from matplotlib.text import Text

from helpers import CONFIGS, scenario
from sim.figures import fan_chart, headline_figure
from sim.outputs import run_and_write
from sim.report import build_report
from sim.store import read_run
from sim.summary import HEADLINE


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    base = scenario("baseline.yaml", geography={"counties": 2}, pilot={"counties": 1})
    plan = scenario("plan.yaml", geography={"counties": 2}, pilot={"counties": 1})
    folder = tmp_path_factory.mktemp("run")
    run_and_write([base, plan], 2, folder, seed=1)  # what `grassroots run` writes, headline.png included
    return folder


def png_size(path):
    with open(path, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_writes_every_figure_as_valid_png_svg_and_the_pages(stored):
    out = build_report(stored, formats=("png", "svg", "pdf"))
    names = [f"fan_{m}" for m in ("turnover_rate", "service_time_share", "participation_rate")]
    names += [f"difference_{m}" for m in ("turnover_rate", "service_time_share", "participation_rate")]
    names += ["targets_2027"]
    for name in names:
        assert (out / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert png_size(out / "fan_turnover_rate.png") == (1920, 1260)  # 6.4 x 4.2 inches at 300 dpi
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == len(names)
    md = (out / "report.md").read_text()
    assert "not produced by the model" in md and "Annual cadre turnover" in md


def test_fan_chart_has_labels_and_the_target_line_at_the_target(stored):
    series, manifest = read_run(stored)
    fig = fan_chart(series, manifest, "service_time_share")
    ax = fig.axes[0]
    assert ax.get_title() == "Share of cadre time spent serving residents"  # the plan's wording
    assert ax.get_ylabel() == "share of cadres' working hours"  # what the share is of
    target = [line for line in ax.get_lines() if line.get_gid() == "target"]
    assert len(target) == 1 and set(target[0].get_ydata()) == {0.60}
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {
        "Baseline (no reform)", "The plan as written", "2027 target ≥ 60% (§3.2.1, §3.4)"}
    assert "replicates" in fig.texts[-1].get_text()


def test_headline_figure_draws_the_report_fan_charts(stored):
    """headline.png shows each headline outcome exactly as its fan chart does: the same mean lines and the
    same 50% and 90% bands, the same target line and legend (the target named in each panel's title)."""
    series, manifest = read_run(stored)
    assert png_size(stored / "headline.png") == (2520, 800)  # 12.6 x 4.0 inches at 200 dpi
    head = headline_figure(series, manifest)

    def drawn(ax):
        lines = [(line.get_label(), line.get_gid(), np.asarray(line.get_ydata(), float)) for line in ax.get_lines()]
        bands = [np.asarray(c.get_paths()[0].vertices) for c in ax.collections]
        return lines, bands

    for ax, metric in zip(head.axes, HEADLINE):
        fan = fan_chart(series, manifest, metric)
        (lines, bands), (fan_lines, fan_bands) = drawn(ax), drawn(fan.axes[0])
        assert len(lines) == len(fan_lines) == 3 and len(bands) == len(fan_bands) == 4  # 2 designs, 2 bands each
        for (label, gid, y), (fan_label, fan_gid, fan_y) in zip(lines, fan_lines):
            assert gid == fan_gid and np.array_equal(y, fan_y)
            assert label == fan_label or gid == "target"  # the fan chart names its target in the legend
        assert all(np.array_equal(b, f) for b, f in zip(bands, fan_bands))
        plt.close(fan)
    assert head.axes[1].get_legend().get_title().get_text() == "mean, 50% and 90% bands over replicates"
    assert head.axes[0].get_title() == "Annual cadre turnover\n2027 target ≤ 10% (§1.3.2, §9.2)"
    plt.close(head)


def test_sensitivity_report_from_a_sobol_sweep(tmp_path):
    """Sobol bars from a stored sweep analysis (the Ishigami sweep of test_experiments)."""
    from test_experiments import spec, stored_sweep

    from SALib.test_functions import Ishigami
    from sim.experiments import analyze_sweep

    body = ("levers:\n" + "".join(f"  x{i}: {{range: [-3.141592653589793, 3.141592653589793]}}\n" for i in (1, 2, 3))
            + "design: {kind: sobol, samples: 256, seed: 2}\n")
    path = spec(tmp_path, body, "ishigami")
    stored_sweep(tmp_path, path, "ishigami", Ishigami.evaluate)
    analyze_sweep(path, out_root=tmp_path / "results")
    out = build_report(tmp_path / "results" / "ishigami", formats=("png", "svg"))
    figures = sorted(p.name for p in out.glob("sobol_*.png"))
    assert figures == ["sobol_service_time_share_2024.png", "sobol_service_time_share_2027.png",
                       "sobol_turnover_rate_2024.png", "sobol_turnover_rate_2027.png"]
    assert png_size(out / figures[0])[0] == 1920
    assert "Indices" in (out / "report.md").read_text()


# --------------------------------------------------------------------------- layouts, sweeps, pilots, Chinese

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Proper names and symbols a Chinese figure may keep: the method names and the Sobol index symbols.
KEEP_LATIN = {"Sobol", "Morris", "ST"}


def visible_texts(fig):
    """Every non-empty text a reader sees on the figure, except the provenance line (hashes, versions)."""
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
            and t.get_gid() != "provenance"]


@pytest.fixture(scope="module")
def factorial(tmp_path_factory):
    """A real (tiny) factorial sweep: inspection cut x pay x devolution, 2 levels each, 1 replicate."""
    from test_experiments import FACTORIAL, spec

    from sim.experiments import run_sweep

    tmp = tmp_path_factory.mktemp("factorial")
    body = FACTORIAL.replace("design:", "  levers.devolved_power_share.values.rollout: {levels: [0.25, 1.0]}\n"
                                        "design:")
    path = spec(tmp, body.replace("replicates: 2", ""), "fact")
    run_sweep(path, out_root=tmp / "results")
    return tmp / "results" / "fact"


@pytest.fixture(scope="module")
def pilot_folder(tmp_path_factory):
    """A real (small) pilot evaluation stored as `grassroots evaluate-pilot` stores it."""
    from sim.pilot import evaluate_pilot

    sc = scenario("plan.yaml", geography={"counties": 6}, pilot={"counties": 2}, timeline={"spin_up_months": 6})
    table = evaluate_pilot(sc, replicates=2, seed=3, metrics=("service_time_share", "turnover_rate"))
    folder = tmp_path_factory.mktemp("pilot")
    table.to_csv(folder / "pilot_replicates.csv", index=False)
    return folder, table


def test_fan_chart_panels_give_each_design_its_own_panel_with_the_target(stored):
    series, manifest = read_run(stored)
    fig = fan_chart(series, manifest, "service_time_share", layout="panels")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["Baseline (no reform)", "The plan as written"]
    for ax in panels:
        assert [set(line.get_ydata()) for line in ax.get_lines() if line.get_gid() == "target"] == [{0.60}]
        assert len([line for line in ax.get_lines() if line.get_gid() != "target"]) == 1  # one median line
    assert "Share of cadre time spent serving residents" in fig._suptitle.get_text()
    overlay = fan_chart(series, manifest, "service_time_share", layout="auto")  # two designs: overlaid
    assert len(overlay.axes) == 1
    with pytest.raises(ValueError, match="layout"):
        fan_chart(series, manifest, "service_time_share", layout="grid")


def test_factorial_heat_map_cells_are_the_sweep_means_with_panels_for_the_third_lever(factorial):
    from sim.experiments import read_sweep
    from sim.figures import factorial_heatmaps, point_means

    design = pd.read_csv(factorial / "design.csv", index_col="point")
    means = point_means(read_sweep(factorial), design)
    figures = dict((name, fig) for name, _, fig in factorial_heatmaps(means, list(design.columns),
                                                                      ["service_time_share"], [2024, 2027]))
    fig = figures["factorial_service_time_share_2027"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["Powers devolved (rollout) = 25%", "Powers devolved (rollout) = 100%"]
    assert panels[0].get_xlabel() == "Inspections cut (rollout)"
    assert panels[0].get_ylabel() == "Committee pay (ratio to county seat)\n(rollout)"  # wrapped
    cell = means[(means.metric == "service_time_share") & (means.year == 2027)].set_index(list(design.columns))
    # rows run from the highest pay level down, columns from the lowest cut up
    expected = [cell.loc[(cut, pay, 0.25), "value"] for pay in (1.0, 0.7) for cut in (0.0, 0.5)]
    assert [t.get_text() for t in panels[0].texts] == [f"{100 * v:.1f}%" for v in expected]
    # the mechanism shows in the map: cutting inspections raises service time at either pay level
    assert cell.loc[(0.5, 0.7, 0.25), "value"] > cell.loc[(0.0, 0.7, 0.25), "value"]
    out = build_report(factorial, formats=("png",))
    assert png_size(out / "factorial_service_time_share_2027.png") == (int(300 * (2.6 * 2 + 1.6)), 3.6 * 300)
    assert (out / "factorial_turnover_rate_2027.png").exists()


def test_pilot_chart_shows_each_rule_estimate_and_both_truths(pilot_folder):
    from sim.figures import pilot_chart

    folder, table = pilot_folder
    fig = pilot_chart(table)
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in axes] == ["Share of cadre time spent serving residents", "Annual cadre turnover"]
    ax = axes[0]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["good base", "random"]
    assert all(t.get_text().split("\n")[-1].startswith("power ") for t in ax.get_xticklabels())
    assert ax.get_ylabel() == "effect in 2024, percentage points"
    block = table[table.metric == "service_time_share"]
    diamonds = [c for c in ax.collections if c.get_label() == "true effect on the pilot counties"]
    for i, selection in enumerate(("good_base", "random")):
        rows = block[block.selection == selection]
        # at x = i + 0.18: both truths; at x = i: the estimate (the marker, not the caps); percentage points
        truths = sorted(float(c.get_offsets()[0][1]) for c in ax.collections if np.isclose(c.get_offsets()[0][0],
                                                                                            i + 0.18))
        assert np.allclose(truths, sorted([100 * rows.true_effect_pilots.mean(), 100 * rows.true_effect_rollout.mean()]))
        estimates = [line.get_ydata()[0] for line in ax.lines if line.get_marker() == "o"
                     and line.get_xdata()[0] == i]
        assert np.allclose(estimates, [100 * rows.did_estimate.mean()])
    assert len(diamonds) == 1
    out = build_report(folder, formats=("png", "pdf"))
    assert png_size(out / "pilot_evaluation.png") == (int(300 * (2 * 3.4 + 0.4)), int(300 * 3.9))  # 2 outcomes
    assert (out / "pilot_evaluation.pdf").read_bytes()[:5] == b"%PDF-"
    assert "power" in (out / "report.md").read_text()


def test_the_chinese_report_is_in_chinese_with_no_missing_glyphs(stored, factorial, pilot_folder, tmp_path):
    from sim.figures import factorial_heatmaps, pilot_chart, point_means, sensitivity_figures
    from sim.report import run_figures
    from sim.experiments import read_sweep

    series, manifest = read_run(stored)
    design = pd.read_csv(factorial / "design.csv", index_col="point")
    sobol = pd.DataFrame({"metric": "turnover_rate", "year": 2027, "factor": list(design.columns),
                          "S1": [0.5, 0.2, 0.1], "S1_conf": 0.05, "ST": [0.6, 0.3, 0.1], "ST_conf": 0.05})
    morris = pd.DataFrame({"metric": "participation_rate", "year": 2027, "factor": list(design.columns),
                           "mu_star": [0.1, 0.0, 0.0], "mu_star_conf": 0.01, "mu": 0.0, "sigma": [0.02, 0.0, 0.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = [f for _, _, f in run_figures(series, manifest, "zh", "panels")]
        figures += [f for _, _, f in run_figures(series, manifest, "zh", "overlay")]
        figures += [f for _, _, f in sensitivity_figures(pd.concat([sobol]), "zh")]
        figures += [f for _, _, f in sensitivity_figures(morris, "zh")]
        figures += [f for _, _, f in factorial_heatmaps(point_means(read_sweep(factorial), design),
                                                        list(design.columns), ["service_time_share"], [2027], "zh")]
        figures.append(pilot_chart(pilot_folder[1], "zh"))
        texts = [t for fig in figures for t in visible_texts(fig)]
        out = build_report(stored, formats=("png", "svg", "pdf"), lang="zh")
    missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert missing == []
    assert any(CJK.search(t) for t in texts)
    assert len(texts) > 200
    english = {t for t in texts if set(LATIN_WORD.findall(t)) - KEEP_LATIN}
    assert english == set()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "基层人才流失率" in md and "模型不产生该指标" in md and "规划方案" in md
    assert "lang='zh-CN'" in (out / "report.html").read_text(encoding="utf-8")
    for folder in (factorial, pilot_folder[0]):  # the tables of sweep and pilot reports, too
        page = (build_report(folder, formats=("png",), lang="zh") / "report.md").read_text(encoding="utf-8")
        headers = [line for line in page.splitlines() if line.startswith("| ")]
        assert headers and not [h for h in headers if set(LATIN_WORD.findall(h)) - KEEP_LATIN]
    assert out.name == "report_zh" and png_size(out / "fan_turnover_rate.png") == (1920, 1260)
    plt.close("all")


def test_missing_glyphs_would_be_caught():
    """The check above can fail: Chinese drawn in the English style's font warns about missing glyphs."""
    from sim.figures import apply_style

    apply_style("en")
    fig, ax = plt.subplots()
    ax.set_title("干部服务群众时间占比")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    assert any("missing from" in str(w.message) for w in caught)
    plt.close(fig)


def test_without_a_chinese_font_the_report_says_what_to_install(stored, monkeypatch, tmp_path):
    import sim.figures.fonts as fonts
    from click.testing import CliRunner

    from sim.cli import main

    monkeypatch.setenv(fonts.ENV, str(tmp_path / "nowhere.otf"))
    with pytest.raises(fonts.CJKFontNotFound, match="nowhere.otf: no such font file"):
        build_report(stored, lang="zh", out=tmp_path / "a")
    import matplotlib

    latin = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    monkeypatch.setenv(fonts.ENV, latin)
    with pytest.raises(fonts.CJKFontNotFound, match="lacks Chinese glyphs"):
        build_report(stored, lang="zh", out=tmp_path / "b")
    monkeypatch.delenv(fonts.ENV)
    monkeypatch.setattr(fonts, "_bundled", lambda: None)
    monkeypatch.setattr(fonts, "_system", lambda: None)
    result = CliRunner().invoke(main, ["report", str(stored), "--lang", "zh", "--out", str(tmp_path / "c")])
    assert result.exit_code == 2
    assert "Chinese glyphs" in result.output and "pip install" in result.output
    assert not (tmp_path / "c").exists()  # nothing half-written


def test_design_labels_are_not_inherited_and_do_not_change_the_hash(tmp_path):
    from sim.config import load_scenario

    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {CONFIGS / 'plan.yaml'}\nname: child\n")
    loaded = load_scenario(child)
    assert loaded.scenario.labels.zh is None  # the plan's 规划方案 does not pass to another design
    labelled = tmp_path / "labelled.yaml"
    labelled.write_text(f"extends: {CONFIGS / 'plan.yaml'}\nname: child\nlabels: {{zh: 子方案}}\n")
    other = load_scenario(labelled)
    assert other.scenario.labels.zh == "子方案" and other.hash == loaded.hash


def test_a_sampled_sweep_plots_each_outcome_against_each_factor(tmp_path):
    from test_experiments import spec, stored_sweep

    body = ("levers:\n  levers.inspections_cut.values.rollout: {range: [0, 1]}\n"
            "  levers.committee_pay_ratio.values.rollout: {range: [0.7, 1.2]}\n"
            "design: {kind: latin_hypercube, samples: 12, seed: 4}\n")
    path = spec(tmp_path, body, "lhs")
    stored_sweep(tmp_path, path, "lhs", lambda x: 0.1 + 0.5 * x[:, 0])
    out = build_report(tmp_path / "results" / "lhs", formats=("png",))
    assert sorted(p.name for p in out.glob("*.png")) == ["points_service_time_share_2027.png",
                                                         "points_turnover_rate_2027.png"]
    from sim.figures import factor_scatter, point_means
    from sim.experiments import read_sweep

    design = pd.read_csv(tmp_path / "results" / "lhs" / "design.csv", index_col="point")
    fig = factor_scatter(point_means(read_sweep(tmp_path / "results" / "lhs"), design), list(design.columns),
                         ["service_time_share"], [2027])[0][2]
    cut = fig.axes[0].collections[0].get_offsets()
    assert np.allclose(cut[:, 1], 0.1 + 0.5 * cut[:, 0])  # the stored outcome, point by point
    assert fig.axes[0].get_xlabel() == "Inspections cut (rollout)"
    assert [set(line.get_ydata()) for line in fig.axes[0].get_lines() if line.get_gid() == "target"] == [{0.60}]


def test_markdown_links_the_format_written_and_the_callers_style_survives(stored, tmp_path):
    import matplotlib.pyplot as plt

    plt.rcParams["lines.linewidth"] = 4.0
    fonts = list(plt.rcParams["font.sans-serif"])
    out = build_report(stored, formats=("svg",), lang="zh", out=tmp_path / "svg")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "(fan_turnover_rate.svg)" in md and ".png)" not in md and not list(out.glob("*.png"))
    assert plt.rcParams["lines.linewidth"] == 4.0 and list(plt.rcParams["font.sans-serif"]) == fonts
    plt.rcdefaults()


def test_bold_cells_are_the_ones_meeting_the_target_even_with_a_cell_missing():
    from sim.figures import factorial_heatmaps

    a, b = "levers.inspections_cut.values.rollout", "levers.committee_pay_ratio.values.rollout"
    rows = [{a: cut, b: pay, "metric": "service_time_share", "year": 2027, "value": 0.45 + 0.1 * i + 0.02 * j}
            for i, cut in enumerate((0.0, 0.3, 0.6)) for j, pay in enumerate((0.7, 0.9, 1.1))]
    means = pd.DataFrame(rows[1:])  # the first cell's run has not finished
    ax = factorial_heatmaps(means, [a, b], ["service_time_share"], [2027])[0][2].axes[0]
    bold = sorted(t.get_text() for t in ax.texts if t.get_fontweight() == "bold")
    assert len(ax.texts) == 8
    assert bold == sorted(f"{100 * r['value']:.1f}%" for r in rows[1:] if r["value"] >= 0.60)


def test_differences_are_taken_from_the_reference_the_comparison_used(stored):
    from sim.report import run_figures

    series, manifest = read_run(stored)
    captions = [c for name, c, _ in run_figures(series, {**manifest, "reference": "plan"}) if name.startswith("diff")]
    assert captions and all(c.endswith("each design minus the reference, The plan as written") for c in captions)


def test_the_indicator_table_lists_every_target_the_model_checks_in_its_unit(stored):
    from sim.compare import TARGETS_2027
    from sim.registry import INDICATOR_METRIC, METRICS, INDICATOR_READINGS
    from sim.report import indicator_table
    from sim.text import plan_indicators

    series, manifest = read_run(stored)
    table = indicator_table(series, manifest).set_index("indicator")
    produced = table[table["note"] == ""]
    names = {INDICATOR_METRIC.get(i["id"], i["id"]): i["en"] for i in plan_indicators()}
    # an indicator read two ways has a row per reading, named "indicator: reading"
    rows = {m: f"{i['en']}: {METRICS[m].reading.en}" if len(INDICATOR_READINGS.get(i["id"], ())) > 1 else i["en"]
            for i in plan_indicators() for m in INDICATOR_READINGS.get(i["id"], ())}
    assert {t.metric for t in TARGETS_2027} <= {m for m, name in rows.items() if name in produced.index}
    veto = table.loc[names["veto_items"]]
    assert (veto["baseline"], veto["target"]) == ("18", "10")  # counts, not percentages
    assert table.loc[names["service_time_share"], "target"] == "60.0%"
    assert table.loc[names["satisfaction"], "target"] == "95 (2035)"
