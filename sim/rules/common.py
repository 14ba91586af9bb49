"""Small forms shared by the rules of all agents: probabilities over time, the logistic, a safe ratio,
and the ``stage`` mark that names the functions an engine may call."""

from __future__ import annotations

import numpy as np

STAGES: dict[str, object] = {}  # "module.function" -> stage function, filled by @stage


def stage(function):
    """Mark ``function`` as a stage function: one of the month's decisions, the only rules an engine calls.

    A stage function is pure and elementwise: it takes state, draws (uniforms, as arguments), lever
    values and parameters (objects whose attributes are plain numbers) and returns new values, with
    numpy operations that give the same bits on one agent's scalars as on whole columns. The columnar
    engine (``sim/model/agents.py``) applies it to all rows at once, the per-agent engine
    (``sim/model/reference.py``) to one agent's numbers; the table in docs/ODD.md section 3 lists them.
    The mark changes nothing in the function; ``tests/test_stages.py`` reads it.
    """
    STAGES[f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"] = function
    function.is_stage = True
    return function


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


def ratio(num, den, empty=0.0):
    """``num / den`` where ``den > 0``, else ``empty`` (a share of an empty group)."""
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)
