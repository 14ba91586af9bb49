"""grassroots: an agent-based simulation of the grassroots governance reform.

Cadres, residents and county departments under the reform's inspection load,
incentives and devolution of authority, month by month from 2023 to 2030.

    from sim import load_scenario, GrassrootsModel, run_scenarios
    model = GrassrootsModel(load_scenario("configs/plan.yaml").scenario, seed=0).run()
    model.series()  # tidy table: date, region, group, metric, value
    GrassrootsModel("configs/county.yaml", rng=1, levers__councils__values__rollout=0.9)  # Mesa-native

The names above are imported when first used, so that ``import sim`` (and ``grassroots --help``) does not
load numpy, pandas or Mesa.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# name -> the module that defines it
_HOMES = {"ConfigError": ".config", "load_scenario": ".config", "GrassrootsModel": ".model.model",
          "run_scenarios": ".run"}

__all__ = ["ConfigError", "GrassrootsModel", "__version__", "load_scenario", "run_scenarios"]

if TYPE_CHECKING:  # for type checkers and IDEs; at run time these come from __getattr__
    from .config import ConfigError, load_scenario
    from .model.model import GrassrootsModel
    from .run import run_scenarios


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("grassroots")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "0.0.0+unknown"


def __getattr__(name: str):
    """Import ``sim.GrassrootsModel`` and the other public names on first use (PEP 562)."""
    if name == "__version__":
        value = _version()
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES) | {"__version__"})
