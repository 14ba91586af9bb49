"""Rules for county departments: pushing work down, rebound, data sharing, devolution.

Each rule is a pure function of numbers or numpy arrays (it works on one
department, one county or all of them at once). Sources for the forms are in
docs/ODD.md, section "Submodels: departments".
"""

from __future__ import annotations

import numpy as np

from .common import approach, monthly_hazard


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


def actual_load(official, before_cut, rebound):
    """Work actually pushed down: the official load plus the rebounded share of what was cut."""
    return official + rebound * (before_cut - official)


def township_work_hours(items, veto, adhoc_tasks, item_hours, veto_multiplier, adhoc_task_hours):
    """Staff-hours a month of a township's assessment items (veto items weighted more) and ad hoc tasks.

    Returns (veto item hours, other item hours, ad hoc task hours).
    """
    return item_hours * veto_multiplier * veto, item_hours * (items - veto), adhoc_tasks * adhoc_task_hours


def pass_down(veto_hours, other_hours, adhoc_hours, item_share, adhoc_share, committees):
    """The township passes a share of its work down; each of its committees gets an equal part.

    Returns (township veto hours, township other hours, veto hours per committee,
    other hours per committee before its own inspections).
    """
    per_committee = 1.0 / committees
    return ((1 - item_share) * veto_hours,
            (1 - item_share) * other_hours + (1 - adhoc_share) * adhoc_hours,
            item_share * veto_hours * per_committee,
            (item_share * other_hours + adhoc_share * adhoc_hours) * per_committee)


def duplicate_entry_hours(data_departments, shared_departments, hours_per_department):
    """Hours a unit spends each month re-entering the data of departments that do not share it."""
    return (data_departments - shared_departments) * hours_per_department


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
    hazard = monthly_hazard(join_months)
    hazard = np.where(refuses, hazard * refuser_factor, hazard)
    wants = county_shared_share < target
    return shared | (wants & (u < hazard))


def devolve_powers(devolved_share, target, devolution_months):
    """Move the share of the 28 powers held by townships toward the lever's target.

    Transfers take time (exponential approach, time constant in months); a target
    below the current share takes powers back at the same pace.
    """
    return approach(devolved_share, target, devolution_months)
