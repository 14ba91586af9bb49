"""Sweeps never mix or trust bad results: runs are identified by what determines them, damaged parts are run
again, another spec's results are refused, one sweep per folder, workers need not share the disk."""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import multiprocessing
import pandas as pd
import pytest

from sim.config import ConfigError
from sim.experiments import analyze_sweep, read_sweep, run_sweep
from sim.store import ResultsError, folder_lock
from test_experiments import FACTORIAL, TINY, spec

ONE_LEVER = """levers:
  levers.inspections_cut.values.rollout: {levels: [0.0, 0.5]}
design: {kind: factorial}
"""


def values_by_level(out: Path) -> dict:
    table = read_sweep(out)
    sel = table[(table.metric == "service_time_share") & (table.year == 2027) & (table.region == "all")]
    return sel.groupby("levers.inspections_cut.values.rollout")["value"].mean().to_dict()


def test_adding_a_level_is_refused_instead_of_relabelling_old_results(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    before = values_by_level(out / "tiny")
    spec(tmp_path, ONE_LEVER.replace("[0.0, 0.5]", "[0.0, 0.25, 0.5]"))  # point 1 is now 0.25, not 0.5
    with pytest.raises(ResultsError) as info:
        run_sweep(path, out_root=out)
    message = str(info.value)
    assert "another spec" in message and "levers.levers.inspections_cut.values.rollout: " in message
    assert "0.25" in message and "--fresh" in message
    assert values_by_level(out / "tiny") == before  # the folder still describes the old sweep, unmixed
    summary = run_sweep(path, out_root=out, fresh=True)
    assert summary["already_done"] == 0 and summary["ran"] == 6
    after = values_by_level(out / "tiny")
    assert after[0.0] == before[0.0] and after[0.5] == before[0.5] and set(after) == {0.0, 0.25, 0.5}


def test_a_changed_seed_or_base_config_is_refused_naming_the_change(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    Path(path).write_text(Path(path).read_text().replace("seed: 3", "seed: 4"))
    with pytest.raises(ResultsError, match=r"seed: 3 -> 4"):
        run_sweep(path, out_root=out)
    Path(path).write_text(Path(path).read_text().replace("seed: 4", "seed: 3"))
    (tmp_path / "tiny_config.yaml").write_text(TINY + "pilot: {counties: 0}\n")
    with pytest.raises(ResultsError, match=r"base config .*hash"):
        run_sweep(path, out_root=out, progress=False)


def test_more_replicates_reuse_the_runs_already_done(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    Path(path).write_text(Path(path).read_text().replace("replicates: 2", "replicates: 3"))
    summary = run_sweep(path, out_root=out)
    assert summary["already_done"] == 4 and summary["ran"] == 2
    Path(path).write_text(Path(path).read_text().replace("replicates: 3", "replicates: 1"))
    with pytest.raises(ResultsError, match="replicates: 3 -> 1"):  # the third replicate's parts would linger
        run_sweep(path, out_root=out)


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "bit flip", "another run's file"])
def test_a_damaged_part_is_detected_and_run_again(tmp_path, damage):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    parts = out / "tiny" / "parts"
    victim = parts / "point00001-rep000.parquet"
    good = read_sweep(out / "tiny")
    data = victim.read_bytes()
    if damage == "truncated":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "garbage":
        victim.write_bytes(os.urandom(len(data)))
    elif damage == "bit flip":  # in the first data page: only its checksum tells
        flipped = bytearray(data)
        flipped[40] ^= 0x10
        victim.write_bytes(bytes(flipped))
    else:
        victim.write_bytes((parts / "point00000-rep001.parquet").read_bytes())
    with pytest.warns(UserWarning, match="point00001-rep000"):
        partial = read_sweep(out / "tiny")  # a reader leaves the damaged run out
    assert len(partial[["point", "replicate"]].drop_duplicates()) == 3
    notes = []
    summary = run_sweep(path, out_root=out, log=notes.append)  # intact or not, another run's file is never reused
    assert summary["ran"] == 1 and summary["already_done"] == 3
    assert any("point00001-rep000" in n and "running it again" in n for n in notes)
    pd.testing.assert_frame_equal(read_sweep(out / "tiny").drop(columns="seconds"), good.drop(columns="seconds"))


def test_another_specs_part_is_refused_naming_it_and_nothing_is_touched(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    other = spec(tmp_path, ONE_LEVER.replace("[0.0, 0.5]", "[0.1, 0.6]"), "other")
    run_sweep(other, out_root=out)
    parts = out / "tiny" / "parts"
    (parts / "point00000-rep000.parquet").write_bytes((out / "other" / "parts" / "point00000-rep000.parquet")
                                                      .read_bytes())
    Path(path).write_text(Path(path).read_text().replace("seed: 3", "seed: 4"))  # and the spec changed too
    (parts / "point00001-rep000.parquet").write_bytes(b"")  # a damaged part: kept until the sweep can go on
    with pytest.raises(ResultsError, match=r"seed: 3 -> 4: point00000-rep000.parquet, point00000-rep001"):
        run_sweep(path, out_root=out)
    assert (parts / "point00001-rep000.parquet").exists()


@pytest.mark.parametrize("content", ["[1, 2]", '"x"', "null", '{"files": 5}'])
def test_a_manifest_of_the_wrong_shape_is_named(tmp_path, content):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    (out / "tiny" / "manifest.json").write_text(content)
    with pytest.raises(ResultsError, match=r"manifest\.json: corrupt sweep manifest"):
        read_sweep(out / "tiny")
    with pytest.raises(ResultsError, match=r"manifest\.json: corrupt sweep manifest"):
        analyze_sweep(path, out_root=out)
    (out / "tiny" / "manifest.json").unlink()  # without it runs.csv cannot be checked
    with pytest.raises(ResultsError, match=r"manifest\.json is missing or lists no checksums"):
        read_sweep(out / "tiny")


def test_booleans_and_strings_are_not_numbers_in_a_spec(tmp_path):
    for old, new in [("replicates: 2", "replicates: true"), ("seed: 3", "seed: true"), ("[0.0, 0.5]", "[0.0, true]"),
                     ("years: [2024, 2027]", "years: ['2027']")]:
        path = spec(tmp_path, ONE_LEVER)
        Path(path).write_text(Path(path).read_text().replace(old, new))
        with pytest.raises(ConfigError, match=r"tiny\.yaml:\d+: "):
            run_sweep(path, out_root=tmp_path / "results")


def test_corrupt_design_or_manifest_is_reported_naming_the_file(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out)
    folder = out / "tiny"
    manifest = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(manifest[: len(manifest) // 2])
    with pytest.raises(ResultsError, match=r"manifest\.json: corrupt sweep manifest"):
        read_sweep(folder)
    (folder / "manifest.json").write_text(manifest)
    design = (folder / "design.csv").read_text()
    (folder / "design.csv").write_text(design.replace("0.5", ""))
    with pytest.raises(ResultsError, match=r"design\.csv does not match the manifest"):
        read_sweep(folder)
    with pytest.raises(ResultsError, match=r"design\.csv"):
        analyze_sweep(path, out_root=out)
    manifest_data = json.loads(manifest)
    del manifest_data["files"]  # as if copied without its checks: the content is still checked
    (folder / "manifest.json").write_text(json.dumps(manifest_data))
    with pytest.raises(ResultsError, match=r"design\.csv: corrupt design matrix \(empty cells in point"):
        read_sweep(folder)


def test_leftover_temporary_files_are_removed_on_the_next_run(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    run_sweep(path, out_root=out, max_runs=1)
    folder = out / "tiny"
    leftovers = [folder / "parts" / ".point00001-rep000.parquet.x1.tmp", folder / ".manifest.json.x2.tmp",
                 folder / "failed" / ".point00002-rep000.json.x3.tmp"]
    for tmp in leftovers:
        tmp.parent.mkdir(exist_ok=True)
        tmp.write_text("half-written")
    notes = []
    run_sweep(path, out_root=out, log=notes.append)
    assert not any(t.exists() for t in leftovers)
    assert any("3 temporary file(s)" in n for n in notes)


def test_a_second_sweep_on_the_same_folder_is_refused_while_one_runs(tmp_path):
    out = tmp_path / "results"
    path = spec(tmp_path, ONE_LEVER)
    with folder_lock(out / "tiny", "sweep tiny"):  # another process's sweep, as far as the lock can tell
        with pytest.raises(ResultsError, match=r"in use by sweep tiny \(pid \d+"):
            run_sweep(path, out_root=out)
    assert not (out / "tiny" / "parts").exists()
    assert run_sweep(path, out_root=out)["ran"] == 4  # released when the holder ends


def _elsewhere(directory: str) -> None:
    """A worker on another host: its own working directory and temp folder."""
    import tempfile

    os.chdir(directory)
    os.environ["TMPDIR"] = directory
    tempfile.tempdir = None


def test_workers_need_not_share_the_coordinators_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    remote = tmp_path / "remote"
    remote.mkdir()
    path = spec(tmp_path, ONE_LEVER)
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=_elsewhere,
                               initargs=(str(remote),))
    with pool:
        summary = run_sweep(path, out_root="results", executor=pool)  # a relative --out, as users type it
    assert summary["ran"] == 4
    assert len(list((tmp_path / "results" / "tiny" / "parts").glob("*.parquet"))) == 4
    assert not list(remote.rglob("*")), "a worker wrote to its own disk"
    serial = run_sweep(path, out_root=tmp_path / "serial")
    assert serial["ran"] == 4
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "results" / "tiny").drop(columns="seconds"),
                                  read_sweep(tmp_path / "serial" / "tiny").drop(columns="seconds"))


# --------------------------------------------------------------------------- specs checked as a whole


def test_a_valid_combination_of_counties_and_pilots_is_accepted(tmp_path):
    body = ("scenarios:\n  - {geography.counties: 2, pilot.counties: 1}\n  - {geography.counties: 3, pilot.counties: 2}\n"
            "design: {kind: scenarios}\n")
    (tmp_path / "tiny_config.yaml").write_text(TINY)
    path = spec(tmp_path, body.replace("counties: 1}", "counties: 1}"))
    assert run_sweep(path, out_root=tmp_path / "results", max_runs=1)["ran"] == 1
    bad = spec(tmp_path, body.replace("pilot.counties: 2}", "pilot.counties: 4}"), "bad")
    with pytest.raises(ConfigError) as info:
        run_sweep(bad, out_root=tmp_path / "results")
    assert "bad.yaml:9: scenarios[1]:" in str(info.value) and "4 pilot counties" in str(info.value)


@pytest.mark.parametrize("body, where, said", [
    ("scenarios:\n  - {levers.inspections_cut.values.rollout: 0.5, levers.councils.values.rollout: 0.5}\n"
     "  - {levers.inspections_cut.values.rollout: 0.2}\ndesign: {kind: scenarios}\n",
     "mixed.yaml:9: scenarios[1]", "does not set levers.councils.values.rollout"),
    ("levers:\n  levers.inspections_cut.values.rollout: {levels: [0.0, 0.5]}\n"
     "uncertainties:\n  levers.inspections_cut.values.rollout: {levels: [0.1]}\ndesign: {kind: factorial}\n",
     "mixed.yaml:9: uncertainties:", "both a lever and an uncertainty"),
    (ONE_LEVER.replace("0.5]", "1.5]"), "mixed.yaml:8: levers['levers.inspections_cut.values.rollout']",
     "must be within [0, 1]"),
    (ONE_LEVER.replace("[0.0, 0.5]", "[0.0, .nan]"), "mixed.yaml:8", "finite"),
])
def test_spec_errors_carry_file_and_line(tmp_path, body, where, said):
    path = spec(tmp_path, body, "mixed")
    with pytest.raises(ConfigError) as info:
        run_sweep(path, out_root=tmp_path / "results")
    assert where in str(info.value) and said in str(info.value)
    assert not (tmp_path / "results").exists() or not list((tmp_path / "results").rglob("*.parquet"))


def test_years_outside_the_timeline_are_refused(tmp_path):
    path = spec(tmp_path, ONE_LEVER)
    Path(path).write_text(Path(path).read_text().replace("years: [2024, 2027]", "years: [2024, 2031]"))
    with pytest.raises(ConfigError, match=r"tiny\.yaml:6: years: 2031 outside the simulated years 2023-2030"):
        run_sweep(path, out_root=tmp_path / "results")


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "../escape", "a/b"])
def test_a_spec_name_cannot_write_outside_out(tmp_path, name):
    path = spec(tmp_path, ONE_LEVER, "named")
    Path(path).write_text(Path(path).read_text().replace("name: named", f"name: '{name}'"))
    with pytest.raises(ConfigError, match=r"named\.yaml:1: name:"):
        run_sweep(path, out_root=tmp_path / "results" / "inner")
    assert not (tmp_path / "results").exists()


def test_dask_workers_in_another_folder_leave_the_parts_with_the_coordinator(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    monkeypatch.chdir(tmp_path)
    remote = tmp_path / "remote"
    remote.mkdir()
    path = spec(tmp_path, ONE_LEVER.replace("[0.0, 0.5]", "[0.0]"))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      local_directory=str(remote / "dask")) as cluster, Client(cluster) as client:
        client.run(_elsewhere, str(remote))
        assert set(client.run(os.getcwd).values()) == {str(remote)}
        summary = run_sweep(path, out_root="results", executor=client.get_executor())
    assert summary["ran"] == 2
    assert len(list((tmp_path / "results" / "tiny" / "parts").glob("*.parquet"))) == 2
    assert not list(remote.rglob("*.parquet")), "a worker wrote a part to its own disk"


def test_a_missing_base_config_is_reported_at_the_specs_config_line(tmp_path):
    path = spec(tmp_path, ONE_LEVER)
    Path(path).write_text(Path(path).read_text().replace("config: tiny_config.yaml", "config: nowhere.yaml"))
    with pytest.raises(ConfigError, match=r"tiny\.yaml:2: config: no such config file: .*nowhere\.yaml"):
        run_sweep(path, out_root=tmp_path / "results")
