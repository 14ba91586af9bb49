"""The ``grassroots`` command line: thin wrappers over library functions.

Every command parses its options, calls one library function that computes
and writes its files (a notebook user can call it too, with the same results:
``sim.outputs.run_and_write``, ``sim.compare.compare_and_write``,
``sim.report.build_report``, ``sim.experiments.run_sweep``, ...) and prints
what it returns; nothing here holds model logic or writes a file.

Importing this module loads click and nothing heavy: numpy, pandas,
matplotlib, Mesa and the config schema are imported by the command that needs
them, so ``grassroots --help`` and ``grassroots COMMAND --help`` answer at
once (tested).

Misuse never ends in a traceback: options are checked as they are parsed,
inputs before anything is computed, and a user error that a library function
raises (``ConfigError``, ``ValueError`` such as ``ResultsError`` or
``DaskUnavailable``, ``OSError``) is printed as one line with exit code 2.
Any other exception is a bug: its traceback is shown, with a request to
report it (exit code 1). ``GRASSROOTS_DEBUG=1`` shows the traceback of user
errors too.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

import click




def _load_all(paths: tuple[str, ...], counties: int | None = None):
    """The configs, loaded; with ``counties``, each with that many counties (its pilots capped to fit, a pilot
    share scaling by itself). A config that cannot be loaded, or whose geography is a county table (which
    fixes its counties), is an error in one line per file, before anything runs."""
    from .config import ConfigError, load_scenario

    loaded, errors = [], []
    for path in paths:
        try:
            loaded.append(load_scenario(path))
        except ConfigError as exc:
            spec = _looks_like_spec(path)
            errors.append(f"error: {path} is an experiment spec, not a scenario config; run it with "
                          f"`grassroots sweep {path}`" if spec else str(exc))
    if counties is not None:
        from .config import LoadedScenario, scenario_from_dict
        from .experiments import apply_point

        resized = []
        for item in loaded:
            if item.resolved.get("geography", {}).get("table"):
                errors.append(f"error: {item.path}: --counties does not apply: its geography is a county table, "
                              "which fixes the counties")
                continue
            config = apply_point(item.resolved, {}, counties)
            try:
                resized.append(LoadedScenario(scenario_from_dict(config), config, item.files, item.path))
            except Exception as exc:  # a geography the schema refuses at this size
                errors.append(f"error: {item.path} at --counties {counties}: {str(exc).splitlines()[0]}")
        loaded = resized
    if errors:
        click.echo("\n\n".join(errors), err=True)
        sys.exit(2)
    return loaded


MAX_REPLICATES = 10_000  # every replicate's series is held in memory: 10,000 of a province are ~700 M rows


def user_errors() -> tuple[type[Exception], ...]:
    """The exceptions that are the user's mistake (printed as one line, exit 2), not a bug: ``ConfigError``,
    ``ValueError`` (``ResultsError``, ``DaskUnavailable``, ...) and ``OSError``."""
    from .config import ConfigError

    return (ConfigError, ValueError, OSError)


def describe(exc: BaseException) -> str:
    """A user error as the line (or, for a config, the few lines) to print."""
    from .config import ConfigError

    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else exc.filename
        return f"error: {target}: {exc.strerror or exc}"
    return f"error: {exc}"


class _Command(click.Command):
    """A command that, once its options are parsed (``--help`` answered), runs with SIGTERM and SIGHUP
    unwinding like Ctrl-C (``sim.run.stop_on_signals``)."""

    def invoke(self, ctx: click.Context):
        from .run import stop_on_signals

        with stop_on_signals():
            return super().invoke(ctx)


class _Group(click.Group):
    """Turns a user error that escapes a command into one line on stderr (exit 2); a bug keeps its traceback."""

    command_class = _Command

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's usage errors (an unknown option or choice, a missing argument) as one line too:
        ``error: <what>`` and where to get help, instead of click's Usage / Try / Error block."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `grassroots` (click 8.2+): the help, as before
                click.echo(exc.format_message(), err=True)
                sys.exit(exc.exit_code)
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        import warnings

        from .model.threads import default_threads

        try:
            default_threads()  # a malformed $GRASSROOTS_THREADS: one line now, not a traceback mid-run
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        try:
            with warnings.catch_warnings():
                # a warning is one line for the user, not a source path and a line of our code
                warnings.showwarning = lambda message, *_, **__: click.echo(f"warning: {message}", err=True)
                return super().invoke(ctx)
        except KeyboardInterrupt as exc:  # Ctrl-C (SIGINT) or sim.run.Stopped (SIGTERM, SIGHUP)
            name = getattr(exc, "signal_name", "SIGINT")
            kept = {"sweep": "finished runs are kept: run the same command again to resume",
                    "calibrate": "nothing was written"}.get(ctx.invoked_subcommand,
                                                           "nothing was written; earlier results in --out are "
                                                           "untouched")
            click.echo(f"stopped by {name}: workers ended, no half-written file; {kept}", err=True)
            ctx.exit(130 if name == "SIGINT" else 128 + int(getattr(signal, name)))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if isinstance(exc, user_errors()):
                if os.environ.get("GRASSROOTS_DEBUG"):
                    raise
                click.echo(describe(exc), err=True)
                ctx.exit(2)
            from . import __version__

            click.echo(traceback.format_exc(), err=True, nl=False)
            click.echo(f"grassroots {__version__}: an unexpected error (a bug, not a problem with your input); "
                       "please report it with the command and the traceback above", err=True)
            ctx.exit(1)


def _dask_address(ctx, param, value):
    """--dask: 'local' or a scheduler address (tcp://HOST:PORT, ...), checked before anything is loaded."""
    if value is None:
        return None
    from .run import DaskUnavailable, check_dask_address

    try:
        return check_dask_address(value)
    except DaskUnavailable:
        raise click.BadParameter(f"{value!r} is not 'local' or a scheduler address such as tcp://HOST:8786 "
                                 "(or tls://, ucx://, ws://, wss://, inproc://)", ctx, param) from None


def _number_list(kind):
    """A click callback parsing 'a,b,c' into numbers of ``kind`` (int or float): no empty items, no words."""
    noun = "a whole number" if kind is int else "a number"

    def parse(ctx, param, value):
        if value is None:
            return None
        items = [item.strip() for item in value.split(",")]
        if not all(items):
            raise click.BadParameter(f"{value!r} has an empty item; give a comma-separated list such as "
                                     f"{'20,50' if kind is int else '0,0.6'}", ctx, param)
        numbers = []
        for item in items:
            try:
                numbers.append(kind(item))
            except ValueError:
                raise click.BadParameter(f"{item!r} is not {noun}", ctx, param) from None
        return numbers

    return parse


def _name_list(ctx, param, value):
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise click.BadParameter(f"{value!r} has an empty item; give a comma-separated list such as "
                                 "random,good_base", ctx, param)
    return items


def _as_line(message: str) -> str:
    """``error: `` before a one-line message; a config's report (a header and its problems) stays as it is."""
    return message if message.startswith("invalid ") or message.startswith("error:") else f"error: {message}"


def _spec_problem(spec: str, exc: Exception) -> str:
    """What to say when SPEC cannot be used as an experiment spec: a scenario config is named as such."""
    from .config import ConfigError, load_scenario

    if isinstance(exc, ConfigError):
        try:
            load_scenario(spec)
        except (ConfigError, ValueError, OSError):
            missing = {p.path for p in exc.problems if "required key" in p.message and len(p.path) == 1}
            if {("config",), ("design",)} <= missing:  # nothing of a spec: do not list every key it lacks
                return (f"{spec} is not an experiment spec: it has no `config:` or `design:` "
                        "(see experiments/*.yaml for examples)")
            return str(exc)
        return (f"{spec} is a scenario config, not an experiment spec (see experiments/*.yaml); "
                f"run it with `grassroots run {spec}`")
    return str(exc)


def _draw_options(command):
    """``--draws N`` and ``--posterior PATH``: run under N parameter sets of the posterior ensemble."""
    command = click.option("--posterior", default=None, type=click.Path(dir_okay=False),
                           help="the posterior ensemble (Parquet) to draw from; default: the package's "
                                "sim/data/posterior.parquet")(command)
    return click.option("--draws", default=0, show_default=True, type=click.IntRange(0),
                        help="parameter sets from the posterior ensemble, paired across designs; -n replicates "
                             "per set, so intervals include parameter uncertainty (0: parameters fixed at "
                             "their calibrated values)")(command)


def _draws_of(draws: int, posterior: str | None):
    """The first ``draws`` parameter sets of the ensemble (None for 0), checked before anything runs."""
    if not draws:
        if posterior:
            raise click.UsageError("--posterior is used with --draws N (N >= 1); give both or neither")
        return None
    from .posterior import ensemble_draws

    return ensemble_draws(draws, posterior)


def _show_version(ctx: click.Context, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from . import __version__

        click.echo(f"grassroots, version {__version__}")
        ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_show_version,
              help="Show the version and exit.")
def main() -> None:
    """grassroots: agent-based simulation of the grassroots governance reform, 2023-2030."""


@main.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(configs: tuple[str, ...]) -> None:
    """Check scenario CONFIGS or experiment specs without running anything; print each problem with file, key
    and line. A spec is checked as `grassroots sweep` checks it: its base config and every design point."""
    from .experiments import check_spec

    specs = [path for path in configs if _looks_like_spec(path)]
    loaded = _load_all(tuple(p for p in configs if p not in specs))
    for path in specs:
        summary = check_spec(path)
        click.echo(f"{path}: ok (experiment spec '{summary['name']}', {summary['kind']}: {summary['points']} "
                   f"points x {summary['replicates']} replicates = {summary['runs']} runs, on {summary['config']})")
    for ls in loaded:
        click.echo(f"{ls.path}: ok (scenario '{ls.scenario.name}', {len(ls.files)} file(s), hash {ls.hash})")


def _looks_like_spec(path: str) -> bool:
    """An experiment spec says which config it starts from and its design; a scenario config says neither."""
    from .config import ConfigError
    from .config.loader import load_yaml

    try:
        data, _ = load_yaml(path)
    except ConfigError:
        return False  # reported as the config it may be meant to be
    return "design" in data and "config" in data


@main.command()
@click.argument("configs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--replicates", "-n", default=10, show_default=True, type=click.IntRange(1, MAX_REPLICATES),
              help="replicates per scenario")
@click.option("--seed", "-s", default=0, show_default=True, type=click.IntRange(0), help="root random seed")
@click.option("--out", "-o", default="results/run", show_default=True, type=click.Path(file_okay=False),
              help="output folder (series.parquet, counties.parquet, manifest.json, headline.png)")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1), help="local processes")
@click.option("--engine", type=click.Choice(["columnar", "agents"]), default=None,
              help="override the configs' engine: columnar (fast) or agents (one mesa.Agent each)")
@click.option("--blocks", default=1, show_default=True, type=click.IntRange(1),
              help="split each replicate into this many county blocks (same answer; spreads one run over workers)")
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT", callback=_dask_address,
              help="run on Dask: a LocalCluster of --workers processes, or an existing scheduler "
                   "(reached within $GRASSROOTS_DASK_TIMEOUT s, default 10)")
@click.option("--figure/--no-figure", default=True, show_default=True, help="write headline.png")
@click.option("--by", "by", type=click.Choice(["county"]), default=None,
              help="also print the headline outcomes county by county (named as in a county table)")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.option("--counties", default=None, type=click.IntRange(1, 5000),
              help="simulate this many counties instead of the configs' own (pilots scale or are capped)")
@_draw_options
def run(configs, replicates, seed, out, workers, engine, blocks, dask, figure, by, progress, counties, draws,
        posterior) -> None:
    """Run one or more scenario CONFIGS (paired by replicate) and write tidy results to OUT: the series by
    region and group (series.parquet) and every metric by named county and year (counties.parquet)."""
    from .console import headline_text
    from .counties import format_counties
    from .outputs import run_and_write
    from .summary import HEADLINE, SUMMARY_YEARS

    loaded = _load_all(configs, counties)
    sets = _draws_of(draws, posterior)
    result = run_and_write(loaded, replicates, out, seed=seed, workers=workers, progress=progress,
                           engine=engine, blocks=blocks, dask=dask, figure=figure, draws=sets)
    click.echo(headline_text(result.series, [item.scenario.name for item in loaded]))
    if by == "county":
        click.echo("\n" + format_counties(result.counties, HEADLINE, SUMMARY_YEARS[:1] + (2027,)) + "\n")
    click.echo(f"wrote {Path(out)}/\n  series.parquet, counties.parquet, manifest.json"
               f"{', headline.png' if figure else ''} ({result.manifest['timings']['wall_seconds']:.1f} s)\n"
               f"figures and a report: grassroots report {Path(out)} [--lang zh]")


@main.command()
@click.argument("config", default="configs/defaults.yaml", type=click.Path(dir_okay=False))
@click.option("--replicates", "-n", default=4, show_default=True, type=click.IntRange(1),
              help="replicates per evaluation (the same seeds every time: common random numbers)")
@click.option("--counties", default=12, show_default=True, type=click.IntRange(1), help="counties simulated")
@click.option("--seed", "-s", default=1, show_default=True, type=click.IntRange(0))
@click.option("--max-evaluations", default=120, show_default=True, type=click.IntRange(2),
              help="budget of objective evaluations, finite-difference ones included")
@click.option("--report-replicates", default=10, show_default=True, type=click.IntRange(2))
@click.option("--workers", "-w", default=2, show_default=True, type=click.IntRange(1))
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT", callback=_dask_address,
              help="run on Dask: a LocalCluster of --workers processes, or an existing scheduler")
@click.option("--out", "-o", default="results/calibration", show_default=True, type=click.Path(file_okay=False))
@click.option("--write", "write_config", default="configs/calibrated.yaml", show_default=True,
              type=click.Path(dir_okay=False), help="where to write the calibrated config ('' to skip)")
@click.option("--report", "report_path", default="docs/calibration.md", show_default=True,
              type=click.Path(dir_okay=False), help="where to write the fit report ('' to skip)")
@click.option("--steady-years", default=20, show_default=True, type=click.IntRange(0, 20),
              help="years run to bring residents' opinions to their 2023 steady level, before and after the "
                   "fit (0: keep the config's)")
@click.option("--posterior", is_flag=True,
              help="instead of the point fit: the posterior ensemble over every prior, from the 2023 figures and "
                   "the local-reform cases (history matching, then sequential Monte Carlo on the emulators; about "
                   "30 min on 2 cores; resumable: run it again to continue)")
@click.option("--waves", default=3, show_default=True, type=click.IntRange(1, 10), help="--posterior: waves")
@click.option("--points", default="320,96", show_default=True, callback=_number_list(int),
              help="--posterior: simulations per wave (the last number repeats)")
@click.option("--draws", default=200, show_default=True, type=click.IntRange(16),
              help="--posterior: parameter sets in the ensemble")
@click.option("--predictive", default=64, show_default=True, type=click.IntRange(8),
              help="--posterior: draws simulated again for the posterior predictive check")
@click.option("--ensemble", default="sim/data/posterior.parquet", show_default=True, type=click.Path(dir_okay=False),
              help="--posterior: where to write the ensemble (its provenance goes beside it, .json)")
def calibrate(config, replicates, counties, seed, max_evaluations, report_replicates, workers, dask, out,
              write_config, report_path, steady_years, posterior, waves, points, draws, predictive, ensemble) -> None:
    """Fit the free behavioural parameters so that the 2023 baseline of CONFIG reproduces the plan's figures.

    With --posterior: the posterior ensemble of every uncertain parameter, from the 2023 figures and the local
    reform cases jointly; it is what the forecasts' --draws take (docs/calibration.md)."""
    if posterior:
        from .inference import Settings, run_posterior, write_posterior
        from .store import check_writable

        if any(p < 16 for p in points):
            raise click.BadParameter("each wave needs at least 16 simulations", param_hint="--points")
        folder = Path(out) / "posterior"
        for path in [folder, Path(ensemble).parent] + ([Path(report_path).parent] if report_path else []):
            check_writable(path)
        settings = Settings(waves=waves, points=tuple(points), draws=draws, seed=seed, counties=counties,
                            predictive=predictive)
        click.echo(f"posterior: {waves} waves of {','.join(map(str, points))} simulations, then {draws} draws "
                   f"({counties} counties, {workers} workers); parts in {folder}/parts (resumable)", err=True)
        result = run_posterior(settings, folder, workers=workers, progress=True,
                               log=lambda line: click.echo(line, err=True))
        # the out-of-sample coverage goes into validation.md beside the report (docs/validation.md by default)
        written = write_posterior(result, folder, ensemble=ensemble, report=report_path or None,
                                  validation=Path(report_path).with_name("validation.md") if report_path else None)
        c = result.checks
        click.echo(f"ensemble: {draws} draws (ESS {result.provenance['ess']:.0f}); out-of-sample checks "
                   f"{int(c['inside'].sum())} of {len(c)} inside; wrote " + ", ".join(str(p) for p in written))
        return
    from .calibrate import calibrate as fit
    from .calibrate import calibration_folders, fit_report, write_calibration
    from .store import check_writable

    loaded = _load_all((config,))[0]
    for folder in calibration_folders(out, write_config, report_path):
        check_writable(folder)  # before a fit that takes minutes, not after
    click.echo(f"calibrating {config}: {replicates} replicates x {counties} counties per evaluation", err=True)
    result = fit(loaded.resolved, replicates=replicates, counties=counties, seed=seed,
                 max_evaluations=max_evaluations, report_replicates=report_replicates, workers=workers, dask=dask,
                 steady_years=steady_years, progress=lambda runs, ssr: click.echo(f"  {runs} runs, sum of squared distances {ssr:.3f}", err=True))
    write_calibration(result, out, calibrated=write_config or None, report=report_path or None, config=config)
    click.echo(fit_report(result))
    click.echo(f"wrote {Path(out)}/ (fit.csv, parameters.csv, jacobian.csv, report.md, calibration-fit.png)"
               + (f", {write_config}" if write_config else "") + (f", {report_path}" if report_path else ""))


@main.command()
@click.option("--baseline", default="configs/baseline.yaml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--plan", default="configs/plan.yaml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--replicates", "-n", default=10, show_default=True, type=click.IntRange(2))
@click.option("--seed", "-s", default=7, show_default=True, type=click.IntRange(0))
@click.option("--workers", "-w", default=2, show_default=True, type=click.IntRange(1))
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT", callback=_dask_address,
              help="run on Dask: a LocalCluster of --workers processes, or an existing scheduler")
@click.option("--report", "report_path", default="docs/validation.md", show_default=True,
              type=click.Path(dir_okay=False))
def patterns(baseline, plan, replicates, seed, workers, dask, report_path) -> None:
    """Check the validation patterns of docs/validation-plan.md (not used in calibration); report pass or fail."""
    from .patterns import check_patterns, patterns_report

    base, reform = _load_all((baseline, plan))
    table = check_patterns(base, reform, replicates=replicates, seed=seed, workers=workers, dask=dask,
                           report=report_path or None)  # --report is checked before anything runs
    click.echo(patterns_report(table, replicates=replicates, seed=seed, baseline=baseline, plan=plan))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, exists=True))
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1))
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT", callback=_dask_address, help="run on Dask")
@click.option("--out", "-o", default="results", show_default=True, type=click.Path(file_okay=False),
              help="results go to OUT/<experiment name>/")
@click.option("--resume", is_flag=True, help="(the default) run only what is missing; kept for clarity")
@click.option("--fresh", is_flag=True,
              help="discard the runs already in OUT/<name>/ (e.g. of an earlier version of the spec) and start again")
@click.option("--progress/--no-progress", default=True, show_default=True)
@_draw_options
def sweep(spec, workers, dask, out, resume, fresh, progress, draws, posterior) -> None:
    """Run (or resume) the experiment SPEC: every design point x replicate once, streamed to Parquet parts.

    Runs are identified by what determines them; an intact part of the same run is reused, a damaged one is run
    again, and a folder holding another spec's runs is refused (naming what changed) unless --fresh is given."""
    from .config import ConfigError
    from .experiments import run_sweep

    if resume and fresh:
        raise click.UsageError("--resume and --fresh contradict each other; give one")
    sets = _draws_of(draws, posterior)
    try:
        summary = run_sweep(spec, out_root=out, workers=workers, dask=dask, progress=progress, fresh=fresh,
                            log=lambda note: click.echo(note, err=True), draws=sets)
    except (ConfigError, ValueError) as exc:
        click.echo(_as_line(_spec_problem(spec, exc)), err=True)
        sys.exit(2)
    click.echo(f"{summary['name']}: {summary['planned']} runs planned, {summary['already_done']} already done, "
               f"{summary['ran']} run now, {summary['failed']} failed -> {summary['out']}/parts/")
    if summary["failure_records"]:
        click.echo("failures (error and parameters): " + ", ".join(summary["failure_records"]))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "-o", default="results", show_default=True, type=click.Path(file_okay=False))
@click.option("--region", default="all", show_default=True, type=click.Choice(["all", "east", "central", "west"]))
def analyze(spec, out, region) -> None:
    """Sobol indices (Sobol designs), Morris mu*/sigma (Morris designs) or a summary per point (others)."""
    import pandas as pd

    from .config import ConfigError
    from .experiments import analyze_sweep

    try:
        table = analyze_sweep(spec, out_root=out, region=region)
    except (ConfigError, ValueError) as exc:
        click.echo(_as_line(_spec_problem(spec, exc)), err=True)
        sys.exit(2)
    with pd.option_context("display.max_rows", 500, "display.width", 100):
        click.echo(table.round(4).to_string(index=False))


@main.command()
@click.argument("designs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--replicates", "-n", default=10, show_default=True, type=click.IntRange(1, MAX_REPLICATES),
              help="replicates per design (per parameter draw with --draws); at least 2 runs per design in all")
@click.option("--seed", "-s", default=0, show_default=True, type=click.IntRange(0))
@click.option("--reference", default=None, help="design (scenario name) to difference against; default: the first")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1))
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT", callback=_dask_address)
@click.option("--out", "-o", default="results/compare", show_default=True, type=click.Path(file_okay=False))
@click.option("--uncertainty", default=None, type=click.Path(dir_okay=False, exists=True),
              help="an experiment spec whose uncertainties and design sample futures: robustness and regret")
@click.option("--counties", default=None, type=click.IntRange(1, 5000),
              help="simulate this many counties instead of the designs' own (pilots scale or are capped); "
                   "30 give the province's forecast under --draws 40 in a third of the time "
                   "(docs/forecast-geography.md)")
@_draw_options
def compare(designs, replicates, seed, reference, workers, dask, out, uncertainty, counties, draws,
            posterior) -> None:
    """Compare DESIGNS on common random numbers: levels, paired differences, 2027 target attainment, ranking."""
    from .compare import compare_and_write
    from .config import ConfigError

    loaded = _load_all(designs, counties)
    sets = _draws_of(draws, posterior)
    try:
        result = compare_and_write(loaded, replicates, out, seed=seed, reference=reference, workers=workers,
                                   dask=dask, uncertainty=uncertainty, progress=True, draws=sets)
    except ConfigError as exc:  # the --uncertainty spec cannot be read (the designs were loaded above)
        if not uncertainty:
            raise
        click.echo(_as_line(_spec_problem(uncertainty, exc)), err=True)
        sys.exit(2)
    from .console import compare_text

    click.echo(compare_text(result))
    click.echo(f"wrote {Path(out)}/\n  report.md, levels.csv, differences.csv, attainment.csv, ranking.csv,\n"
               f"  series.parquet, manifest.json{', robustness_shares.csv, robustness_regret.csv' if uncertainty else ''}\n"
               f"figures and a report: grassroots report {Path(out)} [--lang zh]")


@main.command("evaluate-pilot")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--replicates", "-n", default=5, show_default=True, type=click.IntRange(1),
              help="replicates per design (per parameter draw with --draws); at least 2 runs per design in all")
@click.option("--seed", "-s", default=0, show_default=True, type=click.IntRange(0))
@click.option("--pilots", default=None, callback=_number_list(int),
              help="numbers of pilot counties to try, e.g. 20,50,100 (default: the config's)")
@click.option("--selections", default="random,good_base", show_default=True, callback=_name_list,
              help="pilot selection rules to try: random, good_base")
@click.option("--quotas", default=None, callback=_number_list(float),
              help="central/west minimum shares of pilots to try, e.g. 0,0.6")
@click.option("--counties", default=None, type=click.IntRange(2, 5000), help="simulate this many counties")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1))
@click.option("--dask", default=None, metavar="local|tcp://HOST:PORT", callback=_dask_address,
              help="run on Dask: a LocalCluster of --workers processes, or an existing scheduler")
@click.option("--out", "-o", default="results/pilot", show_default=True, type=click.Path(file_okay=False))
@_draw_options
def evaluate_pilot_command(config, replicates, seed, pilots, selections, quotas, counties, workers, dask,
                           out, draws, posterior) -> None:
    """Simulate the 2024 pilot evaluation: difference-in-differences beside the true effects; bias and power."""
    import pandas as pd

    from .pilot import evaluate_pilot, pilot_summary

    loaded = _load_all((config,))[0]
    sets = _draws_of(draws, posterior)
    if replicates * max(draws, 1) < 2:
        raise click.BadParameter("a pilot evaluation needs at least 2 runs per design (its spread and power); "
                                 "give -n 2 or more, or --draws 2 or more", param_hint="'--replicates' / '-n'")
    table = evaluate_pilot(loaded, replicates=replicates, seed=seed, selections=tuple(selections),
                           pilot_counts=pilots, quotas=quotas, counties=counties, workers=workers, dask=dask,
                           progress=True, out=out, draws=sets)  # the designs and --out are checked before anything runs
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        click.echo(pilot_summary(table).round(4).to_string(index=False))
    click.echo(f"wrote {Path(out)}/ (pilot_summary.csv, pilot_replicates.csv, pilot_manifest.json)")


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="language of every title, label, legend and table")
@click.option("--format", "formats", default="png,svg", show_default=True, help="figure formats: png,svg,pdf")
@click.option("--layout", type=click.Choice(["auto", "overlay", "panels"]), default="auto", show_default=True,
              help="fan charts: designs overlaid, one panel per design, or auto (overlay up to 3 designs)")
@click.option("--out", "-o", default=None, type=click.Path(file_okay=False),
              help="default: RESULTS_DIR/report (report_zh for --lang zh)")
def report(results_dir, lang, formats, layout, out) -> None:
    """Figures and an HTML + Markdown report from stored results: a run or comparison (fan charts,
    differences, target chances, indicator table), a sweep (Sobol/Morris indices, factorial heat maps)
    or a pilot evaluation (estimated vs true effects)."""
    from .figures.fonts import CJKFontNotFound
    from .report import FORMATS, build_report

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    unknown = set(chosen) - set(FORMATS)
    if unknown or not chosen:
        click.echo(f"error: unknown format(s): {', '.join(sorted(unknown)) or '(none)'}; choose from png, svg, pdf",
                   err=True)
        sys.exit(2)
    try:
        folder = build_report(results_dir, formats=chosen, out=out, lang=lang, layout=layout)
    except CJKFontNotFound as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"wrote {folder}/ (report.html, report.md and figures)")



@main.command()
@click.argument("configs", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="port to serve on (0: a free one)")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (the default serves this machine only)")
@click.option("--workers", "-w", default=2, show_default=True, type=click.IntRange(1),
              help="worker processes running the replicates and drawing the figures")
@click.option("--save-to", default="results/explore/designs", show_default=True, type=click.Path(file_okay=False),
              help="folder the page saves designs into")
def explore(configs, port, host, workers, save_to) -> None:
    """Explore a design in the browser: move levers by phase, run it against the baseline on common random
    numbers, see fan charts, paired differences and the chance of meeting each 2027 target, save it as a
    config; or open stored results read-only. CONFIGS join the starting designs (configs/plan.yaml and
    configs/designs/*). Needs the `explore` extra: pip install 'grassroots[explore]'."""
    import importlib.util
    import json
    import socket

    if importlib.util.find_spec("solara") is None:
        click.echo("error: grassroots explore needs Solara: pip install 'grassroots[explore]'", err=True)
        sys.exit(2)
    from .config import ConfigError, load_scenario

    for path in configs:  # listed anyway: the page says what is wrong when it is chosen
        try:
            load_scenario(path)
        except ConfigError as exc:
            click.echo(f"warning: {str(exc).splitlines()[0]} (the page shows the problems)", err=True)
    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    os.environ["GRASSROOTS_EXPLORE_CONFIGS"] = json.dumps([str(p) for p in configs])
    os.environ["GRASSROOTS_EXPLORE_WORKERS"] = str(workers)
    os.environ["GRASSROOTS_EXPLORE_SAVE"] = str(save_to)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no usage data leaves the machine
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"grassroots explore: http://{shown}:{port}/ (Ctrl-C stops it)", err=False)
    from solara.__main__ import run as solara_run

    _no_websocket_compression()
    solara_run.main(["sim.explore_app", "--host", host, "--port", str(port), "--production", "--no-open",
                     "--no-check-version", "--log-level", "warning"], standalone_mode=False)


def _no_websocket_compression() -> None:
    """Serve the page's websocket uncompressed: on localhost compression buys nothing, and the figures are PNG,
    which does not compress (in a py-spy profile of the server, deflating took about 0.3 s per Run). Solara builds its
    ``uvicorn.Config`` without this setting, so its default is changed here."""
    import uvicorn

    if getattr(uvicorn.Config, "_grassroots", False):
        return

    class Config(uvicorn.Config):
        _grassroots = True

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("ws_per_message_deflate", False)
            super().__init__(*args, **kwargs)

    uvicorn.Config = Config


@main.command("list")
@click.argument("kind", type=click.Choice(["levers", "parameters", "metrics"]))
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="language of the labels")
def list_command(kind, lang) -> None:
    """List the registry's levers, parameters or metrics (sim/registry/*.yaml): units, bounds, labels."""
    from .registry.docs import listing

    click.echo(listing(kind, lang))


if __name__ == "__main__":  # pragma: no cover
    main()
