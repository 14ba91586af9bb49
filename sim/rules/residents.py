"""Rules for residents: needs, service, satisfaction, trust, complaints, participation.

Pure functions of numbers or numpy arrays. Forms and sources: docs/ODD.md,
section "Submodels: residents". The month's stages (marked ``@stage``, listed
in docs/ODD.md section 3) come first; the forms they are built from follow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .common import approach, clip, jittable, logistic, ratio, stage, where

DAYS_PER_MONTH = 365.0 / 12.0  # a month's days, in the case queue's day counts

# =========================================================================== stages


class Need(NamedTuple):
    need: object  # brings a need this month
    authority: object  # the need requires an enforcement or approval power
    local: object  # ... and can be settled in the township
    referred: object  # ... or is referred upward and waits
    committee_cases: object  # weighted cases this resident brings to the committee (routine needs)
    township_cases: object  # weighted cases this resident brings to the township (needs settled locally)
    request_month: object  # month the resident's open case was raised (this month for a new need)
    request_day: object  # ... and its day within that month (0 to DAYS_PER_MONTH)


@stage
def bring_need(pending, elderly, weight, devolved, township_staffing, request_month, request_day, month,
               u_need, u_authority, u_local, p) -> Need:
    """Bring needs, per resident: a resident not already waiting raises a need (``need_probability``);
    a share of needs require a power, settled in the township with ``local_authority_probability``
    (the county's devolved share, the township's staffing) and otherwise referred upward.
    Routine needs are the committee's cases, locally settled ones the township's (by sample weight).
    A new need opens a case: its month, and its day within the month (``request_day_of``, from the
    need draw's place below the need probability). ``p``: parameters.residents.
    """
    p_need = need_probability(p.need_rate_per_month, elderly, p.elderly_need_multiplier)
    need = np.logical_not(pending) & (u_need < p_need)
    authority = need & (u_authority < p.authority_share)
    local = authority & (u_local < local_authority_probability(devolved, p.base_local_authority,
                                                               township_staffing))
    return Need(need=need, authority=authority, local=local, referred=authority & np.logical_not(local),
                committee_cases=weight * (need & np.logical_not(authority)), township_cases=weight * local,
                request_month=where(need, month, request_month),
                request_day=where(need, day_within(u_need, p_need), request_day))


class UnitService(NamedTuple):
    coverage: object  # share of the unit's cases it can handle
    spare: object  # capacity beyond demand, as a share of demand (the committee's outreach)
    skill: object  # mean skill of the cadres in post
    burnout: object  # mean burnout of the cadres in post
    load: object  # share of the month its cadres need for the cases they handle (the within-month queue)


@stage
def unit_service(output_hours, hours_per_case, cases, skill_sum, burnout_sum, headcount, cap) -> UnitService:
    """Serve, per unit (committee or township): the cases its cadres can handle (the sum of their
    ``service_output`` over hours per case) against its residents' ``cases`` (``coverage``, capped at
    ``cap``; ``spare_capacity``; ``service_load``, which sets how long a case waits within the month),
    and the mean skill and burnout of its cadres in post (sums over the filled posts, 0 in a unit with
    nobody in post), which residents judge.
    """
    capacity = output_hours / hours_per_case
    cover = coverage(capacity, cases, cap)
    return UnitService(coverage=cover, spare=spare_capacity(capacity, cases),
                       skill=ratio(skill_sum, headcount), burnout=ratio(burnout_sum, headcount),
                       load=service_load(cover, cases, capacity))


# what a complaint is about (``Served.cause``): 0 no complaint
UNRESOLVED, DELAY, ATTITUDE, OPACITY = 1, 2, 3, 4


class Served(NamedTuple):
    served: object
    resolved: object  # a referral upward was resolved this month
    complains: object
    cause: object  # what the complaint is about: UNRESOLVED, DELAY, ATTITUDE, OPACITY (0: no complaint)
    rectified: object
    had_issue: object  # had a need or a pending referral
    settled: object  # served, referral resolved, or a waiting complaint rectified
    days: object  # days from the request to its settlement (0 if not settled this month)
    satisfaction: object
    trust: object
    pending: object  # still waiting on a referral


@stage
def get_served(need, referred, pending, satisfaction, trust, coverage, load, skill, burnout, outreach, supervision,
               disclosure, grid_integration, deadline_days, request_month, request_day, month,
               u_served, u_referral, u_complain, u_rectify, p) -> Served:
    """Serve, per resident: a need the unit handles (its committee's, or its township's if settled
    locally) is met with the unit's ``coverage`` (draw ``u_served``); a referral upward is resolved at
    ``referral_resolution_probability`` (grid integration, the supervision platform's deadline).
    Satisfaction moves toward ``satisfaction_target`` (the unit's cadres' skill and burnout; residents
    without an issue see the committee's outreach, its spare capacity), residents complain about an
    unresolved need, a delay, the cadres' attitude or opaque procedures (``complaint_hazards``, one draw
    ``u_complain``), complaints are rectified (``rectification_probability``: supervision platform,
    outreach), and trust learns from the month: served, resolved or rectified -> up; unmet or an ignored
    complaint -> down (``learn``). A case settled this month has its days from request
    (``case_days``).
    """
    served = need & np.logical_not(referred) & (u_served < coverage)
    r = referral_resolution_probability(grid_integration, supervision, deadline_days, p)
    resolved = pending & (u_referral < r)
    waiting = (pending & np.logical_not(resolved)) | referred
    had_issue = need | pending
    target = satisfaction_target(need | resolved, served | resolved, waiting, skill, burnout, p)
    target = where(had_issue, target, target + p.outreach_satisfaction * outreach)
    satisfaction = smooth_toward(satisfaction, clip(target, 0, 100), p.satisfaction_memory_months)
    dropped = need & np.logical_not(served) & np.logical_not(referred)  # unmet this month, not waiting
    unmet = dropped | waiting
    main, opacity = complaint_hazards(dropped, waiting, served, burnout, supervision, disclosure, deadline_days, p)
    complains = u_complain < main + opacity
    cause = where(complains, where(u_complain < main, where(dropped, UNRESOLVED, where(
        waiting, DELAY, ATTITUDE)), OPACITY), 0)
    rectified = complains & (u_rectify < rectification_probability(supervision, outreach, p))
    good = served | resolved | rectified
    bad = (unmet | complains) & np.logical_not(good)
    trust = learn(learn(trust, 1.0, p.trust_learning, good), 0.0, p.trust_learning, bad)
    fixed = rectified & waiting  # a rectified complaint ends the wait
    days = case_days(served, resolved, fixed, month, request_month, request_day, u_served, coverage, load,
                     u_referral, r, u_complain, main + opacity, grid_integration, deadline_days, p)
    return Served(served=served, resolved=resolved, complains=complains, cause=cause, rectified=rectified,
                  had_issue=had_issue, settled=served | resolved | fixed, days=days,
                  satisfaction=satisfaction, trust=trust, pending=waiting & np.logical_not(rectified))


class Decisions(NamedTuple):
    decided: object  # the committee takes a major decision this month
    deliberated: object  # ... and puts it to residents (a meeting)
    council: object  # the committee has a residents' council (cuts the cost of taking part)
    online: object  # ... online voting
    points: object  # ... a points system (1.0 or 0.0)
    carried: object  # the decision put to residents is carried out
    disclosed: object  # ... and its outcome disclosed


@stage
def committee_decisions(u_decide, u_deliberate, u_execute, u_disclose, council_u, online_u, points_u,
                        deliberation_share, councils, online_voting, points_system, disclosure, supervision,
                        followup, execution_capacity, p) -> Decisions:
    """Take part, per committee: a major decision comes up at ``decision_probability_per_month``;
    a share of them (lever ``deliberation_share``) is put to residents. The committee's fixed draws
    against the lever values decide whether it has a council, online voting and a points system. A
    decision put to residents is carried out with ``execution_probability`` (the committee's service
    coverage, supervision, and in a committee with a council the follow-up of its decisions, lever
    ``council_execution_followup``) and its outcome disclosed with ``disclosure_probability`` (the
    disclosure lever; a council's follow-up reports back to residents).
    """
    decided = u_decide < p.decision_probability_per_month
    deliberated = decided & (u_deliberate < deliberation_share)
    council = council_u < councils
    council_followup = where(council, followup, 0.0)
    return Decisions(
        decided=decided, deliberated=deliberated, council=council, online=online_u < online_voting,
        points=where(points_u < points_system, 1.0, 0.0),
        carried=deliberated & (u_execute < execution_probability(execution_capacity, supervision,
                                                                 council_followup, p)),
        disclosed=deliberated & (u_disclose < disclosure_probability(disclosure, council_followup)),
    )


class Participation(NamedTuple):
    attends: object  # attends the meeting in person
    took_part: object  # attends or votes online
    attended_weight: object  # sample weight if attending (summed per committee)
    last_part: object  # month of the last decision taken part in
    efficacy: object


@stage
def take_part(meeting, council, online, points, previous_share, carried, disclosed, cost, trust, efficacy, age,
              threshold, weight, last_part, month, u_attend, u_online, p) -> Participation:
    """Take part, per resident: if the committee puts a decision to residents (``meeting``), attend
    (``attend_probability``; a council cuts the cost by ``council_cost_reduction``; the crowd is last
    meeting's attendance) or, where there is online voting, vote online with ``online_participation``
    times that chance. Those who took part, and everyone if the outcome is disclosed, learn whether
    decisions are carried out (efficacy, ``learn``).
    """
    cost = cost * where(council, 1.0 - p.council_cost_reduction, 1.0)
    attend_p = attend_probability(trust, efficacy, cost, age, points, previous_share, threshold, p)
    attends = meeting & (u_attend < attend_p)
    votes_online = meeting & np.logical_not(attends) & online & (u_online < p.online_participation * attend_p)
    took_part = attends | votes_online
    return Participation(
        attends=attends, took_part=took_part, attended_weight=weight * attends,
        last_part=where(took_part, month, last_part),
        efficacy=learn(efficacy, where(carried, 1.0, 0.0), p.efficacy_learning, took_part | disclosed),
    )


@stage
def remember_attendance(deliberated, attended_weight, committee_weight, previous_share):
    """Take part, per committee: after a meeting, its attendance (weighted share of the sample) is what
    residents see as the crowd next time."""
    return where(deliberated, ratio(attended_weight, committee_weight), previous_share)


# =========================================================================== forms


@jittable
def need_probability(base_rate, elderly, elderly_multiplier):
    """Chance that a resident brings a need to the committee this month (older: more)."""
    return base_rate * where(elderly, elderly_multiplier, 1.0)


@jittable
def coverage(capacity_cases, demand_cases, cap):
    """Share of a unit's cases it can handle this month (capacity over demand, at most ``cap``)."""
    safe = where(demand_cases > 0, demand_cases, 1.0)
    return where(demand_cases > 0, np.minimum(cap, capacity_cases / safe), cap)


@jittable
def spare_capacity(capacity_cases, demand_cases):
    """A unit's capacity beyond its demand, as a share of demand (0-1; 1 when there is no demand)."""
    safe = where(demand_cases > 0, demand_cases, 1.0)
    return clip(where(demand_cases > 0, capacity_cases / safe - 1.0, 1.0), 0.0, 1.0)


@jittable
def service_load(coverage_share, demand_cases, capacity_cases):
    """Share of the month a unit's cadres need for the cases they handle (0-1): how long a served case
    waits within the month for its turn (a unit with capacity to spare serves sooner)."""
    return np.minimum(1.0, ratio(coverage_share * demand_cases, capacity_cases))


@jittable
def complaint_hazards(dropped, waiting, served, burnout, supervision, disclosure, deadline_days, p):
    """This month's chance of a complaint, per resident, in two parts: about the case itself (``main``)
    and about opaque procedures (``opacity``). A need left unmet complains about the unresolved need,
    a resident waiting on a referral about the delay (less when the handling deadline brings an answer
    within the month, ``answered_share``), a served resident about the attitude of burnt-out cadres
    (less under a supervision platform where residents rate the service); residents with an open issue
    complain about opacity unless decisions are disclosed and procedures are on the platform.
    62.4% of complaints are about attitude, slowness or opacity (§2.3.3)."""
    delay = p.complaint_delay * (1.0 - p.deadline_delay_relief * answered_share(deadline_days))
    attitude = p.complaint_attitude * burnout * (1.0 - p.attitude_supervision_cut * supervision)
    main = where(dropped, p.complaint_unresolved, where(waiting, delay, where(served, attitude, 0.0)))
    opacity = where(dropped | waiting, p.complaint_opacity * (1.0 - disclosure)
                       * (1.0 - p.opacity_supervision_cut * supervision), 0.0)
    return main, opacity


@jittable
def answered_share(deadline_days):
    """Share of a month a waiting case spends after the answer the handling deadline obliges (0 when the
    deadline is a month or more: no answer within the month)."""
    return clip(1.0 - calendar_days(deadline_days) / DAYS_PER_MONTH, 0.0, 1.0)


@jittable
def calendar_days(working_days):
    """Calendar days of a deadline given in working days (5 in 7)."""
    return working_days * (7.0 / 5.0)


@jittable
def referral_resolution_probability(grid_integration, supervision, deadline_days, p):
    """Chance that a case referred upward is resolved this month: the base rate, raised by the "four
    platforms, one grid" integration (a case goes straight to the department that can settle it) and by
    the supervision platform escalating cases past their handling deadline (the shorter the deadline,
    the more of the month a case is overdue). Each closes a share of what is left."""
    left = ((1.0 - p.referral_resolution_per_month) * (1.0 - p.grid_referral_gain * grid_integration)
            * (1.0 - p.deadline_escalation * supervision * answered_share(deadline_days)))
    return 1.0 - left


@jittable
def routing_days(grid_integration, p):
    """Days for a request to reach the unit that handles it; the integrated grid cuts them."""
    return p.case_routing_days * (1.0 - p.grid_routing_cut * grid_integration)


@jittable
def day_within(u, probability):
    """The day within the month of an event decided by ``u < probability``: the draw's place below the
    probability is uniform on [0, 1) given the event, so it is used as the day (no extra draw)."""
    return ratio(u, probability) * DAYS_PER_MONTH


@jittable
def case_days(served, resolved, fixed, month, request_month, request_day, u_served, coverage, load, u_referral,
              referral_probability, u_complain, complaint_probability, grid_integration, deadline_days, p):
    """Days from a resident's request to its settlement this month (0 if not settled).

    - Served by the committee or the township: the routing days, then the case waits for the unit's
      capacity: its place in the month's served cases (the service draw's place below coverage) times
      the share of the month the unit needs for them (``load``).
    - A referral resolved: the months waited x DAYS_PER_MONTH from the request's day to the resolution's
      day (the referral draw's place below its probability).
    - A waiting case ended by a rectified complaint: the complaint's day (after the request, within
      this month), then the handling deadline.
    """
    since_request = (month - request_month) * DAYS_PER_MONTH - request_day  # to the start of this month
    local = routing_days(grid_integration, p) + ratio(u_served, coverage) * load * DAYS_PER_MONTH
    referral = since_request + day_within(u_referral, referral_probability)
    start = where(month == request_month, request_day, 0.0)
    complaint_day = start + day_within(u_complain, complaint_probability) * (1.0 - start / DAYS_PER_MONTH)
    rectified = since_request + complaint_day + calendar_days(deadline_days)
    return where(served, local, where(resolved, referral, where(fixed, rectified, 0.0)))


@jittable
def local_authority_probability(devolved_share, base_local, staff_coverage):
    """Chance that an issue needing an enforcement or approval power can be settled in the township.

    Only powers actually devolved can be used, and only if the township has the
    staff to exercise them (devolution without staff and pay is the plan's own
    risk, §6).
    """
    return base_local + (1.0 - base_local) * devolved_share * staff_coverage


@jittable
def satisfaction_target(has_need, served, waiting, skill, burnout, p):
    """The satisfaction (0-100) this month's experience points toward.

    Served well (skilled, not burnt-out cadres) is best; waiting on a referral
    upward and not being served are worst; residents without a need judge
    the committee by its general standing.
    """
    served_score = p.satisfaction_served + p.satisfaction_skill * (skill - 0.5) - p.satisfaction_burnout * burnout
    target = where(served, served_score, p.satisfaction_unserved)
    target = where(waiting, p.satisfaction_waiting, target)
    return clip(where(has_need | waiting, target, p.satisfaction_no_need), 0.0, 100.0)


@jittable
def smooth_toward(value, target, months):
    """Exponential smoothing with a memory of ``months``: how opinions follow experience."""
    return approach(value, target, months)


@jittable
def learn(value, outcome, rate, observed):
    """Aspiration-style learning (Bendor et al. 2003): move toward what was observed."""
    return where(observed, value + rate * (outcome - value), value)


@jittable
def rectification_probability(supervision, capacity_share, p):
    """Chance that a complaint is substantively rectified (18.7% in 2023, §2.3.3).

    What is not rectified at the base rate is closed in part: without a supervision platform, by the
    committee's spare capacity; on the platform (online rating, deadlines), every complaint is tracked
    and a share of them is closed even with no spare time, the rest as capacity allows. A complaint
    goes unrectified only for want of tracking or of time: with the platform in full and capacity to
    spare, every complaint is rectified (the plan's 100%).
    """
    # what stays unrectified, of what the base rate leaves: on the platform, for want of time; off it,
    # for want of both (written as what is left, so full platform and capacity give exactly 1)
    left_tracked = (1.0 - p.rectification_supervision) * (1.0 - capacity_share)
    left_untracked = 1.0 - p.rectification_capacity * capacity_share
    left = supervision * left_tracked + (1.0 - supervision) * left_untracked
    return 1.0 - (1.0 - p.rectification_base) * left


@jittable
def execution_probability(service_coverage, supervision, council_followup, p):
    """Chance that a decision taken with residents is actually carried out.

    Cadres with time to spare carry out more; a supervision platform (online approvals, ratings) and a
    courtyard council's follow-up (the execute step of its propose -> consult -> vote -> execute loop:
    someone named for each decision, progress reported at the next council) check that it is done.
    ``council_followup`` is the follow-up lever in a committee with a council, 0 elsewhere.
    """
    return clip(p.execution_base + p.execution_capacity * service_coverage
                   + p.execution_supervision * supervision + p.execution_followup * council_followup, 0.0, 1.0)


@jittable
def disclosure_probability(disclosure, council_followup):
    """Chance that the outcome of a decision put to residents is made public: the disclosure lever, and
    a council's follow-up reports back the outcomes the committee would not have published."""
    return disclosure + (1.0 - disclosure) * council_followup


@jittable
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
    return where(crowd, base + (1.0 - base) * p.social_boost, base)
