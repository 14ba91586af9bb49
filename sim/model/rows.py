"""Compiled loops of the columnar engine: a stage function of ``sim.rules`` applied to every row.

Each loop here goes over the rows of a population and calls the stage function on one agent's
numbers, as the per-agent engine does, compiled by numba (``sim.model.kernels`` makes the rules
callable from compiled code); there is no decision arithmetic here, only routing: which unit,
committee or county a row reads (``values[index[i]]``), which draws are its own, and where the
results go. One pass over the rows replaces the dozens of whole-array numpy operations (each a
temporary array) that the same function costs when called on columns, with the same bits. Each loop fills
rows ``lo .. hi-1`` of its results, so a long one goes over spans of rows on several threads at once
(``sim.model.threads``; numba releases the GIL): a row's result is its own, and a county's tally is summed by
one thread in row order, so the bits are those of one thread.

Imported on first use (``rows()`` in ``sim.model.agents``); without numba the engine calls the stage
functions on whole columns instead, with the same results. Loops are compiled with ``cache=True``;
numba's cache knows only this file, not the rules it inlines, so ``kernels.cache_by_rules`` keys each
loop's cache to a digest of the rules, the parameter registry and this file as well.
"""

from __future__ import annotations

import numba
import numpy as np

from . import agents, kernels, threads  # kernels makes the rules and the tally functions callable from compiled code
from ..rules import cadres as cadre_rules
from ..rules import residents as resident_rules

# the stage functions these loops apply (tests/test_stages.py checks each one's compiled bits against numpy's)
STAGES = (cadre_rules.spend_month, cadre_rules.stay_or_leave, cadre_rules.train_promote_and_age,
          resident_rules.bring_need, resident_rules.get_served, resident_rules.take_part)


def _loop(function):
    return kernels.cache_by_rules(numba.njit(cache=True, nogil=True)(function))


_F, _B, _I = np.float64, np.bool_, np.int64  # the types of a loop's results


def _over_rows(loop, result, types):
    """The stage's loop over all rows: ``loop(lo, hi, out, *columns)`` fills rows ``lo .. hi-1`` of the result
    columns ``out`` (of ``types``, one row per row of the first column), on spans of rows at once
    (``sim.model.threads``: each row's result is its own, so the bits do not depend on the spans)."""
    def over_rows(*columns):
        n = columns[0].shape[0]
        out = tuple(np.empty(n, kind) for kind in types)
        threads.run(lambda lo, hi: loop(lo, hi, out, *columns), threads.spans(n))
        return result(*out)

    over_rows.__name__ = over_rows.__qualname__ = loop.__name__.lstrip("_")
    over_rows.__doc__ = loop.__doc__
    return over_rows


# =========================================================================== cadres


@_loop
def _spend_month(lo, hi, out, filled, burnout, unit, veto_work, other_work, data_work, habit_work, service_work,
                 share, county, service_weight, contract_hours, max_hours, trimming, p):
    """``cadres.spend_month`` per post: its unit's work and its share of it by ``unit``, the county's
    evaluation weight by ``county``."""
    veto, other, data, service, worked, new_burnout = out
    for i in range(lo, hi):
        u = unit[i]
        r = cadre_rules.spend_month(filled[i], burnout[i], veto_work[u], other_work[u], data_work[u], habit_work[u],
                                    service_work[u], share[u], service_weight[county[i]], contract_hours, max_hours,
                                    trimming, p)
        veto[i], other[i], data[i], service[i], worked[i], new_burnout[i] = r


spend_month = _over_rows(_spend_month, cadre_rules.Month, (_F,) * 6)


@_loop
def _stay_or_leave(lo, hi, out, filled, intention, burnout, insured, age, college, contract, tenure, township_post,
                   grade, ladder_u, region, county_pay, wage_index, county, township_pay_ratio, committee_pay_ratio,
                   career_ladder, occupational_annuity, promotion_rate_3y, recognition, u, p):
    """``cadres.stay_or_leave`` per post: the region's pay by ``region``, the county's levers by ``county``."""
    new_intention, quits, exits, still = out
    for i in range(lo, hi):
        g, c = region[i], county[i]
        r = cadre_rules.stay_or_leave(
            filled[i], intention[i], burnout[i], insured[i], age[i], college[i], contract[i], tenure[i],
            township_post[i], grade[i], ladder_u[i], county_pay[g], wage_index[g], township_pay_ratio[c],
            committee_pay_ratio[c], career_ladder[c], occupational_annuity[c], promotion_rate_3y[c],
            recognition[c], u[i], p)
        new_intention[i], quits[i], exits[i], still[i] = r


stay_or_leave = _over_rows(_stay_or_leave, cadre_rules.Leaving, (_F, _B, _B, _B))


@_loop
def _train_promote_and_age(lo, hi, out, filled, skill, grade, insured, contract, age, tenure, county, county_coverage,
                           training_coverage, training_mentoring, promotion_rate_3y, coverage_target, enrol_months,
                           u_train, u_apply, u_promote, u_enrol, p):
    """``cadres.train_promote_and_age`` per post: the county's coverage, levers and target by ``county``."""
    new_skill, new_grade, promoted, new_insured, new_age, new_tenure, trained, applied = out
    for i in range(lo, hi):
        c = county[i]
        r = cadre_rules.train_promote_and_age(
            filled[i], skill[i], grade[i], insured[i], contract[i], age[i], tenure[i], county_coverage[c],
            training_coverage[c], training_mentoring[c], promotion_rate_3y[c], coverage_target[c], enrol_months,
            u_train[i], u_apply[i], u_promote[i], u_enrol[i], p)
        new_skill[i], new_grade[i], promoted[i], new_insured[i] = r.skill, r.grade, r.promoted, r.insured
        new_age[i], new_tenure[i], trained[i], applied[i] = r.age, r.tenure, r.trained, r.applied


train_promote_and_age = _over_rows(_train_promote_and_age, cadre_rules.Development, (_F, _F, _B, _B, _F, _F, _B, _B))


# =========================================================================== residents


@_loop
def _bring_need(lo, hi, out, pending, elderly, weight, county, devolved, township, township_staffing, request_month,
                request_day, month, u_need, u_authority, u_local, p):
    """``residents.bring_need`` per resident; the county's devolved share and the township's staffing by index."""
    need, authority, local, referred, committee_cases, township_cases, new_month, new_day = out
    for i in range(lo, hi):
        r = resident_rules.bring_need(pending[i], elderly[i], weight[i], devolved[county[i]],
                                      township_staffing[township[i]], request_month[i], request_day[i], month,
                                      u_need[i], u_authority[i], u_local[i], p)
        need[i], authority[i], local[i], referred[i] = r.need, r.authority, r.local, r.referred
        committee_cases[i], township_cases[i] = r.committee_cases, r.township_cases
        new_month[i], new_day[i] = r.request_month, r.request_day


bring_need = _over_rows(_bring_need, resident_rules.Need, (_B, _B, _B, _B, _F, _F, _I, _F))


@_loop
def _get_served(lo, hi, out, need, referred, pending, satisfaction, trust, unit, coverage, load, skill, burnout,
                committee, spare, county, supervision, disclosure, grid_integration, deadline_days, request_month,
                request_day, month, u_served, u_referral, u_complain, u_rectify, p):
    """``residents.get_served`` per resident: the handling unit's service (``unit``: its row in the per-unit
    arrays), the committee's spare capacity, the county's levers by index."""
    (served, resolved, complains, cause, rectified, had_issue, settled, days, new_satisfaction, new_trust,
     new_pending) = out
    for i in range(lo, hi):
        u, c = unit[i], county[i]
        r = resident_rules.get_served(
            need[i], referred[i], pending[i], satisfaction[i], trust[i], coverage[u], load[u], skill[u], burnout[u],
            spare[committee[i]], supervision[c], disclosure[c], grid_integration[c], deadline_days[c],
            request_month[i], request_day[i], month, u_served[i], u_referral[i], u_complain[i], u_rectify[i], p)
        served[i], resolved[i], complains[i], cause[i] = r.served, r.resolved, r.complains, r.cause
        rectified[i], had_issue[i], settled[i], days[i] = r.rectified, r.had_issue, r.settled, r.days
        new_satisfaction[i], new_trust[i], new_pending[i] = r.satisfaction, r.trust, r.pending


get_served = _over_rows(_get_served, resident_rules.Served, (_B, _B, _B, _I, _B, _B, _B, _F, _F, _F, _B))


@_loop
def _take_part(lo, hi, out, committee, deliberated, council, online, points, previous_share, carried, disclosed, cost,
               trust, efficacy, age, threshold, weight, last_part, month, u_attend, u_online, p):
    """``residents.take_part`` per resident; the committee's decisions and last attendance by index."""
    attends, took_part, attended_weight, new_last_part, new_efficacy = out
    for i in range(lo, hi):
        k = committee[i]
        r = resident_rules.take_part(deliberated[k], council[k], online[k], points[k], previous_share[k], carried[k],
                                     disclosed[k], cost[i], trust[i], efficacy[i], age[i], threshold[i], weight[i],
                                     last_part[i], month, u_attend[i], u_online[i], p)
        attends[i], took_part[i], attended_weight[i] = r.attends, r.took_part, r.attended_weight
        new_last_part[i], new_efficacy[i] = r.last_part, r.efficacy


take_part = _over_rows(_take_part, resident_rules.Participation, (_B, _B, _F, _I, _F))


# =========================================================================== the month's tallies
# Each adds what a row gives its metrics (the tally functions of sim.model.agents: a flat tuple of numerator,
# denominator pairs) to its county's numerators and denominators (``num``, ``den``: a Tally's, metrics x
# counties; ``metric``: the rows of the tallied metrics), row by row in row order: the same sums, to the bit,
# as np.bincount over the columns. As in kernels.group_sum, a run of rows of one county is summed in a small
# array started from the county's sums so far and written back when the run ends.

# the metrics' positions, as tuples: numba unrolls the loops over them (numba.literal_unroll) and keeps the run's
# sums in registers. It does so only where every index of ``run`` is known when compiling: the loops over them
# stay in the tally loops, not in a helper, and go over pairs
_CADRE_PAIRS = tuple(range(len(agents.CADRE_METRICS)))
_RESIDENT_PAIRS = tuple(range(len(agents.RESIDENT_METRICS)))


@_loop
def _tally_cadres(lo, hi, num, den, metric, county, region, filled, start, exits, quits, hires, trained, applied,
                  promotions, vacant_at_start, vacancies_first, township_post, service, worked, burnout, age, college,
                  professional, contract, insured, skill, grade, ladder_u, county_pay, wage_index, township_pay_ratio,
                  committee_pay_ratio, career_ladder, contract_hours, p):
    """``agents.cadre_tallies`` per post, its pay by ``cadre_rules.post_pay`` (region's pay, county's levers)."""
    if hi <= lo:
        return
    run = np.empty(2 * len(_CADRE_PAIRS))
    c = county[lo]
    for k in numba.literal_unroll(_CADRE_PAIRS):
        run[2 * k], run[2 * k + 1] = num[metric[k], c], den[metric[k], c]
    for i in range(lo, hi):
        if county[i] != c:
            for k in numba.literal_unroll(_CADRE_PAIRS):
                num[metric[k], c], den[metric[k], c] = run[2 * k], run[2 * k + 1]
            c = county[i]
            for k in numba.literal_unroll(_CADRE_PAIRS):
                run[2 * k], run[2 * k + 1] = num[metric[k], c], den[metric[k], c]
        g = region[i]
        pay, outside = cadre_rules.post_pay(township_post[i], college[i], grade[i], ladder_u[i], county_pay[g],
                                            wage_index[g], township_pay_ratio[c], committee_pay_ratio[c],
                                            career_ladder[c], p)
        r = agents.cadre_tallies(filled[i], start[i], exits[i], quits[i], hires[i], trained[i], applied[i],
                                 promotions[i], vacant_at_start[i], vacancies_first[i], township_post[i], service[i],
                                 worked[i], burnout[i], age[i], college[i], professional[i], contract[i], insured[i],
                                 skill[i], pay, outside, contract_hours)
        if len(r) != 2 * len(_CADRE_PAIRS):  # (decided when compiling) a pair without its metric's name
            raise ValueError("the tally function gives another number of pairs than it names metrics")
        for k in numba.literal_unroll(_CADRE_PAIRS):
            run[2 * k] += r[2 * k]
            run[2 * k + 1] += r[2 * k + 1]
    for k in numba.literal_unroll(_CADRE_PAIRS):
        num[metric[k], c], den[metric[k], c] = run[2 * k], run[2 * k + 1]


@_loop
def _tally_residents(lo, hi, num, den, metric, county, weight, satisfaction, trust, rectified, complains, settled,
                     had_issue, local, authority, cause, days, took_part, attends, meeting, last_part, month, window):
    """``agents.resident_tallies`` per resident."""
    if hi <= lo:
        return
    run = np.empty(2 * len(_RESIDENT_PAIRS))
    c = county[lo]
    for k in numba.literal_unroll(_RESIDENT_PAIRS):
        run[2 * k], run[2 * k + 1] = num[metric[k], c], den[metric[k], c]
    for i in range(lo, hi):
        if county[i] != c:
            for k in numba.literal_unroll(_RESIDENT_PAIRS):
                num[metric[k], c], den[metric[k], c] = run[2 * k], run[2 * k + 1]
            c = county[i]
            for k in numba.literal_unroll(_RESIDENT_PAIRS):
                run[2 * k], run[2 * k + 1] = num[metric[k], c], den[metric[k], c]
        r = agents.resident_tallies(weight[i], satisfaction[i], trust[i], rectified[i], complains[i], settled[i],
                                    had_issue[i], local[i], authority[i], cause[i], days[i], took_part[i], attends[i],
                                    meeting[i], last_part[i], month, window)
        if len(r) != 2 * len(_RESIDENT_PAIRS):  # (decided when compiling) a pair without its metric's name
            raise ValueError("the tally function gives another number of pairs than it names metrics")
        for k in numba.literal_unroll(_RESIDENT_PAIRS):
            run[2 * k] += r[2 * k]
            run[2 * k + 1] += r[2 * k + 1]
    for k in numba.literal_unroll(_RESIDENT_PAIRS):
        num[metric[k], c], den[metric[k], c] = run[2 * k], run[2 * k + 1]


def _by_county(loop):
    """The tally loop over all rows: ``loop(lo, hi, num, den, metric, county, *columns)`` adds rows ``lo .. hi-1``
    to their counties' sums, on spans of whole counties at once (``threads.spans`` with the county as group)."""
    def by_county(num, den, metric, county, *columns):
        threads.run(lambda lo, hi: loop(lo, hi, num, den, metric, county, *columns),
                    threads.spans(county.shape[0], county))

    by_county.__name__ = by_county.__qualname__ = loop.__name__.lstrip("_")
    by_county.__doc__ = loop.__doc__
    return by_county


tally_cadres = _by_county(_tally_cadres)
tally_residents = _by_county(_tally_residents)


# =========================================================================== one agent

_ONE: dict = {}


def one(stage):
    """``stage`` compiled for one agent's numbers (the per-agent engine's call of the function the loops
    above inline), so both engines run the same machine arithmetic."""
    compiled = _ONE.get(stage)
    if compiled is None:
        compiled = _ONE[stage] = kernels.cache_by_rules(numba.njit(cache=True)(stage))
    return compiled


def warm(config) -> None:
    """Compile every loop and its one-agent twin into numba's cache (``make install`` calls it with
    configs/county.yaml), so that the first run after an install does not pay the 15-20 s of compiling:
    the first recorded month of ``config`` in each engine, after one month of spin-up."""
    from .model import GrassrootsModel
    from .policy import month_label
    from .reference import AgentGrassrootsModel

    for engine in (GrassrootsModel, AgentGrassrootsModel):  # a spin-up month, then a recorded one (the tallies)
        model = engine(config, rng=0, timeline__spin_up_months=1)
        model.run(until=month_label(model.calendar.start))
