"""Every decision is written once: the month's stages are pure elementwise functions in ``sim.rules``.

Two claims are pinned here. (1) Each stage function (``@stage``) gives the same bits on one
agent's scalars as on the same values as arrays, so the per-agent engine (scalars) and the columnar
engine (arrays) can share it; every stage is covered, with hand-made agents on both sides of its
branches. (2) The engines hold no decision arithmetic: an AST scan of the monthly code of
``sim/model/agents.py``, ``sim/model/reference.py`` and ``GrassrootsModel.step`` finds no call of a
rules function that is not a stage, no arithmetic but the additions of group sums and unit offsets,
no ordering comparison (a draw against a probability is a decision), no numpy math, and no lever or
parameter value inside an operation.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import load_scenario
from sim.rules import cadres, departments, residents
from sim.rules.common import STAGES

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = load_scenario(ROOT / "configs/defaults.yaml").scenario
P = SCENARIO.parameters
IMPL = SCENARIO.implementation
NAN = float("nan")

# Hand-made agents, one list entry each (3 or 4 per stage). Parameters are the same for every agent.
T, F = True, False
CASES = {
    "departments.county_workload": dict(
        reform_start=[-1, -1, 30, -1], burden_active=[T, F, T, T], month=[40, 40, 40, 40],
        rebound_propensity_sum=[9.2, 4.0, 11.5, 0.0], shared_departments=[3.0, 0.0, 12.0, 5.0],
        assessment_items_cut=[0.3, 0.0, 0.5, 0.0], veto_items_cap=[8.0, 30.0, 5.0, 30.0],
        inspections_cut=[0.2, 0.0, 0.0, 0.0], task_access_control=[1.0, 0.0, 0.5, 0.0],
        power_list_coverage=[0.5, 0.0, 1.0, 0.0], grid_integration=[1.0, 0.0, 0.3, 0.0],
        w=P.workload, impl=IMPL),
    "departments.township_workload": dict(
        items=[120.0, 80.0, 0.0], veto=[20.0, 8.0, 0.0], adhoc_tasks=[14.0, 0.0, 3.0], committees=[12, 1, 30],
        w=P.workload),
    "departments.committee_workload": dict(other_from_township=[31.5, 0.0, 8.25], inspections=[0.0, 2.0, 5.0],
                                           w=P.workload),
    "departments.county_shared_share": dict(shared_departments=[0.0, 3.0, 12.0], data_departments=[12.0, 12.0, 0.0]),
    "departments.share_data": dict(
        shared=[F, F, T, F], holds_data=[T, T, T, F], refuses=[F, T, F, F], county_shared_share=[0.2, 0.2, 0.9, 0.1],
        target=[0.8, 0.8, 0.8, 0.8], u=[0.01, 0.01, 0.5, 0.0], impl=IMPL),
    "departments.devolve_powers": dict(devolved_share=[0.1, 0.6, 0.3], target=[0.5, 0.2, 0.3],
                                       devolution_months=[12.0, 12.0, 6.0]),
    "cadres.unit_staffing": dict(headcount=[0.0, 3.0, 7.0], posts=[5, 4, 7]),
    "cadres.spend_month": dict(
        filled=[T, T, F, T], burnout=[0.3, 0.6, 0.5, 0.1], veto_work=[150.0, 20.0, 80.0, 0.0],
        other_work=[300.0, 60.0, 90.0, 0.0], data_work=[40.0, 10.0, 10.0, 0.0], habit_work=[0.0, 25.0, 5.0, 300.0],
        service_work=[450.0, 15.0, 100.0, 0.0],
        share=[0.25, 0.5, 0.0, 1.0], service_weight=[0.0, 0.4, 0.2, 1.0],
        contract_hours=[174.0] * 4, max_hours=[235.0] * 4, trimming=[0.5] * 4, p=P.cadres),
    "cadres.compliance_routine": dict(
        habit=[NAN, 500.0, 100.0, 250.0], veto_work=[150.0, 20.0, 80.0, 0.0], expected_other_work=[300.0, 60.0, 90.0, 0.0],
        data_work=[40.0, 10.0, 10.0, 0.0], service_weight=[0.0, 0.4, 0.2, 1.0], trimming=[0.5] * 4,
        months=[4.0, 4.0, 1.0, 12.0]),
    "cadres.service_demand": dict(cases=[0.0, 37.5, 400.0], hours_per_case=[1.5, 1.5, 3.0]),
    "cadres.service_output": dict(service_hours=[0.0, 80.0, 174.0], skill=[0.5, 0.2, 0.9], burnout=[0.3, 0.5, 0.7],
                                  filled=[F, T, T]),
    "cadres.post_pay": dict(
        township_post=[F, T, F], college=[T, F, F], grade=[0.0, 2.0, 4.0], ladder_u=[0.1, 0.1, 0.9],
        county_pay=[6000.0, 4500.0, 4000.0], wage_index=[1.2, 0.9, 0.8], township_pay_ratio=[0.8, 0.8, 1.0],
        committee_pay_ratio=[0.6, 0.6, 1.1], career_ladder=[0.5, 0.5, 0.5], p=P.cadres),
    "cadres.stay_or_leave": dict(
        filled=[T, T, F, T], intention=[NAN, -2.0, -1.0, 0.5], burnout=[0.4, 0.8, 0.2, 0.5],
        insured=[T, F, F, T], age=[30.0, 61.0, 40.0, 45.0], college=[T, F, T, F], contract=[T, T, F, F],
        tenure=[1.0, 20.0, 3.0, 8.0], township_post=[F, F, T, T], grade=[0.0, 3.0, 1.0, 2.0],
        ladder_u=[0.2, 0.9, 0.2, 0.5], county_pay=[6000.0, 4500.0, 4000.0, 4500.0], wage_index=[1.2, 0.9, 0.8, 0.9],
        township_pay_ratio=[0.8, 0.8, 1.0, 0.9], committee_pay_ratio=[0.6, 0.6, 1.1, 0.7],
        career_ladder=[0.5, 0.5, 0.5, 0.0], occupational_annuity=[1.0, 0.0, 1.0, 0.0],
        promotion_rate_3y=[0.1, 0.05, 0.2, 0.1], recognition=[1.0, 0.0, 0.5, 0.0], u=[0.001, 0.9, 0.001, 0.01],
        p=P.cadres),
    "cadres.fill_vacancy": dict(
        township_post=[F, T, F], ladder_u=[0.1, 0.5, 0.9], county_pay=[6000.0, 4500.0, 4000.0],
        wage_index=[1.2, 0.9, 0.8], base_quality=[0.5, -1.0, 0.0], township_pay_ratio=[0.8, 0.8, 1.0],
        committee_pay_ratio=[0.6, 0.6, 1.1], career_ladder=[0.5, 0.5, 0.0], recruitment_drive=[1.0, 0.0, 0.5],
        u_fill=[0.01, 0.5, 0.02], p=P.cadres),
    "cadres.newcomer": dict(
        rel_pay=[0.6, 1.0, 1.3], recruitment_drive=[1.0, 0.0, 0.5], contract_share=[0.8, 0.3, 0.5],
        social_insurance_coverage=[0.9, 0.3, 0.0], u_college=[0.3, 0.9, 0.1], u_professional=[0.05, 0.5, 0.9],
        u_contract=[0.5, 0.1, 0.6], u_insured=[0.5, 0.2, 0.9], u_skill=[0.0, 0.5, 0.99], p=P.cadres),
    "cadres.insurance_coverage": dict(insured_contract_staff=[3.0, 0.0, 5.0], contract_staff=[10.0, 0.0, 5.0]),
    "cadres.train_promote_and_age": dict(
        filled=[T, T, F, T], skill=[0.3, 0.6, 0.5, 0.9], grade=[0.0, 4.0, 1.0, 2.0], insured=[F, T, F, F],
        contract=[T, T, T, F], age=[30.0, 50.0, 40.0, 59.99], tenure=[0.0, 20.0, 3.0, 8.0],
        county_coverage=[0.5, 0.5, 0.2, 1.0], training_coverage=[1.0, 0.5, 1.0, 0.0],
        training_mentoring=[1.0, 0.0, 0.5, 0.0], promotion_rate_3y=[0.3, 0.3, 0.3, 0.0],
        coverage_target=[0.9, 0.9, 0.9, 0.9], enrol_months=[6.0] * 4, u_train=[0.01, 0.5, 0.01, 0.0],
        u_apply=[0.1, 0.9, 0.1, 0.5], u_promote=[0.001, 0.001, 0.5, 0.0], u_enrol=[0.01, 0.01, 0.01, 0.9],
        p=P.cadres),
    "residents.bring_need": dict(
        pending=[F, F, T, F], elderly=[T, F, F, T], weight=[12.5, 12.5, 7.0, 30.0], devolved=[0.2, 0.6, 0.6, 0.0],
        township_staffing=[0.8, 1.0, 0.5, 0.0], request_month=[0, 30, 38, 12], request_day=[0.0, 3.5, 20.0, 9.0],
        month=[40] * 4, u_need=[0.01, 0.02, 0.01, 0.9], u_authority=[0.01, 0.9, 0.01, 0.0],
        u_local=[0.1, 0.1, 0.1, 0.1], p=P.residents),
    "residents.unit_service": dict(
        output_hours=[0.0, 300.0, 900.0], hours_per_case=[1.5, 1.5, 3.0], cases=[0.0, 400.0, 100.0],
        skill_sum=[0.0, 2.1, 4.0], burnout_sum=[0.0, 1.5, 2.0], headcount=[0.0, 4.0, 6.0], cap=[1.0, 1.0, 0.95]),
    "residents.get_served": dict(  # served; newly referred; resolved; no need; unmet; waiting, rectified
        need=[T, T, F, F, T, F], referred=[F, T, F, F, F, F], pending=[F, F, T, F, F, T],
        satisfaction=[70.0, 60.0, 50.0, 80.0, 65.0, 55.0], trust=[0.5, 0.4, 0.3, 0.7, 0.5, 0.4],
        coverage=[0.8, 0.8, 0.5, 1.0, 0.6, 0.9], load=[1.0, 0.4, 0.7, 0.0, 1.0, 0.5],
        skill=[0.5, 0.3, 0.7, 0.0, 0.5, 0.4], burnout=[0.4, 0.6, 0.2, 0.0, 0.3, 0.5],
        outreach=[0.2, 0.0, 0.5, 1.0, 0.0, 0.3], supervision=[1.0, 0.0, 0.5, 1.0, 0.0, 1.0],
        disclosure=[0.3, 1.0, 0.0, 0.5, 0.3, 0.0], grid_integration=[0.0, 1.0, 0.5, 1.0, 0.0, 0.5],
        deadline_days=[22.0, 3.0, 3.0, 10.0, 22.0, 3.0], request_month=[40, 40, 36, 10, 40, 37],
        request_day=[5.0, 12.0, 28.0, 1.0, 9.0, 15.0], month=[40] * 6,
        u_served=[0.5, 0.1, 0.9, 0.2, 0.95, 0.3], u_referral=[0.5, 0.5, 0.01, 0.5, 0.5, 0.9],
        u_complain=[0.01, 0.01, 0.01, 0.9, 0.42, 0.05], u_rectify=[0.1, 0.9, 0.1, 0.1, 0.9, 0.01], p=P.residents),
    "residents.committee_decisions": dict(
        u_decide=[0.01, 0.01, 0.9], u_deliberate=[0.1, 0.9, 0.1], u_execute=[0.3, 0.3, 0.3],
        u_disclose=[0.2, 0.2, 0.9], council_u=[0.1, 0.9, 0.5], online_u=[0.1, 0.9, 0.5], points_u=[0.1, 0.9, 0.5],
        deliberation_share=[0.5, 0.5, 1.0], councils=[0.5, 0.5, 0.0], online_voting=[1.0, 0.5, 0.0],
        points_system=[0.5, 0.5, 1.0], disclosure=[1.0, 0.5, 0.0], supervision=[1.0, 0.0, 0.5],
        followup=[1.0, 0.5, 1.0], execution_capacity=[0.9, 0.5, 0.1], p=P.residents),
    "residents.take_part": dict(
        meeting=[T, T, F, T], council=[T, F, F, T], online=[T, T, F, F], points=[1.0, 0.0, 0.0, 1.0],
        previous_share=[0.3, 0.05, 0.2, 0.5], carried=[T, F, F, T], disclosed=[F, T, T, F],
        cost=[0.5, 1.0, 0.7, 0.2], trust=[0.6, 0.3, 0.5, 0.9], efficacy=[0.5, 0.4, 0.3, 0.8],
        age=[70.0, 30.0, 45.0, 50.0], threshold=[0.2, 0.5, 0.3, 0.6], weight=[12.5, 12.5, 7.0, 30.0],
        last_part=[-10_000, 3, 5, 7], month=[40] * 4, u_attend=[0.2, 0.6, 0.1, 0.99], u_online=[0.01, 0.01, 0.5, 0.5],
        p=P.residents),
    "residents.remember_attendance": dict(deliberated=[T, F, T], attended_weight=[30.0, 0.0, 0.0],
                                          committee_weight=[100.0, 80.0, 0.0], previous_share=[0.1, 0.4, 0.2]),
}

PARAMETER_OBJECTS = {"p", "w", "impl"}  # arguments that are parameter sets, the same for every agent


def as_tuple(result) -> tuple:
    return tuple(result) if isinstance(result, tuple) else (result,)


def test_every_stage_has_a_case():
    assert sorted(CASES) == sorted(STAGES)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_a_stage_gives_the_same_bits_on_one_agent_as_on_arrays(name):
    stage, case = STAGES[name], CASES[name]
    columns = {k: (v if k in PARAMETER_OBJECTS else np.array(v)) for k, v in case.items()}
    n = len(next(v for k, v in case.items() if k not in PARAMETER_OBJECTS))
    on_arrays = as_tuple(stage(**columns))
    for i in range(n):
        on_one = as_tuple(stage(**{k: (v if k in PARAMETER_OBJECTS else v[i]) for k, v in case.items()}))
        assert len(on_one) == len(on_arrays)
        for field, (one, column) in enumerate(zip(on_one, on_arrays)):
            expected = np.broadcast_to(column, (n,))[i]
            assert np.ndim(one) == 0, f"{name} field {field}: one agent gets a {np.shape(one)} value"
            assert np.asarray(one).dtype.kind == np.asarray(column).dtype.kind, f"{name} field {field}: type"
            # exact equality (NaN equal to NaN): the same bits, but for the sign of a zero
            np.testing.assert_array_equal(one, expected, err_msg=f"{name} field {field} agent {i}")


# --------------------------------------------------------------------------- no decision arithmetic in an engine

RULE_MODULES = {"cadre_rules": cadres, "dept_rules": departments, "resident_rules": residents}
LEVER_NAMES = {"levers", "lev", "L"}  # a lever's value is read as levers[name] or lev[...]["name"]
PARAMETER_ROOTS = {"p", "w", "impl"}
PARAMETER_ATTRIBUTES = {"p", "w", "impl", "cadre_params", "resident_params", "workload", "config", "parameters",
                        "implementation"}
NUMPY_MATH = {"minimum", "maximum", "clip", "exp", "log", "log1p", "power", "sqrt", "isnan", "abs", "floor",
              "logical_and", "logical_or", "logical_not", "multiply", "divide", "subtract", "add", "sum", "mean",
              "cumsum", "round"}
ARITHMETIC = (ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
# the monthly code the scan reads: set-up (__init__), the record (tally functions) and views are left out
SET_UP_AND_RECORD = {"__init__", "tally", "tally_departments", "tally_cadres", "tally_residents", "_tally_cadres",
                     "_tally_residents", "cadre_tallies", "resident_tallies",
                     "tally_counties_meeting", "agent_columns",
                     "department_columns", "cadre_columns", "resident_columns", "gather", "plain", "plain_all"}


def monthly_functions(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in SET_UP_AND_RECORD:
            yield node


def step_of_the_columnar_model():
    from sim.model.model import GrassrootsModel

    source = textwrap.dedent(inspect.getsource(GrassrootsModel.step))
    return ast.parse(source).body[0]


def reads_lever_or_parameter(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in LEVER_NAMES:
            return True
        if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Subscript) and (
                isinstance(sub.value.value, ast.Name) and sub.value.value.id in LEVER_NAMES):
            return True
        if isinstance(sub, ast.Attribute):
            root = sub
            while isinstance(root, ast.Attribute):
                if root.attr in PARAMETER_ATTRIBUTES:
                    return True
                root = root.value
            if isinstance(root, ast.Name) and root.id in PARAMETER_ROOTS:
                return True
    return False


def decision_arithmetic(function: ast.AST) -> list[str]:
    """What in ``function`` decides something (see the module docstring); [] if only routing is left."""
    found = []

    def say(node, why):
        found.append(f"line {node.lineno}: {why}: {ast.unparse(node)[:90]}")

    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in RULE_MODULES:
            target = getattr(RULE_MODULES[node.value.id], node.attr, None)
            result_type = isinstance(target, type) and issubclass(target, tuple)  # a stage's NamedTuple of results
            if not (getattr(target, "is_stage", False) or result_type):
                say(node, "a rules function that is not a stage")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and isinstance(node.op, ARITHMETIC) and not (
                isinstance(node, ast.BinOp) and isinstance(node.left, ast.List)):  # [0.0] * n: a list, not a number
            say(node, "arithmetic")
        elif isinstance(node, ast.Compare) and any(isinstance(op, ORDERING) for op in node.ops):
            say(node, "an ordering comparison")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"
              and node.func.attr in NUMPY_MATH):
            say(node, "numpy math")
        elif isinstance(node, (ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.AugAssign, ast.IfExp)) and (
                reads_lever_or_parameter(node)):
            say(node, "an operation on a lever or parameter value")
    return found


ENGINE_FUNCTIONS = [(f"agents.py:{f.name}", f) for f in monthly_functions(ROOT / "sim/model/agents.py")]
ENGINE_FUNCTIONS += [(f"reference.py:{f.name}", f) for f in monthly_functions(ROOT / "sim/model/reference.py")]
ENGINE_FUNCTIONS += [(f"rows.py:{f.name}", f) for f in monthly_functions(ROOT / "sim/model/rows.py")]
ENGINE_FUNCTIONS += [("model.py:GrassrootsModel.step", step_of_the_columnar_model())]


@pytest.mark.parametrize("where, function", ENGINE_FUNCTIONS, ids=[w for w, _ in ENGINE_FUNCTIONS])
def test_an_engine_only_routes(where, function):
    assert decision_arithmetic(function) == []


def test_the_scan_finds_decision_arithmetic():
    """The scan is not vacuous: the engine code as it was before the stages were shared fails it."""
    before = ast.parse(textwrap.dedent('''
        def train_promote_and_age(self, levers, month, streams):
            trained = self.filled & (u_train < levers["training_coverage"][c] / 12.0)
            self.skill = self.skill * (1.0 - p.skill_decay_per_year / 12.0)
            enrol = u_ins < cadre_rules.monthly_hazard(enrol_months)
            cost = self.cost * (1.0 - p.council_cost_reduction if council else 1.0)
            overtime = max(np.maximum(worked / contract_hours - 1.0, 0.0), 0.0)
            joined = a.shared or u < lev["data_sharing_target"]
    ''')).body[0]
    found = decision_arithmetic(before)
    assert len(found) >= 8
    for why in ("arithmetic", "an ordering comparison", "a rules function that is not a stage", "numpy math",
                "an operation on a lever or parameter value"):
        assert any(why in f for f in found), why


# --------------------------------------------------------------------------- compiled: the same bits

def skip_where_numpy_uses_svml():
    """numpy takes ``exp``, ``log`` and ``pow`` of doubles from SVML on a CPU with AVX-512 (libm's elsewhere,
    as numba does): there the compiled rules keep libm's bits and numpy's may differ in the last bit."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # pragma: no cover - numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__
    if __cpu_features__.get("AVX512_SKX"):
        pytest.skip("numpy uses SVML's exp/log/pow on this AVX-512 CPU; the compiled rules use libm's")


def compiled_stages():
    from sim.model.agents import rows

    loops = rows()
    return [] if loops is None else [f"{s.__module__.rsplit('.', 1)[-1]}.{s.__name__}" for s in loops.STAGES]


@pytest.mark.parametrize("name", compiled_stages())
def test_a_compiled_stage_gives_numpys_bits(name):
    """What the columnar engine's compiled loops inline and the per-agent engine calls (``rows.one``): the
    stage compiled by numba on one agent's numbers gives the bits numpy gives on the columns."""
    from sim.model.kernels import record
    from sim.model.rows import one

    skip_where_numpy_uses_svml()
    stage, case = STAGES[name], CASES[name]
    columns = {k: (v if k in PARAMETER_OBJECTS else np.array(v)) for k, v in case.items()}
    on_arrays = as_tuple(stage(**columns))
    n = len(next(v for k, v in case.items() if k not in PARAMETER_OBJECTS))
    for i in range(n):
        args = [record(v) if k in PARAMETER_OBJECTS else v[i] for k, v in case.items()]
        on_one = as_tuple(one(stage)(*args))
        for field, (value, column) in enumerate(zip(on_one, on_arrays)):
            expected = np.broadcast_to(column, (n,))[i]
            assert np.asarray(value).dtype.kind == np.asarray(column).dtype.kind, f"{name} field {field}: type"
            np.testing.assert_array_equal(value, expected, err_msg=f"{name} field {field} agent {i}")


def test_compiled_loops_give_the_columns_results(monkeypatch):
    """The columnar engine with its compiled loops and with the stage functions on whole columns (its path
    without numba) gives the same series, bit for bit."""
    from sim import GrassrootsModel
    from sim.model import agents

    if agents.rows() is None:
        pytest.skip("numba is not installed")
    skip_where_numpy_uses_svml()
    compiled = GrassrootsModel(ROOT / "configs/county.yaml", rng=4)
    compiled.run(until="2025-06")
    monkeypatch.setattr(agents, "_ROWS", [None])
    columns = GrassrootsModel(ROOT / "configs/county.yaml", rng=4)
    columns.run(until="2025-06")
    a, b = compiled.series(), columns.series()
    assert len(a) > 0 and a["value"].notna().any()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_compiled_tallies_give_the_columns_sums(monkeypatch):
    """The month's tallies added row by row in the compiled loops (``rows.tally_cadres``, ``rows.tally_residents``)
    are the sums np.bincount gives over the tally functions' columns (the path without numba), bit for bit, for
    every metric and county; on every CPU (the tallies use no exp, log or pow)."""
    from sim import GrassrootsModel
    from sim.model import agents
    from sim.model.metrics import METRIC_NAMES, Tally

    if agents.rows() is None:
        pytest.skip("numba is not installed")
    model = GrassrootsModel(ROOT / "configs/designs/burden_then_pay.yaml", rng=3)
    model.run(until="2025-03")  # pilots under way: pay levers differ between counties
    levers = model.levers_at(model.month - 1)

    def tallied():
        tally = Tally(model.places.n_counties)  # no blocks: the numpy path sums every column by np.bincount
        model.cadres.tally(tally, levers)
        model.residents.tally(tally, model.month - 1)
        return tally

    compiled = tallied()
    monkeypatch.setattr(agents, "_ROWS", [None])
    columns = tallied()
    tallied_here = [METRIC_NAMES.index(m) for m in agents.CADRE_METRICS + agents.RESIDENT_METRICS]
    assert len(set(tallied_here)) == len(tallied_here)  # each metric tallied once
    assert (columns.den[tallied_here] > 0).any(axis=1).all()  # every one has something to count
    np.testing.assert_array_equal(compiled.num, columns.num)
    np.testing.assert_array_equal(compiled.den, columns.den)
