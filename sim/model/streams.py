"""Reproducible, paired random streams, addressable by agent.

Every random number the model uses is a uniform that belongs to one agent (or
one place) in one process and month. For a (seed, replicate, process, key,
column) there is one PCG64 sequence, and agent i of a population owns its
entry i, reached with ``PCG64.advance`` without drawing the ones before. Hence:

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

    def _column(self, name: str, key: int, column: int, start: int, out: np.ndarray) -> np.ndarray:
        bit_generator = np.random.PCG64(self._sequence(name, key, column))
        bit_generator.advance(start)
        return np.random.Generator(bit_generator).random(len(out), out=out)

    def uniforms(self, name: str, key: int, start: int, count: int, width: int = 1) -> np.ndarray:
        """Uniforms of agents ``start .. start+count-1`` of a population: shape (count,) or (width, count).

        ``key`` is the calendar month (year*12 + month-1) for monthly processes, 0 for set-up;
        each of the ``width`` columns (a different use) is its own sequence.
        """
        out = np.empty((width, count))
        for column in range(width):
            self._column(name, key, column, start, out[column])
        return out[0] if width == 1 else out

    def generator(self, name: str) -> np.random.Generator:
        """A generator for a one-off process over whole geography (place synthesis, pilot selection)."""
        return np.random.default_rng(self._sequence(name))

    def mesa_seed(self) -> int:
        """An integer seed for ``mesa.Model(rng=...)``, derived from the same root."""
        return int(self._sequence("mesa").generate_state(1)[0])


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF at uniforms ``u`` (one uniform per count).

    Unlike ``Generator.poisson``, which consumes a number of draws that depends
    on the mean, this keeps draw k tied to agent k whatever the scenario's rates,
    so paired scenarios stay paired. Exact; loops over count values, not agents.
    """
    lam = np.broadcast_to(np.asarray(lam, dtype=float), np.shape(u))
    term = np.exp(-lam)
    cdf = term.copy()
    k = np.zeros(np.shape(u))
    j = 0
    top = float(np.max(lam, initial=0.0))
    limit = int(top + 12.0 * np.sqrt(top) + 30)
    below = u > cdf
    while below.any() and j < limit:
        j += 1
        k += below
        term = term * lam / j
        cdf = cdf + term
        below = u > cdf
    return k
