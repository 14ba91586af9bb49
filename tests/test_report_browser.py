"""Both reports opened in a real browser (the system's headless Chromium, driven by Playwright) on a font
configuration without Chinese system fonts: the embedded font renders the Chinese text, the page logs no
error, no table is wider than the page, every figure loads. Screenshots go to results/report_browser/ for a
person to look at.

Skipped where Chromium or Playwright is missing, unless GRASSROOTS_REQUIRE_BROWSER=1 (set by .ci/run, which
installs Debian's chromium), where that is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser import WIDTH, chromium, inspect
from helpers import ROOT, scenario
from sim.outputs import run_and_write
from sim.report import build_report

pytestmark = pytest.mark.slow

if chromium() is None:
    if os.environ.get("GRASSROOTS_REQUIRE_BROWSER") == "1":
        raise RuntimeError("GRASSROOTS_REQUIRE_BROWSER=1 but no Chromium (/usr/bin/chromium) or no playwright")
    pytest.skip("no system Chromium (apt-get install chromium) or no playwright (pip install playwright)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    small = {"geography": {"counties": 2}, "pilot": {"counties": 1}}
    designs = [scenario("plan.yaml", **small), scenario("designs/burden_then_pay.yaml", **small)]
    folder = tmp_path_factory.mktemp("compare")
    run_and_write(designs, 2, folder, seed=1, figure=False)
    en = build_report(folder, formats=("png",)) / "report.html"
    zh = build_report(folder, formats=("png",), lang="zh") / "report.html"
    return inspect([en, zh], ROOT / "results" / "report_browser")


def test_the_embedded_font_renders_the_chinese_report_without_system_fonts(pages):
    zh = next(info for name, info in pages.items() if "report_zh" in name)
    assert len(zh["han"]) > 100  # the page is in Chinese
    assert zh["family"] == "Grassroots Noto Sans SC"
    assert {"family": "Grassroots Noto Sans SC", "status": "loaded"} in zh["faces"]
    assert zh["fonts_check"] is True
    for selector, fonts in zh["platform_fonts"].items():
        # every glyph of the title, the summary and a table cell comes from the page's own font: with no
        # Chinese system font, a missing @font-face would show DejaVu here (and tofu boxes on the page)
        assert fonts and all(f["isCustomFont"] and f["familyName"] == "Noto Sans SC" for f in fonts), selector


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_has_no_errors_no_table_wider_than_the_page_and_every_figure(pages, lang):
    info = next(i for name, i in pages.items() if (("report_zh" in name) == (lang == "zh")))
    assert info["errors"] == []
    assert info["summary"]
    assert info["scroll"] <= info["client"] <= WIDTH
    assert info["tables"] and all(t["right"] <= info["client"] and t["scroll"] <= t["width"] + 1
                                  for t in info["tables"])
    assert info["print"]["scroll"] <= info["print"]["client"]  # and at the printable width of an A4 page
    if lang == "en":  # Latin text in a Latin sans-serif (not the Chinese font's full-width quotes, not a serif)
        fonts = [f for fs in info["platform_fonts"].values() for f in fs]
        assert fonts and not [f for f in fonts if f["isCustomFont"] or "Serif" in f["familyName"]], fonts
    assert len(info["images"]) >= 7 and all(i["ok"] and i["src"].startswith("data:image/png") for i in info["images"])
    assert Path(info["screenshot"]).stat().st_size > 10_000
