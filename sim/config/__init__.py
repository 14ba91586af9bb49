"""Scenario configs: the schema (what may be said) and loading (files, extends, errors).

``load_scenario(path)`` reads a YAML scenario safely, resolves ``extends:``,
validates it and returns a ``LoadedScenario``; any problem raises
``ConfigError`` naming the file, the key path and the line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .loader import ConfigError, load
from .schema import Scenario, lever_defaults

__all__ = ["ConfigError", "LoadedScenario", "Scenario", "load_scenario", "scenario_from_dict", "config_hash",
           "set_paths", "scenario_of"]


def config_hash(resolved: dict) -> str:
    """A stable hash of a resolved config (key order does not matter). Display text (``labels``,
    ``description``) is left out: it names and describes a design and does not change what it simulates."""
    content = {k: v for k, v in resolved.items() if k not in ("labels", "description")}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    resolved: dict  # the merged config, as plain data (for manifests)
    files: tuple[str, ...]  # the files it was built from, parents first
    path: str

    @property
    def hash(self) -> str:
        return config_hash(self.resolved)


def load_scenario(path: str | Path) -> LoadedScenario:
    scenario, resolved, files = load(str(path), Scenario, base=lever_defaults(),  # levers start at their 2023 values
                                     prepare=_read_county_table)
    return LoadedScenario(scenario, resolved, tuple(str(f) for f in files), str(path))


def _read_county_table(data: dict, provenance, root: str) -> dict:
    """``geography.table: path`` (relative to the file that writes it) read into the config itself: the
    table's rows and SHA-256, so that the resolved config, and its hash, hold the table's content. The
    table file joins the config's files (before the requested config, which stays last). A bad table raises ConfigError naming its file, line and column."""
    from .loader import Location, Problem, _display_path
    from .schema import MAX_AGENTS, apply_table
    from .table import read_county_table

    geography = data.get("geography")
    if not isinstance(geography, dict) or not isinstance(geography.get("table"), str):
        return data  # no table, or not a path: the schema says what is wrong
    written = geography["table"]
    where = provenance.get(("geography", "table"), Location(root))
    target = Path(where.file).parent / written
    display = _display_path(target)
    if not target.is_file():
        what = "is a directory, not a county table" if target.is_dir() else f"county table {display} not found"
        raise ConfigError(root, [Problem(where, ("geography", "table"), what)])
    sample = geography.get("resident_sample_per_committee")
    limit = (sample, MAX_AGENTS) if isinstance(sample, int) and not isinstance(sample, bool) and sample > 0 else None
    try:
        rows, digest = read_county_table(target, display, max_agents=limit)
    except ConfigError as exc:
        raise ConfigError(root, exc.problems) from None
    provenance.files.insert(len(provenance.files) - 1, display)  # the requested config stays last
    table = {"file": written, "sha256": digest, "counties": rows}
    return apply_table({**data, "geography": {**geography, "table": table}}, read=True)


def scenario_from_dict(data: dict) -> Scenario:
    """Validate an in-memory config (e.g. a resolved config with overrides applied)."""
    return Scenario.model_validate(data)


def set_paths(resolved: dict, values: dict) -> dict:
    """A copy of a resolved config with each dotted key path (``levers.committee_pay_ratio.values.rollout``)
    set to its value: a number (a sweep's design point) or, for a key that is not a number, a string or a
    boolean (``timeline.end='2040-12'``, ``pilot.selection='random'``), left for validation to judge.

    Every key but the last must exist; the last may be new (e.g. a lever's value for a phase the config did
    not set), and a wrong one is refused when the config is validated. A whole number set where the config
    has an integer stays an integer. A path that names a mapping or a list raises KeyError.
    """
    import copy

    config = copy.deepcopy(resolved)
    for path, value in values.items():
        *parents, leaf = path.split(".")
        node = config
        for depth, key in enumerate(parents):
            if not isinstance(node, dict) or not isinstance(node.get(key), dict):
                raise KeyError(f"'{path}': the config has no mapping at '{'.'.join(parents[:depth + 1])}'")
            node = node[key]
        old = node.get(leaf)
        if isinstance(old, (dict, list)):
            raise KeyError(f"'{path}': is a {'mapping' if isinstance(old, dict) else 'list'} in the config, "
                           "not a value a design point can set")
        if isinstance(value, (str, bool)) or value is None:
            node[leaf] = value
            continue
        value = float(value)
        integral = isinstance(old, int) and not isinstance(old, bool) and value.is_integer()
        node[leaf] = int(value) if integral else value
    return config


def scenario_of(config, overrides: dict | None = None) -> Scenario:
    """A validated Scenario from a config path, a ``LoadedScenario``, a ``Scenario`` or a resolved dict, with
    ``overrides`` (key paths with ``__`` or ``.`` between keys, e.g. ``levers__councils__values__rollout``)
    applied. Raises ConfigError for a bad file or a bad override (an unknown key, a value out of its range)."""
    if isinstance(config, (str, Path)):
        config = load_scenario(config)
    if isinstance(config, LoadedScenario):
        scenario, resolved = config.scenario, config.resolved
    elif isinstance(config, Scenario):
        scenario, resolved = config, None
    elif isinstance(config, dict):
        scenario, resolved = None, config
    else:
        raise TypeError(f"config must be a path, a LoadedScenario, a Scenario or a dict, not {type(config).__name__}")
    if not overrides:
        return scenario if scenario is not None else scenario_from_dict(resolved)
    base = resolved if resolved is not None else scenario.model_dump(mode="json")
    return _with_overrides(base, {k.replace("__", "."): v for k, v in overrides.items()})


_WHAT = "key paths given as"  # header: "invalid key paths given as overrides (1 problem):"


def _with_overrides(base: dict, values: dict) -> Scenario:
    """``base`` with the key paths set and validated; a bad path or value is a ConfigError headed "invalid
    overrides", worded as for a config file (unknown keys with "did you mean", values with their range)."""
    from .loader import Location, Problem, _unknown_key_message, validate

    where = Location("overrides")
    for path in values:
        node, keys = base, path.split(".")
        for depth, key in enumerate(keys[:-1]):
            if not isinstance(node, dict) or not isinstance(node.get(key), dict):
                allowed = list(node) if isinstance(node, dict) else None
                message = (_unknown_key_message(key, allowed) if isinstance(node, dict) and key not in node
                           else "is not a mapping in the config")
                raise ConfigError("overrides", [Problem(where, tuple(keys[:depth + 1]), message)],
                                  what=_WHAT)
            node = node[key]
    try:
        config = set_paths(base, values)
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError("overrides", [Problem(where, (), str(exc.args[0]) if exc.args else str(exc))],
                          what=_WHAT) from None
    try:
        return validate(config, {}, Scenario, root_file="overrides")
    except ConfigError as exc:
        exc.what = _WHAT
        raise exc from None
