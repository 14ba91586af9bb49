"""Open report pages in the system's headless Chromium (Playwright driving /usr/bin/chromium; no browser is
downloaded) on a font configuration without Chinese system fonts, and say what a reader would see.

:func:`inspect` returns, per page: console errors, the fonts Chromium actually used for chosen elements
(DevTools ``CSS.getPlatformFontsForNode``), ``document.fonts.check`` of the embedded family on the page's
Chinese text, the widths of the page and of its widest table, and screenshots. ``python tests/browser.py
REPORT.html ...`` does the same from the command line and prints it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("GRASSROOTS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH = 1280  # a 1,200 px page and its margins

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{dejavu}</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""


@contextlib.contextmanager
def explore_server(root: Path, save_to: Path, log: Path, timeout: float = 90.0):
    """`grassroots explore` on a free port of localhost, started from ``root`` (saving designs into
    ``save_to``, its output in ``log``); yields ``(url, process)`` once the page answers, and stops it after.
    A server that does not start is an ``AssertionError`` with its output."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "sim", "explore", "--port", str(port), "--save-to",
                                 str(save_to)], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"grassroots explore did not start:\n{Path(log).read_text()}") from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(60)


def chromium() -> str | None:
    """The system Chromium, or None if it or Playwright is missing."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None
    return CHROMIUM if Path(CHROMIUM).exists() or shutil.which(CHROMIUM) else None


def latin_only_fonts(folder: Path) -> Path:
    """A fontconfig file listing only DejaVu (no Chinese glyphs); its path."""
    dejavu = next((p for p in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu") if Path(p).is_dir()),
                  "/usr/share/fonts/truetype/dejavu")
    (folder / "cache").mkdir(parents=True, exist_ok=True)
    conf = folder / "fonts.conf"
    conf.write_text(FONTS_CONF.format(dejavu=dejavu, cache=folder / "cache"))
    return conf


PROBE = """() => {
  const doc = document.documentElement;
  const tables = [...document.querySelectorAll('table')].map(t => {
    const r = t.getBoundingClientRect();
    return {right: r.right, width: r.width, scroll: t.scrollWidth};
  });
  const text = document.body.innerText;
  const han = [...new Set(text.match(/[\\u3400-\\u9fff\\u3000-\\u303f\\uff00-\\uffef]/g) || [])].join('');
  const faces = [...document.fonts].map(f => ({family: f.family.replace(/['"]/g, ''), status: f.status}));
  return {client: doc.clientWidth, scroll: doc.scrollWidth, tables, han, faces,
          summary: !!document.querySelector('section#summary'),
          images: [...document.images].map(i => ({src: i.src.slice(0, 22), ok: i.complete && i.naturalWidth > 0}))};
}"""


_SERVERS: dict[Path, str] = {}


def _served(path: Path) -> str:
    """The page's URL on a local HTTP server of its folder (a file: URL makes Chromium log an error of its
    own when the page is opened by a driver, which would hide the page's own errors)."""
    import functools
    import http.server
    import threading

    folder = path.parent
    if folder not in _SERVERS:
        handler = functools.partial(_Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _SERVERS[folder] = f"http://127.0.0.1:{server.server_address[1]}"
    return f"{_SERVERS[folder]}/{path.name}"


class _Quiet(__import__("http.server").server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _platform_fonts(cdp, selector: str) -> list[dict]:
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    if not node:
        return []
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


def inspect(pages, shots: Path | None = None, selectors=("h1", "#summary p", "table td")) -> dict[str, dict]:
    """Open each page (a path) in headless Chromium without Chinese system fonts; per page, what it shows."""
    from playwright.sync_api import sync_playwright

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "FONTCONFIG_FILE": str(latin_only_fonts(Path(tmp))), "HOME": tmp}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium() or CHROMIUM, args=ARGS, env=env,
                                         headless=True)
            try:
                for path in map(Path, pages):
                    page = browser.new_page(viewport={"width": WIDTH, "height": 1600})
                    errors = []
                    page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                    page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                    page.goto(_served(path.resolve()), wait_until="load")
                    page.evaluate("document.fonts.ready.then(() => true)")
                    info = page.evaluate(PROBE)
                    family = page.evaluate("() => getComputedStyle(document.body).fontFamily.split(',')[0]"
                                           ".replace(/['\"]/g, '').trim()")
                    info["family"] = family
                    info["fonts_check"] = page.evaluate(
                        "([f, t]) => document.fonts.check(`16px \"${f}\"`, t)", [family, info["han"] or "A"])
                    cdp = page.context.new_cdp_session(page)
                    cdp.send("DOM.enable")
                    cdp.send("CSS.enable")
                    info["platform_fonts"] = {s: _platform_fonts(cdp, s) for s in selectors}
                    info["errors"] = list(errors)  # before the screenshots and the print, which are ours
                    if shots is not None:
                        shots.mkdir(parents=True, exist_ok=True)
                        first = shots / f"{path.parent.name}_first_page.png"
                        page.screenshot(path=str(first))
                        page.screenshot(path=str(shots / f"{path.parent.name}_full.png"), full_page=True)
                        page.emulate_media(media="print")
                        page.pdf(path=str(shots / f"{path.parent.name}_print.pdf"), format="A4")
                        # an A4 page's printable width (210 mm less 2 x 12 mm margins, at 96 px per inch)
                        page.set_viewport_size({"width": 703, "height": 1000})
                        info["print"] = page.evaluate(PROBE)
                        page.screenshot(path=str(shots / f"{path.parent.name}_print_width.png"), full_page=True)
                        page.emulate_media(media="screen")
                        info["screenshot"] = str(first)
                    out[str(path)] = info
                    page.close()
            finally:
                browser.close()
    return out


def main(argv: list[str]) -> int:
    """``python tests/browser.py [--first-page OUT.png] REPORT.html ...``: inspect the pages, save screenshots
    under results/report_browser/ and, with --first-page, the first page's top (1280 x 960) as OUT.png."""
    first = None
    if argv[:1] == ["--first-page"]:
        first, argv = Path(argv[1]), argv[2:]
    if chromium() is None:
        print(f"no Chromium at {CHROMIUM} or no playwright: nothing drawn", file=sys.stderr)
        return 1
    result = inspect(argv, Path("results/report_browser"))
    for name, info in result.items():
        info.pop("han", None)
        print(name, json.dumps({k: info[k] for k in ("errors", "family", "fonts_check", "client", "scroll")},
                               ensure_ascii=False))
    if first is not None:
        from PIL import Image

        shot = Image.open(next(iter(result.values()))["screenshot"])
        shot.crop((0, 0, shot.width, min(shot.height, 960))).save(first, optimize=True)
        print(f"wrote {first}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
