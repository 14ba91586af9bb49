"""Rules for residents: needs, service, satisfaction, trust, complaints, participation.

Pure functions of numbers or numpy arrays. Forms and sources: docs/ODD.md,
section "Submodels: residents".
"""

from __future__ import annotations

import numpy as np

from .common import approach, logistic


def need_probability(base_rate, elderly, elderly_multiplier):
    """Chance that a resident brings a need to the committee this month (older: more)."""
    return base_rate * np.where(elderly, elderly_multiplier, 1.0)


def coverage(capacity_cases, demand_cases, cap):
    """Share of a unit's cases it can handle this month (capacity over demand, at most ``cap``)."""
    safe = np.where(demand_cases > 0, demand_cases, 1.0)
    return np.where(demand_cases > 0, np.minimum(cap, capacity_cases / safe), cap)


def spare_capacity(capacity_cases, demand_cases):
    """A unit's capacity beyond its demand, as a share of demand (0-1; 1 when there is no demand)."""
    safe = np.where(demand_cases > 0, demand_cases, 1.0)
    return np.clip(np.where(demand_cases > 0, capacity_cases / safe - 1.0, 1.0), 0.0, 1.0)


def complaint_probability(unmet, served, burnout, base):
    """Unmet needs complain at the base rate; served residents complain about attitude in
    proportion to the cadres' burnout (62.4% of complaints are about attitude, slowness or opacity)."""
    return np.where(unmet, base, np.where(served, base * burnout, 0.0))


def local_authority_probability(devolved_share, base_local, staff_coverage):
    """Chance that an issue needing an enforcement or approval power can be settled in the township.

    Only powers actually devolved can be used, and only if the township has the
    staff to exercise them (devolution without staff and pay is the plan's own
    risk, §6).
    """
    return base_local + (1.0 - base_local) * devolved_share * staff_coverage


def satisfaction_target(has_need, served, waiting, skill, burnout, p):
    """The satisfaction (0-100) this month's experience points toward.

    Served well (skilled, not burnt-out cadres) is best; waiting on a referral
    upward and not being served are worst; residents without a need judge
    the committee by its general standing.
    """
    served_score = p.satisfaction_served + p.satisfaction_skill * (skill - 0.5) - p.satisfaction_burnout * burnout
    target = np.where(served, served_score, p.satisfaction_unserved)
    target = np.where(waiting, p.satisfaction_waiting, target)
    return np.clip(np.where(has_need | waiting, target, p.satisfaction_no_need), 0.0, 100.0)


def smooth_toward(value, target, months):
    """Exponential smoothing with a memory of ``months``: how opinions follow experience."""
    return approach(value, target, months)


def learn(value, outcome, rate, observed):
    """Aspiration-style learning (Bendor et al. 2003): move toward what was observed."""
    return np.where(observed, value + rate * (outcome - value), value)


def rectification_probability(supervision, capacity_share, p):
    """Chance that a complaint is substantively rectified (18.7% in 2023, §2.3.3).

    A supervision platform (online rating, 3-day deadlines) and spare cadre
    capacity raise it.
    """
    return np.clip(p.rectification_base + p.rectification_supervision * supervision
                   + p.rectification_capacity * capacity_share, 0.0, 1.0)


def execution_probability(service_coverage, supervision, p):
    """Chance that a decision taken with residents is actually carried out."""
    return np.clip(p.execution_base + p.execution_capacity * service_coverage
                   + p.execution_supervision * supervision, 0.0, 1.0)


def attend_probability(trust, efficacy, cost, age_years, points, previous_share, threshold, p):
    """Chance that a resident attends a meeting on a decision put to residents.

    Civic voluntarism (Verba et al. 1995): people take part when they trust the
    committee, believe it acts on what is decided (efficacy), can afford the
    time (cost), and are asked or rewarded (points). Older residents take part
    more (Shanghai survey gradient). Granovetter (1978) thresholds: once the
    share of neighbours who attended last time reaches a resident's threshold,
    the pull of the crowd adds ``social_boost`` of the remaining probability.
    """
    utility = (p.attend_intercept + p.attend_trust * trust + p.attend_efficacy * efficacy
               - p.attend_cost * cost + p.attend_age * (age_years - 45.0) / 30.0
               + p.attend_points * points)
    base = logistic(utility)
    crowd = previous_share >= threshold
    return np.where(crowd, base + (1.0 - base) * p.social_boost, base)
