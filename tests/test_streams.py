"""Random streams: the PCG64 streams the engines use, the counter-based streams of the next phase, and the
compiled group sums. Statistical tests use fixed seeds (so they are deterministic) and thresholds a sound
generator passes with room: p > 1e-4 for chi-square and KS tests on 10^5-10^6 draws."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.model import kernels
from sim.model.metrics import group_sum
from sim.model.streams import (COLUMN_STRIDE, GOLDEN, MASK64, CounterStreams, Streams, column_key,
                               counter_uniform, counter_uniforms_numpy, mix64)

ROOT = Path(__file__).resolve().parents[1]
P_MIN = 1e-4


# --------------------------------------------------------------------------- PCG64 streams (engines)

def test_uniforms_are_entries_of_one_pcg64_sequence_per_month():
    """Column c of agent i is entry c * 2**48 + i of the (seed, replicate, stream, month) sequence."""
    streams = Streams(7, 2)
    got = streams.uniforms("hires", 24_300, 1_234, 50, 3)
    for column in range(3):
        bit_generator = np.random.PCG64(streams._sequence("hires", 24_300))
        bit_generator.advance(column * COLUMN_STRIDE + 1_234)
        assert np.array_equal(got[column], np.random.Generator(bit_generator).random(50))


def test_a_block_of_agents_draws_what_the_whole_population_draws():
    streams = Streams(1, 0)
    whole = streams.uniforms("needs", 300, 0, 1_000, 3)
    assert np.array_equal(streams.uniforms("needs", 300, 400, 250, 3), whole[:, 400:650])
    assert streams.uniforms("needs", 300, 5, 0, 2).shape == (2, 0)


@pytest.mark.parametrize("n", [0, 1, 3, 4, 5, 4_099, 100_003])
def test_compiled_pcg64_gives_numpys_doubles_and_moves_the_generator_on_as_far(n):
    """``kernels.pcg64_doubles`` (numpy's PCG64 written out, four quarters stepped at once) gives the numbers
    ``Generator.random`` gives from the same state, and leaves the bit generator where numpy would."""
    ours, theirs = (np.random.PCG64(np.random.SeedSequence(11, spawn_key=(3, 4))) for _ in range(2))
    for bit_generator in (ours, theirs):
        bit_generator.advance(2**47 + 12_345)  # a state deep in the sequence, its top bits set
    out = np.full(n, -1.0)
    kernels.pcg64_doubles(ours, out)
    np.testing.assert_array_equal(out, np.random.Generator(theirs).random(n))
    assert ours.state == theirs.state


def test_long_columns_of_uniforms_are_the_sequences_entries_too():
    """Columns long enough for the compiled PCG64 (and, on several threads, split in spans of agents)."""
    from sim.model import threads

    streams = Streams(3, 1)
    for n_threads in (1, 2):
        with threads.threads(n_threads):
            got = streams.uniforms("service", 24_301, 777, 300_001, 2)
        for column in range(2):
            bit_generator = np.random.PCG64(streams._sequence("service", 24_301))
            bit_generator.advance(column * COLUMN_STRIDE + 777)
            assert np.array_equal(got[column], np.random.Generator(bit_generator).random(300_001))


# --------------------------------------------------------------------------- group sums

@pytest.mark.parametrize("sort", [True, False])
def test_group_sum_has_the_bits_of_bincount(sort):
    rng = np.random.default_rng(3)
    for n, size in [(0, 4), (1, 1), (7, 3), (50_000, 17), (50_000, 5_000)]:
        index = rng.integers(0, size, n)
        index = np.sort(index) if sort else index
        cases = [rng.normal(0, 1e3, n) * rng.random(n), rng.random(n) < 0.3, rng.integers(-9, 9, n),
                 np.where(rng.random(n) < 0.5, -0.0, 1e-300), np.where(rng.random(n) < 0.01, np.nan, 1.0),
                 rng.random(n).astype(np.float32)]
        for values in cases:
            expected = np.bincount(index, weights=values, minlength=size)
            assert group_sum(index, values, size).tobytes() == expected.tobytes(), (n, size, values.dtype)
    assert np.array_equal(group_sum(np.array([0, 2, 2]), 1.5, 3), [1.5, 0.0, 3.0])


def test_group_sum_refuses_an_index_outside_the_groups():
    if not kernels.AVAILABLE:
        pytest.skip("numba not installed: np.bincount is used")
    with pytest.raises(ValueError, match="outside 0..2"):
        kernels.group_sum(np.array([0, 3]), np.array([1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="outside"):
        kernels.group_sum(np.array([-1]), np.array([1.0]), 3)
    with pytest.raises(TypeError, match="1-d integer array"):
        kernels.group_sum(np.array([0.0, 1.5]), np.array([1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="2 values for 3 indices"):
        kernels.group_sum(np.array([0, 1, 2]), np.array([1.0, 1.0]), 3)


# --------------------------------------------------------------------------- counter-based streams: addressing

def test_counter_streams_compiled_numpy_and_scalar_agree_bit_for_bit():
    streams = CounterStreams(11, 3)
    keys = streams.column_keys("quits", 24_301, 3)
    got = streams.uniforms("quits", 24_301, 2**33, 2_000, 3)  # indices past 2**32 too
    assert np.array_equal(got, counter_uniforms_numpy(keys, 2**33 + np.arange(2_000)))
    for column in range(3):
        for i in (0, 1, 999, 1_999):
            assert got[column, i] == counter_uniform(int(keys[column]), 2**33 + i)
    assert counter_uniform(0, 0) == 0.0 and counter_uniform(GOLDEN, MASK64) == 0.0  # the zero of mix64
    assert mix64(0) == 0 and mix64(GOLDEN) == 0xE220A8397B1DCDAF  # SplitMix64's first output from seed 0


def test_counter_streams_keep_the_addressing_properties():
    streams = CounterStreams(5, 0)
    whole = streams.uniforms("hires", 300, 0, 10_000, 7)
    # a block of agents (a block of counties) draws what the whole population draws for them
    assert np.array_equal(streams.uniforms("hires", 300, 6_000, 1_500, 7), whole[:, 6_000:7_500])
    # any subset in any order, repeats allowed: the agents that act draw their own numbers
    index = np.array([9_999, 3, 3, 4_567, 0])
    assert np.array_equal(streams.at("hires", 300, index, 7), whole[:, index])
    assert np.array_equal(streams.at("hires", 300, index), whole[0, index])
    # a month's draws depend on nothing drawn before: the same in a fresh object, whatever else was drawn
    fresh = CounterStreams(5, 0)
    fresh.uniforms("quits", 299, 0, 50_000, 3)
    assert np.array_equal(fresh.uniforms("hires", 300, 0, 10_000, 7), whole)
    # every part of the address matters
    others = [CounterStreams(6, 0).uniforms("hires", 300, 0, 10_000), CounterStreams(5, 1).uniforms("hires", 300, 0, 10_000),
              streams.uniforms("quits", 300, 0, 10_000), streams.uniforms("hires", 301, 0, 10_000)]
    for other in [*others, whole[1]]:
        assert np.mean(other == whole[0]) < 1e-3


def test_counter_streams_refuse_bad_addresses():
    with pytest.raises(ValueError, match="non-negative"):
        CounterStreams(-1, 0)
    with pytest.raises(ValueError, match="non-negative"):
        CounterStreams(1, 0).at("quits", 3, np.array([2, -1]))
    with pytest.raises(ValueError, match="0..2"):
        column_key(1, 0, "quits", -5, 0)
    with pytest.raises(ValueError):
        column_key(1, 0, "no such stream", 0, 0)


# --------------------------------------------------------------------------- counter-based streams: quality

def _chi2_p(u: np.ndarray, bins: int) -> float:
    counts = np.bincount(np.minimum((u * bins).astype(int), bins - 1), minlength=bins)
    return stats.chisquare(counts).pvalue


def _pairs_p(a: np.ndarray, b: np.ndarray, bins: int = 32) -> float:
    """Chi-square of the joint distribution of two uniforms on a bins x bins grid (independence + uniformity)."""
    cell = np.minimum((a * bins).astype(int), bins - 1) * bins + np.minimum((b * bins).astype(int), bins - 1)
    return stats.chisquare(np.bincount(cell, minlength=bins * bins)).pvalue


def test_counter_uniforms_are_uniform():
    streams = CounterStreams(2024, 0)
    for name, key, start in [("quits", 24_300, 0), ("population", 0, 0), ("hires", 24_396, 7_000_000)]:
        u = streams.uniforms(name, key, start, 1_000_000, 2)
        for column in u:
            assert column.min() >= 0.0 and column.max() < 1.0
            assert _chi2_p(column, 1_000) > P_MIN
            assert stats.kstest(column, "uniform").pvalue > P_MIN
            assert abs(column.mean() - 0.5) < 5 * np.sqrt(1 / 12 / len(column))
    # the smallest addresses (seed 0, replicate 0, key 0, column 0, agents 0..) are no worse
    u = CounterStreams(0, 0).uniforms("population", 0, 0, 200_000)
    assert _chi2_p(u, 200) > P_MIN and stats.kstest(u, "uniform").pvalue > P_MIN


def test_counter_uniform_bits_are_fair():
    """Each of the 53 bits of the mantissa is set half the time (5 sigma on 10^6 draws)."""
    u = CounterStreams(9, 4).uniforms("needs", 24_310, 0, 1_000_000)
    bits = (u * 2.0**53).astype(np.uint64)
    for b in range(53):
        share = np.mean((bits >> np.uint64(b)) & np.uint64(1))
        assert abs(share - 0.5) < 5 * 0.5 / np.sqrt(len(u)), b


def test_counter_uniforms_are_independent_across_columns_agents_months_and_streams():
    n = 500_000
    s = CounterStreams(77, 0)
    month = s.uniforms("hires", 24_300, 0, n, 7)
    pairs = {
        "column 0 vs 1": (month[0], month[1]),
        "column 0 vs 6": (month[0], month[6]),
        "agent i vs i+1": (month[0][:-1], month[0][1:]),
        "agent i vs i+2**16": (month[0][:-2**16], month[0][2**16:]),
        "month vs next month": (month[0], s.uniforms("hires", 24_301, 0, n)),
        "stream vs stream": (month[0], s.uniforms("quits", 24_300, 0, n)),
        "replicate 0 vs 1": (month[0], CounterStreams(77, 1).uniforms("hires", 24_300, 0, n)),
        "seed vs seed + 1": (month[0], CounterStreams(78, 0).uniforms("hires", 24_300, 0, n)),
    }
    for label, (a, b) in pairs.items():
        assert _pairs_p(a, b) > P_MIN, label
        assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(len(a)), label
    # three in a row (serial test in 3-d) over agents
    u = month[0]
    m = len(u) // 3 * 3
    cube = np.minimum((u[:m] * 8).astype(int), 7).reshape(-1, 3) @ np.array([64, 8, 1])
    assert stats.chisquare(np.bincount(cube, minlength=512)).pvalue > P_MIN


def test_bernoulli_decisions_from_counter_uniforms_have_the_right_rates():
    """What the model does with uniforms: u < p; counts over 10^6 agents within 5 sigma for small p."""
    u = CounterStreams(1, 0).uniforms("quits", 24_300, 0, 1_000_000, 3)
    for p in (1e-4, 0.0075, 0.2, 0.5):
        for column in u:
            hits = np.sum(column < p)
            assert abs(hits - p * len(column)) < 5 * np.sqrt(len(column) * p * (1 - p)) + 1, p


# --------------------------------------------------------------------------- compiled kernels: caching and workers

def _worker_draws(seed: int) -> tuple:
    s = CounterStreams(seed, 0)
    index = np.repeat(np.arange(10), 3)
    return s.uniforms("quits", 300, 0, 100, 2).tobytes(), group_sum(index, np.arange(30) * 0.1, 10).tobytes()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_kernels_give_the_same_numbers_in_pool_workers(method):
    with ProcessPoolExecutor(2, mp_context=get_context(method)) as pool:
        results = list(pool.map(_worker_draws, [4, 4, 5]))
    assert results[0] == results[1] == _worker_draws(4)
    assert results[2] != results[0]


@pytest.mark.slow
def test_kernels_compile_into_a_fresh_cache_and_load_from_it(tmp_path):
    """A clean checkout: the first process compiles and writes the cache, the next one loads it."""
    if not kernels.AVAILABLE:
        pytest.skip("numba not installed")
    code = ("import numpy as np; from sim.model import kernels; from sim.model.streams import CounterStreams;"
            "u = CounterStreams(3, 0).uniforms('quits', 300, 0, 1000, 2);"
            "s = kernels.group_sum(np.arange(6) % 3, np.ones(6), 3);"
            "d = kernels._fill_uniforms_range.stats;"
            "print(d.cache_hits.total() if hasattr(d.cache_hits, 'total') else sum(d.cache_hits.values()),"
            " d.cache_misses.total() if hasattr(d.cache_misses, 'total') else sum(d.cache_misses.values()),"
            " u.sum().hex(), s.sum())")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    hits1, misses1, u1, s1 = first.stdout.split()
    hits2, misses2, u2, s2 = second.stdout.split()
    assert int(misses1) >= 1 and int(hits1) == 0
    assert int(hits2) >= 1 and int(misses2) == 0
    assert (u1, s1) == (u2, s2)
    assert any(tmp_path.rglob("*.nbi"))


def test_a_compiled_per_agent_rule_gives_the_same_bits_on_one_agent_as_over_all():
    """The design proposed for the stage rewrite: one scalar rule, looped over rows by a kernel with inline
    counter-based draws, and called on one agent's numbers (as a per-agent engine would) with the
    scalar twin of the stream. The two must agree bit for bit, and with numpy's arithmetic."""
    if not kernels.AVAILABLE:
        pytest.skip("numba not installed")
    import math

    import numba

    @numba.njit
    def rule(u, intention, propensity, hazard):
        intention = intention + (propensity - intention) * hazard
        q = 1.0 / (1.0 + math.exp(-intention))
        return intention, u < 1.0 - math.pow(1.0 - min(max(q, 0.0), 1.0), 1.0 / 12.0)

    @numba.njit
    def over_all(key, first, intention, propensity, hazard, quits):
        for i in range(intention.shape[0]):
            intention[i], quits[i] = rule(kernels.unit_at(key, first + np.uint64(i)), intention[i], propensity[i],
                                          hazard)

    rng = np.random.default_rng(0)
    n, first, hazard = 5_000, 123_456, 1.0 - np.exp(-1.0 / 6.0)
    start, propensity = rng.normal(-3, 1, n), np.log(rng.random(n) + 0.05)
    key = CounterStreams(3, 1).column_keys("quits", 24_300)[0]
    intention, quits = start.copy(), np.zeros(n, bool)
    over_all(key, np.uint64(first), intention, propensity, hazard, quits)
    for i in range(0, n, 97):
        one = rule(counter_uniform(int(key), first + i), float(start[i]), float(propensity[i]), float(hazard))
        assert np.float64(one[0]).tobytes() == intention[i].tobytes() and one[1] == quits[i]
    # numpy's arithmetic on the same numbers: the same bits
    expected = start + (propensity - start) * hazard
    assert expected.tobytes() == intention.tobytes()
    u = CounterStreams(3, 1).uniforms("quits", 24_300, first, n)
    q = 1.0 / (1.0 + np.exp(-expected))
    assert np.array_equal(quits, u < 1.0 - np.power(1.0 - np.clip(q, 0.0, 1.0), 1.0 / 12.0))


LOOP_MODULE = """
import sys
from collections import namedtuple

import numba

from sim.model import kernels

digest, name = sys.argv[1], sys.argv[2]
Record = namedtuple(name, "k")  # a record class, named after its layout as kernels.record names them
Record.__module__ = __name__
globals()[name] = Record


def f(x, p):
    return x * p.k


loop = kernels.cache_by_rules(numba.njit(cache=True)(f), digest=digest)
assert loop(2.0, Record(3.0)) == 6.0
stats = loop.stats
print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


@pytest.mark.slow
def test_a_loops_cache_is_keyed_to_the_rules(tmp_path):
    """numba checks only the stamp of a loop's own file. ``cache_by_rules`` keys the cache to the rules' digest
    too: machine code compiled from other rules is not loaded, and an index that names a record class of
    another parameter layout is not even read (unpickling it would fail: the class does not exist)."""
    if not kernels.AVAILABLE:
        pytest.skip("numba not installed")
    (tmp_path / "loopmod.py").write_text(LOOP_MODULE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}

    def run(digest, name="R_layout1"):
        out = subprocess.run([sys.executable, "-c", "import loopmod", digest, name], env=env, cwd=tmp_path,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        hits, misses = map(int, out.stdout.split())
        return "hit" if hits and not misses else "compiled" if misses and not hits else (hits, misses)

    assert run("rules-a") == "compiled"
    assert run("rules-a") == "hit"
    assert run("rules-b") == "compiled"  # a rule changed: compiled again
    assert run("rules-b") == "hit"
    assert run("rules-a") == "compiled"  # the index now holds rules-b's code
    assert run("rules-c", name="R_layout2") == "compiled"  # another layout: the old index is not unpickled
    assert run("rules-c", name="R_layout2") == "hit"


def test_a_parameter_block_becomes_a_record_numba_can_take():
    """``kernels.record``: numbers as floats, flags as bools, sub-blocks nested, one class per block type."""
    from sim.config import load_scenario

    if not kernels.AVAILABLE:
        pytest.skip("numba not installed")
    pars = load_scenario(ROOT / "configs/defaults.yaml").scenario.parameters
    r = kernels.record(pars.cadres)
    assert r.quit_pay == float(pars.cadres.quit_pay) and isinstance(r.quit_pay, float)
    assert r.contract_share.urban == pars.cadres.contract_share.urban  # a sub-block, nested
    numbers = {name for name in type(pars.cadres).model_fields
               if isinstance(getattr(pars.cadres, name), (bool, int, float))
               or hasattr(type(getattr(pars.cadres, name)), "model_fields")}
    assert set(r._fields) == numbers and len(numbers) > 20  # every number, flag and sub-block: what a rule reads
    assert type(kernels.record(pars.cadres)) is type(r)
    assert type(r) is getattr(kernels, type(r).__name__)  # found by name: numba's cache can load it
