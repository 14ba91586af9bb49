"""Fuzz experiment specs: random mutations of the shipped specs must be refused with file and line, or run.

    python benchmarks/fuzz_specs.py --cases 1000 --seed 0 [--workers 2] [--timeout 60]

Each case takes a spec from ``experiments/`` (pointed at a tiny county config, so an accepted spec runs in
about a second), applies one to three mutations (a number made NaN, inf, negative, huge, a bool or a word;
a key deleted or misspelt; a factor's key path changed to one the config lacks or to a non-numeric leaf; a
key both lever and uncertainty; another design kind; a name that leaves ``--out``; scenarios with mixed
keys; years outside the timeline; duplicated levels...), and calls ``run_sweep`` with ``max_runs=1``. A case
is *refused* when it raises ``ConfigError`` whose every problem names a file and line, or a ``ResultsError``
/ ``ValueError`` with a one-line message; *accepted* when its run finishes and its part holds no NaN;
a *traceback* otherwise (any other exception, a ConfigError without a line, NaN in the results, or a part
written outside ``--out``); a *hang* when it takes longer than ``--timeout`` seconds. Prints the counts
and each traceback's case; exits 1 if there is any traceback or hang.
"""

from __future__ import annotations

import argparse
import copy
import multiprocessing
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TINY = f"""extends: {ROOT / 'configs' / 'county.yaml'}
geography: {{townships_per_county: 2}}
timeline: {{spin_up_months: 3}}
"""
ODD_VALUES = [float("nan"), float("inf"), float("-inf"), -1, 0, 1e12, True, "abc", None, [], {}, 0.5, 2, 10**30]
PATHS = ["levers.inspections_cut.values.rollout", "levers.committee_pay_ratio.values.rollout",
         "levers.nonexistent.values.rollout", "name", "timeline.start", "geography.counties", "pilot.counties",
         "parameters.cadres.quit_pay", "implementation.fidelity.pay.west", "levers.veto_items_cap.values.pilot",
         "geography", "levers.councils.values", "parameters.cadres.hire_age_min", "engine"]


def shipped_specs() -> list[dict]:
    specs = []
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        data["config"] = "tiny.yaml"
        data["counties"] = 2
        data["replicates"] = min(data.get("replicates", 1), 2)
        if "samples" in data.get("design", {}):
            data["design"]["samples"] = min(data["design"]["samples"], 4)
        specs.append(data)
    scenarios = {"name": "scenarios_list", "config": "tiny.yaml", "design": {"kind": "scenarios"},
                 "scenarios": [{"levers.inspections_cut.values.rollout": 0.2},
                               {"levers.inspections_cut.values.rollout": 0.6}],
                 "replicates": 1, "seed": 0, "outcomes": ["turnover_rate"], "years": [2027]}
    return specs + [scenarios]


def leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, path + (key,))
    elif isinstance(node, list) and node:
        for i, value in enumerate(node):
            yield from leaves(value, path + (i,))
    yield path


def get(node, path):
    for key in path:
        node = node[key]
    return node


def mutate(spec: dict, rng: random.Random) -> tuple[dict, list[str]]:
    spec = copy.deepcopy(spec)
    said = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["value", "value", "value", "delete", "unknown", "factor_path", "both", "design",
                           "name", "mixed_scenarios", "years", "duplicate_level", "swap_range"])
        paths = [p for p in leaves(spec) if p]
        if kind == "value" and paths:
            path = rng.choice(paths)
            value = rng.choice(ODD_VALUES)
            parent = get(spec, path[:-1])
            parent[path[-1]] = value
            said.append(f"{'.'.join(map(str, path))} = {value!r}")
        elif kind == "delete" and paths:
            path = rng.choice(paths)
            parent = get(spec, path[:-1])
            if isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, list) and len(parent) > 0:
                parent.pop(path[-1])
            said.append(f"delete {'.'.join(map(str, path))}")
        elif kind == "unknown":
            spec[rng.choice(["desing", "replicate", "levres", "extra"])] = 1
            said.append("unknown key")
        elif kind == "factor_path":
            group = rng.choice(["levers", "uncertainties"])
            factors = spec.setdefault(group, {}) if isinstance(spec.get(group, {}), dict) else {}
            new = rng.choice(PATHS)
            factor = rng.choice([{"levels": [0.0, 0.5]}, {"range": [0.1, 0.9]}, {"levels": [3, 40]},
                                 {"range": [1, 5000]}])
            if isinstance(factors, dict):
                factors[new] = factor
            said.append(f"{group}.{new} = {factor}")
        elif kind == "both":
            levers = spec.get("levers") or {}
            if isinstance(levers, dict) and levers:
                key = next(iter(levers))
                spec.setdefault("uncertainties", {})
                if isinstance(spec["uncertainties"], dict):
                    spec["uncertainties"][key] = levers[key]
                said.append(f"{key} lever and uncertainty")
        elif kind == "design":
            spec["design"] = {"kind": rng.choice(["factorial", "latin_hypercube", "sobol", "morris", "scenarios",
                                                  "grid"]), **rng.choice([{}, {"samples": 3}, {"samples": 0}])}
            said.append(f"design {spec['design']}")
        elif kind == "name":
            spec["name"] = rng.choice(["..", ".", "../escape", "a/b", ".hidden", "", "ok-name", "x" * 300])
            said.append(f"name {spec['name']!r}")
        elif kind == "mixed_scenarios":
            spec["design"] = {"kind": "scenarios"}
            spec["scenarios"] = [{"levers.inspections_cut.values.rollout": 0.3},
                                 {"levers.councils.values.rollout": 0.5}]
            said.append("mixed scenarios")
        elif kind == "years":
            spec["years"] = rng.choice([[2031], [2020, 2027], [2027, 2027], [], ["2027"], [2027.5]])
            said.append(f"years {spec['years']}")
        elif kind == "duplicate_level":
            for factors in (spec.get("levers"), spec.get("uncertainties")):
                if isinstance(factors, dict):
                    for f in factors.values():
                        if isinstance(f, dict) and isinstance(f.get("levels"), list) and f["levels"]:
                            f["levels"].append(f["levels"][0])
            said.append("duplicate level")
        elif kind == "swap_range":
            for factors in (spec.get("levers"), spec.get("uncertainties")):
                if isinstance(factors, dict):
                    for f in factors.values():
                        if isinstance(f, dict) and isinstance(f.get("range"), list):
                            f["range"] = f["range"][::-1]
            said.append("range reversed")
    return spec, said


def run_case(args) -> tuple[str, str]:
    """Run one case in a worker; returns (outcome, detail)."""
    case, text, folder = args
    import math
    import warnings

    warnings.simplefilter("ignore", UserWarning)  # SALib's advice on Sobol sample sizes

    from sim.config import ConfigError
    from sim.experiments import read_sweep, run_sweep
    from sim.store import ResultsError

    folder = Path(folder)
    spec_path = folder / f"case{case}.yaml"
    spec_path.write_text(text)
    out = folder / f"out{case}"
    try:
        summary = run_sweep(spec_path, out_root=out, max_runs=1)
    except ConfigError as exc:
        # a key missing at the top level is written nowhere: the file is all there is to name
        if all(p.location.line is not None or "is missing" in p.message for p in exc.problems):
            return "refused", ""
        return "traceback", "ConfigError without a line:\n" + str(exc)
    except (ResultsError, ValueError) as exc:
        if "\n" not in str(exc) and str(exc):
            return "refused", ""
        return "traceback", traceback.format_exc()
    except Exception:
        return "traceback", traceback.format_exc()
    inside = Path(summary["out"]).resolve()
    if out.resolve() not in inside.parents:
        return "traceback", f"results written outside --out: {inside}"
    if summary["failed"]:
        return "traceback", f"a run failed: {summary['failure_records']}"
    table = read_sweep(inside)
    if table.empty or table["value"].isna().any() or not all(math.isfinite(v) for v in table["value"]):
        return "traceback", "NaN or no value in the results"
    return "accepted", ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bases = shipped_specs()
    folder = Path(tempfile.mkdtemp(prefix="fuzz-specs-"))
    (folder / "tiny.yaml").write_text(TINY)
    cases = []
    for case in range(args.cases):
        spec, said = mutate(rng.choice(bases), rng)
        cases.append((case, yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), str(folder), said))
    counts = {"refused": 0, "accepted": 0, "traceback": 0, "hang": 0}
    problems = []
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    pool = context.Pool(args.workers, maxtasksperchild=100)
    pending = [(c, pool.apply_async(run_case, (c[:3],))) for c in cases]
    for (case, text, _, said), result in pending:
        try:
            outcome, detail = result.get(timeout=args.timeout)
        except multiprocessing.TimeoutError:
            outcome, detail = "hang", f"over {args.timeout:g} s"
        except Exception:
            outcome, detail = "traceback", traceback.format_exc()
        counts[outcome] += 1
        if outcome in ("traceback", "hang"):
            problems.append((case, said, detail))
    pool.terminate()
    print(f"spec fuzz: {args.cases} cases (seed {args.seed}) in {time.perf_counter() - started:.0f} s: "
          f"{counts['refused']} refused, {counts['accepted']} accepted, {counts['traceback']} tracebacks, "
          f"{counts['hang']} hangs")
    for case, said, detail in problems[:20]:
        print(f"\ncase {case} ({'; '.join(said)}):\n{detail}")
    print(f"cases are in {folder}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
