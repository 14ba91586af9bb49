"""Pilot evaluation: difference-in-differences recovers the rollout effect under random selection and is biased
when pilots are chosen for their good base."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import scenario
from sim.pilot import evaluate_pilot, pilot_summary, without_reform


def test_without_reform_holds_every_lever_at_its_2023_value():
    plan = scenario("plan.yaml")
    frozen = without_reform(plan)
    for name, value in frozen.levers:
        assert not hasattr(value, "values") or list(value.values) == ["baseline"], name


def test_did_recovers_the_effect_with_random_pilots_and_is_biased_with_good_base_pilots():
    half = {"east": 0.5, "central": 0.5, "west": 0.5}
    sc = scenario("plan.yaml", geography={"counties": 30}, pilot={"counties": 10, "good_base_pool": 0.3},
                  timeline={"spin_up_months": 6},
                  implementation={"fidelity": {"default": half, "pay": half}, "good_base_fidelity_bonus": 0.5})
    table = evaluate_pilot(sc, replicates=3, seed=5, metrics=("service_time_share",))
    summary = pilot_summary(table).set_index("selection")
    rnd, good = summary.loc["random"], summary.loc["good_base"]
    # the pilot levers raise service time (in 2024 they ramp, and cadres shed the cut load with a lag)
    assert rnd.true_effect_rollout > 0.03
    assert abs(rnd.bias_vs_rollout) < 0.25 * rnd.true_effect_rollout
    assert good.bias_vs_rollout > 0.25 * good.true_effect_rollout  # good-base pilots overstate the rollout
    assert abs(good.bias_vs_pilots) < 0.2 * good.true_effect_pilots  # ... though DiD is right about the pilots
    assert np.isfinite(table["did_low"]).all() and (table["did_high"] - table["did_low"] > 0).all()  # se > 0


def test_evaluate_pilot_refuses_a_design_with_no_county_left_to_compare_with():
    from click.testing import CliRunner

    from helpers import CONFIGS
    from sim.cli import main

    # the plan's pilots are a share of the counties (3 of 90); ask for 3 of 3 to leave none
    result = CliRunner().invoke(main, ["evaluate-pilot", str(CONFIGS / "plan.yaml"), "--counties", "3",
                                       "--pilots", "3"])
    assert result.exit_code == 2 and "no county is left to compare with" in result.output
    # at 3 counties the share (100 / 2,844) stands for no pilot at all: refused, not run
    result = CliRunner().invoke(main, ["evaluate-pilot", str(CONFIGS / "plan.yaml"), "--counties", "3"])
    assert result.exit_code == 2 and "must be at least 1" in result.output


def test_the_pilot_evaluation_runs_the_configs_engine_with_the_same_answer(monkeypatch):
    import sim.model.reference as reference

    built = []
    real = reference.AgentGrassrootsModel

    class Spy(real):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(reference, "AgentGrassrootsModel", Spy)
    sc = scenario("plan.yaml", geography={"counties": 2, "townships_per_county": 2}, pilot={"counties": 1},
                  timeline={"spin_up_months": 2})
    columnar = evaluate_pilot(sc, replicates=1, seed=1, selections=("random",), metrics=("service_time_share",))
    agents = evaluate_pilot(sc.model_copy(update={"engine": "agents"}), replicates=1, seed=1,
                            selections=("random",), metrics=("service_time_share",))
    assert len(built) == 3  # reform, no reform, everywhere: each on the per-agent engine
    assert columnar.equals(agents)


def test_evaluate_pilot_writes_its_tables_and_refuses_a_bad_design_before_writing(tmp_path):
    from sim.pilot import pilot_summary

    sc = scenario("plan.yaml", geography={"counties": 3, "townships_per_county": 2}, pilot={"counties": 1},
                  timeline={"spin_up_months": 2})
    with pytest.raises(ValueError, match=r"number of pilots \(3\) must be below the number of counties \(3\), "
                                         r"or no county is left to compare with"):
        evaluate_pilot(sc, replicates=2, pilot_counts=[1, 3], out=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    table = evaluate_pilot(sc, replicates=2, seed=1, selections=("random",), metrics=("service_time_share",),
                           out=tmp_path / "pilot")
    assert (tmp_path / "pilot" / "pilot_replicates.csv").read_text() == table.to_csv(index=False)
    assert (tmp_path / "pilot" / "pilot_summary.csv").read_text() == pilot_summary(table).to_csv(index=False)
    two_pilots = scenario("plan.yaml", pilot={"counties": 2})
    with pytest.raises(ValueError, match=r"number of pilots \(2\) must be below the number of counties \(2\)"):
        evaluate_pilot(two_pilots, counties=2, replicates=2)  # 2 counties simulated, its 2 pilots kept: none left
