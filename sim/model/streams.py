"""Reproducible, paired random streams.

One ``SeedSequence`` per (seed, replicate); from it independent streams per
process (population synthesis, task arrivals, quits, ...) and, for processes
that run every month, a fresh generator per calendar month. A month's draws
therefore never depend on how many numbers earlier months consumed, and
replicate k of every scenario sees the same draws (common random numbers):
differences between scenarios are policy, not noise.
"""

from __future__ import annotations

import numpy as np

STREAMS = (
    "population", "pilot", "implementation", "tasks", "needs", "service", "complaints",
    "participation", "quits", "hires", "training", "data", "mesa", "agents",
)


class Streams:
    def __init__(self, seed: int, replicate: int):
        if seed < 0 or replicate < 0:
            raise ValueError("seed and replicate must be non-negative integers")
        self.seed = int(seed)
        self.replicate = int(replicate)

    def _sequence(self, name: str, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self.replicate, STREAMS.index(name), *key))

    def setup(self, name: str) -> np.random.Generator:
        """A generator for a one-off process (population synthesis, pilot selection)."""
        return np.random.default_rng(self._sequence(name))

    def month(self, name: str, month: int) -> np.random.Generator:
        """A generator for one process in one calendar month (month = year*12 + month-1)."""
        return np.random.default_rng(self._sequence(name, month))

    def mesa_seed(self) -> int:
        """An integer seed for ``mesa.Model(rng=...)``, derived from the same root."""
        return int(self._sequence("mesa").generate_state(1)[0])


def poisson_from_uniform(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF at uniforms ``u`` (one uniform per count).

    Unlike ``Generator.poisson``, which consumes a number of draws that depends
    on the mean, this keeps draw k tied to agent k whatever the scenario's rates,
    so paired scenarios stay paired. Exact; loops over count values, not agents.
    """
    lam = np.broadcast_to(np.asarray(lam, dtype=float), u.shape)
    term = np.exp(-lam)
    cdf = term.copy()
    k = np.zeros(u.shape)
    j = 0
    limit = int(np.max(lam, initial=0.0) + 12.0 * np.sqrt(np.max(lam, initial=0.0)) + 30)
    below = u > cdf
    while below.any() and j < limit:
        j += 1
        k += below
        term = term * lam / j
        cdf = cdf + term
        below = u > cdf
    return k
