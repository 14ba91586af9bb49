"""Small forms shared by the rules of all agents: probabilities over time and the logistic."""

from __future__ import annotations

import numpy as np


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def annual_to_monthly(p_year):
    """Monthly probability of an event that happens with probability p in a year."""
    # np.power, not **: the same bits on one agent's number as on an array (engine equivalence)
    return 1.0 - np.power(1.0 - np.clip(p_year, 0.0, 1.0), 1.0 / 12.0)


def monthly_hazard(months):
    """Monthly probability of an event with a time constant of ``months`` (1 - exp(-1/months)).

    Also the share of the way a quantity moves toward its target in a month when it adjusts
    with that time constant (exponential smoothing).
    """
    return 1.0 - np.exp(-1.0 / months)


def approach(value, target, months):
    """Move ``value`` toward ``target`` by one month of an exponential adjustment with time constant ``months``."""
    return value + (target - value) * monthly_hazard(months)
