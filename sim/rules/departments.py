"""Rules for county departments: pushing work down, rebound, data sharing, devolution.

Each rule is a pure function of numbers or numpy arrays (it works on one
department, one county or all of them at once). Sources for the forms are in
docs/ODD.md, section "Submodels: departments".
"""

from __future__ import annotations

import numpy as np


def official_task_load(items_2023, veto_2023, inspections_2023, items_cut, veto_cap, inspections_cut):
    """Assessment items, veto items and inspections a year after burden-reduction orders.

    Veto items are a subset of the items: capped by the order and by the items left.
    """
    items = items_2023 * (1.0 - items_cut)
    veto = np.minimum(np.minimum(veto_2023, veto_cap), items)
    inspections = inspections_2023 * (1.0 - inspections_cut)
    return items, veto, inspections


def rebound_share(propensity, months_since_cut, rebound_months, access_control, access_effectiveness,
                  power_list, power_list_effectiveness):
    """Share of the work cut on paper that departments push back through other channels.

    Rebound grows as attention to the order fades (1 - exp(-t/tau)); a negative
    list (task access control) and standard power lists block part of it.
    """
    ramp = 1.0 - np.exp(-np.maximum(months_since_cut, 0.0) / rebound_months)
    blocked = (1.0 - access_control * access_effectiveness) * (1.0 - power_list * power_list_effectiveness)
    return propensity * ramp * blocked


def adhoc_task_rate(tasks_per_day_2023, working_days, access_control, access_effectiveness,
                    grid_integration, grid_efficiency):
    """Expected ad hoc tasks a township receives in a month.

    Access control stops unapproved tasks; an integrated grid platform merges
    duplicate requests from different functions.
    """
    return (tasks_per_day_2023 * working_days
            * (1.0 - access_control * access_effectiveness)
            * (1.0 - grid_integration * grid_efficiency))


def join_data_platform(shared, refuses, county_shared_share, target, join_months, refuser_factor, u):
    """Does each data-holding department share its data after this month?

    Departments below the county's target join at a monthly hazard 1 - exp(-1/months);
    those refusing 'for security' join at ``refuser_factor`` times that hazard.
    Sharing is not undone.
    """
    hazard = 1.0 - np.exp(-1.0 / join_months)
    hazard = np.where(refuses, hazard * refuser_factor, hazard)
    wants = county_shared_share < target
    return shared | (wants & (u < hazard))


def devolve_powers(devolved_share, target, devolution_months):
    """Move the share of the 28 powers held by townships toward the lever's target.

    Transfers take time (exponential approach, time constant in months); a target
    below the current share takes powers back at the same pace.
    """
    step = 1.0 - np.exp(-1.0 / devolution_months)
    return devolved_share + (target - devolved_share) * step
