"""Performance figures of the grassroots agent-based model (``make bench``).

What it measures
----------------
1. Machine: CPU model, cores, RAM and the Python / numpy / mesa versions, so
   figures can be read against the hardware they came from.
2. Throughput of both engines at three sizes, about 10^3, 10^4 and 10^5 agents
   (agents = cadre posts + sampled residents + county departments). The
   geography is the one-county config (configs/county.yaml: a rural central
   county) repeated over N counties; the 10^3 size is one county with fewer
   townships, because a standard county already has ~4,000 agents. Each size
   builds a fresh model and times monthly ``step()`` calls right after
   construction (construction is excluded and shown separately); the best of
   the repeats is kept. Figures: agent-steps per second (agents x months /
   seconds) and milliseconds per simulated month.
   Both engines run the same scenario at each size: the columnar engine
   (``sim.GrassrootsModel``, numpy columns) for 12 months, best of 3, and the
   per-agent engine (``sim.model.reference.AgentGrassrootsModel``, one
   mesa.Agent per cadre post, resident and department; ~10^4.5 agent-steps/s)
   for only its first 3 months, best of 2. The ratio columnar / per-agent is
   taken over the *same* months: the columnar figure for it is the best time of
   the columnar engine's first 3 months (all months here are spin-up months, so
   the 12-month figure differs only by noise). Issue target: the columnar
   engine at least 100x the per-agent engine at 10^5 agents.
3. Whole runs, construction + ``run()`` (spin-up plus 2023-01..2030-12): the
   county config (best of 3) and the 90-county province of configs/plan.yaml
   (one run). Each runs in a fresh child process so that its peak memory is its
   own: "peak RSS" is the child's VmHWM (/proc/self/status), i.e. the peak of
   the whole process (interpreter + numpy/pandas/mesa + model). It is not
   ``ru_maxrss``: after vfork + exec that also counts the parent's RSS, which
   here includes the models of section 2. The RSS of a child that only imports
   ``sim`` is printed as the floor to subtract.
4. Where the time goes in a province month: cProfile over the monthly steps of
   the province model (construction excluded); the top 12 functions of the
   ``sim`` package by cumulative time, as a percentage of all profiled time.
   Functions nest, so the percentages do not add up to 100.

Reading the figures
-------------------
Absolute timings move with CPU frequency scaling, other load and the profiler's
own overhead (section 4's ms/month is not a speed figure). On a noisy or shared
machine compare figures *within one run* (e.g. agent-steps/s at 10^5 relative
to 10^3, or before/after a change run back to back), not against numbers from
another day or machine. Best-of-N suppresses one-off stalls but not a steadily
busy machine.

Usage: ``python benchmarks/bench_model.py [--quick] [--json PATH]``.
``--quick`` is a smoke run (few steps, one repeat, no 10^5 size for either
engine, no full province run); it checks the script works, its figures are not
for comparison. The full run takes under a minute on 2 cores (41-43 s here).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import mesa  # noqa: E402

import sim  # noqa: E402
from sim import GrassrootsModel, load_scenario  # noqa: E402
from sim.run import model_class  # noqa: E402

COUNTY = ROOT / "configs" / "county.yaml"
PROVINCE = ROOT / "configs" / "plan.yaml"
SIM_DIR = str(Path(sim.__file__).resolve().parent)


# --------------------------------------------------------------------------- helpers

def agent_counts(model: GrassrootsModel) -> dict[str, int]:
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


# --------------------------------------------------------------------------- 1. machine

def machine_info() -> dict:
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
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "cpu": cpu,
        "cores_logical": os.cpu_count(),
        "cores_usable": usable,
        "ram_gib": round(ram_gib, 1) if ram_gib else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "sim": sim.__version__,
        "commit": commit,
    }


# --------------------------------------------------------------------------- 2. throughput

def scaled_scenario(base, counties: int, townships_per_county: float | None = None):
    """``base`` (a one-county scenario) repeated over ``counties`` counties, optionally with fewer townships."""
    update = {"counties": counties, "scope": "county" if counties == 1 else "province"}
    if townships_per_county is not None:
        update["townships_per_county"] = townships_per_county
    geo = base.geography.model_copy(update=update)
    # Keep the plan's pilot share (4 of 90), at least one pilot county, never more than there are.
    pilot = base.pilot.model_copy(update={"counties": min(counties, max(1, round(counties * 4 / 90)))})
    return base.model_copy(update={"geography": geo, "pilot": pilot})


def scenario_near(base, target: int):
    """A scenario whose agent count is close to ``target``: scale counties, or shrink one county's townships.

    Unit sizes are drawn at random, so the count is measured on built models and the knob rescaled a few
    times (construction takes well under a second even at 10^5 agents).
    """
    def agents(counties: int, tpc: float | None) -> int:
        return agent_counts(GrassrootsModel(scaled_scenario(base, counties, tpc), seed=0))["agents"]

    counties, tpc = 1, None
    if agents(1, None) > target:  # below one standard county: one county, fewer townships
        tpc = base.geography.townships_per_county
        for _ in range(4):
            tpc = round(tpc * target / agents(1, tpc), 2)
    else:  # try a few county counts, keep the one nearest the target (on a log scale)
        tried: dict[int, int] = {}
        for _ in range(5):
            tried[counties] = agents(counties, None)
            counties = max(1, round(counties * target / tried[counties]))
            if counties in tried:
                break
        counties = min(tried, key=lambda n: abs(np.log(tried[n] / target)))
    return scaled_scenario(base, counties, tpc)


def time_steps(scenario, steps: int, repeats: int, engine: str = "columnar", window: int | None = None) -> dict:
    """Best-of-``repeats`` wall time of ``steps`` months, each repeat on a freshly built model of ``engine``.

    With ``window`` (<= ``steps``) the best time of the first ``window`` months is kept as well, so that an
    engine timed over fewer months can be compared over the very same months.
    """
    cls = model_class(engine)
    window = window or steps
    best_step = best_build = best_window = float("inf")
    counts = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = cls(scenario, seed=0, replicate=0)
        t1 = time.perf_counter()
        marks = [t1]
        for _ in range(steps):
            model.step()
            marks.append(time.perf_counter())
        best_build, best_step = min(best_build, t1 - t0), min(best_step, marks[-1] - t1)
        best_window = min(best_window, marks[window] - t1)
        counts = agent_counts(model)
        del model
    return {**counts, "engine": engine, "steps": steps, "repeats": repeats, "build_s": best_build,
            "steps_s": best_step, "ms_per_month": 1000 * best_step / steps,
            "agent_steps_per_s": counts["agents"] * steps / best_step,
            "window": window, "window_s": best_window,
            "window_agent_steps_per_s": counts["agents"] * window / best_window}


# --------------------------------------------------------------------------- 3. whole runs (child process)

def child_run(which: str, repeats: int) -> dict:
    """Runs inside a fresh interpreter: build + run() ``repeats`` times, report best wall time and peak RSS."""
    if which == "import":
        return {"peak_rss_mib": rss_mib()}
    scenario = load_scenario(COUNTY if which == "county" else PROVINCE).scenario
    best = build = float("inf")
    counts = months = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = GrassrootsModel(scenario, seed=0, replicate=0)
        t1 = time.perf_counter()
        model.run()
        t2 = time.perf_counter()
        if t2 - t0 < best:
            best, build = t2 - t0, t1 - t0
        counts = agent_counts(model)
        months = scenario.timeline.spin_up_months + len(model.calendar.recorded_months)
        del model
    return {**counts, "months": months, "repeats": repeats, "wall_s": best, "build_s": build,
            "peak_rss_mib": rss_mib()}


def run_in_child(which: str, repeats: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--_child", which, "--_repeats", str(repeats)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- 4. profile

def profile_province(steps: int, top: int = 12) -> dict:
    """cProfile of ``steps`` months of the province model; top ``top`` sim functions by cumulative time."""
    model = GrassrootsModel(load_scenario(PROVINCE).scenario, seed=0, replicate=0)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for _ in range(steps):
        model.step()
    profiler.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        path = str(Path(filename).resolve()) if filename.startswith(("/", ".")) else filename
        if not path.startswith(SIM_DIR + os.sep):
            continue
        rel = os.path.relpath(path, SIM_DIR)
        rows.append({"function": f"{rel}:{line}({func})", "calls_per_month": ncalls / steps,
                     "cum_pct": 100 * cumtime / total, "self_pct": 100 * tottime / total})
    rows.sort(key=lambda r: -r["cum_pct"])
    return {"steps": steps, "profiled_wall_s": wall, "profiled_ms_per_month": 1000 * wall / steps,
            "total_profiled_s": total, "top": rows[:top]}


# --------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fast smoke run (figures not for comparison)")
    ap.add_argument("--json", metavar="PATH", help="also save every figure to this JSON file")
    ap.add_argument("--_child", choices=["import", "county", "province"], help=argparse.SUPPRESS)
    ap.add_argument("--_repeats", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._child:
        print(json.dumps(child_run(args._child, args._repeats)))
        return

    steps, repeats = (3, 1) if args.quick else (12, 3)
    agent_steps, agent_repeats = (2, 1) if args.quick else (3, 2)  # the per-agent engine: fewer months
    targets = (10**3, 10**4) if args.quick else (10**3, 10**4, 10**5)
    figures: dict = {"mode": "quick" if args.quick else "full"}
    started = time.perf_counter()

    heading("1. Machine")
    info = figures["machine"] = machine_info()
    print(table(["item", "value"], [
        ["CPU", info["cpu"]],
        ["cores (logical / usable)", f"{info['cores_logical']} / {info['cores_usable']}"],
        ["RAM", f"{info['ram_gib']} GiB"],
        ["OS", info["os"]],
        ["Python / numpy / mesa", f"{info['python']} / {info['numpy']} / {info['mesa']}"],
        ["sim (commit)", f"{info['sim']} ({info['commit'] or 'n/a'})"],
    ], "<<"))

    heading(f"2. Throughput of both engines: columnar {steps} months (best of {repeats}), "
            f"per-agent {agent_steps} months (best of {agent_repeats}), after construction")
    base = load_scenario(COUNTY).scenario
    scaling = figures["scaling"] = []
    for target in targets:
        scenario = scenario_near(base, target)  # the same geography for both engines
        res = time_steps(scenario, steps, repeats, "columnar", window=agent_steps)
        ref_res = time_steps(scenario, agent_steps, agent_repeats, "agents")
        assert ref_res["agents"] == res["agents"], "the engines built different populations"
        scaling.append({"target": target, **res, "per_agent": ref_res,
                        "ratio": res["window_agent_steps_per_s"] / ref_res["agent_steps_per_s"]})
    print("  columnar engine (sim.GrassrootsModel):")
    print(table(
        ["target", "counties", "townships", "committees", "cadres", "residents", "depts", "agents",
         "build ms", "ms/month", "agent-steps/s"],
        [[f"1e{int(np.log10(r['target']))}", r["counties"], r["townships"], r["committees"], r["cadres"],
          r["residents"], r["departments"], f"{r['agents']:,}", f"{1000 * r['build_s']:.1f}",
          f"{r['ms_per_month']:.2f}", f"{r['agent_steps_per_s']:,.0f}"] for r in scaling]))
    ref = scaling[0]["agent_steps_per_s"]
    print("  relative throughput: " + ", ".join(
        f"1e{int(np.log10(r['target']))} = {r['agent_steps_per_s'] / ref:.1f}x" for r in scaling)
        + " (vs the smallest size; per-month overhead dominates small models)")
    print(f"\n  columnar vs per-agent engine (sim.model.reference.AgentGrassrootsModel), same scenarios; "
          f"ratio over the same first {agent_steps} months:")
    print(table(
        ["target", "agents", f"columnar agent-steps/s ({steps} mo)", f"columnar ({agent_steps} mo)",
         "per-agent build s", "per-agent ms/month", f"per-agent agent-steps/s ({agent_steps} mo)", "ratio"],
        [[f"1e{int(np.log10(r['target']))}", f"{r['agents']:,}", f"{r['agent_steps_per_s']:,.0f}",
          f"{r['window_agent_steps_per_s']:,.0f}", f"{r['per_agent']['build_s']:.2f}",
          f"{r['per_agent']['ms_per_month']:.1f}", f"{r['per_agent']['agent_steps_per_s']:,.0f}",
          f"{r['ratio']:,.0f}x"] for r in scaling]))
    top = scaling[-1]
    if top["target"] >= 10**5:
        verdict = "met" if top["ratio"] >= 100 else "NOT met"
        print(f"  target: columnar >= 100x per-agent at 1e5 agents -> {top['ratio']:,.0f}x, {verdict}")
    else:
        print("  target (>= 100x at 1e5 agents) not checked: 1e5 skipped (--quick)")

    heading("3. Whole runs: construction + run(), each in a fresh process")
    floor = run_in_child("import", 1)["peak_rss_mib"]
    runs = figures["runs"] = {"import_only_rss_mib": floor,
                              "county": run_in_child("county", 1 if args.quick else 3)}
    if not args.quick:
        runs["province"] = run_in_child("province", 1)
    rows = []
    for name, path in (("county", COUNTY), ("province", PROVINCE)):
        r = runs.get(name)
        if r is None:
            rows.append([f"{name} ({path.name})"] + ["-"] * 6 + ["skipped (--quick)"])
            continue
        rows.append([f"{name} ({path.name})", r["counties"], f"{r['agents']:,}", r["months"],
                     f"{r['repeats']}", f"{r['build_s']:.2f}", f"{r['wall_s']:.2f}",
                     f"{r['peak_rss_mib']:.0f} (+{r['peak_rss_mib'] - floor:.1f})"])
    print(table(["run", "counties", "agents", "months", "best of", "build s", "wall s", "peak RSS MiB"], rows))
    print(f"  peak RSS = VmHWM of the child process (whole interpreter); in brackets: above the "
          f"{floor:.0f} MiB of a process that only imports sim.")

    prof_steps = 3 if args.quick else 12
    heading(f"4. Profile: {prof_steps} months of the province model (plan.yaml), sim functions only")
    prof = figures["profile"] = profile_province(prof_steps)
    print(table(["function (under sim/)", "cum %", "self %", "calls/month"],
                [[r["function"], f"{r['cum_pct']:.1f}", f"{r['self_pct']:.1f}", f"{r['calls_per_month']:g}"]
                 for r in prof["top"]]))
    print(f"  % of {prof['total_profiled_s']:.2f} s profiled ({prof['profiled_ms_per_month']:.0f} ms/month "
          "with profiler overhead, first months after construction); percentages nest.")

    figures["bench_wall_s"] = time.perf_counter() - started
    print(f"\nbenchmark took {figures['bench_wall_s']:.0f} s ({figures['mode']} mode)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2))
        print(f"figures saved to {args.json}")


if __name__ == "__main__":
    main()
