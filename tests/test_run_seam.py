"""One way to run: ``model.run(until=)`` stops where asked and never past the timeline, ``county_tallies`` returns
the record's rows for the months asked, and every runner hands its work to one executor seam, so any
``concurrent.futures.Executor`` a caller passes gives the serial answer."""

from __future__ import annotations

import threading
from contextlib import closing
from concurrent.futures import Executor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from helpers import CONFIGS, scenario
from sim import GrassrootsModel
from sim.model.metrics import METRIC_NAMES, cell_values
from sim.model.policy import month_label

COUNTY = str(CONFIGS / "county.yaml")


def tiny(**changes):
    """One county of two townships, a short spin-up: a whole run takes a fraction of a second."""
    return GrassrootsModel(COUNTY, rng=1, geography__townships_per_county=2, timeline__spin_up_months=2, **changes)


# --------------------------------------------------------------------------- run(until=)


def test_run_until_stops_after_the_month_asked():
    model = tiny().run(until="2023-03")
    assert month_label(model.month) == "2023-04" and model.running
    assert len(model.datacollector.get_model_vars_dataframe()) == 2 + 3  # spin-up, then January to March
    assert (model.county_den[:3].sum(axis=(1, 2)) > 0).all() and not model.county_den[3:].any()
    model.run(until=(2023, 2))  # already simulated: nothing more runs
    assert month_label(model.month) == "2023-04"
    model.run(until=pd.Period("2024-01", "M"))
    assert month_label(model.month) == "2024-02"


def test_run_until_never_steps_past_the_timeline_and_refuses_a_month_outside_it():
    model = tiny()
    for outside in ("2031-01", "2022-10"):  # after the end; before the two spin-up months
        with pytest.raises(ValueError, match=r"outside the timeline: the model runs 2022-11 \(spin-up\) to 2030-12"):
            model.run(until=outside)
    assert model.month == model.calendar.spin_up_start  # nothing ran
    for bad, error in (("2024-13", ValueError), ("soon", ValueError), (2024, TypeError), ((2024, 0), ValueError)):
        with pytest.raises(error, match="until"):
            model.run(until=bad)
    model.run(until="2030-12")
    assert not model.running and model.month == model.calendar.end + 1
    steps = model.steps
    model.run(until="2030-12")
    model.run()
    assert model.steps == steps  # past the end nothing steps


def test_a_run_in_pieces_is_the_whole_run():
    whole = tiny().run().series()
    pieces = tiny().run(until="2023-06").run(until=pd.Timestamp("2026-02-01")).run().series()
    pd.testing.assert_frame_equal(pieces, whole)


# --------------------------------------------------------------------------- county tallies


def test_county_tallies_are_the_records_rows_of_the_months_asked():
    sc = scenario("plan.yaml", geography={"counties": 3, "townships_per_county": 2}, timeline={"spin_up_months": 2})
    reference = GrassrootsModel(sc, seed=4).run()
    model = GrassrootsModel(sc, seed=4)
    num, den = model.county_tallies(months=["2024-03", (2023, 1), pd.Period("2025-12")])
    assert month_label(model.month) == "2026-01"  # it ran as far as needed, no further
    for i, row in enumerate([14, 0, 35]):  # months after 2023-01, the first recorded month
        np.testing.assert_array_equal(num[i], reference.county_num[row])
        np.testing.assert_array_equal(den[i], reference.county_den[row])
    assert num.shape == (3, len(METRIC_NAMES), 3)
    record = model.county_num.copy()
    num[:] = -1.0  # a copy: the record is untouched
    np.testing.assert_array_equal(model.county_num, record)
    by_year_num, by_year_den = model.county_tallies(years=[2024, 2023])
    np.testing.assert_array_equal(by_year_num, np.concatenate([reference.county_num[12:24], reference.county_num[:12]]))
    np.testing.assert_array_equal(by_year_den, np.concatenate([reference.county_den[12:24], reference.county_den[:12]]))
    values = model.county_values(years=2023)
    want = np.stack([cell_values(n, d, np.eye(3)) for n, d in zip(reference.county_num[:12],
                                                                  reference.county_den[:12])])
    np.testing.assert_array_equal(values, want)


def test_county_values_of_a_one_county_model_are_its_series():
    model = tiny()
    values = model.county_values(years=2027)[:, :, 0]
    series = model.run().series()
    sel = series[(series.region == "all") & (series.group == "all") & (series.date.dt.year == 2027)]
    wide = sel.pivot(index="date", columns="metric", values="value")[list(METRIC_NAMES)].to_numpy()
    np.testing.assert_array_equal(values, wide)


def test_county_tallies_refuse_months_that_are_not_recorded():
    model = tiny()
    with pytest.raises(ValueError, match=r"months: 2022-12 not recorded; the record runs 2023-01 to 2030-12"):
        model.county_tallies(months="2022-12")  # a spin-up month
    with pytest.raises(ValueError, match=r"years: 2031 not recorded"):
        model.county_tallies(years=[2030, 2031])
    with pytest.raises(TypeError, match="months or years"):
        model.county_tallies(months="2023-01", years=2023)
    with pytest.raises(TypeError, match="not a year"):
        model.county_tallies(years="2023")
    assert model.month == model.calendar.spin_up_start  # refused before anything ran


# --------------------------------------------------------------------------- the executor seam


class Counting(Executor):
    """A caller's own executor: threads, counting what it is given, never shut down by the runners."""

    def __init__(self):
        self.pool = ThreadPoolExecutor(2)
        self.submitted = 0
        self.closed = False

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        return self.pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.closed = True
        self.pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.fixture
def counting():
    executor = Counting()
    yield executor
    executor.pool.shutdown()


def small(config="plan.yaml", counties=3, **changes):
    return scenario(config, geography={"counties": counties, "townships_per_county": 2}, pilot={"counties": 1},
                    timeline={"spin_up_months": 2}, **changes)


def test_run_scenarios_and_compare_on_a_callers_executor_equal_serial(counting):
    from sim.compare import compare
    from sim.run import run_scenarios

    designs = [small("baseline.yaml", counties=2), small(counties=2)]
    serial = run_scenarios(designs, 1, seed=3, blocks=2)
    given = run_scenarios(designs, 1, seed=3, blocks=2, executor=counting)
    pd.testing.assert_frame_equal(given.series, serial.series)
    # one task per block: the plan goes on from the baseline's run when the reform starts (run_branches)
    assert counting.submitted == 2 and given.manifest["executor"] == "external"
    before = counting.submitted
    a, b = compare(designs, 2, seed=3), compare(designs, 2, seed=3, executor=counting)
    for table in ("levels", "differences", "attainment"):
        pd.testing.assert_frame_equal(b[table], a[table])
    assert counting.submitted == before + 2 and not counting.closed  # a task per replicate


def test_sweep_on_a_callers_executor_equals_serial(tmp_path, counting):
    from sim.experiments import read_sweep, run_sweep
    from test_sweep_reliability import ONE_LEVER
    from test_experiments import spec

    path = spec(tmp_path, ONE_LEVER)
    serial = run_sweep(path, out_root=tmp_path / "serial")
    given = run_sweep(path, out_root=tmp_path / "given", executor=counting)
    assert serial["ran"] == given["ran"] == counting.submitted == 4
    pd.testing.assert_frame_equal(read_sweep(tmp_path / "given" / "tiny").drop(columns="seconds"),
                                  read_sweep(tmp_path / "serial" / "tiny").drop(columns="seconds"))


def test_calibration_pilot_evaluation_and_patterns_on_a_callers_executor_equal_serial(counting):
    from helpers import SMALL, deep_update
    from sim.calibrate import FREE, calibrate
    from sim.config import load_scenario
    from sim.patterns import check_patterns
    from sim.pilot import evaluate_pilot

    base = deep_update(load_scenario(CONFIGS / "defaults.yaml").resolved, SMALL)
    quit = tuple(f for f in FREE if f.path.endswith("quit_intercept"))
    kwargs = dict(free=quit, replicates=2, counties=2, seed=3, max_evaluations=2, report_replicates=2)
    serial, given = calibrate(base, **kwargs), calibrate(base, executor=counting, **kwargs)
    np.testing.assert_array_equal(given.values, serial.values)
    np.testing.assert_array_equal(given.jacobian, serial.jacobian)
    pd.testing.assert_frame_equal(given.fit, serial.fit)
    assert counting.submitted == given.model_runs

    before = counting.submitted
    sc = small()
    pd.testing.assert_frame_equal(evaluate_pilot(sc, replicates=2, seed=1, selections=("random",), executor=counting),
                                  evaluate_pilot(sc, replicates=2, seed=1, selections=("random",)))
    assert counting.submitted == before + 3 * 2  # reform, no reform, everywhere; two replicates each

    before = counting.submitted
    baseline = small("baseline.yaml")
    pd.testing.assert_frame_equal(check_patterns(baseline, sc, replicates=2, seed=2, executor=counting, draws=0),
                                  check_patterns(baseline, sc, replicates=2, seed=2, draws=0))
    # cross-sections, both designs (a task per replicate: the plan goes on from the baseline's run), then V7's
    # five points-system settings at the calibrated values
    assert counting.submitted == before + 2 + 2 + 5 and not counting.closed


def test_run_tasks_yields_in_order_reports_progress_and_cancels_what_has_not_started():
    from sim.run import map_tasks, run_tasks

    seen = []
    assert list(map_tasks(None, pow, [2, 3, 4], [2, 2, 2], progress=lambda d, t: seen.append((d, t)))) == [4, 9, 16]
    assert seen == [(1, None), (2, None), (3, None)]
    with ThreadPoolExecutor(2) as pool:
        seen.clear()
        out = list(run_tasks(pool, pow, [(2, 2), (3, 2), (4, 2)], progress=lambda d, t: seen.append((d, t))))
        assert out == [(0, 4), (1, 9), (2, 16)] and seen == [(1, 3), (2, 3), (3, 3)]
        unordered = dict(run_tasks(pool, pow, [(2, 2), (3, 2), (4, 2)], ordered=False))
        assert unordered == {0: 4, 1: 9, 2: 16}

    go = [threading.Event() for _ in range(5)]
    started = []

    def wait(i):
        started.append(i)
        go[i].wait(10)
        return i

    go[0].set()
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(KeyboardInterrupt), closing(run_tasks(pool, wait, [(i,) for i in range(5)])) as tasks:
            for _ in tasks:
                raise KeyboardInterrupt  # the caller is stopped while it handles the first result
        for event in go:
            event.set()
    assert started in ([0], [0, 1]), "tasks not yet started must be cancelled, not run for nobody"


def test_the_seam_refuses_what_is_not_an_executor_or_a_number_of_workers():
    from sim.run import executor_context

    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        with executor_context(executor=object()):
            pass
    for workers in (0, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            with executor_context(workers=workers):
                pass
    with executor_context() as pool:
        assert pool is None  # serial: the tasks run in this process
