"""Results on disk: a Parquet series and a JSON manifest per run, written atomically.

A file is written under a temporary name in the same folder and renamed into
place, so an interrupted write never leaves a half-written file that could be
read as a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

SERIES = "series.parquet"
MANIFEST = "manifest.json"


def atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; results are meant to be shared
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write a text file so that readers see the old or the new file, never half of one."""
    path = Path(path)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    atomic_write(path, write)
    return path


def write_run(out_dir: str | Path, series: pd.DataFrame, manifest: dict) -> Path:
    """Write ``series.parquet`` and ``manifest.json`` into ``out_dir``; returns the folder."""
    out = Path(out_dir)
    atomic_write(out / SERIES, lambda tmp: series.to_parquet(tmp, index=False))

    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")
    return out


def read_run(out_dir: str | Path) -> tuple[pd.DataFrame, dict]:
    out = Path(out_dir)
    series = pd.read_parquet(out / SERIES)
    with open(out / MANIFEST, encoding="utf-8") as fh:
        manifest = json.load(fh)
    return series, manifest
