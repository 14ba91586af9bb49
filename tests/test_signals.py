"""SIGTERM and Ctrl-C stop everything: the workers and the pool within seconds, no half-written file, one line,
a non-zero exit; a sweep then resumes where it stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from test_experiments import TINY

GRASSROOTS = [sys.executable, "-m", "sim"]
pytestmark = pytest.mark.slow

SPEC = """name: long
config: tiny.yaml
seed: 1
replicates: 2
outcomes: [turnover_rate]
years: [2027]
levers:
  levers.inspections_cut.values.rollout: {range: [0.0, 0.9]}
design: {kind: latin_hypercube, samples: 20}
"""


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, list[psutil.Process]]:
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "long.yaml").write_text(SPEC)
    # as from a terminal: Ctrl-C's default action, even where this suite runs as a background job of a
    # shell without job control (which starts it, and so every child, with SIGINT ignored)
    process = subprocess.Popen([*GRASSROOTS, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    children: list[psutil.Process] = []
    while time.monotonic() < deadline and len(children) < 2:  # until both workers have started
        time.sleep(0.2)
        children = [c for c in psutil.Process(process.pid).children(recursive=True)
                    if "resource_tracker" not in " ".join(c.cmdline())]
    assert len(children) >= 2, "the workers never started"
    return process, children


def wait_for_parts(folder: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(list(folder.glob("*.parquet"))) < n:
        time.sleep(0.1)
    assert len(list(folder.glob("*.parquet"))) >= n, "no part was written"


def stopped_cleanly(process: subprocess.Popen, children: list[psutil.Process], signum: int) -> str:
    sent = time.monotonic()
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    took = time.monotonic() - sent
    gone, alive = psutil.wait_procs(children, timeout=max(0.1, 8 - took))
    assert not alive, f"workers still running {took:.1f} s after the signal: {[p.pid for p in alive]}"
    assert took < 8, f"took {took:.1f} s to stop"
    assert process.returncode != 0
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert "stopped" in last and signal.Signals(signum).name in last
    return err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_sweep_and_its_workers_and_the_sweep_resumes(tmp_path, signum):
    process, children = start(tmp_path, "sweep", "long.yaml", "-w", "2", "--out", "results", "--no-progress")
    parts = tmp_path / "results" / "long" / "parts"
    wait_for_parts(parts, 2)
    stopped_cleanly(process, children, signum)
    written = sorted(p.name for p in parts.glob("*.parquet"))
    time.sleep(2)
    assert sorted(p.name for p in parts.glob("*.parquet")) == written, "parts were written after the stop"
    assert not list((tmp_path / "results").rglob("*.tmp"))
    assert len(written) < 40
    done = subprocess.run([*GRASSROOTS, "sweep", "long.yaml", "-w", "2", "--out", "results", "--no-progress"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"40 runs planned, {len(written)} already done, {40 - len(written)} run now, 0 failed" in done.stdout


def test_sigterm_stops_a_run_and_keeps_the_previous_result(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    first = subprocess.run([*GRASSROOTS, "run", "tiny.yaml", "-n", "2", "--out", "out", "--no-progress",
                            "--no-figure", "--seed", "5"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "out" / "manifest.json").read_text()
    counties = (tmp_path / "out" / "counties.parquet").read_bytes()
    process, children = start(tmp_path, "run", "tiny.yaml", "-n", "60", "-w", "2", "--out", "out", "--no-progress",
                              "--seed", "6")
    time.sleep(2)
    stopped_cleanly(process, children, signal.SIGTERM)
    assert (tmp_path / "out" / "manifest.json").read_text() == before
    assert (tmp_path / "out" / "counties.parquet").read_bytes() == counties
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "counties.parquet", "manifest.json", "series.parquet"]
