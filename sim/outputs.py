"""A run's results on disk: what ``grassroots run`` writes, for notebooks too.

:func:`run_and_write` runs scenarios (as :func:`sim.run.run_scenarios` does) and writes ``series.parquet``,
``counties.parquet`` (every metric by named county and year), ``manifest.json`` and ``headline.png`` into a folder as one set (:func:`sim.store.write_run`: all of them or
none); :func:`write_run_outputs` writes that set for a result already in hand.
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

from .run import RunResult, run_scenarios
from .store import check_writable, write_run

HEADLINE_FIGURE = "headline.png"
HEADLINE_DPI = 200


def write_run_outputs(out: str | Path, result: RunResult, figure: bool = True) -> Path:
    """Write ``series.parquet``, ``manifest.json``, ``counties.parquet`` (when the result has its table by
    county) and (``figure``) ``headline.png`` into ``out`` as one set; returns the folder. The figure is
    :func:`sim.figures.headline_figure` at 200 dpi; the style it sets does not outlive the call."""
    from .counties import COUNTIES

    extra = {}
    if result.counties is not None:
        extra[COUNTIES] = lambda path: result.counties.to_parquet(path, index=False)
    if not figure:
        return write_run(out, result.series, result.manifest, extra=extra)
    import matplotlib.pyplot as plt

    from .figures import headline_figure

    with plt.rc_context():
        fig = headline_figure(result.series, result.manifest)
        try:
            extra[HEADLINE_FIGURE] = lambda path: fig.savefig(path, dpi=HEADLINE_DPI, format="png")
            return write_run(out, result.series, result.manifest, extra=extra)
        finally:
            plt.close(fig)


def run_and_write(loaded: list, replicates: int, out: str | Path, seed: int = 0, workers: int = 1,
                  progress: bool = False, executor: Executor | None = None, blocks: int = 1,
                  engine: str | None = None, dask: str | None = None, figure: bool = True,
                  draws=None) -> RunResult:
    """Run the scenarios (``LoadedScenario`` or ``Scenario``; arguments as :func:`sim.run.run_scenarios`) and
    write their results into ``out`` (:func:`write_run_outputs`, with the table by county); returns the result.
    ``draws`` (parameter sets, ``sim.posterior.ensemble_draws``) runs ``replicates`` per parameter set.

    Refused before anything runs (a ``ValueError`` or ``OSError``): two scenarios with one name, or an ``out``
    that cannot be written (read-only, full, a file in the way)."""
    from .compare import design_names

    design_names(loaded)  # two configs with one scenario name: refused, naming the files
    check_writable(out)  # a read-only or full folder is found now, not after the run
    result = run_scenarios(loaded, replicates, seed=seed, workers=workers, progress=progress, executor=executor,
                           blocks=blocks, engine=engine, dask=dask, by_county=True, draws=draws)
    write_run_outputs(out, result, figure=figure)
    return result
