"""A font with Chinese glyphs for figures in Chinese (``grassroots report --lang zh``).

Search order:

1. ``GRASSROOTS_CJK_FONT``: a path to a .otf/.ttf/.ttc file (an error if it does not exist or lacks
   Chinese glyphs, so a typo is not silently replaced by another font);
2. Noto Sans SC (SIL Open Font License), installed with the project as the ``pylopdf-fonts-zh-cn``
   dependency in ``pyproject.toml``, so a fresh install needs no system font and no download at run time;
3. a system font matplotlib knows whose family is a common Chinese sans-serif.

Every candidate is checked for the glyphs of a Chinese sample before it is used. If none qualifies,
:class:`CJKFontNotFound` says what to install or set.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

ENV = "GRASSROOTS_CJK_FONT"
# Characters every Chinese figure uses (titles, phases, axes); a font lacking any of them is refused.
SAMPLE = "基层干部流失率服务群众时间占比参与决策试点全面推进巩固提升目标年份"
SYSTEM_FAMILIES = ("Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN",
                   "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
                   "Heiti SC", "Noto Sans CJK JP", "Noto Sans CJK TC")


class CJKFontNotFound(RuntimeError):
    """No font with Chinese glyphs could be found."""


def covers(path: str | os.PathLike, sample: str = SAMPLE) -> bool:
    """Does the font file at ``path`` have a glyph for every character of ``sample``?"""
    try:
        charmap = FT2Font(os.fspath(path)).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(c) in charmap for c in sample)


def _bundled() -> Path | None:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    return path if path.is_file() else None


def _system() -> Path | None:
    by_name = {}
    for entry in font_manager.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    for family in SYSTEM_FAMILIES:
        if family in by_name and covers(by_name[family]):
            return Path(by_name[family])
    return None


def find_cjk_font() -> Path:
    """The file of the font to use for Chinese text; raises :class:`CJKFontNotFound`."""
    chosen = os.environ.get(ENV)
    if chosen:
        if not Path(chosen).is_file():
            raise CJKFontNotFound(f"{ENV}={chosen}: no such font file")
        if not covers(chosen):
            raise CJKFontNotFound(f"{ENV}={chosen}: this font lacks Chinese glyphs (checked: {SAMPLE})")
        return Path(chosen)
    for candidate in (_bundled(), _system()):
        if candidate is not None and covers(candidate):
            return candidate
    raise CJKFontNotFound(
        "--lang zh needs a font with Chinese glyphs and none was found. The project installs one "
        "(Noto Sans SC, from the pylopdf-fonts-zh-cn dependency): reinstall with `pip install -e .` "
        f"(or `make install`), or set {ENV}=/path/to/a/font.otf|.ttf|.ttc with Chinese glyphs.")


@functools.cache
def _register(path: str) -> str:
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def cjk_family() -> str:
    """Register the Chinese font with matplotlib and return its family name."""
    return _register(os.fspath(find_cjk_font()))


def rc_for(lang: str) -> dict:
    """matplotlib rcParams that render ``lang``: Chinese text in the CJK font, Latin and symbols falling
    back to DejaVu Sans, and an ASCII minus sign (present in every font)."""
    if lang == "en":
        return {}
    if lang != "zh":
        raise ValueError(f"unknown language {lang!r}; choose en or zh")
    return {"font.family": "sans-serif", "font.sans-serif": [cjk_family(), "DejaVu Sans"],
            "axes.unicode_minus": False}
