"""The per-agent engine (one mesa.Agent per department, cadre post and resident) against the columnar one.

Both engines call the same rules on the same random draws and sum group quantities in
the same order, so they must agree bit for bit: the series, the county tallies, and every
agent's state month by month.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from helpers import scenario
from sim.model.metrics import METRIC_NAMES, Tally
from sim.model.model import GrassrootsModel
from sim.model.reference import AgentGrassrootsModel, CadreAgent, DepartmentAgent, ResidentAgent

# two small counties (one pilot, one not), the full 2023-2030 horizon after a short spin-up
SMALL = dict(geography={"counties": 2, "townships_per_county": 2}, pilot={"counties": 1},
             timeline={"spin_up_months": 6})


@pytest.fixture(scope="module")
def small():
    return scenario("plan.yaml", **SMALL)


@pytest.fixture(scope="module")
def both_runs(small):
    return GrassrootsModel(small, seed=5, replicate=1).run(), AgentGrassrootsModel(small, seed=5, replicate=1).run()


def test_series_are_identical(both_runs):
    columnar, agents = both_runs
    np.testing.assert_array_equal(agents.county_num, columnar.county_num)
    np.testing.assert_array_equal(agents.county_den, columnar.county_den)
    pd.testing.assert_frame_equal(agents.series(), columnar.series(), check_exact=True)
    pd.testing.assert_frame_equal(agents.datacollector.get_model_vars_dataframe(),
                                  columnar.datacollector.get_model_vars_dataframe(), check_exact=True)


def assert_same_state(columnar: GrassrootsModel, agents: AgentGrassrootsModel, month: int) -> None:
    state = agents.agent_columns()
    for population, values in state.items():
        reference = getattr(columnar, population)
        for name, array in values.items():
            expected = getattr(reference, name)
            pairs = array.items() if isinstance(array, dict) else [(None, array)]
            for key, got in pairs:
                want = expected if key is None else expected[key]
                np.testing.assert_array_equal(got, want, err_msg=f"{population}.{name} {key or ''} month {month}")


def test_agent_state_matches_columns_month_by_month(small):
    columnar, agents = GrassrootsModel(small, seed=2), AgentGrassrootsModel(small, seed=2)
    for month in range(9):  # the spin-up, then three recorded months
        columnar.step()
        agents.step()
        assert_same_state(columnar, agents, month)
    # the headline state, named explicitly
    np.testing.assert_array_equal([a.burnout for a in agents.cadre_list], columnar.cadres.burnout)
    np.testing.assert_array_equal([a.trust for a in agents.resident_list], columnar.residents.trust)
    np.testing.assert_array_equal([a.shared for a in agents.department_list], columnar.departments.shared)


def test_one_mesa_agent_per_post_resident_and_department(small):
    model = AgentGrassrootsModel(small, seed=0)
    columnar = GrassrootsModel(small, seed=0)
    counts = {kind: len(model.agents_by_type[kind]) for kind in (DepartmentAgent, CadreAgent, ResidentAgent)}
    assert counts == {DepartmentAgent: len(columnar.departments.county), CadreAgent: columnar.cadres.n,
                      ResidentAgent: columnar.residents.n}
    assert len(model.agents) == sum(counts.values())
    assert len(model.cadre_list) == int(model.places.posts_per_county.sum())  # filled and vacant posts alike
    for agents in (model.department_list, model.cadre_list, model.resident_list):
        assert all(isinstance(a, mesa.Agent) for a in agents)
        assert [a.index for a in agents] == list(range(len(agents)))  # row order: agent i owns draw i
    assert set(model.cadre_agents) == set(model.cadre_list)


def test_a_cadres_month_can_be_inspected(small):
    model = AgentGrassrootsModel(small, seed=0)
    columnar = GrassrootsModel(small, seed=0)
    model.step()
    columnar.step()
    cadre = next(a for a in model.cadre_list if a.filled_at_start)
    parts = cadre.hours_veto + cadre.hours_other + cadre.hours_data + cadre.hours_service
    assert cadre.hours_worked == parts > 0
    assert 0 < cadre.burnout < 1 and not np.isnan(cadre.intention)
    assert cadre.hours_service == columnar.cadres.hours["service"][cadre.index]
    assert cadre.hours_worked == columnar.cadres.hours["worked"][cadre.index]
    # one agent's decision, called by hand: with no work pushed down and no residents waiting,
    # a cadre alone in the unit gives the contracted month to residents (outreach)
    cadre.allocate_time(veto=0.0, other=0.0, data=0.0, habit=0.0, service=0.0, share=1.0, service_weight=0.0)
    assert (cadre.hours_veto, cadre.hours_other, cadre.hours_data) == (0.0, 0.0, 0.0)
    assert cadre.hours_service == cadre.hours_worked == model.contract_hours


def test_agent_engine_keeps_its_state_on_the_agents(small):
    """The per-agent model holds no state columns: what it records is read from the agents, through
    the same tally functions as the columnar engine's."""
    model = AgentGrassrootsModel(small, seed=0, timeline__spin_up_months=0)
    for name, population in (("skill", model.cadres), ("trust", model.residents), ("shared", model.departments)):
        assert name not in population.constants and not hasattr(population, name)
    model.step()
    trust = METRIC_NAMES.index("trust")
    recorded = model.county_num[0, trust] / model.county_den[0, trust]
    assert 0 < recorded.min() and recorded.max() < 1
    for a in model.resident_list:  # change the agents, tally again: the tally follows them
        a.trust = 1.0
    tally = Tally(model.places.n_counties)
    model.residents.tally(tally, model.month - 1)
    np.testing.assert_array_equal(tally.num[trust] / tally.den[trust], 1.0)


@pytest.mark.parametrize("engine", ["columnar", "agents"])
def test_the_model_stops_running_after_the_last_month_and_steps_past_it_change_nothing(engine):
    """Mesa's convention: ``running`` turns False when the timeline ends, so ``while model.running: step()``
    (or a Mesa tool's max_steps) ends there instead of crashing past 2030-12."""
    from sim.run import model_class

    sc = scenario("county.yaml", geography={"counties": 1, "townships_per_county": 1},
                  timeline={"spin_up_months": 2})
    model = model_class(engine)(sc, seed=1)
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert steps == len(model.calendar.recorded_months) + 2
    before = model.series()
    for _ in range(3):
        model.step()
    assert not model.running
    pd.testing.assert_frame_equal(model.series(), before)
