"""Reforms roll out over time (issue 13): lever ramps, counties adopting over the rollout, pilots as a share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import CONFIGS
from sim.config import ConfigError, load_scenario, scenario_of
from sim.config.schema import LeverSpec, pilot_count
from sim.model.model import geography_and_pilots
from sim.model.policy import Calendar, Policy, lever_table, month_index
from sim.model.streams import Streams


def plan_calendar() -> Calendar:
    return Calendar.from_scenario(load_scenario(CONFIGS / "plan.yaml").scenario, 24)


# --------------------------------------------------------------------------- ramps


def test_a_ramp_spreads_each_change_linearly_and_reaches_the_value_in_its_last_month():
    calendar = plan_calendar()
    months = range(calendar.spin_up_start, calendar.end + 1)
    spec = LeverSpec(values={"baseline": 0.0, "rollout": 0.5, "consolidation": 0.8}, ramp={"months": 12})
    table = dict(zip(months, lever_table(spec, calendar, months)))
    rollout, consolidation = month_index("2025-01"), month_index("2027-01")
    assert table[rollout - 1] == 0.0  # nothing before the key's month
    assert table[rollout] == pytest.approx(0.5 / 12)  # the first of the 12 months
    assert table[rollout + 5] == pytest.approx(0.5 * 6 / 12)
    assert table[rollout + 11] == pytest.approx(0.5)  # reached in the 12th month ...
    assert all(table[m] == pytest.approx(0.5) for m in range(rollout + 11, consolidation))  # ... and held
    assert table[consolidation] == pytest.approx(0.5 + 0.3 / 12)
    assert table[consolidation + 11] == pytest.approx(0.8)
    steps = np.diff([table[m] for m in months])
    assert (steps >= -1e-12).all() and steps.max() == pytest.approx(0.5 / 12)  # monotone, never a jump


def test_a_ramp_of_one_month_is_the_step_and_no_ramp_is_unchanged():
    calendar = plan_calendar()
    months = range(calendar.spin_up_start, calendar.end + 1)
    values = {"baseline": 18.0, "pilot": 10.0, "2026-07": 14.0}
    step = lever_table(LeverSpec(values=values), calendar, months)
    assert np.array_equal(lever_table(LeverSpec(values=values, ramp={"months": 1}), calendar, months), step)
    assert step[month_index("2024-01") - months.start] == 10.0 and step[month_index("2023-12") - months.start] == 18


def test_a_key_before_the_previous_ramp_is_done_starts_from_where_it_got_to():
    calendar = plan_calendar()
    months = range(calendar.spin_up_start, calendar.end + 1)
    spec = LeverSpec(values={"baseline": 0.0, "2025-01": 1.0, "2025-04": 0.0}, ramp={"months": 12})
    table = dict(zip(months, lever_table(spec, calendar, months)))
    at_turn = table[month_index("2025-03")]
    assert at_turn == pytest.approx(3 / 12)
    assert table[month_index("2025-04")] == pytest.approx(at_turn * 11 / 12)  # down from 0.25, not from 1
    assert table[month_index("2026-03")] == pytest.approx(0.0)


def test_the_plan_ramps_its_levers_in_every_county_that_reforms():
    from sim import GrassrootsModel

    model = GrassrootsModel(CONFIGS / "plan.yaml", seed=1, counties=(0, 1))
    policy = model.policy
    first_adopters = np.flatnonzero(policy.adoption == month_index("2025-01"))
    assert len(first_adopters)
    councils = policy.tables["councils"][policy._adoption_row[first_adopters[0]]]
    first = policy._first
    assert councils[month_index("2025-06") - first] == pytest.approx(0.5 * 6 / 12)
    assert councils[month_index("2027-12") - first] == pytest.approx(0.8)


# --------------------------------------------------------------------------- each county's own ramp


def test_a_late_adopter_ramps_from_its_own_adoption_month_not_in_one_step():
    """The pilots' items cut ramps over 2024; a county adopting in the rollout's 10th month starts from
    its 2023 value that month and rises over 12 months, as the pilots did, instead of jumping to 30%."""
    policy = policy_of(CONFIGS / "plan.yaml")
    late = np.flatnonzero(policy.adoption == month_index("2025-10"))
    assert len(late) and policy.implements["burden"][late].any()
    county = late[policy.implements["burden"][late]][0]
    adoption = month_index("2025-10")
    path = [float(policy.levers_at(m)["assessment_items_cut"][county]) for m in range(adoption - 1, adoption + 13)]
    assert path[0] == 0.0  # the 2023 value until it adopts
    assert path[1] == pytest.approx(0.30 / 12)  # its first month: 1/12 of the way, not the whole 30%
    assert path[6] == pytest.approx(0.30 * 6 / 12)
    assert path[12] == pytest.approx(0.30) and path[13] == pytest.approx(0.30)  # reached in its 12th month
    steps = np.diff(path)
    assert steps.max() == pytest.approx(0.30 / 12) and (steps >= -1e-12).all()
    # a pilot's ramp is the timeline's own (the pilot phase starts in its adoption month)
    pilot = np.flatnonzero(policy.pilot & policy.implements["burden"])[0]
    pilot_path = [float(policy.levers_at(m)["assessment_items_cut"][pilot])
                  for m in range(month_index("2024-01"), month_index("2024-12") + 1)]
    assert pilot_path == pytest.approx([0.30 * k / 12 for k in range(1, 13)])


def test_a_late_adopter_ramps_to_the_value_in_force_and_later_values_ramp_on_schedule():
    from sim.model.policy import adopter_table

    calendar = plan_calendar()
    months = range(calendar.spin_up_start, calendar.end + 1)
    spec = LeverSpec(values={"baseline": 0.0, "pilot": 0.6, "rollout": 1.0, "2028-01": 0.5}, ramp={"months": 12})
    at = dict(zip(months, adopter_table(spec, calendar, months, month_index("2025-07"), 0.0)))
    assert at[month_index("2025-06")] == 0.0
    assert at[month_index("2025-07")] == pytest.approx(1.0 / 12)  # straight to the value in force (rollout's)
    assert at[month_index("2026-06")] == pytest.approx(1.0)
    assert at[month_index("2028-01")] == pytest.approx(1.0 - 0.5 / 12)  # a later value: on its date
    # adopting at a dated value's own month gives the timeline's table
    assert np.array_equal(adopter_table(spec, calendar, months, month_index("2024-01"), 0.0),
                          lever_table(spec, calendar, months))
    # a step lever is the timeline whenever a county adopts
    step = LeverSpec(values={"baseline": 0.0, "pilot": 0.6})
    assert np.array_equal(adopter_table(step, calendar, months, month_index("2025-07"), 0.0),
                          lever_table(step, calendar, months))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {CONFIGS / 'baseline.yaml'}\nname: x\n" + text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    return str(info.value)


@pytest.mark.parametrize("ramp, expected", [
    ("{months: 0}", "greater than or equal to 1"),
    ("{months: 500}", "less than or equal to 120"),
    ("{months: 1.5}", "integer"),
    ("{month: 12}", "unknown key"),
    ("linear", "must be a mapping such as {months: 12}"),
])
def test_a_bad_ramp_is_refused_with_file_key_and_line(tmp_path, ramp, expected):
    path = write(tmp_path, f"levers:\n  councils:\n    values: {{rollout: 0.5}}\n    ramp: {ramp}\n")
    msg = error_of(path)
    assert f"{path}:6: levers.councils.ramp" in msg and expected in msg, msg
    assert "valid number" not in msg  # the spec's problem, not the plain-number alternative's


# --------------------------------------------------------------------------- adoption


def policy_of(path, seed=1, replicate=0, **overrides) -> Policy:
    from sim import GrassrootsModel

    return GrassrootsModel(path, seed=seed, replicate=replicate, counties=(0, 1), **overrides).policy


def test_non_pilot_counties_adopt_an_equal_number_each_month_over_the_configured_months():
    policy = policy_of(CONFIGS / "plan.yaml")
    rollout = month_index("2025-01")
    pilot, start = policy.pilot, policy.adoption
    assert (start[pilot] == month_index("2024-01")).all() and pilot.sum() == 3
    # 90 slots over 24 months (3 or 4 a month); the 3 pilots' slots stay empty
    per_month = np.bincount(start[~pilot] - rollout, minlength=24)
    slots = np.bincount(np.arange(90) * 24 // 90)
    assert len(per_month) == 24 and (per_month <= slots).all() and (slots - per_month).sum() == 3
    assert policy.reforming(rollout - 1).sum() == 3 and policy.reforming(rollout + 23).all()
    assert 30 < policy.reforming(rollout + 11).sum() < 60


def test_no_spread_puts_every_county_in_the_rollouts_first_month():
    policy = policy_of(CONFIGS / "plan.yaml", **{"implementation.adoption_months": 0})
    assert policy.reforming(month_index("2025-01")).all() and policy.reforming(month_index("2024-12")).sum() == 3


def test_a_county_adopts_in_the_same_month_in_every_design_of_a_replicate():
    designs = [CONFIGS / "plan.yaml", *sorted((CONFIGS / "designs").glob("*.yaml"))]
    policies = [policy_of(path) for path in designs]
    plan = policies[0]
    for path, policy in zip(designs, policies):
        # central_west_tuned chooses other pilots (all central/west): they start in 2024, the rest as in the plan
        same = ~(policy.pilot | plan.pilot)
        assert np.array_equal(policy.adoption[same], plan.adoption[same]), path.name
    assert any(not np.array_equal(p.pilot, plan.pilot) for p in policies)  # the case above is exercised
    # the order is the replicate's: another replicate differs
    assert not np.array_equal(policy_of(CONFIGS / "plan.yaml", replicate=1).adoption, plan.adoption)
    # fidelity is paired too (burden_then_pay has the plan's fidelity shares)
    other = policies[[p.name for p in designs].index("burden_then_pay.yaml")]
    assert all(np.array_equal(other.implements[g], plan.implements[g]) for g in plan.implements)


# --------------------------------------------------------------------------- pilot share


@pytest.mark.parametrize("counties, pilots", [(90, 3), (180, 6), (450, 16), (2844, 100), (10, 0)])
def test_pilot_share_gives_a_count_proportional_to_the_counties_simulated(counties, pilots):
    scenario = scenario_of(CONFIGS / "baseline.yaml", {"geography.counties": counties})
    assert scenario.pilot.counties == pilots == pilot_count(100 / 2844, counties)
    _, flags = geography_and_pilots(scenario, 1, 0)
    assert flags.sum() == pilots


def test_a_config_that_gives_a_number_of_pilots_wins_over_the_share():
    scenario = scenario_of(CONFIGS / "baseline.yaml", {"geography.counties": 180, "pilot.counties": 3})
    assert scenario.pilot.counties == 3
    assert load_scenario(CONFIGS / "county.yaml").scenario.pilot.counties == 1


def test_a_pilot_without_counties_or_share_is_refused(tmp_path):
    path = write(tmp_path, "pilot:\n  share: null\n")
    assert "give the number of pilot counties (counties) or their share" in error_of(path)
