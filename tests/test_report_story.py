"""The report a director is handed (issue 15): the summary's sentences agree with the tables, ties are
ties, the page is self-contained (valid styles, the font it needs inside it), every figure has its data
beside it, the tables are in one workbook, PDF fonts are TrueType, and the terminal tables fit 100 columns."""

from __future__ import annotations

import base64
import io
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import CONFIGS, scenario
from sim.compare import LIKELY, ranking, replicate_values, target_attainment
from sim.outputs import run_and_write
from sim.report import WORKBOOK, build_report
from sim.store import read_run


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    small = {"geography": {"counties": 2}, "pilot": {"counties": 1}}
    designs = [scenario("plan.yaml", **small), scenario("designs/pay_then_burden.yaml", **small)]
    folder = tmp_path_factory.mktemp("compare")
    run_and_write(designs, 3, folder, seed=2, figure=False)
    return folder


@pytest.fixture(scope="module")
def reports(stored):
    return {lang: build_report(stored, formats=("png", "pdf"), lang=lang) for lang in ("en", "zh")}


def page_text(html: str) -> str:
    import html as html_lib

    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))
    return re.sub(r"\s+", " ", html_lib.unescape(text))


# --------------------------------------------------------------------------- ranking


def test_a_tie_is_a_tie_and_is_not_broken_by_name():
    att = pd.DataFrame({"design": ["zeta", "zeta", "alpha", "alpha", "mid", "mid"],
                        "target": ["t1", "t2"] * 3, "metric": ["m1", "m2"] * 3,
                        "probability": [1.0, 0.0, 0.0, 1.0, 0.0, 0.4], "mean": 0.1, "mean_shortfall": 0.0,
                        "target_value": 0.1})
    ranks = ranking(att)
    assert list(ranks["design"]) == ["zeta", "alpha", "mid"]  # the order given, not the alphabet
    assert list(ranking(att, order=["mid", "alpha", "zeta"])["design"]) == ["alpha", "zeta", "mid"]  # run order
    assert list(ranks["rank"]) == [1, 1, 3] and list(ranks["tied"]) == [True, True, False]
    assert ranks.set_index("design").loc["zeta", "missed_metrics"] == "m2"


# --------------------------------------------------------------------------- the page


def test_the_summary_states_each_designs_targets_with_the_numbers_of_the_tables(stored, reports):
    series, manifest = read_run(stored)
    att = target_attainment(replicate_values(series, years=(2027,)))
    html = (reports["en"] / "report.html").read_text(encoding="utf-8")
    summary = page_text(re.search(r"<section id='summary'>(.*?)</section>", html, re.S).group(1))
    for design, label in (("plan", "The plan as written"), ("pay_then_burden", "Pay first, then burden")):
        block = att[att["design"] == design]
        met = int((block["probability"] >= LIKELY).sum())
        assert (f"“{label}” meets {met} of the {len(block)} 2027 targets" if met else
                f"“{label}” meets none of the {len(block)} 2027 targets") in summary
        turnover = block.set_index("metric").loc["turnover_rate"]
        assert f"annual cadre turnover ({100 * turnover['mean']:.1f}% against ≤ 10%" in summary
    assert "simulation noise only" in summary and "3 replicates" in summary
    assert "largest differences of “Pay first, then burden” from “The plan as written” in 2027" in summary
    text = page_text(html)
    for heading in ("Contents", "The designs", "Ranking by the plan's 2027 targets", "Meeting the 2027 targets",
                    "Differences from the reference", "The plan's indicators", "How to read the numbers"):
        assert f"<a href='#" in html and heading in text
    assert "Pay and careers from 2024, burden reduction from 2027." in text  # the design's description
    assert "mean of its twelve monthly values" in text


def test_the_chinese_page_uses_the_plans_wording_and_the_chinese_description(reports):
    text = page_text((reports["zh"] / "report.html").read_text(encoding="utf-8"))
    assert "基层人才流失率" in text and "基层干部流失率" not in text  # one term: the plan's (plan_indicators.yaml)
    assert "2024年起提高薪酬、畅通职业发展，2027年起再减负。" in text
    assert "摘要" in text and "目录" in text and "仅反映模拟的随机波动" in text
    assert "减规划" not in text and "§3.2.1, §3.4" not in text  # no 减 for "minus", no Western comma in lists


def test_the_page_is_self_contained_with_valid_styles_and_a_font_covering_its_text(reports):
    from fontTools.ttLib import TTFont

    html = (reports["zh"] / "report.html").read_text(encoding="utf-8")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    depth = 0
    for char in re.sub(r"url\([^)]*\)", "", style):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth in (0, 1, 2)  # @media and @page nest once; never a stray brace
    assert depth == 0 and "{{" not in style and "}}" not in style
    font = re.search(r"src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", style)
    assert font, "the Chinese font is embedded as a data: URL"
    cmap = TTFont(io.BytesIO(base64.b64decode(font.group(1)))).getBestCmap()
    shown = set(page_text(html)) - set(" \n")
    missing = {c for c in shown if ord(c) not in cmap and ord(c) > 0x7F}
    assert not missing, f"glyphs missing from the embedded font: {''.join(sorted(missing))}"
    assert len(cmap) < 3000  # a subset, not the 8 MB font
    assert not re.search(r"(src|href)=['\"](?!data:|#)", html)  # nothing loaded from outside the file
    assert "@media print" in style and "size: A4" in style


def test_numbers_and_intervals_are_kept_whole_in_table_cells(reports):
    html = (reports["en"] / "report.html").read_text(encoding="utf-8")
    cells = re.findall(r"<td class='num'><span>([^<]*)</span>(?: <span class='iv'>([^<]*)</span>)?</td>", html)
    assert cells and any(iv.startswith("[") for _, iv in cells)
    assert all(re.fullmatch(r"[−+]?[\d.,]+(%| pp)?|—|\d+ \(tie\)|[≥≤] [\d.]+%?", v) for v, _ in cells), cells
    assert "td.num span { white-space: nowrap; }" in html


# --------------------------------------------------------------------------- files beside the page


def test_every_figure_has_its_data_beside_it_and_the_tables_are_one_workbook(stored, reports):
    out = reports["en"]
    series, _ = read_run(stored)
    for png in out.glob("*.png"):
        assert (out / f"{png.stem}.csv").exists(), png.name
    fan = pd.read_csv(out / "fan_turnover_rate.csv", parse_dates=["date"])
    rows = series[(series["metric"] == "turnover_rate") & (series["region"] == "all") & (series["group"] == "all")]
    month = rows[(rows["scenario"] == "plan") & (rows["date"] == fan["date"].iloc[30])]["value"]
    drawn = fan[(fan["design"] == "plan") & (fan["date"] == fan["date"].iloc[30])]
    assert np.isclose(drawn["mean"].iloc[0], month.mean()) and np.isclose(drawn["p95"].iloc[0], month.quantile(0.95))
    book = pd.read_excel(out / WORKBOOK, sheet_name=None)
    assert {"ranking", "attainment", "differences", "levels", "indicators", "levers"} <= set(book)
    att = target_attainment(replicate_values(series, years=(2027,)))
    assert np.allclose(book["attainment"]["probability"], att["probability"])


def test_pdf_figures_embed_truetype_not_type3_fonts(reports):
    for lang in ("en", "zh"):
        pdf = (reports[lang] / "fan_turnover_rate.pdf").read_bytes()
        assert b"/Type3" not in pdf and b"/FontFile2" in pdf, lang


# --------------------------------------------------------------------------- figures


def test_legends_sit_below_the_axes_and_the_target_line_inside_them(stored):
    from sim.figures import difference_chart, fan_chart, headline_figure

    series, manifest = read_run(stored)
    figures = [fan_chart(series, manifest, m) for m in ("service_time_share", "turnover_rate")]
    figures += [difference_chart(series, manifest, "participation_rate", "plan"), headline_figure(series, manifest)]
    for fig in figures:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            box = ax.get_window_extent(renderer)
            if ax.get_legend() is not None:
                assert ax.get_legend().get_window_extent(renderer).y1 < box.y0  # below, clear of the data
            low, high = ax.get_ylim()
            for line in (line for line in ax.get_lines() if line.get_gid() == "target"):
                y = line.get_ydata()[0]
                assert low + 0.05 * (high - low) < y < high - 0.15 * (high - low)  # with room for phase names
        plt.close(fig)
    fan = fan_chart(series, manifest, "service_time_share")
    assert fan.axes[0].get_ylabel() == "share of cadres' working hours"
    assert fan.axes[0].get_legend().get_title().get_text() == "mean, 50% and 90% bands over replicates"
    plt.close(fan)


# --------------------------------------------------------------------------- the terminal


def test_compare_and_run_print_percent_tables_that_fit_100_columns(stored):
    from sim.console import compare_text, headline_text
    from sim.summary import interval_summary

    series, manifest = read_run(stored)
    values = replicate_values(series)
    att = target_attainment(values)
    text = compare_text({"ranking": ranking(att), "attainment": att, "series": series, "manifest": manifest})
    assert max(len(line) for line in text.splitlines()) <= 100
    summary = interval_summary(series).set_index(["scenario", "metric", "year"])
    r = summary.loc[("pay_then_burden", "turnover_rate", 2027)]
    row = next(line for line in headline_text(series).splitlines()[3:] if line.startswith("pay_then_burden"))
    assert f"{100 * r['mean']:.1f}" in row.split()  # percent, not a fraction
    assert "more than 50% of the replicates" in text


# --------------------------------------------------------------------------- configs


def test_a_bilingual_description_is_neither_inherited_nor_hashed(tmp_path):
    from sim.config import load_scenario

    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {CONFIGS / 'plan.yaml'}\nname: child\n")
    described = tmp_path / "described.yaml"
    described.write_text(f"extends: {CONFIGS / 'plan.yaml'}\nname: child\ndescription: {{en: Ours, zh: 我们的}}\n")
    plain, other = load_scenario(child), load_scenario(described)
    assert plain.scenario.description == ""  # the plan's description belongs to the plan
    assert other.resolved["description"] == {"en": "Ours", "zh": "我们的"} and other.hash == plain.hash


def test_every_lever_unit_has_chinese_words():
    """A lever's unit on a Chinese page is Chinese: shares are %, the rest are in LEVER_UNITS_ZH."""
    from sim.registry import LEVERS
    from sim.text import lever_unit

    untranslated = [name for name, lever in LEVERS.items() if lever_unit(lever.unit, "zh") == lever.unit]
    assert untranslated == []
