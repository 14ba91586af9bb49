"""`grassroots explore` in a real browser, timed as a user sees it: start the app, open it in headless Chromium,
run the one-county plan with 5 replicates, then move the committee pay ratio (full rollout) three times and
press Run after each. For each Run it prints when the difference table changed, when the first and the last
figure arrived, and the CPU seconds the server, its worker processes and this script's Chromium used
meanwhile (from /proc), so that one sees who is busy on a 2-core machine.

    python benchmarks/bench_explore_browser.py                  # one county, 5 replicates
    python benchmarks/bench_explore_browser.py --replicates 3 --geography "a dozen counties"

Needs Chromium (/usr/bin/chromium) and playwright, as tests/test_explore_browser.py does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import ARGS, chromium, explore_server  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: int) -> dict[str, float]:
    """CPU seconds (user + system) so far: of the server process, of its descendants (the workers) and of
    this script's Chromium processes (descendants of this process whose command line names chrom...)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, cmd)

    def under(pid: int, root: int) -> bool:
        while pid > 1 and pid in table:
            if pid == root:
                return True
            pid = table[pid][0]
        return False

    out = {"server": 0.0, "workers": 0.0, "chromium": 0.0}
    for pid, (_, seconds, cmd) in table.items():
        if pid == server:
            out["server"] += seconds
        elif under(pid, server):
            out["workers"] += seconds
        elif under(pid, os.getpid()) and "chrom" in cmd:
            out["chromium"] += seconds
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--geography", default=None, help="the geography's label on the page (default: one county)")
    args = parser.parse_args()
    if chromium() is None:
        sys.exit("needs Chromium (/usr/bin/chromium) and playwright")
    from playwright.sync_api import sync_playwright

    log = Path("/tmp/bench_explore_browser.log")
    with explore_server(ROOT, Path("/tmp/bench_explore_designs"), log) as (url, server):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(url)
            page.wait_for_selector(".gr-run", timeout=90_000)
            if args.geography:
                page.locator(".gr-geography").click()
                page.get_by_role("option", name=args.geography).click()
            field = page.locator(".gr-replicates input")
            field.fill(str(args.replicates))
            field.press("Enter")
            time.sleep(8)  # the workers warm up as the page opens
            page.get_by_role("button", name="Pay and security").click()
            for step, value in enumerate((None, 1.0, 1.1, 1.2)):
                if value is not None:
                    lever = page.locator(".lever-committee_pay_ratio-rollout input")
                    for _ in range(5):  # a field typed into while the page redraws can lose the value: again
                        lever.fill(str(value))
                        lever.press("Enter")
                        try:
                            page.wait_for_selector(".gr-stale", timeout=3_000)
                            break
                        except Exception:
                            continue
                    else:
                        page.screenshot(path="/tmp/bench_explore_browser.png")
                        sys.exit("the lever did not take the value (see /tmp/bench_explore_browser.png)")
                old = page.evaluate("() => { const t = document.querySelector('#differences tbody tr td:last-child');"
                                    " return t ? t.innerText : ''; }")
                before, load = cpu_seconds(server.pid), os.getloadavg()[0]
                started = time.monotonic()
                page.click(".gr-run")
                page.wait_for_function("(old) => { const t = document.querySelector("
                                       "'#differences tbody tr td:last-child'); return t && t.innerText !== old; }",
                                       arg=old, timeout=300_000)
                tables = time.monotonic() - started
                page.wait_for_function("() => document.querySelectorAll('.gr-fig img').length >= 1", timeout=300_000)
                first = time.monotonic() - started
                page.wait_for_function("() => document.querySelector('.fig-targets_2027 img') && "
                                       "document.querySelectorAll('.gr-fig-waiting').length === 0",
                                       timeout=300_000)
                drawn = time.monotonic() - started
                after = cpu_seconds(server.pid)
                used = ", ".join(f"{k} {after[k] - before[k]:.1f}" for k in after)
                what = "first comparison" if value is None else f"pay ratio {value}"
                print(f"{what}: tables {tables:.2f} s, first figure {first:.2f} s, all figures {drawn:.2f} s "
                      f"(CPU s: {used}; load {load:.1f})", flush=True)
            browser.close()


if __name__ == "__main__":
    main()
