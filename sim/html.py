"""The HTML page of a report: one self-contained file (styles, font and figures inside it).

:func:`page` assembles a document from :class:`Block` pieces (headings, paragraphs, tables, figures) and
writes the CSS once: a 1,200 px screen page, a print stylesheet for A4, and an ``@font-face`` whose ``src`` is
a ``data:`` URL holding a subset of the packaged Noto Sans SC (SIL Open Font License; only the characters
the page uses, :func:`font_face`). Chinese text therefore renders in that font on a machine without any
Chinese system font, and the file can be mailed as it is.

Tables (:func:`table`) keep each number and each interval on one line (``white-space: nowrap`` on
numeric cells), right-aligned in tabular figures; text columns wrap.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re
from pathlib import Path

import pandas as pd

FONT_FAMILY = "Grassroots Noto Sans SC"

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: %(families)s; max-width: 1200px;
       margin: 0 auto; padding: 16px 32px 48px; color: #1d1d1d; background: #fff; line-height: 1.55;
       font-size: 15px; }
h1 { font-size: 26px; margin: 0.6em 0 0.2em; }
h2 { font-size: 20px; margin: 1.6em 0 0.4em; border-bottom: 1px solid #ddd; padding-bottom: 0.15em; }
h3 { font-size: 16px; margin: 1.2em 0 0.3em; }
p, li { max-width: 60em; }
.provenance { font-size: 12px; color: #666; }
#summary { background: #f6f8fa; border: 1px solid #dde3ea; border-radius: 4px; padding: 4px 20px 10px; }
#summary h2 { border: 0; margin-top: 0.6em; }
nav ol { columns: 2; font-size: 14px; margin-top: 0; }
nav h2.toc { font-size: 16px; border: 0; margin: 1.2em 0 0.3em; }
table { border-collapse: collapse; font-size: 13px; margin: 0.4em 0 1.4em; max-width: 100%%; }
caption { caption-side: top; text-align: left; font-size: 13px; color: #444; padding: 0 0 4px; }
th, td { border: 1px solid #c8c8c8; padding: 3px 8px; vertical-align: top; text-align: left; }
th { background: #f0f0f0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num span { white-space: nowrap; }
td.short, th.short { white-space: nowrap; }
td .iv { color: #555; }
figure { margin: 1em 0 2em; }
figure img { display: block; max-width: 100%%; height: auto; }
figcaption { font-size: 13px; color: #333; margin-top: 4px; max-width: 60em; }
.note { font-size: 13px; color: #444; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h1 { font-size: 18pt; } h2 { font-size: 13pt; break-after: avoid; } h3 { break-after: avoid; }
  nav { display: none; }
  table { font-size: 8pt; break-inside: auto; } tr, figure { break-inside: avoid; }
  thead { display: table-header-group; }
  #summary { background: none; }
  a { color: inherit; text-decoration: none; }
}
"""

_NUMERIC = re.compile(r"^[\s+\-−≤≥<>=]*\d[\d.,]*(%| pp|个百分点)?( \[.*\]| \(.*\))?$|^—$")


class Block:
    """A piece of a page: its HTML and the text it shows (for the font subset)."""

    def __init__(self, markup: str, text: str = ""):
        self.markup, self.text = markup, text


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def heading(text: str, level: int = 2, anchor: str | None = None) -> Block:
    ident = f" id='{esc(anchor)}'" if anchor else ""
    return Block(f"<h{level}{ident}>{esc(text)}</h{level}>", text)


def paragraph(text: str, cls: str | None = None) -> Block:
    return Block(f"<p{f' class={cls!r}' if cls else ''}>{esc(text)}</p>", text)


def bullets(items) -> Block:
    items = list(items)
    return Block("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>", " ".join(items))


def raw(markup: str, text: str = "") -> Block:
    return Block(markup, text)


def _cell(value, tag: str, short: set, column) -> str:
    text = "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    cls = "num" if _NUMERIC.match(text) else "short" if column in short else ""
    attr = f" class='{cls}'" if cls else ""
    # "53.7% [51.1%, 55.9%]": the value and its interval each stay whole; a narrow page (print) may break the
    # line between them, never inside a number
    m = re.fullmatch(r"(.+?) (\[.*\]|\(.*\))", text) if cls == "num" else None
    if m:
        body = f"<span>{esc(m.group(1))}</span> <span class='iv'>{esc(m.group(2))}</span>"
    else:
        body = f"<span>{esc(text)}</span>" if cls == "num" else esc(text)
    return f"<{tag}{attr}>{body}</{tag}>"


def table(frame: pd.DataFrame, caption: str | None = None, short=(), ident: str | None = None) -> Block:
    """A table of ready-formatted cells (strings): numbers and intervals right-aligned and never broken;
    ``short`` names text columns kept on one line (e.g. a one-word dimension)."""
    short = set(short)
    head = "".join(f"<th{' class=short' if c in short else ''}>{esc(c)}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(_cell(v, "td", short, c) for c, v in zip(frame.columns, row)) + "</tr>"
                   for row in frame.itertuples(index=False))
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    ident = f" id='{esc(ident)}'" if ident else ""
    text = " ".join([caption or "", *map(str, frame.columns), *(str(v) for v in frame.to_numpy().ravel())])
    return Block(f"<table{ident}>{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>", text)


def figure(png: bytes, caption: str, anchor: str | None = None, title: str | None = None) -> Block:
    """A figure embedded as a PNG ``data:`` URL, with its caption."""
    data = base64.b64encode(png).decode()
    ident = f" id='{esc(anchor)}'" if anchor else ""
    head = f"<h3>{esc(title)}</h3>" if title else ""
    return Block(f"<figure{ident}>{head}<img alt='{esc(title or caption)}' src='data:image/png;base64,{data}'>"
                 f"<figcaption>{esc(caption)}</figcaption></figure>", f"{title or ''} {caption}")


def contents(entries, title: str) -> Block:
    """A table of contents: (anchor, title) pairs."""
    entries = list(entries)
    items = "".join(f"<li><a href='#{esc(a)}'>{esc(t)}</a></li>" for a, t in entries)
    return Block(f"<nav aria-label='{esc(title)}'><h2 class='toc'>{esc(title)}</h2><ol>{items}</ol></nav>",
                 title + " " + " ".join(t for _, t in entries))


@functools.cache
def _font(path: str) -> bytes:
    return Path(path).read_bytes()


def font_face(text: str, font_path: str | Path | None = None) -> str:
    """An ``@font-face`` rule for :data:`FONT_FAMILY` whose source is a WOFF ``data:`` URL of the packaged
    Noto Sans SC reduced to the characters of ``text`` (plus ASCII), or "" if no such font is installed."""
    from fontTools import subset

    if font_path is None:
        from .figures.fonts import _bundled

        font_path = _bundled()
        if font_path is None:
            return ""
    chars = set(text) | {chr(c) for c in range(0x20, 0x7F)}
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # keep the licence and the names
    options.notdef_outline = True
    font = subset.load_font(io.BytesIO(_font(str(font_path))), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode()
    return (f"@font-face {{ font-family: '{FONT_FAMILY}'; font-style: normal; font-weight: 400 700; "
            f"font-display: block; src: url(data:font/woff;base64,{data}) format('woff'); }}")


# An English page is set in the reader's sans-serif (Latin quotes and symbols in a Chinese font are
# full-width); the embedded font then only supplies the Chinese characters it may hold (a design's label).
LATIN = "'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif"


def families(lang: str) -> str:
    """The page's font-family list: the embedded Chinese font first on a Chinese page, last on others."""
    return f"'{FONT_FAMILY}', sans-serif" if lang == "zh" else f"{LATIN.removesuffix(', sans-serif')}, " \
        f"'{FONT_FAMILY}', sans-serif"


def page(title: str, blocks, lang: str = "en") -> str:
    """The whole document: ``blocks`` (each a :class:`Block`) in a page with the styles and the font (on a
    page not in Chinese, only for the Chinese characters it holds, if any)."""
    blocks = list(blocks)
    body = "\n".join(b.markup for b in blocks)
    text = title + "".join(b.text for b in blocks)
    if lang != "zh":
        text = "".join(c for c in text if ord(c) >= 0x2E80)
    face = font_face(text) if text else ""
    return (f"<!DOCTYPE html>\n<html lang='{'zh-CN' if lang == 'zh' else 'en'}'>\n<head>\n<meta charset='utf-8'>\n"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>\n<link rel='icon' href='data:,'>\n<title>{esc(title)}</title>\n"
            f"<style>\n{face}\n{CSS % {'families': families(lang)}}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
