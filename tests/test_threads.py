"""One model on several threads (`sim.model.threads`): the compiled row loops, the county tallies and the
draws go over spans of rows at once, and the results do not depend on how many threads there are, to the bit."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from helpers import CONFIGS
from sim import GrassrootsModel
from sim.model import threads
from sim.model.streams import Streams


def small_spans(monkeypatch, rows=64):
    monkeypatch.setattr(threads, "MIN_ROWS", rows)


def test_spans_cover_the_rows_in_order_and_keep_groups_whole(monkeypatch):
    small_spans(monkeypatch, 10)
    with threads.threads(3):
        assert threads.spans(100) == [(0, 33), (33, 66), (66, 100)]
        assert threads.spans(25) == [(0, 12), (12, 25)]  # spans of at least MIN_ROWS rows
        assert threads.spans(19) == [(0, 19)]
        groups = np.repeat([0, 1, 2, 5], [40, 5, 45, 10])
        pieces = threads.spans(100, groups)
        assert pieces[0][0] == 0 and pieces[-1][1] == 100
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:])) and len(pieces) > 1
        owners = [set(groups[lo:hi]) for lo, hi in pieces]
        assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1:])  # no group in two spans
        assert threads.spans(100, groups[::-1].copy()) == [(0, 100)]  # unsorted groups: one span
        assert threads.spans(100, np.zeros(100, int)) == [(0, 100)]  # one group: one span
    with threads.threads(1):
        assert threads.spans(100) == [(0, 100)]


def test_the_number_of_threads_is_checked(monkeypatch):
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="whole number"):
            threads.set_threads(bad)
    monkeypatch.setattr(threads, "_state", {"threads": None, "pool": None, "size": 0})
    monkeypatch.setenv("GRASSROOTS_THREADS", "3")
    assert threads.count() == 3
    monkeypatch.setenv("GRASSROOTS_THREADS", "two")
    with pytest.raises(ValueError, match="GRASSROOTS_THREADS='two'"):
        threads.default_threads()


def test_a_pool_worker_uses_one_thread(monkeypatch):
    """Its pool already has the cores; $GRASSROOTS_THREADS still decides where it is set."""
    monkeypatch.delenv("GRASSROOTS_THREADS", raising=False)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(threads.default_threads).result() == 1
    monkeypatch.setenv("GRASSROOTS_THREADS", "2")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(threads.default_threads).result() == 2


def test_an_error_on_another_thread_is_raised_here(monkeypatch):
    small_spans(monkeypatch, 1)
    done = []

    def work(lo, hi):
        if lo > 0:
            raise ArithmeticError(f"span {lo}")
        done.append((lo, hi))

    with threads.threads(2), pytest.raises(ArithmeticError, match="span 5"):
        threads.run(work, threads.spans(10))
    assert done == [(0, 5)]  # the caller's own span ran to its end


def test_draws_do_not_depend_on_the_spans(monkeypatch):
    streams = Streams(seed=7, replicate=2)
    with threads.threads(1):
        one = streams.uniforms("quits", 24291, 1_000, 5_003, width=3)
    small_spans(monkeypatch, 100)
    with threads.threads(3):
        assert len(threads.spans(5_003)) == 3
        three = streams.uniforms("quits", 24291, 1_000, 5_003, width=3)
    np.testing.assert_array_equal(one, three)
    # and they are the stream's own entries: column c of agent i is entry c * stride + i
    direct = np.random.Generator(np.random.PCG64(streams._sequence("quits", 24291)))
    np.testing.assert_array_equal(one[0], direct.random(6_003)[1_000:])


def test_a_run_on_several_threads_gives_the_series_of_one(monkeypatch):
    """Three counties on 1 and on 3 threads (small spans, so every loop, tally and draw is split): the same
    series and county tallies, bit for bit."""
    small_spans(monkeypatch)
    split, by_county = [], []
    run, spans = threads.run, threads.spans
    monkeypatch.setattr(threads, "run", lambda f, pieces: (split.append(len(pieces)), run(f, pieces))[1])

    def county_spans(n, groups=None, minimum=None):
        pieces = spans(n, groups, minimum)
        if groups is not None:
            by_county.append(len(pieces))
        return pieces

    monkeypatch.setattr(threads, "spans", county_spans)

    def model():
        return GrassrootsModel(CONFIGS / "county.yaml", rng=5, geography__counties=3, geography__scope="province",
                               pilot__counties=1)

    results = []
    for n in (1, 3):
        with threads.threads(n):
            m = model()
            m.run(until="2024-09")  # pilots under way: the counties' levers differ
            results.append((m.series(), *m.county_tallies(years=[2023, 2024])))
    assert max(split) == 3 and min(split) == 1
    assert max(by_county) > 1  # the tallies too went over spans of whole counties
    pd.testing.assert_frame_equal(results[0][0], results[1][0], check_exact=True)
    for one, three in zip(results[0][1:], results[1][1:]):
        np.testing.assert_array_equal(one, three)


def test_a_forked_child_starts_without_its_parents_pool(monkeypatch):
    """After a split loop in the parent, a forked child counts as a worker (one thread) and does not wait on
    pool threads it does not have."""
    import os

    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    small_spans(monkeypatch, 1)
    monkeypatch.delenv("GRASSROOTS_THREADS", raising=False)
    with threads.threads(2):
        threads.run(lambda lo, hi: None, threads.spans(10))  # the parent's pool is started
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            assert pool.submit(threads.count).result(timeout=60) == 1
