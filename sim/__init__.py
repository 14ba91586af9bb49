"""grassroots: an agent-based simulation of the grassroots governance reform.

Cadres, residents and county departments under the reform's inspection load,
incentives and devolution of authority, month by month from 2023 to 2030.

    from sim import load_scenario, GrassrootsModel, run_scenarios
    model = GrassrootsModel(load_scenario("configs/plan.yaml").scenario, seed=0).run()
    model.series()  # tidy table: date, region, group, metric, value
    GrassrootsModel("configs/county.yaml", rng=1, levers__councils__values__rollout=0.9)  # Mesa-native
"""

from importlib import metadata

try:
    __version__ = metadata.version("grassroots")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from .config import ConfigError, load_scenario  # noqa: E402
from .model.model import GrassrootsModel  # noqa: E402
from .run import run_scenarios  # noqa: E402

__all__ = ["ConfigError", "GrassrootsModel", "__version__", "load_scenario", "run_scenarios"]
