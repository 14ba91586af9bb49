"""Small forms shared by the rules of all agents: probabilities over time, the logistic, a safe ratio,
and the ``stage`` mark that names the functions an engine may call."""

from __future__ import annotations

import numpy as np

STAGES: dict[str, object] = {}  # "module.function" -> stage function, filled by @stage
# functions a compiled loop may call (``@stage`` and ``@jittable``): ``sim.model.kernels`` hands them to numba
# on its import (``numba.extending.register_jitable``), so importing the rules does not import numba
JITTABLE: list = []


def jittable(function):
    """Mark ``function`` (a form a stage is built from) as callable from compiled code.

    Called from Python it is the function as written: numpy operations on numbers or arrays. A
    compiled loop of the columnar engine (``sim/model/rows.py``) calls it on one agent's numbers,
    compiled by numba with the same arithmetic; so it may use only what numba compiles for scalars:
    arithmetic, comparisons, numpy ufuncs (``np.exp``, ``np.minimum``, ``np.logical_not``, ...),
    attributes of its parameters, and this module's ``where`` and ``clip`` for ``np.where`` and
    ``np.clip``. The mark changes nothing in the function.
    """
    JITTABLE.append(function)
    return function


def where(condition, if_true, if_false):
    """``np.where``, which numba compiles on one agent's numbers too (``sim.model.kernels``)."""
    return np.where(condition, if_true, if_false)


def clip(value, low, high):
    """``np.clip``, which numba compiles on one agent's numbers too (``sim.model.kernels``)."""
    return np.clip(value, low, high)


def number(value):
    """A flag or a number to be added up: from Python ``value`` itself (numpy sums flags as exact integers);
    in compiled code (``sim.model.kernels``) a float, so that a tuple of them is of one type."""
    return value


def stage(function):
    """Mark ``function`` as a stage function: one of the month's decisions, the only rules an engine calls.

    A stage function is pure and elementwise: it takes state, draws (uniforms, as arguments), lever
    values and parameters (objects whose attributes are plain numbers) and returns new values, with
    numpy operations that give the same bits on one agent's scalars as on whole columns. The columnar
    engine (``sim/model/agents.py``) applies it to all rows at once (the per-agent stages of
    ``sim.model.rows.STAGES`` in a compiled loop that calls it row by row: see ``jittable`` for what it
    may then use), the per-agent engine (``sim/model/reference.py``) to one agent's numbers; the table
    in docs/ODD.md section 3 lists them.
    The mark changes nothing in the function; ``tests/test_stages.py`` reads it.
    """
    STAGES[f"{function.__module__.rsplit('.', 1)[-1]}.{function.__name__}"] = function
    function.is_stage = True
    return jittable(function)


@jittable
def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


@jittable
def annual_to_monthly(p_year):
    """Monthly probability of an event that happens with probability p in a year."""
    # np.power, not **: the same bits on one agent's number as on an array (engine equivalence)
    return 1.0 - np.power(1.0 - clip(p_year, 0.0, 1.0), 1.0 / 12.0)


@jittable
def monthly_hazard(months):
    """Monthly probability of an event with a time constant of ``months`` (1 - exp(-1/months)).

    Also the share of the way a quantity moves toward its target in a month when it adjusts
    with that time constant (exponential smoothing).
    """
    return 1.0 - np.exp(-1.0 / months)


@jittable
def approach(value, target, months):
    """Move ``value`` toward ``target`` by one month of an exponential adjustment with time constant ``months``."""
    return value + (target - value) * monthly_hazard(months)


@jittable
def ratio(num, den, empty=0.0):
    """``num / den`` where ``den > 0``, else ``empty`` (a share of an empty group)."""
    return where(den > 0, num / where(den > 0, den, 1.0), empty)
