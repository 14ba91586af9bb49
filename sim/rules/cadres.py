"""Rules for cadres (committee workers and township staff).

Time allocation, burnout, pay, the quit decision, hiring, training and
promotion. Each rule is a pure function of numbers or numpy arrays, so the
same function serves one cadre or twelve million. Forms and sources:
docs/ODD.md, section "Submodels: cadres".
"""

from __future__ import annotations

import numpy as np

TOP_GRADE = 4.0  # the career ladder's five grades are 0-4 (§5: Pudong's 5-grade scale)


from .common import annual_to_monthly, approach, logistic, monthly_hazard  # noqa: F401  (re-exported)


def allocate_time(contract_hours, max_hours, veto_demand, other_demand, data_demand, service_demand,
                  service_weight, trimming):
    """Split a cadre's month: veto items first, other compliance, duplicate data entry, then service.

    Compliance comes first because it is what the cadre is assessed on; an
    evaluation that rewards service (weight w) lets cadres trim non-veto
    compliance by ``trimming * w`` (multitask principal-agent: effort follows
    what is measured). Whatever contracted time is left goes to residents
    (outreach) even without explicit demand; residents' demand beyond that is
    met with overtime up to ``max_hours``.

    Returns hours (veto, other compliance, data entry, service).
    """
    veto = np.minimum(veto_demand, max_hours)
    left = max_hours - veto
    other = np.minimum(other_demand * (1.0 - trimming * service_weight), left)
    left = left - other
    data = np.minimum(data_demand, left)
    left = left - data
    unclaimed_contract = np.maximum(contract_hours - (max_hours - left), 0.0)
    service = np.minimum(np.maximum(service_demand, unclaimed_contract), left)
    return veto, other, data, service


def burnout_target(overtime_ratio, compliance_share, intercept, overtime_weight, compliance_weight):
    """Level of exhaustion a cadre's current job demands drive toward (0-1).

    Exhaustion tracks demands (overtime, and compliance work that feels
    pointless) more than resources (Lee & Ashforth 1996).
    """
    return logistic(intercept + overtime_weight * overtime_ratio + compliance_weight * compliance_share)


def update_burnout(burnout, target, months):
    """Burnout moves toward its target with a time constant (Homer 1985's stock of exhaustion)."""
    return approach(burnout, target, months)


def monthly_pay(outside_pay, pay_ratio, on_ladder, grade, ladder_min, ladder_max, wage_index, grade_step):
    """A cadre's monthly pay in yuan.

    The plan's levers set pay as a ratio to the same post in the county seat;
    each grade adds ``grade_step``. On the 5-grade career ladder (grades 0-4)
    pay is at least the ladder's value, scaled by the region's wage index.
    """
    base = outside_pay * pay_ratio * (1.0 + grade_step * grade)
    ladder = (ladder_min + (ladder_max - ladder_min) * grade / TOP_GRADE) * wage_index
    return np.where(on_ladder, np.maximum(base, ladder), base)


def quit_propensity(rel_pay, burnout, insured, promotion_chance, recognition, annuity, young,
                    college, contract, tenure_years, p):
    """Log-odds of quitting within a year that the cadre's present job implies (RAND retention logic).

    Staying is worth more with better pay relative to the outside option, social
    insurance, promotion chances, recognition and a portable annuity; burnout
    pushes out; the young, the better educated and contract staff have better
    outside options; tenure embeds (Mitchell et al. 2001), up to a cap.
    ``p`` holds the coefficients (parameters.cadres).
    """
    return (p.quit_intercept
         - p.quit_pay * np.log(rel_pay)
         + p.quit_burnout * burnout
         - p.quit_insurance * insured
         - p.quit_promotion * promotion_chance
         - p.quit_recognition * recognition
         - p.quit_annuity * annuity
         + p.quit_young * young
         + p.quit_college * college
         + p.quit_contract * contract
         - p.quit_tenure * np.minimum(tenure_years, p.tenure_cap_years) / p.tenure_cap_years)


def update_intention(intention, propensity, months):
    """Quit intention follows the job's propensity with a lag: attitudes form intentions over
    months, and intentions, not the day's conditions, predict exit (Tett & Meyer 1993)."""
    return approach(intention, propensity, months)


def quit_probability_annual(intention):
    """Annual probability that a cadre quits, from the quit intention (log-odds)."""
    return logistic(intention)


def fill_probability_annual(rel_pay, drive, base_quality, p):
    """Annual probability that a vacant post is filled (52% at 2023 pay, policy-facts §1.3.2).

    Applicants come when pay compares well with the county seat; a recruitment
    drive and targeted pipelines widen the pool; counties with a good base
    attract more.
    """
    return logistic(p.fill_intercept + p.fill_pay * np.log(rel_pay) + p.fill_drive * drive
                    + p.fill_base_quality * base_quality)


def vacancy_relative_pay(post_ratio, on_ladder, ladder_min_yuan, wage_index, county_pay):
    """What a vacant post offers relative to the county seat: its pay ratio, or the ladder's floor if higher."""
    ladder_ratio = ladder_min_yuan * wage_index / county_pay
    return np.where(on_ladder, np.maximum(post_ratio, ladder_ratio), post_ratio)


def new_hire_skill(u, initial_mean):
    """A newcomer's skill: uniform around the incumbents' initial mean (0.5 to 1.5 times it)."""
    return initial_mean * (0.5 + u)


def service_productivity(skill):
    """Cases per nominal case-time: a cadre of median skill (0.5) works at the nominal rate."""
    return 0.5 + skill


def hire_college_probability(rel_pay, base, slope, reference_pay):
    """Chance that a new hire holds a junior-college degree: better pay draws graduates.

    ``base`` is the chance at ``reference_pay`` (the 2023 committee pay ratio).
    """
    return np.clip(base + slope * (rel_pay - reference_pay), 0.0, 1.0)


def hire_professional_probability(drive, base, with_drive):
    """Chance that a new hire is a professional (social work, medical, nursing)."""
    return base + drive * (with_drive - base)


def train(skill, trained, applies, gain):
    """Training raises skill only when what was learned is applied (31% at baseline)."""
    return np.where(trained & applies, skill + gain * (1.0 - skill), skill)


def application_probability(mentoring, base, mentored):
    """Share of trained cadres who apply what they learned; mentoring raises it."""
    return base + mentoring * (mentored - base)


def promote(grade, promoted):
    """A promotion moves a cadre one grade up, to the top grade at most."""
    return np.where(promoted, np.minimum(grade + 1.0, TOP_GRADE), grade)


def promotion_probability_monthly(rate_3y):
    """Monthly chance of promotion from the share promoted within three years."""
    return 1.0 - np.power(1.0 - np.clip(rate_3y, 0.0, 1.0), 1.0 / 36.0)
