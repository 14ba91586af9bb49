"""What the benchmark scripts share: which tree they measure, machine facts, peak memory, tables, profiles,
and timing of national months.

``--tree PATH`` (read from ``sys.argv`` by ``select_tree`` before ``sim`` is imported) benchmarks the
``sim`` package and configs of another checkout with the same script, e.g. an export of the commit
before a change (``git archive a4fca1e | tar -x -C /tmp/before``), so before/after figures come from
one script run back to back on the same machine.
"""

from __future__ import annotations

import cProfile
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def select_tree(argv: list[str] | None = None) -> Path:
    """The checkout to benchmark: ``--tree PATH`` if given, else this one; put first on ``sys.path``."""
    argv = sys.argv if argv is None else argv
    root = HERE
    if "--tree" in argv:
        i = argv.index("--tree")
        if i + 1 >= len(argv):
            raise SystemExit("--tree needs a path to a checkout")
        root = Path(argv[i + 1]).resolve()
        if not (root / "sim" / "__init__.py").is_file():
            raise SystemExit(f"--tree {root}: no sim package there")
    sys.path.insert(0, str(root))
    return root


def tree_args(root: Path) -> list[str]:
    """Arguments that make a child benchmark process measure the same tree."""
    return [] if root == HERE else ["--tree", str(root)]


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    Reads VmHWM from /proc/self/status. ``getrusage(RUSAGE_SELF).ru_maxrss`` is the fallback only: in a
    child started by subprocess (vfork + exec) it also counts the *parent's* RSS at exec time.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def machine_info(root: Path) -> dict:
    import mesa
    import numpy as np
    import sim

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gib = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    try:
        import numba
        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    return {
        "cpu": cpu,
        "cores_logical": os.cpu_count(),
        "cores_usable": usable,
        "ram_gib": round(ram_gib, 1) if ram_gib else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "numba": numba_version,
        "sim": sim.__version__,
        "tree": str(root),
        "commit": commit,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A plain text table; ``align`` gives '<' or '>' per column (default: first left, rest right)."""
    align = align or "<" + ">" * (len(headers) - 1)
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:{a}{w}}}" for a, w in zip(align, widths))
    lines = [fmt.format(*headers), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*r) for r in cells]
    return "\n".join("  " + line for line in lines)


def heading(text: str) -> None:
    print(f"\n{text}\n{'=' * len(text)}")


def agent_counts(model) -> dict[str, int]:
    """Agents of a built model, by kind, plus the places they live in."""
    counts = {
        "cadres": int(model.cadres.n),
        "residents": int(model.residents.n),
        "departments": int(len(model.departments.county)),
        "counties": int(model.places.n_counties),
        "townships": int(model.places.n_townships),
        "committees": int(model.places.n_committees),
    }
    counts["agents"] = counts["cadres"] + counts["residents"] + counts["departments"]
    return counts


def without_spin_up(scenario):
    """``scenario`` with no spin-up months, so the months right after construction are recorded ones
    (96 of a run's 120 months are, and they cost more: each is tallied)."""
    return scenario.model_copy(update={"timeline": scenario.timeline.model_copy(update={"spin_up_months": 0})})


def profile_rows(profiler: cProfile.Profile, steps: int, top: int = 12) -> dict:
    """The top ``top`` functions of the ``sim`` package by cumulative time, as % of all profiled time."""
    import sim

    sim_dir = str(Path(sim.__file__).resolve().parent)
    stats = pstats.Stats(profiler)
    total = stats.total_tt or 1.0
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        path = str(Path(filename).resolve()) if filename.startswith(("/", ".")) else filename
        if not path.startswith(sim_dir + os.sep):
            continue
        rel = os.path.relpath(path, sim_dir)
        rows.append({"function": f"{rel}:{line}({func})", "calls_per_month": ncalls / steps,
                     "cum_pct": 100 * cumtime / total, "self_pct": 100 * tottime / total})
    rows.sort(key=lambda r: -r["cum_pct"])
    return {"steps": steps, "total_profiled_s": total, "top": rows[:top]}


def print_profile(prof: dict) -> None:
    print(table(["function (under sim/)", "cum %", "self %", "calls/month"],
                [[r["function"], f"{r['cum_pct']:.1f}", f"{r['self_pct']:.1f}", f"{r['calls_per_month']:g}"]
                 for r in prof["top"]]))


def national_months(root: Path, months: int | None, warm_up: int = 1, profile_months: int = 0,
                    recorded: bool = True) -> dict:
    """Build one replicate of configs/national.yaml in this process and time its months.

    ``warm_up`` months run first, untimed (first-touch page faults, compiled kernels loaded); then
    ``profile_months`` under cProfile; then ``months`` timed months (None: to the end of the timeline).
    With ``recorded`` the spin-up is dropped, so the timed months are recorded (tallied) months, the
    dearer kind. Seconds per month and the whole replicate's estimate, construction + 120 x that, are
    returned with the peak RSS.
    """
    from sim import GrassrootsModel, load_scenario

    scenario = load_scenario(root / "configs" / "national.yaml").scenario
    run_months = scenario.timeline.spin_up_months  # the whole replicate: spin-up + recorded months
    if recorded:
        scenario = without_spin_up(scenario)
    t0 = time.perf_counter()
    model = GrassrootsModel(scenario, seed=0, replicate=0)
    build = time.perf_counter() - t0
    run_months += len(model.calendar.recorded_months)
    build_rss = rss_mib()
    for _ in range(warm_up):
        model.step()
    prof = None
    if profile_months:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(profile_months):
            model.step()
        profiler.disable()
        prof = profile_rows(profiler, profile_months, top=15)
    t1 = time.perf_counter()
    timed = 0
    while model.running and (months is None or timed < months):
        model.step()
        timed += 1
    run_s = time.perf_counter() - t1
    per_month = run_s / max(timed, 1)
    return {**agent_counts(model), "build_s": build, "rss_after_build_mib": build_rss, "warm_up_months": warm_up,
            "profiled_months": profile_months, "timed_months": timed, "timed_s": run_s, "month_s": per_month,
            "recorded_months_timed": recorded, "replicate_months": run_months,
            "replicate_s_estimate": build + run_months * per_month,
            "agent_steps_per_s": agent_counts(model)["agents"] * timed / run_s if run_s else None,
            "peak_rss_mib": rss_mib(), "profile": prof}
