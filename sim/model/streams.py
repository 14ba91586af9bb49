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

COLUMN_STRIDE = 2**48  # entries per column: more agents than any geography has

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
        bit_generator = np.random.PCG64(self._sequence(name, key))
        generator = np.random.Generator(bit_generator)
        out = np.empty((width, count))
        # one double per 64-bit output, so after a column the stream stands at its start + count:
        # advancing by the stride minus count reaches the next column's start (no state copies)
        bit_generator.advance(start)
        for column in range(width):
            if column:
                bit_generator.advance(COLUMN_STRIDE - count)
            generator.random(count, out=out[column])
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
