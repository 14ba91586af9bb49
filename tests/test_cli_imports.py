"""`grassroots --help`, `grassroots COMMAND --help` and `import sim` load none of the heavy libraries, so they
answer at once. Each check runs in a fresh interpreter and reads its ``sys.modules``: an eager import of
numpy, pandas, matplotlib, Mesa, Dask, SciPy or pydantic anywhere on the way makes it fail."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import ROOT

HEAVY = {"numpy", "pandas", "matplotlib", "seaborn", "mesa", "dask", "distributed", "scipy", "pydantic", "SALib"}

PROBE = """
import sys
{prelude}
from sim.cli import main
for args in [["--help"], ["--version"]] + [[name, "--help"] for name in sorted(main.commands)]:
    try:
        main(args, prog_name="grassroots")
    except SystemExit as exc:
        assert exc.code in (0, None), (args, exc.code)
print(" ".join(sorted(main.commands)))
print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def loaded_after(code: str) -> tuple[list[str], set[str]]:
    """Run ``code`` in a fresh interpreter; its last two lines of output: the commands and the top-level
    modules loaded."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    *_, commands, modules = done.stdout.strip().splitlines()
    return commands.split(), set(modules.split())


def test_help_of_every_command_loads_nothing_heavy():
    commands, modules = loaded_after(PROBE.format(prelude=""))
    assert {"run", "compare", "report", "sweep", "analyze", "validate", "calibrate", "patterns",
            "evaluate-pilot"} <= set(commands)
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_the_probe_sees_a_heavy_import():
    """The check above can fail: an eager import on the way to the help text is seen."""
    _, modules = loaded_after(PROBE.format(prelude="import numpy"))
    assert "numpy" in modules


def test_import_sim_is_cheap_and_its_names_still_work():
    code = ("import sys, sim\nheavy = sorted({n.split('.')[0] for n in sys.modules})\n"
            "from sim import GrassrootsModel, load_scenario, run_scenarios, ConfigError\n"
            "assert GrassrootsModel.__name__ == 'GrassrootsModel' and callable(load_scenario)\n"
            "assert sim.__version__ and 'GrassrootsModel' in dir(sim)\n"
            "print('ok')\nprint(' '.join(heavy))\n")
    first, modules = loaded_after(code)
    assert first == ["ok"]
    assert not modules & HEAVY, sorted(modules & HEAVY)
