"""Every parameter's prior (sim/registry/parameters.yaml, `prior:`), checked when the registry is read, and
the parameter sets drawn from them (sim/priors.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from helpers import CONFIGS, ROOT, SMALL, deep_update, run
from sim import registry
from sim.config import load_scenario, scenario_from_dict
from sim.priors import PRIORS, apply_parameters, kind_counts, sample_parameters

_CALIBRATED_QUIT = yaml.safe_load((Path(__file__).resolve().parents[1] / "configs" / "calibrated.yaml").read_text())[
    "parameters"]["cadres"]["quit_intercept"]

SHIPPED = (registry.HERE / "parameters.yaml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- every parameter has one


def test_every_parameter_has_a_prior():
    # Other parts add parameters without priors; this names each one still missing.
    missing = registry.MISSING_PRIORS
    assert not missing, (f"{len(missing)} parameter(s) have no `prior:` in sim/registry/parameters.yaml: "
                         + ", ".join(missing))


def test_every_value_a_config_holds_has_its_prior():
    # by_type / by_region / by_group_and_region values: one prior per member, under the member's key path
    resolved = load_scenario(CONFIGS / "baseline.yaml").resolved
    expected = set()
    for path, p in registry.PARAMETERS.items():
        node = resolved
        for key in path.split("."):
            node = node[key]
        if isinstance(node, dict):
            expected |= {f"{path}.{k}.{r}" if isinstance(v, dict) else f"{path}.{k}"
                         for k, v in node.items() for r in (v if isinstance(v, dict) else [None])}
        else:
            expected.add(path)
    assert set(PRIORS) == expected
    assert {"parameters.cadres.county_pay_yuan.central", "parameters.cadres.contract_share.urban",
            "implementation.fidelity.pay.west"} <= set(PRIORS)
    assert PRIORS["implementation.fidelity.pay.west"].kind == "plan"
    assert PRIORS["implementation.fidelity.default.west"].kind == "assumption"  # inherited from the entry


_STUDY = re.compile(r"[A-Z][\w&.,' -]*\b(19|20)\d\d\b|literature\.md")


def test_every_published_prior_names_its_study():
    published = {path: p.source for path, p in PRIORS.items() if p.kind == "published"}
    assert len(published) >= 6
    unnamed = [path for path, source in published.items() if not _STUDY.search(source)]
    assert not unnamed, f"published priors without an author and year: {unnamed}"


def test_every_plan_prior_cites_the_plan():
    plan = {path: p.source for path, p in PRIORS.items() if p.kind in ("plan", "plan-fit")}
    assert [path for path, source in plan.items() if "§" not in source] == []


def test_the_caveats_of_the_draft_are_kept():
    assert "primary source not yet located" in PRIORS["parameters.residents.attend_age"].source
    assert "to verify" in PRIORS["parameters.cadres.quit_pay"].source


def test_plan_fit_priors_are_the_calibrations_ranges():
    from sim.calibrate import FREE

    fitted = {f.path: (f.low, f.high) for f in FREE if f.path in PRIORS}
    assert {path for path, p in PRIORS.items() if p.kind == "plan-fit"} == set(fitted)
    for path, (low, high) in fitted.items():
        prior = PRIORS[path].prior
        assert (prior.dist, prior.low, prior.high) == ("uniform", low, high), path


def test_kinds_are_counted():
    counts = kind_counts()
    assert sum(counts.values()) == len(PRIORS)
    assert counts["published"] == 6 and counts["plan-fit"] == 10
    assert all(p.kind in ("definition", "plan", "derived") for p in PRIORS.values() if p.fixed)
    assert all(p.fixed for p in PRIORS.values() if p.kind == "derived")


# The 90% intervals the research draft computed for its priors (docs/research/priors-draft.md, section 1),
# by its own scipy calls: the distributions built here must give the same.
DRAFT_INTERVALS = {
    "parameters.cadres.quit_pay": (0.843, 2.67),  # truncated lognormal
    "implementation.rebound_months": (5.34, 27.0),
    "parameters.residents.attend_age": (1.06, 2.54),  # truncated normal
    "parameters.workload.max_hours_ratio": (1.25, 1.53),  # triangular
    "implementation.refuser_join_factor": (0.023, 0.426),  # loguniform
    "parameters.cadres.application_rate_mentored": (0.350, 0.682),  # beta on [0.31, 0.95]
    "parameters.residents.council_cost_reduction": (0.076, 0.657),  # beta
    "implementation.fidelity.pay.central": (0.647, 0.956),
    "parameters.workload.inspections_per_committee_year": (101.5, 128.5),  # uniform
    "parameters.residents.cost_urban": (0.580, 1.55),
}


@pytest.mark.parametrize("path", DRAFT_INTERVALS)
def test_a_prior_is_the_distribution_the_draft_gives(path):
    lo, hi = PRIORS[path].interval(0.9)
    want_lo, want_hi = DRAFT_INTERVALS[path]
    assert lo == pytest.approx(want_lo, rel=0.01, abs=5e-4) and hi == pytest.approx(want_hi, rel=0.01, abs=5e-4)


def test_a_truncated_lognormal_is_cut_where_its_prior_says():
    d = PRIORS["parameters.cadres.quit_pay"].dist  # median 1.5, sigma 0.35, on [0.2, 5]
    z = stats.norm(np.log(1.5), 0.35)
    mass = z.cdf(np.log(5)) - z.cdf(np.log(0.2))
    assert d.support() == pytest.approx((0.2, 5))
    assert d.cdf(2.0) == pytest.approx((z.cdf(np.log(2.0)) - z.cdf(np.log(0.2))) / mass)
    assert d.ppf(0.5) == pytest.approx(np.exp(z.ppf(z.cdf(np.log(0.2)) + mass / 2)))  # the median moves a little
    assert d.pdf(6.0) == 0 and d.cdf(0.1) == 0


# --------------------------------------------------------------------------- a bad prior is refused


def _registry_with(tmp_path: Path, old: str, new: str) -> Path:
    assert SHIPPED.count(old) == 1, old
    path = tmp_path / "parameters.yaml"
    path.write_text(SHIPPED.replace(old, new), encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    """The line holding ``needle``; ``"a >> b"``: the first line holding b after the one holding a."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = 0
    for part in needle.split(" >> "):
        start = next(i for i in range(start, len(lines)) if part in lines[i])
    return start + 1


QUIT_PAY = "prior: {kind: published, dist: lognormal, median: 1.5, sigma: 0.35, low: 0.2, high: 5,"
SHARE = "prior: {kind: assumption, dist: beta, a: 3.5, b: 6.5, source: \"Liu Wei 2023 pressure-type system (form)\"}"
SHARE_AT = "parameters.workload.entries.item_share_to_committees.prior"


@pytest.mark.parametrize("old, new, needle, where, message", [
    (SHARE, SHARE.replace("beta", "betta"), "betta", SHARE_AT, "unknown dist 'betta' (did you mean 'beta'?)"),
    (SHARE, SHARE.replace(", b: 6.5", ""), "Liu Wei", SHARE_AT,
     "a beta prior takes a, b (and optionally low, high): missing b"),
    (SHARE, SHARE.replace("dist: beta, a: 3.5, b: 6.5", "dist: uniform, low: 0, high: 1, sigma: 2"), "Liu Wei",
     SHARE_AT, "a uniform prior takes low, high: no sigma"),
    (SHARE, SHARE.replace("kind: assumption", "kind: guess"), "Liu Wei", SHARE_AT + ".kind",
     "Input should be 'published', 'plan', 'plan-fit', 'assumption', 'definition' or 'derived'"),
    (SHARE, SHARE.replace("source:", "sauce:"), "Liu Wei", SHARE_AT + ".sauce", "unknown field; a prior has kind"),
    (SHARE, SHARE.replace("dist: beta, a: 3.5, b: 6.5", "dist: uniform, low: 0.2, high: 1.5"), "Liu Wei", SHARE_AT,
     "the prior Uniform(0.2, 1.5) reaches outside the parameter's bounds [0, 1]"),
    (SHARE, SHARE.replace("dist: beta, a: 3.5, b: 6.5", "dist: uniform, low: 0.4, high: 0.9"), "Liu Wei", SHARE_AT,
     "the 2023 value of item_share_to_committees, 0.35 (configs/defaults.yaml:"),
    (SHARE, SHARE.replace("dist: beta, a: 3.5, b: 6.5", "dist: fixed"), "Liu Wei", SHARE_AT,
     "a fixed prior is for a definition, an exact plan figure or a derived value, not kind 'assumption'"),
    (SHARE, SHARE.replace("kind: assumption", "kind: published").replace("Liu Wei 2023 pressure-type system (form)",
                                                                        "none"),
     "kind: published, dist: beta, a: 3.5", SHARE_AT, "a published prior names its study (source is 'none')"),
    (QUIT_PAY, QUIT_PAY.replace("low: 0.2", "low: 1.6"), "low: 1.6", "parameters.cadres.entries.quit_pay.prior",
     "the median (1.5) must be within low and high [1.6, 5]"),
    ("prior: {kind: plan-fit, dist: uniform, low: -4, high: -0.5,",
     "prior: {kind: plan-fit, dist: uniform, low: -4, high: -2.35,", "high: -2.35",
     "parameters.cadres.entries.quit_intercept.prior",
     f"the calibrated value of quit_intercept, {_CALIBRATED_QUIT:g} (configs/calibrated.yaml:"),
    ("            west: {dist: uniform, low: 4300, high: 5200}\n", "", "county_pay_yuan: >> members:",
     "parameters.cadres.entries.county_pay_yuan.prior.members", "no prior for member 'west'"),
    ("            rural: {dist: beta, a: 11, b: 9}\n", "            rural: {dist: uniform, low: 0.6, high: 0.9}\n",
     "rural: {dist: uniform", "parameters.cadres.entries.contract_share.prior.members.rural",
     "the 2023 value of contract_share.rural, 0.55 (configs/defaults.yaml:"),
    ("            urban: {dist: beta, a: 15, b: 5}\n", "            suburban: {dist: beta, a: 15, b: 5}\n", "suburban",
     "parameters.cadres.entries.contract_share.prior.members.suburban", "unknown member 'suburban'"),
    ("            west: {dist: beta, a: 12, b: 3}\n", "            west: {dist: beta, a: 12}\n", "west: {dist: beta, a: 12}",
     "implementation.entries.fidelity.prior.members.pay.members.west", "missing b"),
    ("prior: {kind: assumption, dist: integers, low: 12, high: 36,",
     "prior: {kind: assumption, dist: uniform, low: 12, high: 36,", "dist: uniform, low: 12, high: 36",
     "implementation.entries.adoption_months.prior", "a count parameter takes whole numbers"),
])
def test_a_bad_prior_names_its_file_line_and_key(tmp_path, old, new, needle, where, message):
    path = _registry_with(tmp_path, old, new)
    with pytest.raises(registry.RegistryError) as info:
        registry._parameters(path)
    line = _line(path, needle)
    assert str(info.value).startswith(f"{path}:{line}: {where}: "), str(info.value)
    assert message in str(info.value)


def test_a_by_type_prior_for_all_members_says_why(tmp_path):
    old = ("          members:\n            rural: {dist: beta, a: 11, b: 9}\n"
           "            urban: {dist: beta, a: 15, b: 5}\n")
    path = _registry_with(tmp_path, old, "          dist: uniform\n          low: 0.3\n          high: 0.9\n")
    with pytest.raises(registry.RegistryError, match=r"contract_share.prior: a by_type parameter gives a prior per "
                                                     r"member .* or one for all of them with `shared:`"):
        registry._parameters(path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "          high: 0.9\n", "          high: 0.9\n          shared: \"nothing tells the types apart\"\n", 1),
        encoding="utf-8")
    *_, priors = registry._parameters(path)
    leaves = priors["parameters.cadres.contract_share"]
    assert list(leaves) == ["parameters.cadres.contract_share.rural", "parameters.cadres.contract_share.urban"]
    assert {p.text() for p in leaves.values()} == {"Uniform(0.3, 0.9)"}


# The registry in use (GRASSROOTS_REGISTRY): a bad prior stops `import sim.registry`, with its place; a missing
# one does not (other parts add parameters before their priors are written) but is listed.
PROBE = "import json, sim.registry as r; print(json.dumps(r.MISSING_PRIORS))"


def _import_with(folder: Path):
    env = {**os.environ, "GRASSROOTS_REGISTRY": str(folder), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)


def test_the_registry_in_use_is_checked_and_lists_missing_priors(tmp_path):
    bad = _registry_with(tmp_path, SHARE, SHARE.replace("a: 3.5", "a: -1"))
    done = _import_with(tmp_path)
    assert done.returncode != 0
    assert f"RegistryError: {bad}:{_line(bad, 'a: -1')}: {SHARE_AT}: a must be positive (got -1)" in done.stderr
    _registry_with(tmp_path, SHARE, "")
    done = _import_with(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["parameters.workload.item_share_to_committees"]


# --------------------------------------------------------------------------- drawing parameter sets


@pytest.fixture(scope="module")
def draws():
    return sample_parameters(512, seed=7)


def test_draws_lie_inside_each_prior_and_the_bounds(draws):
    assert list(draws.columns) == [p for p, pr in PRIORS.items() if not pr.fixed]
    assert len(draws) == 512 and not draws.isna().any().any()
    for path, column in draws.items():
        prior, bounds = PRIORS[path].prior, registry.PARAMETERS[PRIORS[path].parameter].bounds
        lo, hi = prior.support
        assert column.between(lo, hi).all() and all(v in bounds for v in column), path
        if PRIORS[path].count:
            assert column.dtype.kind == "i"
    assert draws["implementation.adoption_months"].nunique() == 25  # every whole month from 12 to 36


@pytest.mark.parametrize("method, n", [("lhs", 512), ("sobol", 256)])
def test_draws_follow_each_prior(method, n):
    frame = sample_parameters(n, seed=3, method=method)
    for path, column in frame.items():
        if PRIORS[path].count:
            continue
        ks = stats.kstest(column.to_numpy(), PRIORS[path].dist.cdf)
        assert ks.statistic < 0.05, (path, ks.statistic)  # stratified designs: far closer than random draws
    # and each margin is the prior itself, not a rescaled one: its quantiles are the prior's
    q = frame["parameters.cadres.quit_pay"].quantile([0.05, 0.5, 0.95]).to_numpy()
    assert q == pytest.approx([0.843, 1.5, 2.67], rel=0.03)


def test_draws_are_seeded(draws):
    again = sample_parameters(512, seed=7)
    assert again.equals(draws)
    other = sample_parameters(512, seed=8)
    assert not np.allclose(other.to_numpy(float), draws.to_numpy(float))
    assert sample_parameters(8, seed=1, method="sobol").equals(sample_parameters(8, seed=1, method="sobol"))


def test_draws_pick_kinds_and_paths():
    published = sample_parameters(16, seed=1, kinds=["published"])
    assert set(published.columns) == {p for p, pr in PRIORS.items() if pr.kind == "published"}
    named = sample_parameters(4, seed=1, paths=["parameters.cadres.quit_pay", "parameters.workload.veto_items"])
    assert list(named.columns) == ["parameters.cadres.quit_pay", "parameters.workload.veto_items"]
    assert (named["parameters.workload.veto_items"] == 18).all()  # a fixed prior asked for by name: its value
    with pytest.raises(KeyError, match=r"'parameters.cadres.quit_pya' has no prior \(did you mean "
                                       r"'parameters.cadres.quit_pay'\?\)"):
        sample_parameters(4, seed=1, paths=["parameters.cadres.quit_pya"])
    with pytest.raises(ValueError, match="unknown prior kind 'publish'"):
        sample_parameters(4, seed=1, kinds=["publish"])
    with pytest.raises(ValueError, match=r"n = 100 is not one \(take 128, or method='lhs'\)"):
        sample_parameters(100, seed=1, method="sobol")


def test_a_config_made_from_each_draw_validates_and_runs():
    base = deep_update(load_scenario(CONFIGS / "baseline.yaml").resolved, SMALL)
    sets = sample_parameters(2, seed=11)
    for _, row in sets.iterrows():
        scenario = scenario_from_dict(apply_parameters(base, row))
        assert scenario.parameters.cadres.quit_pay == row["parameters.cadres.quit_pay"]
        assert scenario.implementation.fidelity["pay"].west == row["implementation.fidelity.pay.west"]
        assert scenario.parameters.cadres.county_pay_yuan.central == 5000  # fixed: left as it was
        assert isinstance(scenario.implementation.adoption_months, int)
        series = run(scenario, seed=1)
        turnover = series[(series.metric == "turnover_rate") & (series.region == "all") & (series.group == "all")]
        assert len(turnover) and np.isfinite(turnover.value).all()
    # the draws change the run: a parameter set is not ignored
    a, b = (run(scenario_from_dict(apply_parameters(base, row)), seed=1) for _, row in sets.iterrows())
    assert not a.value.equals(b.value)


# --------------------------------------------------------------------------- where the priors are shown


def test_the_odd_counts_the_kinds_and_shows_each_prior():
    from sim.registry.docs import kind_sentence, parameter_table

    counts = kind_counts()
    sentence = kind_sentence()
    assert f"{counts['published']} published, {counts['plan']} from the plan, {counts['plan-fit']} fitted" in sentence
    rows = {line.split(" | ")[0].strip("| `"): line for line in parameter_table().splitlines() if line.startswith("| `")}
    assert rows["cadres.quit_pay"].endswith("| LogNormal(median 1.5, σ 0.35) on [0.2, 5]; 90% [0.843, 2.67] | published |")
    assert rows["cadres.county_pay_yuan"].endswith("| assumption (east, west); plan (central) |")
    assert rows["implementation.fidelity"].endswith("| assumption (default); plan (pay) |")
    assert "central: fixed at 5,000" in rows["cadres.county_pay_yuan"]


def test_grassroots_list_parameters_shows_the_kind_within_100_columns():
    from sim.registry.docs import listing

    text = listing("parameters", width=100)
    assert max(len(line) for line in text.splitlines() if not line.startswith("(/")) <= 100  # but the file's path
    header, first = text.splitlines()[:2]
    assert "prior kind" in header
    assert re.match(r"workload\.assessment_items_per_year\s.*\splan(\s|$)", first)
