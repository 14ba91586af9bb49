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
from .schema import Scenario

__all__ = ["ConfigError", "LoadedScenario", "Scenario", "load_scenario", "scenario_from_dict", "config_hash"]


def config_hash(resolved: dict) -> str:
    """A stable hash of a resolved config (key order does not matter). Display ``labels`` are left out:
    they name a design on figures and do not change what it simulates."""
    content = {k: v for k, v in resolved.items() if k != "labels"}
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
    scenario, resolved, files = load(str(path), Scenario)
    return LoadedScenario(scenario, resolved, tuple(str(f) for f in files), str(path))


def scenario_from_dict(data: dict) -> Scenario:
    """Validate an in-memory config (e.g. a resolved config with overrides applied)."""
    return Scenario.model_validate(data)
