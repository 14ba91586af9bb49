"""A run's outputs are one set: replaced together or not at all, checked when read; an unwritable or full
folder is found before computing, and a previous good result there survives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.store import ResultsError, check_writable, read_run, write_run


def tagged(seed: int, rows: int = 1000) -> pd.DataFrame:
    return pd.DataFrame({"seed": np.full(rows, seed), "value": np.arange(rows, dtype=float)})


@pytest.mark.slow
def test_a_write_killed_at_any_moment_leaves_one_consistent_set(tmp_path):
    """kill -9 a process that keeps replacing a set (series, figure, manifest of one seed each time):
    whatever the moment, the folder then reads as one seed's set (before: a seed-13 series with a seed-2
    manifest in 4 of 4 tries)."""
    out = tmp_path / "run"
    writer = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_store import tagged
        from sim.store import write_run
        seed = int(sys.argv[1])
        while True:
            seed += 1
            write_run({str(out)!r}, tagged(seed, 200_000), {{"seed": seed}},
                      extra={{"headline.png": lambda p, s=seed: open(p, "w").write(str(s) * 1000)}})
            if seed % 1000 == 1:
                print("first set written", flush=True)
    """)
    rng = np.random.default_rng(0)
    seeds = set()
    for attempt in range(8):
        process = subprocess.Popen([sys.executable, "-c", writer, str(1000 * attempt)], stdout=subprocess.PIPE)
        process.stdout.readline()
        time.sleep(rng.uniform(0, 0.5))  # at a random point of some later write
        process.send_signal(signal.SIGKILL)
        process.wait()
        series, manifest = read_run(out)
        assert series["seed"].nunique() == 1 and int(series["seed"].iloc[0]) == manifest["seed"]
        assert (out / "headline.png").read_text() == str(manifest["seed"]) * 1000
        assert not list(out.glob(".staging-*")) and not list(out.glob(".*.tmp"))
        seeds.add(manifest["seed"] // 1000)
    assert seeds == set(range(8))  # each attempt's own sets were read


def test_a_write_interrupted_before_it_is_complete_keeps_the_previous_set(tmp_path):
    out = tmp_path / "run"
    write_run(out, tagged(1), {"seed": 1}, extra={"headline.png": "figure 1"})

    def broken_figure(path):
        raise KeyboardInterrupt  # e.g. Ctrl-C while the figure is saved

    with pytest.raises(KeyboardInterrupt):
        write_run(out, tagged(2), {"seed": 2}, extra={"headline.png": broken_figure})
    series, manifest = read_run(out)
    assert manifest["seed"] == 1 and set(series["seed"]) == {1}
    assert (out / "headline.png").read_text() == "figure 1"
    assert sorted(p.name for p in out.iterdir()) == [".lock", "headline.png", "manifest.json", "series.parquet"]


def test_a_write_interrupted_after_it_is_complete_is_finished_when_next_read(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_run(out, tagged(1), {"seed": 1}, extra={"headline.png": "figure 1"})
    real = os.replace

    def dies_at_the_manifest(src, dst):
        if str(dst).endswith("manifest.json") and ".staging-" in str(src):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", dies_at_the_manifest)
    with pytest.raises(KeyboardInterrupt):
        write_run(out, tagged(2), {"seed": 2}, extra={"headline.png": "figure 2"})
    monkeypatch.setattr(os, "replace", real)
    # the new series is in place but the old manifest still stands beside it: a reader never sees that pair
    series, manifest = read_run(out)
    assert manifest["seed"] == 2 and set(series["seed"]) == {2}
    assert (out / "headline.png").read_text() == "figure 2"


def test_a_series_from_another_run_is_refused(tmp_path):
    write_run(tmp_path / "a", tagged(1), {"seed": 1})
    write_run(tmp_path / "b", tagged(2), {"seed": 2})
    (tmp_path / "a" / "series.parquet").write_bytes((tmp_path / "b" / "series.parquet").read_bytes())
    with pytest.raises(ResultsError, match=r"a/series\.parquet does not match .*a/manifest\.json"):
        read_run(tmp_path / "a")


def test_a_file_the_new_set_lacks_goes_with_the_old_set(tmp_path):
    out = tmp_path / "run"
    write_run(out, tagged(1), {"seed": 1}, extra={"headline.png": "figure 1"})
    write_run(out, tagged(2), {"seed": 2})  # --no-figure: the seed-1 figure must not stay beside seed 2
    assert not (out / "headline.png").exists()


def test_corrupt_manifest_or_missing_results_are_named(tmp_path):
    out = tmp_path / "run"
    write_run(out, tagged(1), {"seed": 1})
    (out / "manifest.json").write_text('{"seed": 1, "files": {"series')
    with pytest.raises(ResultsError, match=r"run/manifest\.json: corrupt run manifest"):
        read_run(out)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match=r"empty: no run results here"):
        read_run(tmp_path / "empty")


def test_an_output_path_under_a_file_is_refused_before_computing(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ResultsError, match=r"cannot write results to .*file"):
        check_writable(tmp_path / "file" / "run")


@pytest.fixture
def small_disk(tmp_path):
    """A real 512 KiB file system (tmpfs), where this machine lets us mount one (CI runs as root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_found_before_computing_and_the_old_result_survives(small_disk):
    out = small_disk / "run"
    write_run(out, tagged(1, 100), {"seed": 1})
    fh = open(small_disk / "filler", "wb", buffering=0)  # fill the disk to the last block
    try:
        while True:
            fh.write(b"\0" * 4096)
    except OSError:
        fh.close()
    with pytest.raises(ResultsError, match="no space left on the device"):
        check_writable(out)
    with pytest.raises(ResultsError, match=r"cannot write results to .*run: no space left on the device; the previous"):
        write_run(out, tagged(2, 200_000), {"seed": 2})
    series, manifest = read_run(out)
    assert manifest["seed"] == 1 and set(series["seed"]) == {1}
    assert not list(out.glob(".staging-*"))


def test_a_read_only_folder_is_found_before_computing(small_disk):
    out = small_disk / "run"
    write_run(out, tagged(1, 100), {"seed": 1})
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(ResultsError, match="Read-only file system"):
        check_writable(out)
    series, manifest = read_run(out)  # a read-only copy still reads, checked
    assert manifest["seed"] == 1
