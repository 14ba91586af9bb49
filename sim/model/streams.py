"""Reproducible, paired random streams, addressable by agent.

Every random number the model uses is a uniform that belongs to one agent (or
one place) in one process and month. For a (seed, replicate, process, key)
there is one PCG64 sequence; column c (one use of the process) of agent i is
its entry c * 2**48 + i, reached with ``PCG64.advance`` without drawing the
ones before. Hence:

- replicate k of every scenario sees the same draws (common random numbers),
  so scenario differences are policy, not noise;
- a month's draws never depend on how many numbers earlier months used;
- a block of counties run on its own (a Dask worker) draws exactly what the
  whole-country run draws for those agents, so the answer is the same;
- the per-agent engine hands each agent the same numbers as the columnar one.

Distributions are obtained from the uniforms by inverse CDF (see
``poisson_from_uniform`` and ``population.logit_normal``), so the number of
draws never depends on parameters.
"""

from __future__ import annotations

import numpy as np
from scipy.special import pdtr

from . import threads

COLUMN_STRIDE = 2**48  # entries per column: more agents than any geography has
DRAWS_PER_SPAN = 2**18  # uniforms a thread draws at least (~0.4 ms), else one thread draws them all
COMPILED_FROM = 4096  # a column this long or longer is drawn by the compiled PCG64 (shorter: numpy's call is as quick)

# Order matters (it is part of every key): append, never reorder.
STREAMS = (
    "population", "pilot", "implementation", "tasks", "needs", "service", "complaints",
    "participation", "quits", "hires", "training", "data", "mesa", "agents",
    "adhoc", "decisions", "cadre_init", "resident_init", "department_init", "committee_init",
)


class Streams:
    def __init__(self, seed: int, replicate: int):
        if seed < 0 or replicate < 0:
            raise ValueError("seed and replicate must be non-negative integers")
        self.seed = int(seed)
        self.replicate = int(replicate)

    def _sequence(self, name: str, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self.replicate, STREAMS.index(name), *map(int, key)))

    def uniforms(self, name: str, key: int, start: int, count: int, width: int = 1) -> np.ndarray:
        """Uniforms of agents ``start .. start+count-1`` of a population: shape (count,) or (width, count).

        ``key`` is the calendar month (year*12 + month-1) for monthly processes, 0 for set-up;
        column c (one use of the process) of agent i is entry c * COLUMN_STRIDE + i of the sequence.
        """
        from .metrics import _kernels

        sequence = self._sequence(name, key)
        out = np.empty((width, count))
        kernels = _kernels()  # None without numba

        def fill(lo: int, hi: int) -> None:  # agents start+lo .. start+hi-1, every column
            bit_generator = np.random.PCG64(sequence)
            generator = np.random.Generator(bit_generator) if kernels is None or hi - lo < COMPILED_FROM else None
            # one double per 64-bit output, so after a column the stream stands at its start + hi - lo:
            # advancing by the stride minus that reaches the next column's (no state copies)
            bit_generator.advance(start + lo)
            for column in range(width):
                if column:
                    bit_generator.advance(COLUMN_STRIDE - (hi - lo))
                if generator is None:  # the same numbers, ~2.6x faster (sim.model.kernels.pcg64_doubles)
                    kernels.pcg64_doubles(bit_generator, out[column, lo:hi])
                else:
                    generator.random(hi - lo, out=out[column, lo:hi])

        # spans of agents at once (the draws release the GIL), where each has enough of them to pay the hand-over
        threads.run(fill, threads.spans(count, minimum=max(threads.MIN_ROWS, DRAWS_PER_SPAN // width)))
        return out[0] if width == 1 else out

    def generator(self, name: str) -> np.random.Generator:
        """A generator for a one-off process over whole geography (place synthesis, pilot selection)."""
        return np.random.default_rng(self._sequence(name))

    def mesa_seed(self) -> int:
        """An integer seed for ``mesa.Model(rng=...)``, derived from the same root."""
        return int(self._sequence("mesa").generate_state(1)[0])


def poisson_from_uniform(u, lam) -> np.ndarray:
    """Poisson counts by inverting the CDF at uniforms ``u`` (one uniform per count).

    Unlike ``Generator.poisson``, which consumes a number of draws that depends
    on the mean, this keeps draw k tied to agent k whatever the scenario's rates,
    so paired scenarios stay paired. The CDF is tabulated once per distinct rate
    (rates are set per county, so there are few) and searched for all agents at once.
    """
    u = np.asarray(u, dtype=float)
    lam = np.broadcast_to(np.asarray(lam, dtype=float), u.shape)
    rates, row = np.unique(lam, return_inverse=True)
    top = float(rates.max(initial=0.0))
    counts = np.arange(int(top + 12.0 * np.sqrt(top) + 30))
    cdf = pdtr(counts[None, :], rates[:, None])  # P(X <= k) for each distinct rate
    # rows lie in [0, 1]; shifting row r by 2r makes the whole table one sorted array
    shift = 2.0 * np.arange(len(rates))[:, None]
    position = np.searchsorted((cdf + shift).ravel(), u + 2.0 * row.reshape(u.shape), side="left")
    return (position - row.reshape(u.shape) * len(counts)).astype(float)


# --------------------------------------------------------------------------- counter-based streams
# The next phase's fast path (issue 12), not used by the engines yet. Each uniform is a pure function
# of its address (seed, replicate, stream, key, column, agent): no generator state at all. The
# properties listed at the top of this module hold by construction, and two more follow: a stage can
# draw only for the agents that act (vacant posts, residents with a need), in any order, and a
# compiled stage kernel computes its draws inline (sim.model.kernels.unit_at) instead of reading
# arrays of them. Design and measured quality: docs/performance.md, "Counter-based streams".
#
# Construction: SplitMix64's output function (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
# number generators"; the 'mix13' finalizer of Stafford 2011) of a Weyl counter: agent i of the column
# keyed k gets mix64(k + i * golden) >> 11, times 2**-53. One column is thus exactly a SplitMix64
# sequence (the one whose state starts at k - golden; SplitMix64 passes TestU01's BigCrush); column
# keys are a hash chain of the address
# (every step a full-avalanche mix), so distinct columns, months, streams and replicates start at
# unrelated points of the 2**64-long Weyl sequence.

MASK64 = 2**64 - 1
GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd: the Weyl increment
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def mix64(z: int) -> int:
    """SplitMix64's finalizer on a Python int (0 <= z < 2**64)."""
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def _combine(h: int, x: int) -> int:
    if not 0 <= x <= MASK64:
        raise ValueError(f"stream address parts must be integers in 0..2**64-1, not {x}")
    return mix64(h ^ mix64((x + GOLDEN) & MASK64))


def column_key(seed: int, replicate: int, name: str, key: int, column: int) -> int:
    """The 64-bit key of one column of one process in one month (or set-up, ``key`` 0)."""
    h = mix64(int(seed) & MASK64) if 0 <= int(seed) <= MASK64 else _combine(0, seed)
    for part in (replicate, STREAMS.index(name), key, column):
        h = _combine(h, int(part))
    return h


def counter_uniform(column_key: int, index: int) -> float:
    """The uniform in [0, 1) of agent ``index`` (global) in a column: the scalar twin of ``counter_uniforms``."""
    return (mix64((column_key + index * GOLDEN) & MASK64) >> 11) * 2.0**-53


def counter_uniforms_numpy(column_keys, index: np.ndarray) -> np.ndarray:
    """(columns, agents) uniforms of the global indices ``index``, in numpy (uint64 arithmetic wraps)."""
    index = np.asarray(index, dtype=np.uint64)
    out = np.empty((len(column_keys), len(index)))
    with np.errstate(over="ignore"):
        step = index * np.uint64(GOLDEN)
        for c, k in enumerate(column_keys):
            z = step + np.uint64(k)
            z ^= z >> np.uint64(30)
            z *= np.uint64(_M1)
            z ^= z >> np.uint64(27)
            z *= np.uint64(_M2)
            z ^= z >> np.uint64(31)
            z >>= np.uint64(11)
            np.multiply(z, 2.0**-53, out=out[c])
    return out


class CounterStreams:
    """Agent-addressed uniforms without generator state (see above); the API of ``Streams`` plus ``at``.

    Uses the compiled kernel when numba is installed, the numpy version otherwise: the same numbers.
    """

    def __init__(self, seed: int, replicate: int):
        if seed < 0 or replicate < 0:
            raise ValueError("seed and replicate must be non-negative integers")
        self.seed = int(seed)
        self.replicate = int(replicate)

    def column_keys(self, name: str, key: int, width: int = 1) -> np.ndarray:
        return np.array([column_key(self.seed, self.replicate, name, key, c) for c in range(width)], dtype=np.uint64)

    def uniforms(self, name: str, key: int, start: int, count: int, width: int = 1) -> np.ndarray:
        """Uniforms of agents ``start .. start+count-1``: shape (count,) or (width, count), as ``Streams``."""
        out = self._draw(self.column_keys(name, key, width), None, start, count)
        return out[0] if width == 1 else out

    def at(self, name: str, key: int, index, width: int = 1) -> np.ndarray:
        """Uniforms of the agents with global indices ``index`` only (any order, repeats allowed)."""
        out = self._draw(self.column_keys(name, key, width), np.asarray(index), 0, 0)
        return out[0] if width == 1 else out

    @staticmethod
    def _draw(keys: np.ndarray, index, start: int, count: int) -> np.ndarray:
        if index is not None and len(index) and (np.min(index) < 0):
            raise ValueError("agent indices must be non-negative")
        from . import kernels
        if kernels.AVAILABLE:
            return kernels.counter_uniforms(keys, index, start, count)
        return counter_uniforms_numpy(keys, np.arange(start, start + count) if index is None else index)
