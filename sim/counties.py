"""Results by named county: the per-county table ``grassroots run`` writes beside ``series.parquet``.

``county_frame`` turns one replicate's monthly county tallies into one row per county, year and metric:
the county's own value each month (its numerator over its denominator, read as the series reads a cell:
``sim.model.metrics.cell_values``), averaged over the year's months as ``sim.summary.annual`` averages a
cell. A county that is the only one of its cell therefore has the series' annual value of that cell.
Counties are named as their county table names them, or ``county-001``, ``county-002``, ... in a
synthesised geography (numbered in the model's county order).

``county_summary`` averages the replicates; ``format_counties`` prints it (``grassroots run --by county``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTIES = "counties.parquet"
COLUMNS = ("scenario", "replicate", "county", "region", "type", "pilot", "year", "metric", "value")


def county_names(scenario) -> list[str]:
    """The counties' names, in the model's order: the table's, or ``county-001`` ... when synthesised."""
    table = scenario.geography.table
    if table is not None:
        return [row.name for row in table.counties]
    n = scenario.geography.counties
    width = max(3, len(str(n)))
    return [f"county-{i + 1:0{width}d}" for i in range(n)]


def county_frame(scenario, replicate: int, calendar, num: np.ndarray, den: np.ndarray, places,
                 pilot: np.ndarray) -> pd.DataFrame:
    """One replicate's annual value of every metric in every county (``num``/``den``: months x metrics x
    counties, the months the calendar records)."""
    import scipy.sparse as sparse

    from .config.schema import REGIONS
    from .model.metrics import METRIC_NAMES, cell_values

    n = num.shape[2]
    own = sparse.eye_array(n, format="csr")  # each county its own cell, without an n x n matrix
    monthly = np.stack([cell_values(a, b, own) for a, b in zip(num, den)]) if len(num) else \
        np.empty((0, len(METRIC_NAMES), n))
    years_of_rows = np.array([m // 12 for m in calendar.recorded_months])[:len(num)]
    years = np.unique(years_of_rows)
    with np.errstate(invalid="ignore"), _quiet():
        annual = np.stack([np.nanmean(monthly[years_of_rows == y], axis=0) for y in years]) if len(years) else \
            np.empty((0, len(METRIC_NAMES), n))
    y, k, c = np.meshgrid(np.arange(len(years)), np.arange(len(METRIC_NAMES)), np.arange(n), indexing="ij")
    names = np.array(county_names(scenario), dtype=object)
    frame = pd.DataFrame({
        "scenario": scenario.name,
        "replicate": np.int32(replicate),
        "county": names[c.ravel()],
        "region": np.array(REGIONS)[places.county_region][c.ravel()],
        "type": np.where(places.county_urban, "urban", "rural")[c.ravel()],
        "pilot": np.asarray(pilot, dtype=bool)[c.ravel()],
        "year": years[y.ravel()].astype(np.int16),
        "metric": np.array(METRIC_NAMES)[k.ravel()],
        "value": annual.ravel(),
    })
    return categorical(frame)


def categorical(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("scenario", "county", "region", "type", "metric"):
        frame[col] = frame[col].astype("category")
    return frame


class _quiet:
    """No 'Mean of empty slice' warning for a county-year with nothing to count (its value is NaN)."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


def county_summary(counties: pd.DataFrame, metrics, years) -> pd.DataFrame:
    """Mean over replicates of each county's annual ``metrics`` in ``years``: one row per scenario and county
    (in the model's order) with its region, type, the share of replicates it pilots in (``pilot``: 1 for a
    table's pilot, which pilots in every replicate) and one column ``metric year`` per metric and year."""
    sel = counties[counties["metric"].isin(metrics) & counties["year"].isin(years)]
    keys = ["scenario", "county", "region", "type"]
    values = sel.groupby([*keys, "metric", "year"], observed=True)["value"].mean().reset_index()
    values["column"] = values["metric"].astype(str) + " " + values["year"].astype(str)
    table = values.pivot_table(index=keys, columns="column", values="value", aggfunc="first", observed=True)
    pilot = sel.drop_duplicates(["scenario", "county", "replicate"]).groupby(keys, observed=True)["pilot"].mean()
    table = table.join(pilot).reset_index()
    order = {name: i for i, name in enumerate(dict.fromkeys(counties["county"].astype(str)))}
    table = table.assign(_order=table["county"].astype(str).map(order))
    return table.sort_values(["scenario", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)


SHORT = {"turnover_rate": "turnover", "service_time_share": "service time", "participation_rate": "participation"}


def format_counties(counties: pd.DataFrame, metrics, years, width: int = 100) -> str:
    """The headline ``metrics`` of each county, mean over replicates, in the first and last of ``years``
    that the run holds ('first -> last'), as a text table of at most ``width`` columns."""
    held = sorted(set(counties["year"]) & set(years))
    if not held:
        return "no county results in the years asked"
    first, last = held[0], held[-1]
    table = county_summary(counties, metrics, [first, last])
    n = int(counties["replicate"].nunique())
    lines = [f"Headline outcomes by county: mean over {n} replicate{'s' if n != 1 else ''}, {first} -> {last}",
             f"(every metric and year, replicate by replicate: {COUNTIES})"]
    name_width = min(24, max(6, *(len(str(c)) for c in table["county"])))
    header = (f"{'county':<{name_width}} {'region':<7} {'type':<5} {'pilot':<5} "
              + " ".join(f"{SHORT.get(m, m)[:15]:>15}" for m in metrics))
    for scenario, rows in table.groupby("scenario", observed=True, sort=False):
        lines += ["", str(scenario), header]
        for r in rows.to_dict("records"):
            name = str(r["county"])
            name = name if len(name) <= name_width else name[:name_width - 1] + "~"
            share = r["pilot"]
            pilot = "yes" if share == 1 else "" if share == 0 else f"{100 * share:.0f}%"
            cells = [f"{_pct(r.get(f'{m} {first}', np.nan))}->{_pct(r.get(f'{m} {last}', np.nan))}".rjust(15)
                     for m in metrics]
            lines.append(f"{name:<{name_width}} {r['region']:<7} {r['type']:<5} {pilot:<5} " + " ".join(cells))
    return "\n".join(line[:width] for line in lines)


def _pct(value: float) -> str:
    return "  n/a" if not np.isfinite(value) else f"{100 * value:5.1f}%"
