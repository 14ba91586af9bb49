"""`grassroots explore` in a real browser: the app is started on a free port and driven with the system's headless
Chromium (Playwright): load the page, run the county plan, raise the committee pay ratio, run again, and check
that the difference panel and the target table moved the way a higher pay ratio moves them (turnover lower);
type an out-of-range value (a message, not a traceback), save the design and validate it, switch to Chinese,
open a folder that holds no results (a message), and check the console has no errors. Screenshots go to
results/explore/ for a person to look at.

Skipped where Chromium or Playwright is missing, unless GRASSROOTS_REQUIRE_BROWSER=1 (set by .ci/run)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from browser import ARGS, chromium, explore_server
from helpers import ROOT
from sim.text import metric_name, word

pytestmark = pytest.mark.slow

if chromium() is None:
    if os.environ.get("GRASSROOTS_REQUIRE_BROWSER") == "1":
        raise RuntimeError("GRASSROOTS_REQUIRE_BROWSER=1 but no Chromium (/usr/bin/chromium) or no playwright")
    pytest.skip("no system Chromium (apt-get install chromium) or no playwright (pip install playwright)",
                allow_module_level=True)
pytest.importorskip("solara")

SHOTS = ROOT / "results" / "explore"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`grassroots explore` on a free port; its URL, the folder it saves designs into and its log."""
    saves, log = tmp_path_factory.mktemp("designs"), tmp_path_factory.mktemp("log") / "explore.log"
    with explore_server(ROOT, saves, log) as (url, _):
        yield url, saves, log


def first_number(text: str) -> float:
    return float(re.search(r"[-+]?\d+(?:\.\d+)?", text).group())


def turnover_cells(page) -> tuple[float, float, float]:
    """From the page: the turnover difference (pp), the design's chance of meeting the turnover target (%),
    and its mean 2027 turnover (%)."""
    diff = page.locator("#differences tbody tr").first.locator("td").last.inner_text()
    target = page.locator("#targets tbody tr").first.locator("td").last.inner_text()
    chance, mean = re.fullmatch(r"\s*(\d+)% \[([\d.]+)%\]\s*", target).groups()
    return first_number(diff), float(chance), float(mean)


def shoot(page, name: str) -> None:
    """The whole page (the app scrolls inside its own layout, so a tall window rather than a full-page shot)."""
    page.set_viewport_size({"width": 1440, "height": 3400})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / name), timeout=120_000)
    page.set_viewport_size({"width": 1440, "height": 1100})


def test_explore_in_the_browser(server):
    from playwright.sync_api import sync_playwright

    url, saves, log = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_selector(".gr-run", timeout=90_000)

            # the county plan as it is, then with a higher committee pay ratio from the rollout; 3 replicates
            # keep the test short (benchmarks/bench_explore.py times the page's 5)
            replicates = page.locator(".gr-replicates input")
            replicates.fill("3")
            replicates.press("Enter")
            page.click(".gr-run")
            page.wait_for_selector("#differences", timeout=120_000)
            page.wait_for_selector(".fig-headline img", timeout=120_000)
            page.wait_for_selector(".gr-timing", timeout=120_000)  # every figure drawn: the page is quiet
            before = turnover_cells(page)
            page.get_by_role("button", name="Pay and security").click()
            field = page.locator(".lever-committee_pay_ratio-rollout input")
            field.wait_for(timeout=60_000)
            for _ in range(5):  # as a person would: type the value, look that it is there, press Enter
                field.fill("1.3")
                if field.input_value() == "1.3":
                    break
                page.wait_for_timeout(300)
            field.press("Enter")
            page.wait_for_selector(".gr-changed", timeout=60_000)
            assert "1 lever value" in page.locator(".gr-changed").inner_text()
            page.wait_for_selector(".gr-stale", timeout=60_000)  # the result shown is not of this design
            timing = page.locator(".gr-timing").inner_text()
            started = time.monotonic()
            page.click(".gr-run")
            page.wait_for_function("(old) => { const t = document.querySelector('#differences tbody tr td:last-child');"
                                   " return t && t.innerText !== old; }",
                                   arg=page.locator("#differences tbody tr").first.locator("td").last.inner_text(),
                                   timeout=120_000)
            tables = time.monotonic() - started
            page.wait_for_function("(old) => { const t = document.querySelector('.gr-timing');"
                                   " return t && t.innerText !== old && document.querySelector('.fig-targets_2027 img'); }",
                                   arg=timing, timeout=120_000)  # the timing line comes once every figure is drawn
            drawn = time.monotonic() - started
            after = turnover_cells(page)
            assert "3 replicates" in page.locator(".gr-timing").inner_text()
            print(f"redraw after a lever change: tables {tables:.1f} s, figures {drawn:.1f} s "
                  f"({page.locator('.gr-timing').inner_text()})")
            assert after[0] < before[0] < 0  # turnover falls further below the baseline
            assert after[2] < before[2] and after[1] >= before[1]  # lower mean turnover, no lower chance
            assert page.locator(".gr-stale").count() == 0
            shoot(page, "explore_en.png")

            # an out-of-range value typed into a field: a message, and the design keeps its value
            field = page.locator(".lever-committee_pay_ratio-rollout input")
            field.fill("5")
            field.press("Enter")
            page.wait_for_selector(".gr-error", timeout=60_000)
            message = page.locator(".gr-error").inner_text()
            assert message.startswith("error: Committee pay (ratio to county seat) (full rollout): "
                                      "levers.committee_pay_ratio.values.rollout: must be within [0.2, 2]"), message
            assert "(got 5)" in message and "Traceback" not in message
            page.screenshot(path=str(SHOTS / "explore_error.png"), timeout=120_000)
            assert page.locator(".lever-committee_pay_ratio-rollout input").input_value() == "1.3"

            # save the design, then `grassroots validate` it
            page.click(".gr-save")
            page.wait_for_selector(".gr-saved", timeout=30_000)
            assert "ok (scenario 'explored'" in page.locator(".gr-saved").inner_text()
            saved = saves / "explored.yaml"
            checked = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved), str(saves / "explored_baseline.yaml")],
                                     cwd=ROOT, capture_output=True, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert checked.returncode == 0, checked.stderr
            assert "committee_pay_ratio:\n    values:\n      baseline: 0.7\n      rollout: 1.3" in saved.read_text()

            # Chinese: the report's words, the figures drawn again in Chinese
            page.get_by_role("button", name="中文").click()
            page.get_by_text(word("x_levers", "zh")).wait_for(timeout=60_000)
            page.get_by_text(word("x_differences", "zh")).wait_for(timeout=30_000)
            page.wait_for_function("() => document.querySelectorAll('.gr-fig img').length >= 5", timeout=120_000)
            assert metric_name("turnover_rate", "zh") in page.locator("#differences").inner_text()
            page.wait_for_timeout(500)
            shoot(page, "explore_zh.png")

            # a folder that holds no results: a message on the page
            page.get_by_role("button", name=word("x_mode_open", "zh")).click()
            page.locator(".gr-folder input").fill(str(saves))
            page.locator(".gr-folder input").press("Enter")
            page.click(".gr-open")
            page.get_by_text("no stored results to report on").wait_for(timeout=30_000)
            assert page.locator(".gr-error").count() == 1
            assert errors == []
        except Exception:
            page.screenshot(path=str(SHOTS / "explore_failure.png"), timeout=120_000)  # what the page showed
            raise
        finally:
            browser.close()
    assert "Traceback" not in log.read_text()
