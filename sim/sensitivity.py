"""Which uncertain parameters drive a forecast: a variance decomposition over the posterior ensemble.

The posterior's draws are not independent (the evidence ties some parameters together: a higher quit
intercept with a lower pay response, say), so a Sobol' design, which needs independent inputs, cannot be laid
over them. Instead each forecast is run once per draw and its variance is split on the ensemble as it is, with
the given-data estimator of first-order indices (Plischke 2010, the one SALib's ``delta`` method uses for its
S1; written out here because SALib's ``delta`` also computes a kernel-density index per input and resample,
minutes for 126 inputs), which works on any sample: for each parameter ``S1`` is the first-order share of the
forecast's variance that the parameter explains (its main effect, including what it carries of the parameters
it is correlated with). Bootstrap intervals say how far each index can be trusted with this many draws; an
index below the estimator's small-sample floor (``S1_floor``: the same index for a column of pure noise)
explains nothing that can be told apart from zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .priors import PRIORS


def draw_outcomes(series: pd.DataFrame, scenario: str, metrics, year: int = 2027,
                  reference: str | None = None) -> pd.DataFrame:
    """Each draw's mean ``year`` value of each metric (region and group "all"), over its replicates; with
    ``reference``, the paired difference ``scenario - reference``. ``series`` is a run's tidy series with a
    ``draw`` column (``run_scenarios(..., draws=...)``)."""
    from .summary import annual

    a = annual(series)
    a = a[(a.year == year) & a.metric.isin(list(metrics))]
    draw_of = series[["replicate", "draw"]].drop_duplicates().set_index("replicate")["draw"]
    a = a.assign(draw=a["replicate"].map(draw_of))

    def table(name):
        part = a[a.scenario == name]
        return part.groupby(["draw", "metric"], observed=True)["value"].mean().unstack("metric")

    out = table(scenario)
    if reference is not None:
        out = out - table(reference)
    return out[list(metrics)]


def first_order(x: np.ndarray, y: np.ndarray, classes: int) -> np.ndarray:
    """The given-data estimator of first-order indices (Plischke 2010; the one ``SALib.analyze.delta`` uses for
    its S1): sort the draws by each input, cut them into ``classes`` groups of equal size, and take the
    variance of the groups' means of ``y`` over the variance of ``y``. ``x`` is draws x inputs."""
    n, d = x.shape
    ranks = np.argsort(np.argsort(x, axis=0, kind="stable"), axis=0, kind="stable")
    group = (ranks * classes) // n + classes * np.arange(d)  # each draw's group, for every input at once
    sums = np.bincount(group.ravel(), weights=np.repeat(y[:, None], d, axis=1).ravel(), minlength=d * classes)
    counts = np.bincount(group.ravel(), minlength=d * classes)
    means = (sums / counts).reshape(d, classes)
    return (counts.reshape(d, classes) * (means - y.mean()) ** 2).sum(axis=1) / n / np.var(y)


def posterior_sensitivity(ensemble: pd.DataFrame, outcomes: pd.DataFrame, resamples: int = 200,
                          seed: int = 1, classes: int | None = None) -> pd.DataFrame:
    """S1 (with a 95% bootstrap half-width) of every uncertain column of ``ensemble`` (draws x parameters) for
    every column of ``outcomes`` (draws x forecasts, same index), plus ``S1_floor``: the index of a column of
    pure noise (the 95th percentile over the bootstrap), below which an index says nothing."""
    draws = outcomes.index.intersection(ensemble.index)
    columns = [c for c in ensemble.columns if c in PRIORS and not PRIORS[c].fixed
               and ensemble.loc[draws, c].nunique() > 1]
    n = len(draws)
    classes = classes or max(4, int(round(n ** 0.5 / 2)))  # 8 groups of 32 with 256 draws
    rng = np.random.default_rng(seed)
    x = np.column_stack([ensemble.loc[draws, columns].to_numpy(dtype=float), rng.standard_normal(n)])
    rows = []
    for name in outcomes.columns:
        y = outcomes.loc[draws, name].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.std(y) == 0:
            continue
        s1 = first_order(x, y, classes)
        boot = np.empty((resamples, x.shape[1]))
        for b in range(resamples):
            pick = rng.integers(0, n, n)
            boot[b] = first_order(x[pick], y[pick], classes)
        half = 1.96 * boot.std(axis=0)
        floor = float(np.quantile(boot[:, -1], 0.95))
        for j, path in enumerate(columns):
            rows.append({"forecast": name, "path": path, "kind": PRIORS[path].kind, "S1": float(s1[j]),
                         "S1_conf": float(half[j]), "S1_floor": floor, "sd": float(np.std(y)), "draws": n,
                         "classes": classes})
    return pd.DataFrame(rows)


def sensitivity_markdown(table: pd.DataFrame, top: int = 6, labels: dict | None = None) -> str:
    """The largest first-order shares of each forecast, as a Markdown table."""
    labels = labels or {}
    lines = ["| forecast (sd over draws) | parameter | kind | S1 (95%) |", "|---|---|---|---|"]
    for name, part in table.groupby("forecast", sort=False):
        part = part.sort_values("S1", ascending=False).head(top)
        first = True
        for r in part.itertuples():
            head = f"{labels.get(name, name)} ({_sd(name, r.sd)})" if first else ""
            above = r.S1 - r.S1_conf > r.S1_floor
            lines.append(f"| {head} | `{r.path}` | {r.kind} | {'**' if above else ''}{r.S1:.2f} ± {r.S1_conf:.2f}"
                         f"{'**' if above else ''} |")
            first = False
        floor = part["S1_floor"].iloc[0]
        lines.append(f"| | *(a column of noise: 95th percentile)* | | {floor:.2f} |")
    return "\n".join(lines) + "\n"


def _sd(name: str, sd: float) -> str:
    return f"{sd:.2f}" if "satisfaction" in name or "days" in name else f"{100 * sd:.1f} pp"
