"""A reform office's own counties (issue 13): a county table read into the geography, checked cell by cell,
built as given, its pilot flags honoured, results by named county, and the table in the config hash."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import CONFIGS
from sim.config import ConfigError, load_scenario
from sim.config.table import read_county_table
from sim.counties import county_frame, county_names
from sim.model.model import GrassrootsModel, geography_and_pilots
from sim.run import run_scenarios
from sim.summary import annual

HEADER = "name,region,type,townships,committees,committee_posts,township_posts,residents,base,pilot"
# three small counties, one per region (so each region's series is one county's)
ROWS = ["Alpha County,east,rural,3,20,130,250,34000,5200,true",
        "Beta District,central,urban,2,9,85,230,38000,9100,false",
        "Gamma County,west,rural,4,30,170,330,45000,2100,false"]


def write_table(folder: Path, rows=ROWS, header=HEADER, name="counties.csv", comment=True) -> Path:
    path = folder / name
    text = ("# a test province (made up)\n" if comment else "") + header + "\n" + "\n".join(rows) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def write_config(folder: Path, table: str = "counties.csv", base: str = "baseline.yaml", extra: str = "") -> Path:
    path = folder / "province.yaml"
    path.write_text(f"extends: {CONFIGS / base}\nname: own_province\ngeography:\n  table: {table}\n{extra}",
                    encoding="utf-8")
    return path


def problems_of(folder: Path, rows=ROWS, header=HEADER) -> list[str]:
    write_table(folder, rows, header)
    with pytest.raises(ConfigError) as info:
        load_scenario(write_config(folder))
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("row, line, column, expected", [
    ("Beta District,central,urban,2,nine,85,230,38000,9100,false", 4, "committees", "'nine' is not a number"),
    ("Beta District,central,urban,2,9,-85,230,38000,9100,false", 4, "committee_posts", "'-85' is negative"),
    ("Beta District,centre,urban,2,9,85,230,38000,9100,false", 4, "region", "'centre' is not"),
    ("Beta District,central,town,2,9,85,230,38000,9100,false", 4, "type", "'town' is not rural or urban"),
    ("Beta District,central,urban,2,9,85,230,38000,9100,maybe", 4, "pilot", "'maybe' is not true or false"),
    ("Beta District,central,urban,2,9.5,85,230,38000,9100,false", 4, "committees", "is not a whole number"),
    ("Beta District,central,urban,2,9,85,230,,9100,false", 4, "residents", "empty"),
    ("Alpha County,central,urban,2,9,85,230,38000,9100,false", 4, "name", "already the name of row 1"),
    ("Beta District,central,urban,12,9,85,230,38000,9100,false", 4, "committees", "9 committees for 12 townships"),
    ("Beta District,central,urban,2,9,85,230,400,9100,false", 4, "residents", "at least 50 per committee"),
])
def test_a_bad_cell_is_named_by_file_line_row_and_column(tmp_path, row, line, column, expected):
    problems = problems_of(tmp_path, [ROWS[0], row, ROWS[2]])
    assert len(problems) == 1, problems
    text = problems[0]
    assert text.startswith(f"{tmp_path / 'counties.csv'}:{line}: row 2, column {column!r}: "), text
    assert expected in text


def test_every_bad_cell_is_reported_at_once_and_the_header_is_checked(tmp_path):
    rows = ["Alpha County,north,rural,3,20,130,250,34000,5200,true", "Beta District,central,urban,2,9,x,230,38000,,1"]
    problems = problems_of(tmp_path, rows)
    assert [p.split(": ")[1] for p in problems] == ["row 1, column 'region'", "row 2, column 'committee_posts'"]
    header = HEADER.replace("township_posts,", "").replace("base", "fiscal")
    short = [",".join(r.split(",")[:6] + r.split(",")[7:]) for r in ROWS]
    (missing, unknown) = problems_of(tmp_path, short, header)
    assert "missing column 'township_posts'" in missing and "unknown column 'fiscal'" in unknown


def test_a_table_too_big_for_a_run_and_a_missing_table_are_refused(tmp_path):
    huge = ["Huge County,east,rural,1,4000000,4000000,1,900000000,,false"]
    (problem,) = problems_of(tmp_path, huge, HEADER)
    assert "million agents" in problem and str(tmp_path / "counties.csv") in problem
    with pytest.raises(ConfigError, match=r"province.yaml:4: geography.table: county table .*nowhere.csv not found"):
        load_scenario(write_config(tmp_path, "nowhere.csv"))


def test_a_broken_table_is_one_clear_error_through_the_cli(tmp_path):
    write_table(tmp_path, [ROWS[0], "Beta District,central,urban,2,9,85,-230,38000,9100,false"])
    config = write_config(tmp_path)
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(config)], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"invalid config {config} (1 problem):"
    assert lines[1] == (f"{tmp_path / 'counties.csv'}:4: row 2, column 'township_posts': '-230' is negative; "
                        "expected posts in all its townships (staff, service stations), at least one each")


# --------------------------------------------------------------------------- what the model builds


def test_the_model_builds_the_table_counts_county_by_county(tmp_path):
    write_table(tmp_path)
    loaded = load_scenario(write_config(tmp_path))
    assert loaded.scenario.geography.counties == 3  # baseline's 90 replaced by the table's rows
    places, _ = geography_and_pilots(loaded.scenario, 0, 0)
    table = pd.read_csv(tmp_path / "counties.csv", comment="#")
    assert places.townships_per_county.tolist() == table["townships"].tolist()
    assert np.bincount(places.committee_county).tolist() == table["committees"].tolist()
    assert np.bincount(places.committee_county, weights=places.committee_posts).tolist() == \
        table["committee_posts"].tolist()
    assert np.bincount(places.township_county, weights=places.township_posts).tolist() == \
        table["township_posts"].tolist()
    assert np.bincount(places.committee_county, weights=places.committee_population).tolist() == \
        table["residents"].tolist()
    assert places.county_region.tolist() == [0, 1, 2] and places.county_urban.tolist() == [False, True, False]
    assert places.committees_per_township.min() >= 1 and places.committee_posts.min() >= 1
    assert places.committee_population.min() >= 50
    # only the base's order counts: Gamma < Alpha < Beta
    assert np.argsort(places.county_base).tolist() == [2, 0, 1]
    # cadres are the table's posts
    model = GrassrootsModel(loaded.scenario, seed=0)
    assert np.bincount(model.cadres.county, minlength=3).tolist() == \
        (table["committee_posts"] + table["township_posts"]).tolist()


def test_a_parquet_table_reads_as_its_csv(tmp_path):
    csv = write_table(tmp_path)
    frame = pd.read_csv(csv, comment="#")
    frame.to_parquet(tmp_path / "counties.parquet", index=False)
    rows_csv, _ = read_county_table(csv)
    rows_parquet, _ = read_county_table(tmp_path / "counties.parquet")
    assert rows_parquet == rows_csv
    frame.loc[1, "township_posts"] = -1
    frame.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(ConfigError, match=r"bad.parquet: row 2, column 'township_posts': '?-1'? is negative"):
        read_county_table(tmp_path / "bad.parquet")


def test_pilot_flags_are_the_pilots_whatever_the_pilot_design(tmp_path):
    rows = [r.rsplit(",", 1)[0] + f",{flag}" for r, flag in zip(ROWS, ("no", "yes", "yes"))]
    write_table(tmp_path, rows)
    scenario = load_scenario(write_config(tmp_path, extra="pilot: {share: 0.0, selection: random}\n")).scenario
    assert scenario.pilot.counties == 2
    for replicate in range(3):
        _, pilot = geography_and_pilots(scenario, 5, replicate)
        assert pilot.tolist() == [False, True, True]
    # without the column the pilot design chooses (the share of 3 counties rounds to 0 pilots)
    write_table(tmp_path, [r.rsplit(",", 1)[0] for r in ROWS], HEADER.rsplit(",", 1)[0])
    scenario = load_scenario(write_config(tmp_path)).scenario
    assert scenario.pilot.counties == 0 and not geography_and_pilots(scenario, 5, 0)[1].any()


def test_changing_the_table_changes_the_config_hash(tmp_path):
    write_table(tmp_path)
    config = write_config(tmp_path)
    first = load_scenario(config)
    assert load_scenario(config).hash == first.hash  # stable
    assert [r["name"] for r in first.resolved["geography"]["table"]["counties"]] == \
        ["Alpha County", "Beta District", "Gamma County"]
    assert str(tmp_path / "counties.csv") in first.files
    write_table(tmp_path, [ROWS[0], ROWS[1].replace(",85,", ",86,"), ROWS[2]])
    assert load_scenario(config).hash != first.hash


# --------------------------------------------------------------------------- results by county


def test_the_table_by_county_has_the_names_and_agrees_with_the_series(tmp_path):
    write_table(tmp_path)
    loaded = load_scenario(write_config(tmp_path, base="plan.yaml"))
    result = run_scenarios([loaded], 2, seed=3, by_county=True)
    counties = result.counties
    assert set(counties["county"]) == {"Alpha County", "Beta District", "Gamma County"}
    assert set(counties["year"]) == set(range(2023, 2031))
    assert counties.groupby("county", observed=True)["pilot"].all().to_dict() == \
        {"Alpha County": True, "Beta District": False, "Gamma County": False}
    # each region holds one county, so its annual series value is that county's
    for county, region in (("Alpha County", "east"), ("Beta District", "central"), ("Gamma County", "west")):
        series = annual(result.series, region=region)
        mine = counties[counties["county"] == county]
        merged = series.merge(mine, on=["scenario", "metric", "year", "replicate"], suffixes=("_series", ""))
        assert len(merged) == len(mine) > 0
        both = merged[["value_series", "value"]].to_numpy()
        assert np.array_equal(np.isnan(both[:, 0]), np.isnan(both[:, 1]))
        assert np.allclose(both[:, 0], both[:, 1], equal_nan=True, rtol=1e-12, atol=1e-15)
    # and they differ between counties: the numbers are each county's own
    service = counties[(counties["metric"] == "service_time_share") & (counties["year"] == 2023)]
    assert service.groupby("county", observed=True)["value"].mean().nunique() == 3


def test_a_synthesised_geography_has_numbered_county_names_and_the_cli_writes_the_table(tmp_path):
    scenario = load_scenario(CONFIGS / "county.yaml").scenario
    assert county_names(scenario) == ["county-001"]
    write_table(tmp_path)
    config = write_config(tmp_path)
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(config), "-n", "1", "-o", str(out), "--by",
                           "county", "--no-figure", "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = pd.read_parquet(out / "counties.parquet")
    assert set(written["county"]) == {"Alpha County", "Beta District", "Gamma County"}
    assert list(written.columns) == ["scenario", "replicate", "county", "region", "type", "pilot", "year",
                                     "metric", "value"]
    lines = done.stdout.splitlines()
    row = next(line for line in lines if line.startswith("Alpha County"))
    assert "east" in row and "yes" in row
    start = next(i for i, line in enumerate(lines) if line.startswith("Headline outcomes by county"))
    table = lines[start:lines.index("", lines.index(row))]
    assert len(table) == 2 + 3 + 3 and max(map(len, table)) <= 100  # title, scenario, header, three counties


def test_county_frame_reads_each_county_as_the_series_reads_a_cell():
    from sim.model.metrics import METRIC_NAMES

    scenario = load_scenario(CONFIGS / "county.yaml").scenario
    model = GrassrootsModel(scenario, seed=1).run(until="2023-12")
    frame = county_frame(scenario, 0, model.calendar, model.county_num[:12], model.county_den[:12], model.places,
                         model.pilot)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a metric with nothing to count all year: NaN
        want = np.nanmean(model.county_values(years=2023)[:, :, 0], axis=0)
    got = frame.set_index("metric").loc[list(METRIC_NAMES), "value"].to_numpy()
    assert frame["year"].unique().tolist() == [2023]
    assert np.allclose(got, want, equal_nan=True, rtol=1e-12, atol=0)


def test_a_table_fixes_the_number_of_counties_and_its_pilots_fix_evaluate_pilot(tmp_path):
    from sim.config import scenario_of
    from sim.pilot import evaluate_pilot

    write_table(tmp_path)
    loaded = load_scenario(write_config(tmp_path))
    with pytest.raises(ConfigError, match=r"geography.counties: 5, but the county table counties.csv has 3"):
        scenario_of(loaded, {"geography.counties": 5})  # e.g. --counties: refused, not ignored
    with pytest.raises(ValueError, match="names the pilots"):
        evaluate_pilot(loaded, replicates=1)


def test_both_engines_build_and_run_a_table_alike(tmp_path):
    from sim.model.reference import AgentGrassrootsModel

    write_table(tmp_path)
    scenario = load_scenario(write_config(tmp_path, base="plan.yaml")).scenario
    columnar = GrassrootsModel(scenario, seed=2).run(until="2024-03")
    agents = AgentGrassrootsModel(scenario, seed=2).run(until="2024-03")
    assert np.array_equal(columnar.county_num, agents.county_num)
    assert np.array_equal(columnar.county_den, agents.county_den)
