"""Rules for county departments: pushing work down, rebound, data sharing, devolution.

Each rule is a pure function of numbers or numpy arrays (it works on one
department, one county or all of them at once). Sources for the forms are in
docs/ODD.md, section "Submodels: departments". The month's stages (marked
``@stage``, listed in docs/ODD.md section 3) come first; the forms they are
built from follow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .common import approach, monthly_hazard, ratio, stage


# =========================================================================== stages


class CountyWork(NamedTuple):
    """What a county's departments push down this month (one value per county)."""

    reform_start: object  # month the burden reform began here (-1: not yet)
    items_official: object  # assessment items per township per year on paper
    veto_official: object  # veto items on paper
    rebound: object  # share of the cut work pushed back through other channels
    items: object  # items actually pushed down
    veto: object  # veto items actually pushed down
    inspections_per_month: object  # expected inspections a committee hosts this month
    adhoc_rate: object  # expected ad hoc tasks a township receives this month
    data_hours: object  # hours a unit spends on duplicate data entry


@stage
def county_workload(reform_start, burden_active, month, rebound_propensity_sum, shared_departments,
                    assessment_items_cut, veto_items_cap, inspections_cut, task_access_control,
                    power_list_coverage, grid_integration, w, impl) -> CountyWork:
    """Push tasks, per county: the official load after burden-reduction orders, its rebound, the load
    actually pushed down, the ad hoc task rate and duplicate data entry.

    The rebound clock starts the first month the burden group of levers is active in the county
    (``burden_active``) with any cut ordered (items or inspections cut, veto items capped below 2023).
    ``rebound_propensity_sum`` is the sum over the county's departments (their mean is the county's
    propensity); ``shared_departments`` counts data departments sharing on the platform.
    ``w``: parameters.workload, ``impl``: implementation. Forms: ``official_task_load``,
    ``rebound_share``, ``actual_load``, ``adhoc_task_rate``, ``duplicate_entry_hours``.
    """
    cuts = (assessment_items_cut > 0) | (inspections_cut > 0) | (veto_items_cap < w.veto_items)
    reform_start = np.where(burden_active & cuts & (reform_start < 0), month, reform_start)
    since = np.where(reform_start >= 0, month - reform_start, 0)
    items_o, veto_o, inspections_o = official_task_load(
        w.assessment_items_per_year, w.veto_items, w.inspections_per_committee_year,
        assessment_items_cut, veto_items_cap, inspections_cut)
    rebound = rebound_share(
        rebound_propensity_sum / w.departments_per_county, since, impl.rebound_months, task_access_control,
        impl.access_control_effectiveness, power_list_coverage, impl.power_list_effectiveness)
    inspections = actual_load(inspections_o, w.inspections_per_committee_year, rebound)
    return CountyWork(
        reform_start=reform_start, items_official=items_o, veto_official=veto_o, rebound=rebound,
        items=actual_load(items_o, w.assessment_items_per_year, rebound),
        veto=actual_load(veto_o, w.veto_items, rebound),
        inspections_per_month=inspections / 12.0,
        adhoc_rate=adhoc_task_rate(w.adhoc_tasks_per_township_day, w.working_days_per_month,
                                   task_access_control, impl.access_control_effectiveness,
                                   grid_integration, w.grid_efficiency),
        data_hours=duplicate_entry_hours(w.data_departments, shared_departments,
                                         w.duplicate_entry_hours_per_department),
    )


@stage
def township_workload(items, veto, adhoc_tasks, committees, w):
    """Push tasks, per township: its items (from its county) and ad hoc tasks (a Poisson count drawn
    at the county's rate) as hours, and the part passed down to each of its ``committees``.

    Returns (township veto hours, township other hours, veto hours per committee, other hours per
    committee before its own inspections). Forms: ``township_work_hours``, ``pass_down``.
    """
    veto_h, other_h, adhoc_h = township_work_hours(items, veto, adhoc_tasks, w.item_hours_per_township_month,
                                                   w.veto_hours_multiplier, w.adhoc_task_hours)
    return pass_down(veto_h, other_h, adhoc_h, w.item_share_to_committees, w.adhoc_share_to_committees,
                     committees)


@stage
def committee_workload(other_from_township, inspections, w):
    """Push tasks, per committee: other compliance hours are its township's share plus its inspections
    this month (a Poisson count), each taking ``inspection_hours``."""
    return other_from_township + inspections * w.inspection_hours


@stage
def county_shared_share(shared_departments, data_departments):
    """Share data, per county: the share of its data departments that share on the platform (0 if none)."""
    return ratio(shared_departments, data_departments)


@stage
def share_data(shared, holds_data, refuses, county_shared_share, target, u, impl):
    """Share data, per department: a data department below its county's target joins the platform
    (``join_data_platform``, draw ``u``); a department without residents' data never shares."""
    joined = join_data_platform(shared, refuses, county_shared_share, target, impl.data_join_months,
                                impl.refuser_join_factor, u)
    return joined & holds_data


# =========================================================================== forms


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


@stage
def devolve_powers(devolved_share, target, devolution_months):
    """Move the share of the 28 powers held by townships toward the lever's target.

    Transfers take time (exponential approach, time constant in months); a target
    below the current share takes powers back at the same pace. The devolution stage, per county.
    """
    return approach(devolved_share, target, devolution_months)
