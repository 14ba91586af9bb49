"""What compiled stage kernels with counter-based draws would reach: two cadre stages, numpy vs numba.

The next phase (issue 12, item 6) may write each monthly stage as a numba kernel that draws its own
uniforms inline from the counter-based stream (``sim.model.kernels.unit_at``) instead of reading
arrays of PCG64 draws. This script measures what that buys on two stages of the columnar engine,
``Cadres.stay_or_leave`` and ``Cadres.train_promote_and_age``, for about 10^5 and 5x10^5 cadre posts
(configs/county.yaml repeated over N counties):

- numpy: the engine's own methods, timed on a built model after one month (``--numpy-tree`` picks
  the checkout, e.g. an export of a4fca1e; run in a child process so that tree's ``sim`` is used);
- numba, serial: prototype kernels below, the same arithmetic per cadre (same formulas, same order
  of operations) with the draws from the counter-based stream, one pass over the posts; per-county
  lever terms (promotion and application chances) are computed once per county, not per post;
- numba, parallel: the same kernels compiled with ``parallel=True`` (``prange`` over posts, the
  machine's cores; the per-county insurance coverage stays a serial pass, since its sums must keep
  their order).

Figures: ms per call (best of 7; CPU time of the process, which other jobs' load hardly moves, except
for the threaded kernels: wall time) and cadre-steps/s per stage. The script also checks that the
kernel's deterministic outputs (quit intention, grade, skill) agree with numpy's bit for bit given
the same state, and that calling the kernel on one post (as a per-agent engine would) gives the
same bits as the array call.

Usage: python benchmarks/bench_kernels.py [--numpy-tree CHECKOUT] [--sizes 100000 500000] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import heading, machine_info, select_tree, table  # noqa: E402

ROOT = select_tree()

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import prange  # noqa: E402

from sim import GrassrootsModel, load_scenario  # noqa: E402

REPEATS = 7


def cadre_model(target_cadres: int):
    """A built model of county.yaml over as many counties as give about ``target_cadres`` posts, one month on."""
    base = load_scenario(ROOT / "configs" / "county.yaml").scenario
    sample = 20  # posts per county vary at random: measure the mean over a few counties
    geo = base.geography.model_copy(update={"counties": sample, "scope": "province"})
    per_county = GrassrootsModel(base.model_copy(update={"geography": geo}), seed=0).cadres.n / sample
    counties = max(1, round(target_cadres / per_county))
    geo = base.geography.model_copy(update={"counties": counties, "scope": "county" if counties == 1 else "province"})
    pilot = base.pilot.model_copy(update={"counties": min(counties, max(1, round(counties * 4 / 90)))})
    model = GrassrootsModel(base.model_copy(update={"geography": geo, "pilot": pilot}), seed=0)
    model.step()
    return model


CLOCK = {"clock": time.process_time}  # CPU time of this process: other jobs' load hardly moves it


def best_ms(function, repeats: int = REPEATS) -> float:
    clock = CLOCK["clock"]
    best = float("inf")
    for _ in range(repeats):
        t = clock()
        function()
        best = min(best, clock() - t)
    return 1000 * best


# --------------------------------------------------------------------------- numpy (child process)

def numpy_figures(target: int) -> dict:
    model = cadre_model(target)
    cadres, month, streams = model.cadres, model.month, model.streams
    levers = model.levers_at(month)
    enrol = model.config.implementation.insurance_enrol_months
    stay = best_ms(lambda: cadres.stay_or_leave(levers, month, streams))
    train = best_ms(lambda: cadres.train_promote_and_age(levers, levers["social_insurance_coverage"], month, streams,
                                                         enrol))
    draws = best_ms(lambda: streams.uniforms("training", month, cadres.first, cadres.n, 4))
    return {"cadres": int(cadres.n), "stay_or_leave_ms": stay, "train_promote_and_age_ms": train,
            "uniforms_4_columns_ms": draws}


# --------------------------------------------------------------------------- numba prototypes

try:  # this checkout's kernels; the numpy child may run an older tree, which has none (and needs none)
    from sim.model.kernels import unit_at
except ImportError:
    unit_at = None


def _stay_one(u, filled, township_post, ladder_u, grade, college, insured, burnout, age, tenure, contract,
              intention, county_pay, wage_index, township_ratio, committee_ratio, career_ladder, annuity_lever,
              promotion_3y, recognition, pr):
    """One post's month of rules/cadres.py's quit decision: a pure function of its state, its uniform ``u``,
    its county's levers and the parameters ``pr`` (see pack_stay). Returns (intention, quit, exit)."""
    outside = county_pay * (1.0 + pr[0] * college)
    ratio = township_ratio if township_post else committee_ratio
    base = outside * ratio * (1.0 + pr[3] * grade)
    pay = base
    if (not township_post) and ladder_u < career_ladder:
        pay = max(base, (pr[1] + (pr[2] - pr[1]) * grade / 4.0) * wage_index)
    annuity = 0.0 if township_post else annuity_lever
    propensity = (pr[4] - pr[5] * math.log(pay / outside) + pr[6] * burnout - pr[7] * insured
                  - pr[8] * (promotion_3y / pr[17]) - pr[9] * recognition - pr[10] * annuity
                  + pr[11] * (age < pr[19]) + pr[12] * college + pr[13] * contract
                  - pr[14] * min(tenure, pr[15]) / pr[15])
    if math.isnan(intention):
        intention = propensity
    else:
        intention = intention + (propensity - intention) * pr[20]  # monthly_hazard(intention_months)
    q = 1.0 / (1.0 + math.exp(-intention))
    retire = filled and age >= pr[16]
    quit = False
    if filled and not retire:
        quit = u < 1.0 - math.pow(1.0 - min(max(q, 0.0), 1.0), 1.0 / 12.0)
    return intention, quit, quit or retire


stay_one = numba.njit(cache=True)(_stay_one)


def _stay_or_leave(first, key_quit, filled, township_post, ladder_u, grade, college, region, county, insured,
                   burnout, age, tenure, contract, intention, county_pay, wage_index, township_ratio,
                   committee_ratio, career_ladder, annuity_lever, promotion_3y, recognition, pr,
                   out_quit, out_exit):
    # the columnar kernel: the per-post function over all posts, each post's draw computed inline
    for i in prange(filled.shape[0]):
        c, r = county[i], region[i]
        intention[i], quit, leaves = stay_one(
            unit_at(key_quit, first + np.uint64(i)), filled[i], township_post[i], ladder_u[i], grade[i], college[i],
            insured[i], burnout[i], age[i], tenure[i], contract[i], intention[i], county_pay[r], wage_index[r],
            township_ratio[c], committee_ratio[c], career_ladder[c], annuity_lever[c], promotion_3y[c],
            recognition[c], pr)
        out_quit[i] = quit
        out_exit[i] = leaves
        filled[i] = filled[i] and not leaves


def _train_promote_and_age(first, keys, filled, county, contract, insured, skill, grade, age, tenure,
                           training_coverage, mentoring, promotion_3y, coverage_target, pr, n_counties,
                           out_promoted):
    # pr: application_rate, application_rate_mentored, training_skill_gain, skill_decay_per_year,
    # enrol hazard; per-county lever terms once per county
    n = filled.shape[0]
    applies_p = np.empty(n_counties)
    promote_p = np.empty(n_counties)
    for c in range(n_counties):
        applies_p[c] = pr[0] + mentoring[c] * (pr[1] - pr[0])
        promote_p[c] = 1.0 - math.pow(1.0 - min(max(promotion_3y[c], 0.0), 1.0), 1.0 / 36.0)
    covered = np.zeros(n_counties)
    contracts = np.zeros(n_counties)
    for i in range(n):  # the county's insurance coverage at the month's start (before enrolment)
        if filled[i] and contract[i]:
            contracts[county[i]] += 1.0
            if insured[i]:
                covered[county[i]] += 1.0
    decay = 1.0 - pr[3] / 12.0
    for i in prange(n):
        c = county[i]
        s = skill[i]
        if filled[i] and unit_at(keys[0], first + np.uint64(i)) < training_coverage[c] / 12.0 \
                and unit_at(keys[1], first + np.uint64(i)) < applies_p[c]:
            s = s + pr[2] * (1.0 - s)
        skill[i] = s * decay
        promoted = filled[i] and unit_at(keys[2], first + np.uint64(i)) < promote_p[c]
        out_promoted[i] = promoted
        if promoted:
            grade[i] = min(grade[i] + 1.0, 4.0)
        coverage = covered[c] / contracts[c] if contracts[c] > 0 else 1.0
        if (filled[i] and contract[i] and not insured[i] and coverage < coverage_target[c]
                and unit_at(keys[3], first + np.uint64(i)) < pr[4]):
            insured[i] = True
        age[i] = age[i] + 1.0 / 12.0
        tenure[i] = tenure[i] + 1.0 / 12.0


KERNELS = {
    "serial": (numba.njit(cache=True)(_stay_or_leave), numba.njit(cache=True)(_train_promote_and_age)),
    "parallel": (numba.njit(cache=True, parallel=True)(_stay_or_leave),
                 numba.njit(cache=True, parallel=True)(_train_promote_and_age)),
}


def pack_stay(model):
    p = model.cadres.p
    return np.array([p.college_pay_premium, p.ladder_pay_min_yuan, p.ladder_pay_max_yuan, p.grade_pay_step,
                     p.quit_intercept, p.quit_pay, p.quit_burnout, p.quit_insurance, p.quit_promotion,
                     p.quit_recognition, p.quit_annuity, p.quit_young, p.quit_college, p.quit_contract,
                     p.quit_tenure, p.tenure_cap_years, p.retirement_age, p.county_promotion_rate_3y,
                     p.intention_months, p.young_age, 1.0 - np.exp(-1.0 / p.intention_months)], dtype=float)


def state_of(model) -> dict:
    k = model.cadres
    return {name: getattr(k, name).copy() for name in
            ("filled", "township_post", "ladder_u", "grade", "college", "region", "county", "insured", "burnout",
             "age", "tenure", "contract", "intention", "skill")}


def stay_args(model, s, levers, key):
    k = model.cadres
    return (np.uint64(k.first), np.uint64(key), s["filled"], s["township_post"], s["ladder_u"], s["grade"],
            s["college"], s["region"], s["county"], s["insured"], s["burnout"], s["age"], s["tenure"], s["contract"],
            s["intention"], k.county_pay, k.wage_index, levers["township_pay_ratio"], levers["committee_pay_ratio"],
            levers["career_ladder"], levers["occupational_annuity"], levers["promotion_rate_3y"],
            levers["recognition"], pack_stay(model), np.zeros(k.n, bool), np.zeros(k.n, bool))


def train_args(model, s, levers, keys):
    k, p = model.cadres, model.cadres.p
    enrol = 1.0 - math.exp(-1.0 / model.config.implementation.insurance_enrol_months)
    pr = np.array([p.application_rate, p.application_rate_mentored, p.training_skill_gain, p.skill_decay_per_year,
                   enrol])
    return (np.uint64(k.first), keys, s["filled"], s["county"], s["contract"], s["insured"], s["skill"], s["grade"],
            s["age"], s["tenure"], levers["training_coverage"], levers["training_mentoring"],
            levers["promotion_rate_3y"], levers["social_insurance_coverage"], pr, model.places.n_counties,
            np.zeros(k.n, bool))


def numba_figures(target: int) -> dict:
    from sim.model.streams import CounterStreams

    model = cadre_model(target)
    month = model.month
    levers = model.levers_at(month)
    counter = CounterStreams(0, 0)
    key_quit = counter.column_keys("quits", month)[0]
    keys_train = counter.column_keys("training", month, 4)
    out: dict = {"cadres": int(model.cadres.n)}
    for mode, (stay, train) in KERNELS.items():
        # threads: wall time (CPU time adds up the threads); serial: CPU time, as for numpy
        CLOCK["clock"] = time.perf_counter if mode == "parallel" else time.process_time
        s = state_of(model)
        stay(*stay_args(model, s, levers, key_quit))  # compile or load from cache
        train(*train_args(model, s, levers, keys_train))
        s = state_of(model)  # the kernels change the state in place, as the engine's methods do
        out[f"{mode}_stay_or_leave_ms"] = best_ms(lambda: stay(*stay_args(model, s, levers, key_quit)))
        out[f"{mode}_train_promote_and_age_ms"] = best_ms(lambda: train(*train_args(model, s, levers, keys_train)))
    CLOCK["clock"] = time.process_time
    out["agreement"] = agreement(model, levers, key_quit)
    out["threads"] = numba.get_num_threads()
    return out


def agreement(model, levers, key_quit) -> dict:
    """Do the kernel's deterministic results match numpy's bits, and one post's call the array call's?"""
    s = state_of(model)
    serial = KERNELS["serial"][0]
    serial(*stay_args(model, s, levers, key_quit))
    k = model.cadres
    numpy_intention = k.intention.copy()
    k.stay_or_leave(levers, model.month, model.streams)  # numpy: intention from the same state
    same_intention = bool(np.array_equal(s["intention"], k.intention, equal_nan=True))
    max_diff = float(np.nanmax(np.abs(s["intention"] - k.intention)))
    k.intention = numpy_intention
    # one post at a time, as a per-agent engine would: the per-post function called from Python on
    # scalars, with the post's uniform from the scalar twin of the stream; against the array kernel
    from sim.model.streams import counter_uniform

    before = state_of(model)
    whole = state_of(model)
    args = stay_args(model, whole, levers, key_quit)
    serial(*args)
    rows = np.linspace(0, k.n - 1, 400).astype(int)
    pr = pack_stay(model)
    single, calls = [], 0.0
    for i in rows:
        c, r = int(before["county"][i]), int(before["region"][i])
        t = time.perf_counter()
        result = stay_one(counter_uniform(int(key_quit), int(k.first) + int(i)), bool(before["filled"][i]),
                          bool(before["township_post"][i]), float(before["ladder_u"][i]), float(before["grade"][i]),
                          bool(before["college"][i]), bool(before["insured"][i]), float(before["burnout"][i]),
                          float(before["age"][i]), float(before["tenure"][i]), bool(before["contract"][i]),
                          float(before["intention"][i]), float(k.county_pay[r]), float(k.wage_index[r]),
                          float(levers["township_pay_ratio"][c]), float(levers["committee_pay_ratio"][c]),
                          float(levers["career_ladder"][c]), float(levers["occupational_annuity"][c]),
                          float(levers["promotion_rate_3y"][c]), float(levers["recognition"][c]), pr)
        calls += time.perf_counter() - t
        single.append(result)
    same_scalar = all(np.float64(res[0]).tobytes() == np.float64(whole["intention"][i]).tobytes()
                      and res[1] == args[24][i] and res[2] == args[25][i] for res, i in zip(single, rows))
    return {"intention_numba_equals_numpy_bits": same_intention,
            "intention_max_abs_diff": max_diff,
            "one_post_calls_equal_array_call_bits": bool(same_scalar),
            "one_post_call_us": 1e6 * calls / len(rows)}


# --------------------------------------------------------------------------- the price of the arithmetic

@numba.njit(cache=True)
def _loop_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = math.exp(x[i])


@numba.njit(cache=True)
def _loop_log(x, out):
    for i in range(x.shape[0]):
        out[i] = math.log(x[i])


@numba.njit(cache=True)
def _loop_pow(x, out):
    for i in range(x.shape[0]):
        out[i] = math.pow(x[i], 1.0 / 12.0)


@numba.njit(cache=True)
def _loop_monthly(x, out):
    for i in range(x.shape[0]):
        out[i] = -math.expm1(math.log1p(-x[i]) / 12.0)


@numba.njit(cache=True)
def _loop_draw(key, out):
    for i in range(out.shape[0]):
        out[i] = unit_at(key, np.uint64(i))


@numba.njit(cache=True)
def _loop_fma(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * 1.5 + 0.25


def math_costs(n: int = 1_000_000) -> dict:
    """ns per element: numpy ufuncs on arrays vs numba loops of scalar math (libm, no fastmath)."""
    x = np.random.default_rng(0).random(n) * 0.9 + 0.05
    out = np.empty(n)
    for f in (_loop_exp, _loop_log, _loop_pow, _loop_monthly, _loop_fma):
        f(x, out)
    _loop_draw(np.uint64(12345), out)
    CLOCK["clock"] = time.process_time
    ns = lambda f: 1e6 * best_ms(f) / n  # noqa: E731
    return {
        "exp": {"numpy": ns(lambda: np.exp(x, out=out)), "numba": ns(lambda: _loop_exp(x, out))},
        "log": {"numpy": ns(lambda: np.log(x, out=out)), "numba": ns(lambda: _loop_log(x, out))},
        "pow": {"numpy": ns(lambda: np.power(x, 1.0 / 12.0, out=out)), "numba": ns(lambda: _loop_pow(x, out))},
        "1-(1-p)^(1/12) as -expm1(log1p(-p)/12)": {
            "numpy": ns(lambda: np.negative(np.expm1(np.log1p(-x) / 12.0), out=out)),
            "numba": ns(lambda: _loop_monthly(x, out))},
        "a*x+b": {"numpy": ns(lambda: np.add(np.multiply(x, 1.5, out=out), 0.25, out=out)),
                  "numba": ns(lambda: _loop_fma(x, out))},
        "uniform draw": {"numpy": ns(lambda: np.random.Generator(np.random.PCG64(1)).random(n, out=out)),
                         "numba": ns(lambda: _loop_draw(np.uint64(12345), out))},
        "same_bits": {name: bool(np.array_equal(np_f(x), (lambda o: (nb(x, o), o)[1])(np.empty(n))))
                      for name, np_f, nb in (("exp", np.exp, _loop_exp), ("log", np.log, _loop_log),
                                             ("pow", lambda v: np.power(v, 1.0 / 12.0), _loop_pow))},
    }


# --------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numpy-tree", metavar="CHECKOUT", help="checkout whose numpy stages to time (default: this)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000])
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    ap.add_argument("--_numpy", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._numpy:
        print(json.dumps(numpy_figures(args._numpy)))
        return

    heading("Machine")
    info = machine_info(ROOT)
    print(f"  {info['cpu']}, {info['cores_usable']} cores, numpy {info['numpy']}, numba {info['numba']}, "
          f"load {' '.join(f'{x:.2f}' for x in info['load_average'] or ())}")
    rows, figures = [], {"machine": info, "sizes": []}
    for target in args.sizes:
        tree = ["--tree", args.numpy_tree] if args.numpy_tree else []
        child = subprocess.run([sys.executable, __file__, "--_numpy", str(target), *tree], capture_output=True,
                               text=True, check=True)
        numpy_ = json.loads(child.stdout.strip().splitlines()[-1])
        compiled = numba_figures(target)
        figures["sizes"].append({"target": target, "numpy": numpy_, "numba": compiled})
        n = compiled["cadres"]
        assert numpy_["cadres"] == n
        for stage in ("stay_or_leave", "train_promote_and_age"):
            a, b, c = numpy_[f"{stage}_ms"], compiled[f"serial_{stage}_ms"], compiled[f"parallel_{stage}_ms"]
            rows.append([stage, f"{n:,}", f"{a:.2f}", f"{b:.2f}", f"{c:.2f}", f"{a / b:.1f}x", f"{a / c:.1f}x",
                         f"{n / a / 1e3:.1f}", f"{n / b / 1e3:.1f}", f"{n / c / 1e3:.1f}"])
    heading("Stage time per month: numpy (engine) vs numba kernels with counter-based draws")
    print(table(["stage", "cadres", "numpy ms", "numba ms", f"numba x{compiled['threads']} ms", "speed-up",
                 "speed-up (threads)", "numpy M/s", "numba M/s", "threads M/s"], rows))
    print(f"  numpy tree: {args.numpy_tree or ROOT}; M/s = million cadre-steps per second for that stage alone")
    print(f"  numpy's 4-column PCG64 draws alone (training): "
          + ", ".join(f"{s['numpy']['uniforms_4_columns_ms']:.2f} ms at {s['numpy']['cadres']:,}" for s in figures["sizes"]))
    agree = figures["sizes"][-1]["numba"]["agreement"]
    print(f"  quit intention, numba vs numpy, same state: bits equal = {agree['intention_numba_equals_numpy_bits']} "
          f"(max |diff| {agree['intention_max_abs_diff']:.3g}); one-post calls = array call bits: "
          f"{agree['one_post_calls_equal_array_call_bits']} ({agree['one_post_call_us']:.1f} us per call from Python)")
    heading("The price of the arithmetic: ns per element, 10^6 elements, one core")
    costs = figures["math_ns_per_element"] = math_costs()
    print(table(["operation", "numpy (array ufunc)", "numba (scalar loop)"],
                [[name, f"{v['numpy']:.2f}", f"{v['numba']:.2f}"] for name, v in costs.items() if name != "same_bits"]))
    print("  uniform draw: numpy = PCG64 Generator.random into an array; numba = counter-based unit_at in a loop")
    print("  numba loop gives numpy's bits: " + ", ".join(f"{k} {v}" for k, v in costs["same_bits"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
