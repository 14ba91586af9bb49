"""Fuzz the scenario configs: every bad config refused with file:line, every valid one runs.

    python benchmarks/fuzz_configs.py --cases 1000 --seed 0 [--timeout 60] [--workers 2]

Each case mutates a shipped config (configs/*.yaml, configs/designs/*.yaml) and writes it to a
temporary folder, either as a child that ``extends:`` the shipped file and overrides some keys, or
as the whole resolved config in one file (which can also delete keys). Kinds of case:

- ``leaves``: one to five values set to something else: nan, inf, negative, huge, 0, 1, a boolean,
  a string, a random number in a wide range, a plausible nearby number, null, a list or mapping,
  or raw YAML (``!!float .nan``, ``1e400``, ``0x1F``, sexagesimal ``12:30``, a timestamp, ...);
- ``valid``: one to eight numbers set within the bounds the schema declares for them (often at a
  bound): valid one by one, so what fails is a combination;
- ``flat``: the same, plus deleted keys, unknown keys and mappings replaced by scalars;
- ``unknown``: an unknown or misspelt key; ``tags``: refused or odd YAML tags;
- ``bomb``: an alias bomb ("billion laughs": nested lists, mappings or merge keys of aliases);
- ``deep``: nesting of 90 to 5,000 levels (flow lists, flow mappings, block mappings, aliases);
- ``text``: random edits of the YAML text (characters inserted, deleted, lines duplicated);
- ``extends``: missing parents, cycles, long chains, wide fan-outs, non-string entries.

Each case is loaded as ``grassroots validate`` does (``load_scenario``) and, if accepted, run for one
replicate on a tiny geography and timeline (3 counties of 6 townships, 2023-01 to 2023-08 after 2
months of spin-up, unless the case changed those keys; a geography too big for a tiny run is
scaled down by its number of counties). Cases run in worker processes (forked from this one) with a
per-case timeout and a memory limit. A case is:

- refused: ConfigError (counted separately if a problem has no line: a key missing everywhere);
- accepted: validated and ran, no NaN/inf in the county tallies or in any populated cell;
- traceback: any other exception, a NaN in the results, or a worker that died;
- hang: over the timeout.

The figures are printed at the end with each traceback's and hang's case (re-run one case with
``--only N``; its files are kept under ``--keep``).
"""

from __future__ import annotations

import argparse
import collections
import copy
import math
import multiprocessing as mp
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from multiprocessing.connection import wait
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGS = ROOT / "configs"
TINY = {
    "geography": {"scope": "province", "counties": 3, "townships_per_county": 6},
    "pilot": {"counties": 1, "selection": "random"},
    "timeline": {"spin_up_months": 2, "end": "2023-08",
                 "phases": {"baseline": "2023-01", "pilot": "2023-03", "rollout": "2023-05", "consolidation": "2023-07"}},
}
RUN_AGENTS_MAX = 300_000  # accepted configs bigger than this run with fewer counties
KINDS = {"leaves": 30, "valid": 25, "flat": 15, "unknown": 5, "tags": 5, "bomb": 6, "deep": 6, "text": 15, "extends": 8}


class Raw(str):
    """A YAML snippet written as is (not quoted) in place of a value."""


# --------------------------------------------------------------------------- config data


def deep_update(base: dict, changes: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def leaves(data, prefix=()) -> list[tuple]:
    """Key paths of the scalar values of a nested mapping."""
    out = []
    for key, value in data.items():
        path = prefix + (key,)
        if isinstance(value, dict):
            out.extend(leaves(value, path))
        else:
            out.append(path)
    return out


def mappings(data, prefix=()) -> list[tuple]:
    out = [prefix]
    for key, value in data.items():
        if isinstance(value, dict):
            out.extend(mappings(value, prefix + (key,)))
    return out


def get(data, path):
    for key in path:
        data = data[key]
    return data


def set_path(data: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        data = data[key]
    data[path[-1]] = value


def nested(path: tuple, value) -> dict:
    out = value
    for key in reversed(path):
        out = {key: out}
    return out


def dump(data: dict) -> str:
    """YAML text of ``data``; ``Raw`` values are written verbatim."""
    raws: dict[str, str] = {}

    def swap(node):
        if isinstance(node, Raw):
            token = f"RAWTOKEN{len(raws)}X"
            raws[token] = str(node)
            return token
        if isinstance(node, dict):
            return {k: swap(v) for k, v in node.items()}
        if isinstance(node, list):
            return [swap(v) for v in node]
        return node

    text = yaml.safe_dump(swap(data), sort_keys=False, allow_unicode=True, width=10_000)
    for token, raw in raws.items():
        text = text.replace(token, raw)
    return text


# --------------------------------------------------------------------------- mutations

STRING_CHOICES = {"scope": ["county", "province", "national", "city"], "selection": ["random", "good_base", "best"],
                  "engine": ["columnar", "agents", "gpu"]}
RAW_VALUES = ["!!float .nan", "!!float .inf", "1e400", "-1e400", "0x1F", "0o17", "1_000", "12:30", ".5", "+.inf",
              "2024-01-01", "2024-01-01 10:00:00", "!!str 1", "!!int 3", "!!bool yes", "yes", "off", "~", "[]", "{}",
              "!!python/object/apply:os.system [echo hi]", "!!binary aGk=", "!!set {a, b}", "!!omap [{a: 1}]",
              "!custom 1", "&x 1", "'1'", '"\\x00"', "!!int abc", "!!float x"]


def random_month(rng: random.Random) -> str:
    year = rng.choice([2022, 2023, 2024, 2025, 2027, 2030, 2031, 1899, 1900, 2200, 2201, 2262, 2263, 3000, 1, 9999])
    month = rng.choice([1, 1, 3, 6, 12, 0, 13])
    return f"{year:04d}-{month:02d}"


def mutate_value(rng: random.Random, path: tuple, old):
    """A new value for the leaf at ``path`` (whose value is ``old``)."""
    key = path[-1]
    roll = rng.random()
    if isinstance(old, str) and roll < 0.6:
        if key in STRING_CHOICES:
            return rng.choice(STRING_CHOICES[key])
        if len(old) == 7 and old[4] == "-":  # a month
            return random_month(rng)
        return rng.choice(["", "x", old + "!", "ünïcødé 漢字", "a" * 5000, old.upper()])
    number = old if isinstance(old, (int, float)) and not isinstance(old, bool) else 1.0
    plausible = [
        lambda: number * rng.uniform(0, 3),
        lambda: number * 10 ** rng.uniform(-3, 3),
        lambda: rng.uniform(0, 1),
        lambda: round(number * rng.uniform(0, 3)),
        lambda: number + rng.choice([-1, 1]) * rng.choice([1, 0.5, 1e-9]),
        lambda: rng.uniform(-100, 100),
        lambda: rng.choice([0, 1, 0.0, 1.0, 1e-300, 5e-324, 1 - 1e-16]),
        lambda: float(number) if isinstance(number, int) else int(number),
    ]
    wild = [
        lambda: math.nan, lambda: math.inf, lambda: -math.inf,
        lambda: -abs(number) if number else -1.0,
        lambda: rng.choice([1e12, 1e300, 1.7e308, 10 ** 30, 2 ** 63, 2 ** 64, -(2 ** 63) - 1]),
        lambda: rng.choice([True, False]),
        lambda: rng.choice(["abc", "1.5", "", "nan", "inf", " 1 ", "1,5", "1e3", "0x10"]),
        lambda: rng.choice([-1, 1]) * 10 ** rng.uniform(-9, 12),
        lambda: None, lambda: [number], lambda: {"x": number}, lambda: [],
        lambda: Raw(rng.choice(RAW_VALUES)),
    ]
    return rng.choice(plausible if roll < 0.5 else wild)()


def leaf_changes(rng: random.Random, resolved: dict, count: int) -> dict:
    changes: dict = {}
    paths = leaves(resolved)
    numeric = [p for p in paths if isinstance(get(resolved, p), (int, float))]
    for _ in range(count):
        path = rng.choice(numeric if rng.random() < 0.8 else paths)
        if path[0] == "levers" and len(path) >= 3 and path[2] == "values" and rng.random() < 0.25:
            # a new key for a lever's values: a phase, a month or a wrong key
            path = path[:3] + (rng.choice(["pilot", "rollout", "consolidation", "2025-06", "2031-01", "1999-12",
                                           "2024-13", "later", "2024-1", 2025]),)
            old = 0.5
        else:
            old = get(resolved, path)
        set_path(changes, path, mutate_value(rng, path, old))
    return changes


def typo(rng: random.Random, key: str) -> str:
    if not key:
        return "x"
    i = rng.randrange(len(key))
    return rng.choice([key[:i] + key[i + 1:], key[:i] + "x" + key[i:], key.upper() + "_", key + "s", key + "-"])


def declared_bounds(path: tuple) -> tuple[float, float, bool] | None:
    """(low, high, integer) the schema declares for the number at ``path``, or None."""
    import typing

    from pydantic import BaseModel

    from sim.config.schema import LEVERS, Scenario

    if path[0] == "levers":
        _, low, high, _ = LEVERS[path[1]]
        return float(low), float(high), False
    model, info = Scenario, None
    for key in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or key not in model.model_fields:
            return None
        info = model.model_fields[key]
        model = info.annotation
        while typing.get_origin(model) is typing.Annotated:
            model = typing.get_args(model)[0]
    low, high = -1e6, 1e6
    for m in info.metadata:
        for name, side in (("ge", "low"), ("gt", "low"), ("le", "high"), ("lt", "high")):
            value = getattr(m, name, None)
            if value is not None:
                if side == "low":
                    low = float(value) + (1e-9 if name == "gt" else 0)
                else:
                    high = float(value) - (1e-9 if name == "lt" else 0)
    return low, high, model is int


def valid_changes(rng: random.Random, resolved: dict, count: int) -> dict:
    changes: dict = {}
    numeric = [p for p in leaves(resolved) if isinstance(get(resolved, p), (int, float))
               and not isinstance(get(resolved, p), bool)]
    for _ in range(count):
        path = rng.choice(numeric)
        bounds = declared_bounds(path)
        if bounds is None:
            continue
        low, high, integer = bounds
        old = get(resolved, path)
        value = rng.choice([
            low, high, low, high, rng.uniform(low, high), old * rng.uniform(0.5, 1.5),
            low + (high - low) * rng.random() ** 4, high - (high - low) * rng.random() ** 4,
        ])
        value = min(max(value, low), high)
        set_path(changes, path, int(round(value)) if integer else value)
    return changes


def bomb_text(rng: random.Random) -> str:
    width, levels = rng.randint(5, 10), rng.randint(6, 12)
    style = rng.choice(["list", "map", "merge"])
    lines = []
    for level in range(levels):
        if level == 0:
            body = "[" + ", ".join(['"lol"'] * width) + "]" if style == "list" else \
                "{" + ", ".join(f"k{i}: lol" for i in range(width)) + "}"
        elif style == "list":
            body = "[" + ", ".join([f"*a{level - 1}"] * width) + "]"
        elif style == "map":
            body = "{" + ", ".join(f"k{i}: *a{level - 1}" for i in range(width)) + "}"
        else:  # merge keys: each level merges the previous level under new keys
            body = "{" + ", ".join(f"k{i}: {{<<: *a{level - 1}, z{i}: 1}}" for i in range(width)) + "}"
        lines.append(f"  a{level}: &a{level} {body}")
    return "\n".join(lines) + "\n"


def deep_text(rng: random.Random, depth: int) -> str:
    style = rng.choice(["flow_list", "flow_map", "block_map", "block_list", "alias_chain"])
    if style == "flow_list":
        return "[" * depth + "1" + "]" * depth
    if style == "flow_map":
        return "{a: " * depth + "1" + "}" * depth
    if style == "block_map":
        return "\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "x"
    if style == "block_list":
        return "\n" + "".join("  " * (i + 1) + "-\n" for i in range(depth)) + "  " * (depth + 1) + "x"
    return None  # alias_chain: handled by the caller


def text_edits(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(["insert", "delete", "dup", "swap", "indent", "truncate"])
        i = rng.randrange(len(lines))
        line = lines[i]
        if op == "insert":
            j = rng.randint(0, len(line))
            lines[i] = line[:j] + rng.choice([":", "-", "[", "{", "]", "}", "&", "*", "!", "\t", "'", '"', "#", "?",
                                              "|", ">", "%", "@", "`", "\x00", "\x85", "\ufeff", ": x", ", "]) + line[j:]
        elif op == "delete" and line:
            j = rng.randrange(len(line))
            lines[i] = line[:j] + line[j + 1:]
        elif op == "dup":
            lines.insert(i, line)
        elif op == "swap" and len(lines) > 1:
            k = rng.randrange(len(lines))
            lines[i], lines[k] = lines[k], lines[i]
        elif op == "indent":
            lines[i] = rng.choice(["  ", " ", "\t"]) + line
        elif op == "truncate":
            lines = lines[: i + 1]
    return "\n".join(lines)


def make_case(seed: int, index: int, bases: list[Path], resolved_of) -> dict:
    """Files for case ``index`` (deterministic in seed and index): {'kind', 'base', 'files': {name: text}}."""
    rng = random.Random(f"{seed}:{index}")
    kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
    base = rng.choice(bases)
    resolved = resolved_of(base)
    head = {"extends": str(base)}
    case = {"kind": kind, "base": str(base.relative_to(ROOT)), "files": {}}
    files = case["files"]
    if kind == "leaves":
        changes = leaf_changes(rng, resolved, rng.choice([1, 1, 1, 2, 3, 5]))
        files["case.yaml"] = dump({**head, **deep_update(TINY, changes)})
        case["changes"] = repr(changes)[:300]
    elif kind == "valid":
        changes = valid_changes(rng, resolved, rng.choice([1, 2, 3, 4, 6, 8]))
        if rng.random() < 0.1:  # the per-agent engine follows the same rules: it should survive them too
            changes["engine"] = "agents"
        files["case.yaml"] = dump({**head, **deep_update(TINY, changes)})
        case["changes"] = repr(changes)[:300]
    elif kind == "flat":
        data = deep_update(resolved, TINY)
        notes = []
        for _ in range(rng.choice([1, 2, 3])):
            op = rng.choice(["set", "set", "delete", "unknown", "scalar"])
            if op == "set":
                changes = leaf_changes(rng, data, 1)
                data = deep_update(data, changes)
                notes.append(f"set {changes!r}"[:120])
            elif op == "delete":
                path = rng.choice(leaves(data) + mappings(data)[1:])
                parent = get(data, path[:-1])
                parent.pop(path[-1], None)
                notes.append(f"delete {path}")
            elif op == "unknown":
                path = rng.choice(mappings(data))
                node = get(data, path)
                key = typo(rng, rng.choice(list(node) or ["x"])) if rng.random() < 0.7 else rng.choice(
                    ["x", "", "null", "1", "true", "name ", "ÿ"])
                node[key] = rng.choice([1, "a", None, {"a": 1}])
                notes.append(f"add {path + (key,)}")
            else:
                path = rng.choice(mappings(data)[1:])
                set_path(data, path, mutate_value(rng, path, 1.0))
                notes.append(f"replace mapping {path}")
        files["case.yaml"] = dump(data)
        case["changes"] = "; ".join(notes)[:300]
    elif kind == "unknown":
        path = rng.choice(mappings(resolved))
        node = get(resolved, path)
        key = typo(rng, str(rng.choice(list(node)))) if node and rng.random() < 0.7 else rng.choice(
            ["x", "yes", "on", "1", "2024-01", "labels_", "extends_"])
        files["case.yaml"] = dump({**head, **deep_update(TINY, nested(path + (key,), 1))})
        if rng.random() < 0.3:  # a key YAML reads as a boolean or number
            files["case.yaml"] += rng.choice(["yes: 1\n", "1: x\n", "on: true\n", "? [a, b]\n: 1\n", "null: 1\n"])
        case["changes"] = f"unknown key {path + (key,)}"
    elif kind == "tags":
        path = rng.choice(leaves(resolved))
        raw = rng.choice([r for r in RAW_VALUES if r.startswith("!")] + ["!!map {}", "!!seq []", "!!null ''",
                                                                         "!!timestamp 2024-01-01", "!!float 1"])
        files["case.yaml"] = dump({**head, **deep_update(TINY, nested(path, Raw(raw)))})
        case["changes"] = f"{path}: {raw}"
    elif kind == "bomb":
        where = rng.choice(["anchors", "description", "labels", "levers"])
        text = dump({**head, **TINY}) + ("x-anchors:\n" if where == "anchors" else f"{where}:\n") + bomb_text(rng)
        files["case.yaml"] = text
        case["changes"] = f"alias bomb under {where}"
    elif kind == "deep":
        depth = rng.choice([90, 99, 100, 101, 150, 500, 1000, 5000])
        key = rng.choice(["description", "x", "levers", "name"])
        body = deep_text(rng, depth)
        text = dump({**head, **TINY})
        if body is None:  # a chain of anchors each holding the previous one: deep once expanded
            text += "x-chain:\n" + "".join(f"  a{i}: &a{i} [{'*a' + str(i - 1) if i else 1}]\n" for i in range(depth))
        else:
            text += f"{key}: {body}\n"
        files["case.yaml"] = text
        case["changes"] = f"nesting {depth} deep at {key}"
    elif kind == "text":
        source = dump({**head, **deep_update(TINY, leaf_changes(rng, resolved, 1))}) if rng.random() < 0.6 else \
            dump(deep_update(resolved, TINY))
        files["case.yaml"] = text_edits(rng, source)
        case["changes"] = "text edits"
    else:  # extends
        op = rng.choice(["missing", "self", "cycle", "chain", "fanout", "odd", "dir", "empty", "list"])
        body = dump(TINY)
        if op == "missing":
            files["case.yaml"] = "extends: nowhere.yaml\n" + body
        elif op == "self":
            files["case.yaml"] = "extends: case.yaml\n" + body
        elif op == "cycle":
            files["case.yaml"] = "extends: other.yaml\n" + body
            files["other.yaml"] = "extends: case.yaml\nname: other\n"
        elif op == "chain":
            n = rng.choice([10, 49, 50, 51, 60, 200])
            files["case.yaml"] = "extends: c1.yaml\n" + body
            for i in range(1, n):
                files[f"c{i}.yaml"] = f"extends: c{i + 1}.yaml\n"
            files[f"c{n}.yaml"] = f"extends: {base}\n"
        elif op == "fanout":
            n = rng.choice([5, 20])
            files["case.yaml"] = "extends: [" + ", ".join(["f1.yaml"] * 3) + f", {base}]\n" + body
            for i in range(1, n):
                files[f"f{i}.yaml"] = "extends: [" + ", ".join([f"f{i + 1}.yaml"] * 3) + "]\n"
            files[f"f{n}.yaml"] = "name: leaf\n"
        elif op == "odd":
            files["case.yaml"] = f"extends: {rng.choice(['[1, 2]', '{a: 1}', '123', 'true', '~', '[~]', '['])}\n" + body
        elif op == "dir":
            files["case.yaml"] = "extends: .\n" + body
        elif op == "empty":
            files["case.yaml"] = f"extends: empty.yaml\n" + body
            files["empty.yaml"] = rng.choice(["", "---\n", "# nothing\n", "[]\n", "1\n"])
        else:
            files["case.yaml"] = f"extends: [{base}, {base}]\n" + body
        case["changes"] = f"extends {op}"
    return case


# --------------------------------------------------------------------------- running one case


def check_series(model) -> str | None:
    """None if the run's record is clean: finite tallies, finite values in every populated cell."""
    import numpy as np

    from sim.model.metrics import cell_values
    from sim.model.model import cell_membership

    num, den = model.county_num, model.county_den
    if not np.isfinite(num).all() or not np.isfinite(den).all():
        bad = sorted({model_metric(k) for k in np.argwhere(~np.isfinite(num) | ~np.isfinite(den))[:, 1]})
        return f"non-finite county tallies in {', '.join(bad)}"
    membership = cell_membership(model.places.county_region, model.pilot)
    # a cell with counties, whether or not a metric has a denominator there (a zero denominator has the
    # metric's `empty` value of sim/registry/metrics.yaml)
    populated = np.broadcast_to(membership.sum(axis=1) > 0, (num.shape[1], membership.shape[0]))
    for month, (n, d) in enumerate(zip(num, den)):
        values = cell_values(n, d, membership)
        bad = populated & ~np.isfinite(values)
        if bad.any():
            metrics = sorted({model_metric(k) for k in np.argwhere(bad)[:, 0]})
            return f"NaN in populated cells (recorded month {month}): {', '.join(metrics)}"
    for part in (getattr(model, name, None) for name in ("cadres", "residents", "departments")):
        for name, value in vars(part).items() if part is not None else ():
            arrays = value.items() if isinstance(value, dict) else [("", value)]
            for key, array in arrays:
                if not isinstance(array, np.ndarray) or array.dtype.kind != "f":
                    continue
                bad = ~np.isfinite(array)
                if name == "intention":  # NaN until a newcomer's first month: this month's hires
                    bad &= ~part.month_hires
                if bad.any():
                    return f"non-finite state {type(part).__name__}.{name}{'.' + key if key else ''}: {bad.sum()} rows"
    series = model.series()  # the tidy table too (dates, phases)
    if len(series) == 0:
        return "empty series"
    return None


def model_metric(k: int) -> str:
    from sim.model.metrics import METRIC_NAMES

    return METRIC_NAMES[int(k)]


def run_case(case: dict, folder: Path) -> tuple[str, str, dict]:
    """(category, detail, flags) for one case, its files written under ``folder``."""
    from sim.config import ConfigError, load_scenario, scenario_from_dict
    from sim.config.schema import expected_agents
    from sim.run import model_class

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in case["files"].items():
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "case.yaml"
    flags: dict = {}
    try:
        loaded = load_scenario(path)
    except ConfigError as exc:
        lineless = [str(p) for p in exc.problems if p.location.line is None]
        if lineless:
            flags["no_line"] = lineless[0][:200]
        return "refused", str(exc).split("\n")[1][:200] if exc.problems else str(exc), flags
    except Exception:
        return "traceback", traceback.format_exc(), flags
    try:
        scenario = loaded.scenario
        posts, residents = expected_agents(scenario.geography)
        if posts + residents > RUN_AGENTS_MAX:
            g = scenario.geography
            counties = max(1, int(g.counties * RUN_AGENTS_MAX / (posts + residents)))
            resolved = copy.deepcopy(loaded.resolved)
            resolved["geography"]["counties"] = counties
            resolved["pilot"]["counties"] = min(resolved["pilot"]["counties"], counties)
            scenario = scenario_from_dict(resolved)
            flags["shrunk"] = f"{g.counties} -> {counties} counties"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            model = model_class(scenario.engine)(scenario, seed=0, replicate=0).run()
        runtime = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        if runtime:
            flags["warnings"] = runtime[0][:150]
        problem = check_series(model)
        if problem:
            return "traceback", problem, flags
        return "accepted", "", flags
    except Exception:
        return "traceback", traceback.format_exc(), flags


def worker(conn, memory_gb: float) -> None:
    limit = int(memory_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        message = conn.recv()
        if message is None:
            return
        case, folder = message
        try:
            result = run_case(case, Path(folder))
        except BaseException:  # MemoryError while reporting, ...
            result = ("traceback", traceback.format_exc()[-2000:], {})
        conn.send(result)


# --------------------------------------------------------------------------- driving


class Worker:
    def __init__(self, context, memory_gb: float):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=worker, args=(child, memory_gb), daemon=True)
        self.process.start()
        child.close()
        self.case = None
        self.started = 0.0

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-gb", type=float, default=4.0, help="address-space limit of each worker")
    parser.add_argument("--only", type=int, nargs="*", help="run only these case numbers")
    parser.add_argument("--keep", default=None, help="folder for the files of failing cases (default: a temp dir)")
    parser.add_argument("--show", type=int, default=10, help="tracebacks and hangs to print in full")
    args = parser.parse_args(argv)

    # import once here: forked workers inherit the loaded modules
    from sim.config import load_scenario
    import sim.run  # noqa: F401
    import sim.model.reference  # noqa: F401

    bases = sorted(CONFIGS.glob("*.yaml")) + sorted((CONFIGS / "designs").glob("*.yaml"))
    cache: dict = {}

    def resolved_of(base: Path) -> dict:
        if base not in cache:
            cache[base] = load_scenario(base).resolved
        return copy.deepcopy(cache[base])

    indices = args.only if args.only else list(range(args.cases))
    work = tempfile.mkdtemp(prefix="fuzz_configs_")
    keep = Path(args.keep) if args.keep else Path(work) / "kept"
    context = mp.get_context("fork")
    workers = [Worker(context, args.memory_gb) for _ in range(max(1, args.workers))]
    pending = collections.deque(indices)
    results: dict[int, tuple] = {}
    cases: dict[int, dict] = {}
    started = time.time()

    def finish(w: Worker, result: tuple) -> None:
        index = w.case
        results[index] = result
        w.case = None
        if result[0] in ("traceback", "hang"):
            folder = keep / f"case{index}"
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in cases[index]["files"].items():
                (folder / name).write_text(text, encoding="utf-8")
        done = len(results)
        if done % 100 == 0 or done == len(indices):
            counts = collections.Counter(r[0] for r in results.values())
            print(f"  {done}/{len(indices)} cases, {time.time() - started:.0f} s: {dict(counts)}", flush=True)

    while pending or any(w.case is not None for w in workers):
        for w in workers:
            if w.case is None and pending:
                index = pending.popleft()
                cases[index] = make_case(args.seed, index, bases, resolved_of)
                w.case, w.started = index, time.time()
                w.conn.send((cases[index], os.path.join(work, f"case{index}")))
        busy = [w for w in workers if w.case is not None]
        ready = wait([w.conn for w in busy], timeout=0.5)
        for i, w in enumerate(workers):
            if w.case is None:
                continue
            if w.conn in ready:
                try:
                    result = w.conn.recv()
                except (EOFError, OSError):
                    code = w.process.exitcode
                    result = ("traceback", f"worker died (exit code {code}; killed by the memory limit?)", {})
                    w.kill()
                    index = w.case
                    workers[i] = Worker(context, args.memory_gb)
                    workers[i].case = index
                    w = workers[i]
                finish(w, result)
            elif time.time() - w.started > args.timeout:
                index = w.case
                w.kill()
                workers[i] = Worker(context, args.memory_gb)
                workers[i].case = index
                finish(workers[i], ("hang", f"over {args.timeout:g} s", {}))
    for w in workers:
        w.conn.send(None)
        w.process.join(timeout=5)

    counts = collections.Counter(r[0] for r in results.values())
    no_line = sum(1 for r in results.values() if r[0] == "refused" and "no_line" in r[2])
    shrunk = sum(1 for r in results.values() if r[0] == "accepted" and "shrunk" in r[2])
    warned = sum(1 for r in results.values() if r[0] == "accepted" and "warnings" in r[2])
    by_kind: dict = collections.defaultdict(collections.Counter)
    for index, r in results.items():
        by_kind[cases[index]["kind"]][r[0]] += 1
    print(f"\nfuzz_configs: seed {args.seed}, {len(results)} cases in {time.time() - started:.0f} s "
          f"({len(workers)} workers, timeout {args.timeout:g} s)")
    print(f"cases:       {len(results)}")
    print(f"refused:     {counts['refused']}  (of which a problem without a line: {no_line})")
    print(f"accepted:    {counts['accepted']}  (ran clean; {shrunk} with fewer counties, {warned} with numpy warnings)")
    print(f"tracebacks:  {counts['traceback']}")
    print(f"hangs:       {counts['hang']}")
    print("by kind:     " + "; ".join(f"{k} {dict(v)}" for k, v in sorted(by_kind.items())))
    shown = 0
    for index in sorted(results):
        category, detail, flags = results[index]
        if category in ("traceback", "hang"):
            if shown < args.show:
                c = cases[index]
                print(f"\n--- case {index} ({category}): {c['kind']} on {c['base']}: {c.get('changes', '')}")
                print(f"    files: {keep / f'case{index}'}; re-run: python benchmarks/fuzz_configs.py "
                      f"--seed {args.seed} --only {index}")
                print("    " + detail.strip().replace("\n", "\n    ")[-3000:])
            shown += 1
    examples = [(i, r[2]["no_line"]) for i, r in sorted(results.items()) if r[0] == "refused" and "no_line" in r[2]]
    if examples:
        print("\nrefused with a problem without a line (keys missing everywhere), e.g.:")
        for index, text in examples[:3]:
            print(f"    case {index}: {text}")
    warned_examples = [(i, r[2]["warnings"]) for i, r in sorted(results.items())
                       if r[0] == "accepted" and "warnings" in r[2]]
    if warned_examples:
        print("\naccepted, with numpy warnings, e.g.:")
        for index, text in warned_examples[:5]:
            print(f"    case {index} ({cases[index].get('changes', '')[:100]}): {text}")
    if not args.keep:
        kept = keep.exists()
        for child in Path(work).iterdir():
            if child != keep:
                shutil.rmtree(child, ignore_errors=True)
        if not kept:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if counts["traceback"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
