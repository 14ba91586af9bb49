"""Rules for cadres (committee workers and township staff).

Time allocation, burnout, pay, the quit decision, hiring, training and
promotion. Each rule is a pure function of numbers or numpy arrays, so the
same function serves one cadre or twelve million. Forms and sources:
docs/ODD.md, section "Submodels: cadres". The month's stages (marked
``@stage``, listed in docs/ODD.md section 3) come first; the forms they are
built from follow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .common import annual_to_monthly, approach, clip, jittable, logistic, monthly_hazard, ratio, stage, where  # noqa: F401

TOP_GRADE = 4.0  # the career ladder's five grades are 0-4 (§5: Pudong's 5-grade scale)


# =========================================================================== stages


@stage
def unit_staffing(headcount, posts):
    """Per unit (committee or township) at the start of the month: the share of its posts that are
    filled (a township's staffing decides whether it can exercise devolved powers), and each filled
    post's equal share of the unit's work (0 in a unit with nobody in post).

    Returns (staffing share, work share per filled post).
    """
    return headcount / posts, ratio(1.0, headcount)


class Month(NamedTuple):
    """A post's month: hours by kind (0 for a vacant post) and the burnout they leave."""

    veto: object
    other: object
    data: object
    service: object
    worked: object
    burnout: object


@stage
def service_demand(cases, hours_per_case):
    """Allocate time, per unit: the hours its residents' cases (weighted) ask of its cadres."""
    return cases * hours_per_case


class Routine(NamedTuple):
    """A unit's compliance routine: the hours a month it is used to spend on compliance, and the part
    of them its present load no longer asks for."""

    habit: object
    habit_hours: object


@stage
def compliance_routine(habit, veto_work, expected_other_work, data_work, service_weight, trimming, months) -> Routine:
    """Allocate time, per unit: the compliance its load asks for in an average month (veto, other after
    trimming, data entry; ``expected_other_work`` counts ad hoc tasks and inspections at their rates, not
    the month's draws) and the routine it keeps: a rise is taken up at once (the assessment enforces it),
    a fall only with time constant ``months`` (``compliance_habit``). ``habit_hours`` is what the routine
    spends beyond the load, shared among the unit's filled posts as compliance work (``spend_month``).
    A unit without a routine yet (NaN: the first month) starts at its load. With a steady load the routine
    equals it and ``habit_hours`` is exactly 0.
    """
    expected = veto_work + trimmed_other(expected_other_work, trimming, service_weight) + data_work
    habit = compliance_habit(where(np.isnan(habit), expected, habit), expected, months)
    return Routine(habit=habit, habit_hours=habit - expected)


@stage
def spend_month(filled, burnout, veto_work, other_work, data_work, habit_work, service_work, share, service_weight,
                contract_hours, max_hours, trimming, p) -> Month:
    """Allocate time, per post: take ``share`` of the unit's veto, other and data work, of the compliance
    its routine still keeps beyond them (``habit_work``: ``compliance_routine``) and of the hours its
    residents' cases ask for (``service_demand``), split the month (``allocate_time``), and
    let burnout move toward what the month's overtime and compliance share demand
    (``burnout_target``, ``update_burnout``). A vacant post works no hours and keeps its (last holder's) burnout.
    ``p``: parameters.cadres; ``trimming``: workload.compliance_trimming.
    """
    veto, other, data, service = allocate_time(
        contract_hours, max_hours, veto_work * share, other_work * share, data_work * share,
        service_work * share, service_weight, trimming, habit_work * share)
    veto, other = where(filled, veto, 0.0), where(filled, other, 0.0)
    data, service = where(filled, data, 0.0), where(filled, service, 0.0)
    worked = veto + other + data + service
    compliance = ratio(worked - service, worked)
    overtime = np.maximum(worked / contract_hours - 1.0, 0.0)
    target = burnout_target(overtime, compliance, p.burnout_intercept, p.burnout_overtime, p.burnout_compliance)
    burnout = where(filled, update_burnout(burnout, target, p.burnout_months), burnout)
    return Month(veto, other, data, service, worked, burnout)


@stage
def service_output(service_hours, skill, burnout, filled):
    """Serve, per post: what it adds to its unit's sums. The nominal case-hours its service hours are
    worth (``service_productivity``; a unit's sum over hours per case is the cases it can handle),
    and its holder's skill and burnout (0 for a vacant post: residents judge the cadres in post).

    Returns (case-hours, skill in post, burnout in post).
    """
    return service_hours * service_productivity(skill), skill * filled, burnout * filled


@stage
def post_pay(township_post, college, grade, ladder_u, county_pay, wage_index, township_pay_ratio,
             committee_pay_ratio, career_ladder, p):
    """What a post pays its holder and what the holder could earn in the county seat (yuan a month).

    The outside option is the region's county-seat pay, with a premium for a college degree; the
    post pays its pay ratio of it (``monthly_pay``). A committee post is on the career ladder when
    its fixed draw ``ladder_u`` is below the ladder's coverage lever. Returns (pay, outside pay).
    """
    outside = county_pay * (1.0 + p.college_pay_premium * college)
    pay_ratio = where(township_post, township_pay_ratio, committee_pay_ratio)
    on_ladder = np.logical_not(township_post) & (ladder_u < career_ladder)
    pay = monthly_pay(outside, pay_ratio, on_ladder, grade, p.ladder_pay_min_yuan, p.ladder_pay_max_yuan,
                      wage_index, p.grade_pay_step)
    return pay, outside


class Leaving(NamedTuple):
    intention: object  # quit intention (log-odds) after this month
    quits: object  # quit this month
    exits: object  # quit or retired this month
    filled: object  # still filled


@stage
def stay_or_leave(filled, intention, burnout, insured, age, college, contract, tenure, township_post, grade,
                  ladder_u, county_pay, wage_index, township_pay_ratio, committee_pay_ratio, career_ladder,
                  occupational_annuity, promotion_rate_3y, recognition, u, p) -> Leaving:
    """Stay or leave, per post: weigh the job (``quit_propensity``: pay relative to the county seat,
    burnout, insurance, promotion chances relative to the county's, recognition, an annuity for
    committee posts, age, education, contract, tenure), move the quit intention toward it
    (``update_intention``; a holder with no intention yet, NaN, starts at the propensity), then
    retire at retirement age or quit with the monthly form of ``quit_probability_annual`` (draw ``u``).

    A vacant post keeps updating its last holder's intention; a new hire starts afresh (NaN), so
    that never reaches an outcome.
    """
    pay, outside = post_pay(township_post, college, grade, ladder_u, county_pay, wage_index,
                            township_pay_ratio, committee_pay_ratio, career_ladder, p)
    annuity = where(township_post, 0.0, occupational_annuity)
    propensity = quit_propensity(pay / outside, burnout, insured, promotion_rate_3y / p.county_promotion_rate_3y,
                                 recognition, annuity, age < p.young_age, college, contract, tenure, p)
    intention = where(np.isnan(intention), propensity, update_intention(intention, propensity, p.intention_months))
    retire = filled & (age >= p.retirement_age)
    quits = filled & np.logical_not(retire) & (u < annual_to_monthly(quit_probability_annual(intention)))
    exits = quits | retire
    return Leaving(intention, quits, exits, filled & np.logical_not(exits))


class Vacancy(NamedTuple):
    hired: object  # the post is filled this month
    rel_pay: object  # what the post offers relative to the county seat (the newcomer's education follows it)


@stage
def fill_vacancy(township_post, ladder_u, county_pay, wage_index, base_quality, township_pay_ratio,
                 committee_pay_ratio, career_ladder, recruitment_drive, u_fill, p) -> Vacancy:
    """Fill vacancies, per post vacant at the start of the month: applicants come as the post's pay
    compares with the county seat (``vacancy_relative_pay``; the career ladder's floor counts for a
    committee post on it), a recruitment drive and the county's base (``fill_probability_annual``,
    monthly form, draw ``u_fill``). Who is hired is ``newcomer``.
    """
    post_ratio = where(township_post, township_pay_ratio, committee_pay_ratio)
    on_ladder = np.logical_not(township_post) & (ladder_u < career_ladder)
    rel_pay = vacancy_relative_pay(post_ratio, on_ladder, p.ladder_pay_min_yuan, wage_index, county_pay)
    hired = u_fill < annual_to_monthly(fill_probability_annual(rel_pay, recruitment_drive, base_quality, p))
    return Vacancy(hired, rel_pay)


class Newcomer(NamedTuple):
    college: object
    professional: object
    contract: object
    insured: object
    skill: object
    tenure: object
    grade: object
    burnout: object
    intention: object


@stage
def newcomer(rel_pay, recruitment_drive, contract_share, social_insurance_coverage, u_college, u_professional,
             u_contract, u_insured, u_skill, p) -> Newcomer:
    """Fill vacancies, per post filled this month: the newcomer's education (``hire_college_probability``,
    at the post's relative pay), profession (``hire_professional_probability``), contract (the post's
    contract share), social insurance (contract staff: the coverage lever) and skill (``new_hire_skill``)
    are drawn; tenure and grade start at 0, burnout at its initial level and the quit intention afresh
    (NaN). The newcomer's age is drawn by the engine (a truncated normal, like the other inverse-CDF draws).
    """
    contract = u_contract < contract_share
    return Newcomer(
        college=u_college < hire_college_probability(rel_pay, p.hire_college_base, p.hire_college_pay_slope,
                                                     p.hire_college_reference_pay),
        professional=u_professional < hire_professional_probability(recruitment_drive, p.hire_professional_base,
                                                                     p.hire_professional_drive),
        contract=contract,
        insured=np.logical_not(contract) | (u_insured < social_insurance_coverage),
        skill=new_hire_skill(u_skill, p.initial_skill_mean),
        tenure=0.0, grade=0.0, burnout=p.initial_burnout, intention=np.nan,
    )


@stage
def insurance_coverage(insured_contract_staff, contract_staff):
    """Per county: the share of contract staff in post with social insurance (1 if there are none)."""
    return ratio(insured_contract_staff, contract_staff, 1.0)


class Development(NamedTuple):
    skill: object
    grade: object
    promoted: object
    insured: object
    age: object
    tenure: object
    trained: object  # trained this month
    applied: object  # trained this month and applies what was learned


@stage
def train_promote_and_age(filled, skill, grade, insured, contract, age, tenure, county_coverage,
                          training_coverage, training_mentoring, promotion_rate_3y, coverage_target,
                          enrol_months, u_train, u_apply, u_promote, u_enrol, p) -> Development:
    """Train, promote and age, per post: a holder is trained with the monthly share of the training
    lever and gains skill if the training is applied (``train``, ``application_probability``); skill
    decays by ``skill_decay_per_year`` / 12; holders are promoted with the monthly form of the
    promotion lever (``promotion_probability_monthly``, ``promote``); contract staff without insurance
    are enrolled at a monthly hazard with time constant ``enrol_months`` while their county's coverage
    is below the target; everyone is a month older and a month longer in post. ``trained`` and
    ``applied`` (trained and applying what was learned) are the month's flags the tally counts.
    """
    trained = filled & (u_train < training_coverage / 12.0)
    applies = u_apply < application_probability(training_mentoring, p.application_rate, p.application_rate_mentored)
    skill = train(skill, trained, applies, p.training_skill_gain) * (1.0 - p.skill_decay_per_year / 12.0)
    promoted = filled & (u_promote < promotion_probability_monthly(promotion_rate_3y))
    enrol = (filled & contract & np.logical_not(insured) & (county_coverage < coverage_target)
             & (u_enrol < monthly_hazard(enrol_months)))
    return Development(skill=skill, grade=promote(grade, promoted), promoted=promoted, insured=insured | enrol,
                       age=age + 1.0 / 12.0, tenure=tenure + 1.0 / 12.0, trained=trained, applied=trained & applies)


# =========================================================================== forms


@jittable
def allocate_time(contract_hours, max_hours, veto_demand, other_demand, data_demand, service_demand,
                  service_weight, trimming, habit_hours=0.0):
    """Split a cadre's month: veto items first, other compliance, duplicate data entry, then service.

    Compliance comes first because it is what the cadre is assessed on; an
    evaluation that rewards service (weight w) lets cadres trim non-veto
    compliance by ``trimming * w`` (multitask principal-agent: effort follows
    what is measured). ``habit_hours`` is compliance the unit's routine still
    does after its load fell (``compliance_habit``), counted with other
    compliance. Whatever contracted time is left goes to residents
    (outreach) even without explicit demand; residents' demand beyond that is
    met with overtime up to ``max_hours``.

    Returns hours (veto, other compliance, data entry, service).
    """
    veto = np.minimum(veto_demand, max_hours)
    left = max_hours - veto
    other = np.minimum(trimmed_other(other_demand, trimming, service_weight) + habit_hours, left)
    left = left - other
    data = np.minimum(data_demand, left)
    left = left - data
    unclaimed_contract = np.maximum(contract_hours - (max_hours - left), 0.0)
    service = np.minimum(np.maximum(service_demand, unclaimed_contract), left)
    return veto, other, data, service


@jittable
def trimmed_other(other_demand, trimming, service_weight):
    """Non-veto compliance after the cadre trims it as far as the evaluation rewards service instead."""
    return other_demand * (1.0 - trimming * service_weight)


@jittable
def compliance_habit(habit, load, months):
    """A unit's compliance routine after this month's load: a heavier load is taken up at once, a lighter
    one only with the time constant ``months`` (routines persist: Nelson & Winter 1982; Feldman & Pentland
    2003; and cut work is feared to come back). Never below the load."""
    return np.maximum(load, approach(habit, load, months))


@jittable
def burnout_target(overtime_ratio, compliance_share, intercept, overtime_weight, compliance_weight):
    """Level of exhaustion a cadre's current job demands drive toward (0-1).

    Exhaustion tracks demands (overtime, and compliance work that feels
    pointless) more than resources (Lee & Ashforth 1996).
    """
    return logistic(intercept + overtime_weight * overtime_ratio + compliance_weight * compliance_share)


@jittable
def update_burnout(burnout, target, months):
    """Burnout moves toward its target with a time constant (Homer 1985's stock of exhaustion)."""
    return approach(burnout, target, months)


@jittable
def monthly_pay(outside_pay, pay_ratio, on_ladder, grade, ladder_min, ladder_max, wage_index, grade_step):
    """A cadre's monthly pay in yuan.

    The plan's levers set pay as a ratio to the same post in the county seat;
    each grade adds ``grade_step``. On the 5-grade career ladder (grades 0-4)
    pay is at least the ladder's value, scaled by the region's wage index.
    """
    base = outside_pay * pay_ratio * (1.0 + grade_step * grade)
    ladder = (ladder_min + (ladder_max - ladder_min) * grade / TOP_GRADE) * wage_index
    return where(on_ladder, np.maximum(base, ladder), base)


@jittable
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


@jittable
def update_intention(intention, propensity, months):
    """Quit intention follows the job's propensity with a lag: attitudes form intentions over
    months, and intentions, not the day's conditions, predict exit (Tett & Meyer 1993)."""
    return approach(intention, propensity, months)


@jittable
def quit_probability_annual(intention):
    """Annual probability that a cadre quits, from the quit intention (log-odds)."""
    return logistic(intention)


@jittable
def fill_probability_annual(rel_pay, drive, base_quality, p):
    """Annual probability that a vacant post is filled (52% at 2023 pay, policy-facts §1.3.2).

    Applicants come when pay compares well with the county seat; a recruitment
    drive and targeted pipelines widen the pool; counties with a good base
    attract more.
    """
    return logistic(p.fill_intercept + p.fill_pay * np.log(rel_pay) + p.fill_drive * drive
                    + p.fill_base_quality * base_quality)


@jittable
def vacancy_relative_pay(post_ratio, on_ladder, ladder_min_yuan, wage_index, county_pay):
    """What a vacant post offers relative to the county seat: its pay ratio, or the ladder's floor if higher."""
    ladder_ratio = ladder_min_yuan * wage_index / county_pay
    return where(on_ladder, np.maximum(post_ratio, ladder_ratio), post_ratio)


@jittable
def new_hire_skill(u, initial_mean):
    """A newcomer's skill: uniform around the incumbents' initial mean (0.5 to 1.5 times it)."""
    return initial_mean * (0.5 + u)


@jittable
def service_productivity(skill):
    """Cases per nominal case-time: a cadre of median skill (0.5) works at the nominal rate."""
    return 0.5 + skill


@jittable
def hire_college_probability(rel_pay, base, slope, reference_pay):
    """Chance that a new hire holds a junior-college degree: better pay draws graduates.

    ``base`` is the chance at ``reference_pay`` (the 2023 committee pay ratio).
    """
    return clip(base + slope * (rel_pay - reference_pay), 0.0, 1.0)


@jittable
def hire_professional_probability(drive, base, with_drive):
    """Chance that a new hire is a professional (social work, medical, nursing)."""
    return base + drive * (with_drive - base)


@jittable
def train(skill, trained, applies, gain):
    """Training raises skill only when what was learned is applied (31% at baseline)."""
    return where(trained & applies, skill + gain * (1.0 - skill), skill)


@jittable
def application_probability(mentoring, base, mentored):
    """Share of trained cadres who apply what they learned; mentoring raises it."""
    return base + mentoring * (mentored - base)


@jittable
def promote(grade, promoted):
    """A promotion moves a cadre one grade up, to the top grade at most."""
    return where(promoted, np.minimum(grade + 1.0, TOP_GRADE), grade)


@jittable
def promotion_probability_monthly(rate_3y):
    """Monthly chance of promotion from the share promoted within three years."""
    return 1.0 - np.power(1.0 - clip(rate_3y, 0.0, 1.0), 1.0 / 36.0)
