"""Issue 13 (part): councils carry their decisions out, metrics are defined at zero denominators, and
cadres' time allocation sheds a cut load with a lag.

- A courtyard council's follow-up (lever ``council_execution_followup``) raises the share of decisions
  put to residents that are carried out (``decisions_executed_share``) and made public; residents learn
  it as efficacy, and later participation rises.
- Every metric has a value where its denominator is 0 in a populated cell (``empty`` in
  sim/registry/metrics.yaml): no decision put to residents gives participation 0, no data department
  gives data sharing 1; only a cell without counties is NaN. Random valid lever settings give no NaN
  in a populated cell.
- A unit's compliance routine takes a heavier load at once and a lighter one over months
  (``compliance_habit_months``): a sudden cut reaches service time gradually, and a steady load is
  untouched bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import CONFIGS, run, scenario, yearly
from sim import registry
from sim.config import load_scenario
from sim.model.metrics import EMPTY, METRIC_NAMES, cell_values
from sim.model.model import GrassrootsModel, cell_membership
from sim.rules import cadres, residents
from sim.rules.common import monthly_hazard

P = load_scenario(CONFIGS / "defaults.yaml").scenario.parameters


def all_counties(value: float, phase: str = "rollout") -> dict:
    """A lever at ``value`` in every county from ``phase`` on, as a step."""
    return {"values": {phase: value}}


# --------------------------------------------------------------------------- the execute step


def test_a_council_follow_up_raises_execution_and_disclosure_only_where_there_is_a_council():
    base = dict(service_coverage=0.6, supervision=0.0, p=P.residents)
    without = residents.execution_probability(council_followup=0.0, **base)
    full = residents.execution_probability(council_followup=1.0, **base)
    assert full == pytest.approx(without + P.residents.execution_followup)
    assert residents.disclosure_probability(0.3, 0.0) == pytest.approx(0.3)
    assert residents.disclosure_probability(0.3, 1.0) == pytest.approx(1.0)
    # the stage: the same draws, a committee with a council and one without, follow-up on in both
    u_execute = 0.5 * (without + full)  # carried out only with the follow-up
    d = residents.committee_decisions(
        u_decide=np.array([0.0, 0.0]), u_deliberate=np.array([0.0, 0.0]), u_execute=np.array([u_execute] * 2),
        u_disclose=np.array([0.9, 0.9]), council_u=np.array([0.1, 0.9]), online_u=np.zeros(2), points_u=np.zeros(2),
        deliberation_share=1.0, councils=0.5, online_voting=0.0, points_system=0.0, disclosure=0.3, supervision=0.0,
        followup=1.0, execution_capacity=0.6, p=P.residents)
    assert d.council.tolist() == [True, False]
    assert d.carried.tolist() == [True, False]
    assert d.disclosed.tolist() == [True, False]


@pytest.fixture(scope="module")
def followup_runs():
    """Councils everywhere from 2025, with and without their follow-up (same replicates)."""
    levers = {"councils": all_counties(1.0), "deliberation_share": all_counties(0.9)}
    without = scenario(levers=levers)
    with_followup = scenario(levers={**levers, "council_execution_followup": all_counties(1.0)})
    return [(run(without, replicate=k), run(with_followup, replicate=k)) for k in range(2)]


def test_a_council_follow_up_raises_the_share_of_decisions_carried_out(followup_runs):
    for without, with_followup in followup_runs:
        before = [yearly(s, "decisions_executed_share", (2023, 2024)) for s in (without, with_followup)]
        assert before[0] == before[1]  # the lever is not on yet: the same runs
        after = [yearly(s, "decisions_executed_share", (2025, 2026)) for s in (without, with_followup)]
        assert after[1] > after[0] + 0.1
        disclosed = [yearly(s, "decisions_disclosed_share", (2025, 2026)) for s in (without, with_followup)]
        assert disclosed[1] > disclosed[0] + 0.3


def test_decisions_carried_out_raise_later_participation(followup_runs):
    """Efficacy is learnt from decisions carried out: more of them, and participation rises, later."""
    gains = []
    for without, with_followup in followup_runs:
        assert yearly(with_followup, "participation_rate", (2024,)) == yearly(without, "participation_rate", (2024,))
        first = [month_value(s, "participation_rate", "2025-01-01") for s in (without, with_followup)]
        later = [yearly(s, "participation_rate", (2027, 2028)) for s in (without, with_followup)]
        assert abs(first[1] - first[0]) < 0.01  # the month the follow-up starts: no efficacy learnt yet
        gains.append(later[1] - later[0])
    assert min(gains) > 0.03


def test_efficacy_learns_whether_decisions_are_carried_out_and_lifts_attendance():
    args = dict(meeting=True, council=False, online=False, points=0.0, previous_share=0.0, cost=0.5, trust=0.5,
                efficacy=0.4, age=50.0, threshold=0.9, weight=1.0, last_part=-10_000, month=40, u_attend=0.0,
                u_online=1.0, disclosed=False, p=P.residents)
    carried = residents.take_part(carried=True, **args).efficacy
    ignored = residents.take_part(carried=False, **args).efficacy
    assert ignored < 0.4 < carried
    lift = [residents.attend_probability(0.5, e, 0.5, 50.0, 0.0, 0.0, 0.9, P.residents) for e in (ignored, carried)]
    assert lift[1] > lift[0]


def month_value(series, metric: str, date: str) -> float:
    sel = series[(series.metric == metric) & (series.region == "all") & (series.group == "all")]
    return float(sel[sel.date == date].value.iloc[0])


# --------------------------------------------------------------------------- zero denominators


def test_every_metric_has_a_defined_value_for_an_empty_denominator():
    assert len(EMPTY) == len(METRIC_NAMES) and np.isfinite(EMPTY).all()
    # one populated cell with nothing to count, one cell without counties
    num, den = np.zeros((len(METRIC_NAMES), 2)), np.zeros((len(METRIC_NAMES), 2))
    values = cell_values(num, den, np.array([[1.0, 1.0], [0.0, 0.0]]))
    for i, name in enumerate(METRIC_NAMES):
        transform = {"annual_probability": lambda x: 1 - (1 - x) ** 12, "annual_rate": lambda x: 12 * x,
                     "three_year_probability": lambda x: 1 - (1 - x) ** 36}.get(registry.METRICS[name].transform,
                                                                                lambda x: x)
        assert values[i, 0] == pytest.approx(transform(registry.METRICS[name].empty)), name
        assert np.isnan(values[i, 1]), name
    index = METRIC_NAMES.index
    assert values[index("participation_rate"), 0] == 0.0
    assert values[index("data_shared_share"), 0] == 1.0
    assert values[index("complaint_rectification_rate"), 0] == 1.0


def populated(model: GrassrootsModel) -> dict:
    """(region, group) -> whether the cell has counties."""
    from sim.model.model import GROUP_LABELS, REGION_LABELS

    cells = cell_membership(model.places.county_region, model.pilot).sum(axis=1) > 0
    keys = [(r, g) for r in REGION_LABELS for g in GROUP_LABELS]
    return dict(zip(keys, cells))


def nan_in_populated_cells(model: GrassrootsModel) -> set:
    s = model.series()
    has = populated(model)
    nan = s[s.value.isna()]
    return {(m, r, g) for m, r, g in zip(nan.metric, nan.region, nan.group) if has[(r, g)]}


def test_no_decision_put_to_residents_gives_participation_zero_not_nan():
    model = GrassrootsModel(scenario(levers={"deliberation_share": {"values": {"baseline": 0.0}}}), seed=0).run()
    s = model.series()
    for metric in ("participation_rate", "meeting_attendance_rate", "decisions_executed_share",
                   "decisions_disclosed_share"):
        values = s[(s.metric == metric) & s.value.notna()].value
        assert len(values) and (values == 0.0).all(), metric
    assert (s[(s.metric == "committee_decision_share") & s.value.notna()].value == 1.0).all()
    assert not nan_in_populated_cells(model)


def test_no_data_departments_gives_data_sharing_one_not_nan():
    model = GrassrootsModel(scenario(parameters={"workload": {"data_departments": 0}}), seed=0).run()
    s = model.series()
    values = s[(s.metric == "data_shared_share") & s.value.notna()].value
    assert len(values) and (values == 1.0).all()
    assert not nan_in_populated_cells(model)


TINY = dict(geography={"counties": 3, "townships_per_county": 4}, pilot={"counties": 1},
            timeline={"spin_up_months": 2, "end": "2023-12",
                      "phases": {"baseline": "2023-01", "pilot": "2023-04", "rollout": "2023-07",
                                 "consolidation": "2023-10"}})


def random_levers(rng: np.random.Generator) -> dict:
    """Every lever at a random value within its bounds, by phase; some at a bound or nearly so."""
    out = {}
    for name, lever in registry.LEVERS.items():
        lo, hi = float(lever.bounds.low), float(lever.bounds.high)
        values = {}
        for phase in ("pilot", "rollout", "consolidation"):
            roll = rng.random()
            values[phase] = lo if roll < 0.15 else hi if roll < 0.3 else lo + (hi - lo) * (
                1e-3 if roll < 0.4 else rng.random())
        out[name] = {"values": values}
    return out


@pytest.mark.parametrize("case", range(6))
def test_random_valid_lever_settings_give_no_nan_in_a_populated_cell(case):
    rng = np.random.default_rng(case)
    levers = random_levers(rng)
    if case < 2:  # the settings that gave NaN before: decisions (almost) never put to residents
        levers["deliberation_share"] = {"values": {"baseline": [0.0, 1e-3][case]}}
    model = GrassrootsModel(scenario(levers=levers, **TINY), seed=case).run()
    assert not nan_in_populated_cells(model)
    assert np.isfinite(model.county_num).all() and np.isfinite(model.county_den).all()


# --------------------------------------------------------------------------- compliance habits


def test_a_routine_takes_a_heavier_load_at_once_and_sheds_a_lighter_one_over_months():
    months, load = 4.0, 100.0
    routine = cadres.compliance_routine(np.nan, 60.0, 40.0, 0.0, 0.0, 0.5, months)  # no routine yet: the load
    assert routine.habit == load and routine.habit_hours == 0.0
    steady = cadres.compliance_routine(load, 60.0, 40.0, 0.0, 0.0, 0.5, months)
    assert steady.habit == load and steady.habit_hours == 0.0  # exactly: a steady load is untouched
    heavier = cadres.compliance_routine(load, 60.0, 90.0, 0.0, 0.0, 0.5, months)
    assert heavier.habit == 150.0 and heavier.habit_hours == 0.0
    habit, left = load, []
    for _ in range(12):  # the load halves for good
        habit, extra = cadres.compliance_routine(habit, 30.0, 20.0, 0.0, 0.0, 0.5, months)
        left.append(extra)
    assert left[0] == pytest.approx(50.0 * (1 - monthly_hazard(months)))
    assert left[3] == pytest.approx(50.0 * np.exp(-4 / months))
    assert left[11] < 0.05 * 50.0
    # an evaluation that rewards service trims other compliance: also shed with the lag
    trimmed = cadres.compliance_routine(load, 60.0, 40.0, 0.0, 1.0, 0.5, months)
    assert trimmed.habit_hours == pytest.approx(20.0 * (1 - monthly_hazard(months)))


def test_habit_hours_are_compliance_work_that_leaves_less_for_residents():
    args = dict(contract_hours=174.0, max_hours=235.0, veto_demand=40.0, other_demand=60.0, data_demand=10.0,
                service_demand=30.0, service_weight=0.0, trimming=0.5)
    v0, o0, d0, s0 = cadres.allocate_time(**args)
    v1, o1, d1, s1 = cadres.allocate_time(habit_hours=20.0, **args)
    assert (v1, d1) == (v0, d0) and o1 == o0 + 20.0 and s1 == s0 - 20.0


def service_months(habit_months: float, replicates: int = 2):
    """Monthly service time share (all counties) under a sudden, permanent burden cut in 2025-01."""
    cut = {"assessment_items_cut": all_counties(0.5), "inspections_cut": all_counties(0.5),
           "veto_items_cap": all_counties(9.0), "task_access_control": all_counties(1.0)}
    sc = scenario(levers=cut, implementation={"adoption_months": 0},
                  parameters={"workload": {"compliance_habit_months": habit_months}})
    out = []
    for k in range(replicates):
        s = run(sc, replicate=k)
        s = s[(s.metric == "service_time_share") & (s.region == "all") & (s.group == "all")]
        out.append(s.set_index("date").value)
    return sum(out) / len(out)


def test_the_time_allocation_lag_spreads_a_sudden_load_cut_over_months():
    instant, lagged = service_months(1e-3), service_months(4.0)
    before = slice("2023-01-01", "2024-12-01")
    np.testing.assert_array_equal(instant[before].values, lagged[before].values)  # the same until the cut
    jump_instant = instant["2025-01-01"] - instant["2024-12-01"]
    jump_lagged = lagged["2025-01-01"] - lagged["2024-12-01"]
    assert jump_instant > 0.1  # without a habit the freed hours go to residents in the month of the cut
    assert jump_lagged < 0.5 * jump_instant
    # ... and arrive over the following months
    assert lagged["2025-06-01"] - lagged["2024-12-01"] > 0.6 * jump_instant
    assert abs(yearly_of(lagged, 2026) - yearly_of(instant, 2026)) < 0.02


def yearly_of(monthly, year: int) -> float:
    return float(monthly[monthly.index.year == year].mean())
