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


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_run(out_dir: str | Path, series: pd.DataFrame, manifest: dict) -> Path:
    """Write ``series.parquet`` and ``manifest.json`` into ``out_dir``; returns the folder."""
    out = Path(out_dir)
    _atomic_write(out / SERIES, lambda tmp: series.to_parquet(tmp, index=False))

    def write_manifest(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")

    _atomic_write(out / MANIFEST, write_manifest)
    return out


def read_run(out_dir: str | Path) -> tuple[pd.DataFrame, dict]:
    out = Path(out_dir)
    series = pd.read_parquet(out / SERIES)
    with open(out / MANIFEST, encoding="utf-8") as fh:
        manifest = json.load(fh)
    return series, manifest
