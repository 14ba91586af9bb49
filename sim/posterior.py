"""The posterior ensemble: parameter sets fitted to the 2023 baseline, the parameter uncertainty of a forecast.

The ensemble is stored as ``sim/data/posterior.parquet``: one row per parameter set (index ``draw``, 0..N-1,
already in random order, so its first n rows are a random subset of it), one float column per config key path
of ``sim.priors.PRIORS`` (e.g. ``parameters.cadres.quit_pay``, ``implementation.fidelity.pay.west``). Beside
it, ``posterior.json`` says how it was made (method, date, number of draws, effective sample size...).
``grassroots calibrate --posterior`` writes both (docs/calibration.md).

    from sim.posterior import ensemble_draws
    draws = ensemble_draws(16)          # the first 16 parameter sets, checked
    run_scenarios(loaded, 4, draws=draws)   # 16 draws x 4 replicates per design, paired across designs

A frame returned here carries what a manifest records about it in ``frame.attrs["posterior"]``
(:func:`ensemble_record`): the file, its SHA-256, its provenance and how many draws it holds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
ENSEMBLE = DATA / "posterior.parquet"


def _provenance(path: Path) -> dict | None:
    """The ensemble's ``posterior.json`` beside it (same stem), or None if there is none."""
    meta = path.with_suffix(".json")
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{meta}: unreadable provenance of the posterior ensemble ({exc})") from None


def load_ensemble(path: str | Path | None = None) -> pd.DataFrame:
    """The posterior ensemble at ``path`` (default: the package's ``sim/data/posterior.parquet``), checked.

    Every column must be a config key path with a prior (``sim.priors.PRIORS``) and every value a finite
    number inside that prior's support; a missing file, an unreadable one or a bad column is a
    ``ValueError`` in one line naming the file (and the column). The frame's ``attrs["posterior"]`` is
    :func:`ensemble_record` of it."""
    from .priors import PRIORS

    path = Path(path) if path is not None else ENSEMBLE
    if not path.is_file():
        raise ValueError(f"no posterior ensemble at {path}: run `grassroots calibrate --posterior` "
                         "(docs/calibration.md)")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise ValueError(f"{path}: not a readable posterior ensemble ({str(exc).splitlines()[0]})") from None
    if frame.empty or not len(frame.columns):
        raise ValueError(f"{path}: the posterior ensemble holds no parameter sets")
    for column in frame.columns:
        if column not in PRIORS:
            raise ValueError(f"{path}: column {column!r} is not a parameter with a prior (sim.priors.PRIORS); "
                             "a posterior ensemble holds parameters only, never levers")
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            raise ValueError(f"{path}: column {column!r} is not numeric ({frame[column].dtype})")
        values = frame[column].astype(float)
        lo, hi = PRIORS[column].prior.support
        bad = values[~values.map(math.isfinite) | (values < lo) | (values > hi)]
        if len(bad):
            raise ValueError(f"{path}: column {column!r} has {len(bad)} value(s) outside its prior's support "
                             f"[{lo:g}, {hi:g}] (draw {bad.index[0]}: {bad.iloc[0]!r})")
    frame.index = pd.RangeIndex(len(frame), name="draw")
    frame.attrs["posterior"] = ensemble_record(path, len(frame))
    return frame


def ensemble_record(path: Path, available: int) -> dict:
    """What a manifest records about an ensemble file: its path, SHA-256, number of draws and provenance."""
    from .store import sha256_of

    return {"file": str(path), "sha256": sha256_of(path), "draws_available": int(available),
            "provenance": _provenance(path)}


def ensemble_draws(n: int, path: str | Path | None = None) -> pd.DataFrame:
    """The first ``n`` parameter sets of the ensemble (a random subset: the file is in random order),
    numbered 0..n-1; ``n`` more than it holds is a ``ValueError`` saying how many it has."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of draws must be a whole number of at least 1 (got {n!r})")
    frame = load_ensemble(path)
    if n > len(frame):
        raise ValueError(f"--draws {n}: the posterior ensemble {frame.attrs['posterior']['file']} holds "
                         f"{len(frame)} parameter sets; ask for at most {len(frame)}")
    out = frame.iloc[:n].copy()
    out.attrs["posterior"] = frame.attrs["posterior"]
    return out
