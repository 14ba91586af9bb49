"""Bayesian calibration: history matching with Gaussian-process emulators, then sequential Monte Carlo.

The point fit of ``sim.calibrate`` finds one parameter set that reproduces the 2023 figures. This module asks
what *all* the evidence allows: the twelve 2023 targets (``sim.calibrate.TARGETS``) and the local-reform cases
(``sim.cases``), jointly, over the prior of every parameter (``sim.priors.PRIORS``), and returns a posterior
ensemble of parameter sets that every forecast can carry (``--draws``).

Method (Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015 for history matching; Del Moral, Doucet &
Jasra 2006 for the final sampler):

1. **Space.** Each uncertain value is mapped to a standard normal through its prior:
   ``u = Phi^-1(F_prior(theta))``, so the prior is N(0, I) and every emulator works on one common scale.
2. **Waves.** Wave 1 is a Latin hypercube over the whole prior. Each point is simulated once (one replicate of
   a 12-county 2023 baseline and each case, common random numbers across points), giving every output.
3. **Emulators.** For each output, the inputs that move it are picked by a cross-validated lasso on all points
   so far (at most ``active`` of them); a Gaussian process (Matérn 5/2 with one length scale per input, plus a
   white-noise term that takes up simulation noise and the inputs left out) is fitted on those.
4. **Implausibility.** ``I_j(u) = |z_j - E f_j(u)| / sqrt(Var f_j(u) + s_obs_j^2 + s_model_j^2)``; a point is
   ruled out when any ``I_j`` exceeds ``cutoff`` (3, Pukelsheim's three-sigma rule). The next wave is drawn from
   the prior among points not ruled out yet (rejection; when too few survive, from a widened Gaussian fitted to
   the survivors), simulated, and the emulators refitted.
5. **Posterior.** After the last wave, ``p(u | z) ∝ N(u; 0, I) · prod_j N(z_j; E f_j(u), Var f_j(u) + s_obs_j^2
   + s_model_j^2)`` on the space the previous wave did not rule out, sampled by sequential Monte Carlo with
   adaptive tempering: particles from that space, the likelihood's power raised from 0 to 1 in steps that keep
   70% of the effective sample size, each step followed by resampling and random-walk Metropolis moves with
   the population's covariance. Two independent runs are pooled; the rank-normalised R-hat between them and
   the effective sample size are reported, and the ``draws`` are a random subset of the particles. Inputs no
   emulator uses are drawn from their prior: no evidence touches them. (Tried before and dropped: importance
   sampling from a Student-t fitted to the survivors, ESS 1 of 40,000 with some 30 informed inputs; population
   adaptive Metropolis from the last wave's survivors, whose chains had not mixed after 1,500 steps, R-hat 1.30.)
6. **Check.** The ensemble is simulated (posterior predictive of every output, from the simulator, not the
   emulators), and the pre-registered out-of-sample checks (``docs/validation-plan.md``) are computed by
   dropping each observation's likelihood term in turn.

Everything is seeded; simulated points are stored as Parquet parts as they finish, so an interrupted run
resumes where it stopped (a part whose design, outputs or code changed is recomputed, never reused).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from .priors import PRIORS, apply_parameters

DATA = Path(__file__).parent / "data"
ENSEMBLE_FILE = DATA / "posterior.parquet"
PROVENANCE_FILE = DATA / "posterior.json"


# --------------------------------------------------------------------------------------------- evidence
@dataclass(frozen=True)
class Observation:
    """One piece of evidence: an output of the simulator, the observed value and how far off it may be."""

    name: str
    group: str  # "2023" for a baseline target, else the case's name
    value: float
    sd_obs: float  # observation error: how far the reported figure may be from the true one
    sd_model: float  # model discrepancy: how far the model's expected output may be from the truth at best
    source: str
    why: str

    @property
    def sd(self) -> float:
        return math.hypot(self.sd_obs, self.sd_model)


# The 2023 targets: their tolerance is the half-width of the band the point fit must meet (sim.calibrate);
# read as two standard deviations of observation error (a survey's or a statistic's), with a model discrepancy
# of the same size: an ABM of stylised counties cannot be expected to come closer to a national figure than
# the figure itself is known.
def baseline_observations() -> list[Observation]:
    from .calibrate import TARGETS

    return [Observation(t.name, "2023", t.value, t.tolerance / 2, t.tolerance / 2, t.source,
                        f"{t.why}; tolerance {t.tolerance:g} read as 2 sd of observation error, and as much "
                        f"model discrepancy") for t in TARGETS]


def case_observations() -> list[Observation]:
    try:
        from . import cases
    except ImportError:  # pragma: no cover - the cases module is part of the package
        return []
    table = cases.observations()  # one row per case (index: its name); its sd is the whole error allowed
    return [Observation(f"case_{name}", str(name), float(row["observed"]), float(row["sd"]), 0.0,
                        str(row["source"]), str(row["reason"])) for name, row in table.iterrows()]


def all_observations() -> list[Observation]:
    return baseline_observations() + case_observations()


# --------------------------------------------------------------------------------------------- space
def uncertain_paths() -> list[str]:
    """Every config value whose prior is not a point, in registry order."""
    return [p for p, prior in PRIORS.items() if not prior.fixed]


def to_theta(u: np.ndarray, paths: list[str]) -> pd.DataFrame:
    """Standard-normal coordinates -> parameter values, through each prior's inverse CDF."""
    unit = np.clip(stats.norm.cdf(u), 1e-12, 1 - 1e-12)
    data = {}
    for j, path in enumerate(paths):
        values = PRIORS[path].dist.ppf(unit[:, j])
        data[path] = values.astype(np.int64) if PRIORS[path].count else values.astype(np.float64)
    return pd.DataFrame(data)


# --------------------------------------------------------------------------------------------- simulator
@dataclass(frozen=True)
class Simulator:
    """What one point costs: a 2023 baseline of ``counties`` counties and every case, one replicate each."""

    counties: int = 12
    seed: int = 1
    cases: tuple[str, ...] = ()

    def base(self) -> dict:
        from .config import load_scenario
        from .experiments import apply_point
        from .registry import CONFIGS

        return apply_point(load_scenario(CONFIGS / "baseline.yaml").resolved, {}, self.counties)


def simulate_point(simulator: Simulator, base: dict, values: dict) -> dict[str, float]:
    """Every output of one parameter set (``values``: config key path -> value)."""
    from .calibrate import TARGETS, baseline_moments
    from .config import scenario_from_dict

    moments = baseline_moments(scenario_from_dict(apply_parameters(base, values)), simulator.seed, 0)
    out = {t.name: (1 - moments[t.metric]) if t.complement else moments[t.metric] for t in TARGETS}
    if simulator.cases:
        from .cases import case_outcome

        for name in simulator.cases:
            try:
                result = case_outcome(name, values, seed=simulator.seed, replicates=1)
            except ValueError:  # a parameter set the case's config refuses (e.g. a tuned value out of bounds)
                result = {"after": np.nan, "before": np.nan}
            out[f"case_{name}"] = float(result["after"])
            out[f"case_{name}:before"] = float(result["before"])
    return out


def simulation_code(simulator: Simulator) -> str:
    """What decides a point's outputs besides its parameters: the model's code, this simulator's base config,
    the cases' code and configs, and the functions that read the outputs. A stored part made by other code
    is simulated again, never reused."""
    import inspect

    from . import calibrate
    from .experiments import code_version

    parts = [code_version(), json.dumps(simulator.base(), sort_keys=True, default=str),
             inspect.getsource(simulate_point), inspect.getsource(calibrate.baseline_moments),
             json.dumps([(t.name, t.metric, t.complement) for t in calibrate.TARGETS])]
    if simulator.cases:
        from . import cases

        parts.append(Path(cases.__file__).read_text())
        parts += [json.dumps(cases.case_config(name, None, instrument=True), sort_keys=True, default=str)
                  for name in simulator.cases]
    return code_version() + "+" + _hash(*parts)


def _simulate_chunk(simulator: Simulator, rows: list[dict]) -> list[dict]:
    base = simulator.base()
    return [simulate_point(simulator, base, row) for row in rows]


# --------------------------------------------------------------------------------------------- emulators
@dataclass
class Emulator:
    """A Gaussian process on the active inputs of one output (indices into the full u vector)."""

    output: str
    active: np.ndarray
    gp: object
    r2_cv: float = float("nan")

    def predict(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The emulator's mean and variance (the fitted noise term included) at the points ``u`` (rows of the
        full u vector). The GP's own ``predict(return_std=True)`` in closed form on its fitted kernel: the
        same numbers to rounding, ~10x faster on the few hundred points a sampler step asks for, where
        scikit-learn's checks and kernel algebra cost more than the arithmetic."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = self.__dict__["_fast"] = _closed_form(self.gp)
        if fast is False:  # a kernel other than the one fit_emulator builds
            mean, sd = self.gp.predict(u[:, self.active], return_std=True)
            return mean, sd ** 2
        scale, train, alpha, l_inv, amplitude, noise, y_mean, y_std = fast
        x = u[:, self.active] / scale
        r2 = (x * x).sum(axis=1)[:, None] + train[1][None, :] - 2.0 * x @ train[0].T
        r = np.sqrt(5.0 * np.clip(r2, 0.0, None))
        k = amplitude * (1.0 + r + r * r / 3.0) * np.exp(-r)  # Matern 5/2
        v = k @ l_inv.T
        var = np.clip(amplitude + noise - np.einsum("ij,ij->i", v, v), 0.0, None)
        return y_std * (k @ alpha) + y_mean, var * y_std ** 2


def _closed_form(gp):
    """What :meth:`Emulator.predict` needs of a fitted ``ConstantKernel * Matern(nu=2.5) + WhiteKernel`` GP
    (the kernel :func:`fit_emulator` builds), or False for any other kernel."""
    from scipy.linalg import solve_triangular
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, Product, Sum, WhiteKernel

    kernel = gp.kernel_
    if not (isinstance(kernel, Sum) and isinstance(kernel.k1, Product) and isinstance(kernel.k2, WhiteKernel)
            and isinstance(kernel.k1.k1, ConstantKernel) and isinstance(kernel.k1.k2, Matern)
            and kernel.k1.k2.nu == 2.5 and getattr(gp, "alpha", 0) == 1e-10):
        return False
    scale = np.atleast_1d(kernel.k1.k2.length_scale).astype(float)
    train = gp.X_train_ / scale
    l_inv = solve_triangular(gp.L_, np.eye(len(gp.L_)), lower=True)
    y_std = float(np.atleast_1d(gp._y_train_std)[0])
    y_mean = float(np.atleast_1d(gp._y_train_mean)[0])
    # the fit's jitter (gp.alpha, 1e-10) sits on the training diagonal only, as in scikit-learn's predict
    return (scale, (train, (train * train).sum(axis=1)), gp.alpha_.ravel(), l_inv,
            float(kernel.k1.k1.constant_value), float(kernel.k2.noise_level), y_mean, y_std)


def fit_emulator(output: str, u: np.ndarray, y: np.ndarray, max_active: int = 8, seed: int = 1,
                 max_points: int = 500) -> Emulator:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from sklearn.linear_model import LassoCV

    ok = np.isfinite(y)
    u, y = u[ok], y[ok]
    if len(y) > max_points:  # the GP costs n^3: keep the newest points (the later waves sit where it matters)
        u, y = u[-max_points:], y[-max_points:]
    features = np.hstack([u, u ** 2 - 1])  # main effects and curvature, both standardised under the prior
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lasso = LassoCV(cv=5, random_state=seed, alphas=40, max_iter=5000).fit(features,
                                                                                       (y - y.mean()) / y.std())
    d = u.shape[1]
    weight = np.abs(lasso.coef_[:d]) + np.abs(lasso.coef_[d:])
    order = np.argsort(-weight)
    active = np.sort(order[: max(1, min(max_active, int((weight > 1e-6).sum())))])
    kernel = (ConstantKernel(1.0, (1e-3, 1e3))
              * Matern(length_scale=np.full(len(active), 2.0), length_scale_bounds=(0.05, 100.0), nu=2.5)
              + WhiteKernel(1e-2, (1e-8, 1.0)))
    gp = GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(u[:, active], y)
    return Emulator(output, active, gp)


def emulator_check(emulator: Emulator, u: np.ndarray, y: np.ndarray) -> dict:
    """How well an emulator fitted on earlier points predicts new ones: share within 3 sd, RMSE."""
    mean, var = emulator.predict(u)
    ok = np.isfinite(y)
    z = (y[ok] - mean[ok]) / np.sqrt(var[ok])
    return {"points": int(ok.sum()), "within_3sd": float(np.mean(np.abs(z) < 3)),
            "rmse": float(np.sqrt(np.mean((y[ok] - mean[ok]) ** 2)))}


# --------------------------------------------------------------------------------------------- implausibility
def implausibility(emulators: dict[str, Emulator], observations: list[Observation], u: np.ndarray,
                   cutoff: float = np.inf) -> np.ndarray:
    """The largest implausibility of each point; points already above ``cutoff`` are not evaluated further."""
    worst = np.zeros(len(u))
    alive = np.ones(len(u), dtype=bool)
    for obs in observations:
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        mean, var = emulators[obs.name].predict(u[idx])
        value = np.abs(obs.value - mean) / np.sqrt(var + obs.sd ** 2)
        worst[idx] = np.maximum(worst[idx], value)
        alive[idx] = value <= cutoff
    worst[~alive] = np.maximum(worst[~alive], cutoff + 1e-9)
    return worst


def _t_fit(points: np.ndarray, widen: float):
    mean = points.mean(axis=0)
    cov = np.atleast_2d(np.cov(points, rowvar=False)) * widen ** 2 + 1e-6 * np.eye(points.shape[1])
    return stats.multivariate_t(loc=mean, shape=cov, df=5)


def next_wave(emulators, observations, n: int, d: int, rng: np.random.Generator, cutoff: float,
              survivors: np.ndarray | None, batch: int = 40_000, budget: int = 1_000_000) -> tuple[np.ndarray, dict]:
    """``n`` new points not ruled out, and the share of the prior still not ruled out (estimated)."""
    kept, tried = [], 0
    while tried < budget and sum(len(k) for k in kept) < 4 * n:
        u = rng.standard_normal((batch, d))
        tried += batch
        kept.append(u[implausibility(emulators, observations, u, cutoff) <= cutoff])
    found = np.concatenate(kept)
    share = len(found) / tried
    info = {"prior_share_not_ruled_out": share, "candidates_tried": tried, "from": "prior"}
    if len(found) < n:
        if survivors is None or len(survivors) < d + 2:
            raise RuntimeError(f"only {len(found)} of {tried:,} prior points are not ruled out; too few for the "
                               f"next wave of {n}: the evidence and the model disagree everywhere")
        proposal = _t_fit(np.concatenate([found, survivors]), widen=1.5)
        more, tried2 = [found], 0
        while sum(len(k) for k in more) < 4 * n and tried2 < budget:
            u = np.asarray(proposal.rvs(size=batch, random_state=rng)).reshape(batch, -1)
            tried2 += batch
            more.append(u[implausibility(emulators, observations, u, cutoff) <= cutoff])
        found = np.concatenate(more)
        info.update({"from": "widened t fitted to the survivors", "proposal_acceptance": len(found) / tried2})
        if len(found) < n:
            raise RuntimeError(f"could not find {n} points not ruled out (found {len(found)})")
    pick = rng.choice(len(found), size=n, replace=False)
    return found[pick], info


# --------------------------------------------------------------------------------------------- storage
def _hash(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def _write_atomic(frame: pd.DataFrame, path: Path, key: str) -> None:
    tmp = path.with_suffix(".tmp")
    frame.attrs = {}
    table = frame.copy()
    table["_key"] = key
    table.to_parquet(tmp, index=False)
    tmp.replace(path)


def _read_part(path: Path, key: str) -> pd.DataFrame | None:
    if not path.exists():
        return None
    frame = pd.read_parquet(path)
    if frame.empty or frame["_key"].iloc[0] != key:
        return None
    return frame.drop(columns="_key")


@dataclass
class Settings:
    waves: int = 3
    points: tuple[int, ...] = (320, 96)  # the last number repeats: 320, 96, 96
    draws: int = 200
    cutoff: float = 3.0
    active: int = 8
    seed: int = 1
    counties: int = 12
    chunk: int = 16
    particles: int = 2000  # of each of the two independent SMC runs (the ensemble's draws are a subset)
    predictive: int = 64  # draws simulated again for the posterior predictive (the first ones: a random subset)

    def wave_points(self, k: int) -> int:
        return self.points[min(k, len(self.points) - 1)]


def simulate_design(simulator: Simulator, u: np.ndarray, paths: list[str], folder: Path, wave: int,
                    executor: Executor | None, code: str, progress=None) -> pd.DataFrame:
    """Simulate the points of one wave in chunks, keeping the chunks already on disk with a matching key."""
    folder.mkdir(parents=True, exist_ok=True)
    theta = to_theta(u, paths)
    rows = theta.to_dict("records")
    chunks = [range(a, min(a + Settings.chunk, len(rows))) for a in range(0, len(rows), Settings.chunk)]
    frames, todo = {}, []
    for c, idx in enumerate(chunks):
        key = _hash(code, asdict(simulator), np.round(u[list(idx)], 12).tobytes(), paths)
        path = folder / f"wave{wave}-part{c:03d}.parquet"
        frame = _read_part(path, key)
        if frame is None:
            todo.append((c, idx, key, path))
        else:
            frames[c] = frame
            if progress:
                progress(len(idx))
    from contextlib import closing

    from .run import run_tasks

    tasks = [(simulator, [rows[i] for i in idx]) for _, idx, _, _ in todo]
    with closing(run_tasks(executor, _simulate_chunk, tasks, ordered=False)) as results:
        for n, outputs in results:
            c, idx, key, path = todo[n]
            frame = pd.concat([pd.DataFrame(u[list(idx)], columns=[f"u:{p}" for p in paths]),
                               pd.DataFrame(outputs)], axis=1)
            frame.insert(0, "point", list(idx))
            frame.insert(0, "wave", wave)
            _write_atomic(frame, path, key)
            frames[c] = frame
            if progress:
                progress(len(idx))
    return pd.concat([frames[c] for c in range(len(chunks))], ignore_index=True)


# --------------------------------------------------------------------------------------------- the fit
@dataclass
class PosteriorResult:
    ensemble: pd.DataFrame  # one row per draw, one column per config key path (``sim.posterior``'s format)
    provenance: dict
    predictive: pd.DataFrame  # per observation: the value, its error and the simulated ensemble's spread
    checks: pd.DataFrame  # the pre-registered out-of-sample checks
    parameters: pd.DataFrame  # prior and posterior of every uncertain value
    correlations: pd.DataFrame  # the strongest posterior correlations
    moved: pd.DataFrame  # what each piece of evidence moved
    simulations: pd.DataFrame = field(repr=False, default=None)


def _ess(logw: np.ndarray) -> tuple[np.ndarray, float]:
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return w, float(1.0 / np.sum(w ** 2))


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> np.ndarray:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return np.interp(np.asarray(qs), cum - w[order] / 2, x[order])


def fit_emulators(data: pd.DataFrame, paths: list[str], observations: list[Observation], active: int,
                  seed: int, pool: Executor | None = None) -> dict[str, Emulator]:
    """One emulator per observation, fitted on ``pool`` (in parallel, between waves, when it is idle)."""
    from .run import map_tasks

    u = data[[f"u:{p}" for p in paths]].to_numpy()
    args = [(o.name, u, data[o.name].to_numpy(dtype=float), active, seed) for o in observations]
    return {o.name: e for o, e in zip(observations, map_tasks(pool, fit_emulator, *zip(*args)))}


def run_posterior(settings: Settings | None = None, out: str | Path = "results/posterior", workers: int = 1,
                  executor: Executor | None = None, progress: bool = False, cases: tuple[str, ...] | None = None,
                  log=print) -> PosteriorResult:
    """History matching in waves, MCMC on the final emulators, and the ensemble's first draws simulated."""
    from .run import _progress, executor_context

    settings = settings or Settings()
    started = time.perf_counter()
    out = Path(out)
    if cases is None:
        try:
            from .cases import CASES
            cases = tuple(CASES)
        except ImportError:  # pragma: no cover
            cases = ()
    observations = [o for o in all_observations() if o.group == "2023" or o.group in cases]
    paths = uncertain_paths()
    d = len(paths)
    simulator = Simulator(settings.counties, settings.seed, tuple(cases))
    code = simulation_code(simulator)
    rng = np.random.default_rng(settings.seed)
    total = sum(settings.wave_points(k) for k in range(settings.waves)) + min(settings.predictive, settings.draws)
    waves: list[dict] = []
    with _progress(total, progress, desc="posterior runs") as bar, \
            executor_context(executor, workers) as pool:
        def simulate(u, wave):
            return simulate_design(simulator, u, paths, out / "parts", wave, pool, code, progress=bar.update)

        unit = qmc.LatinHypercube(d=d, scramble=True, rng=np.random.default_rng(settings.seed)).random(
            settings.wave_points(0))
        data = simulate(stats.norm.ppf(np.clip(unit, 1e-6, 1 - 1e-6)), 0)
        waves.append({"wave": 1, "points": len(data), "from": "Latin hypercube over the prior"})
        log(f"wave 1: {len(data)} points simulated ({time.perf_counter() - started:.0f} s)")
        for k in range(1, settings.waves):
            emulators = fit_emulators(data, paths, observations, settings.active, settings.seed, pool)
            u_all = data[[f"u:{p}" for p in paths]].to_numpy()
            survivors = u_all[implausibility(emulators, observations, u_all, settings.cutoff) <= settings.cutoff]
            u_next, info = next_wave(emulators, observations, settings.wave_points(k), d, rng, settings.cutoff,
                                     survivors)
            new = simulate(u_next, k)
            info["emulators_on_new_points"] = {o.name: emulator_check(emulators[o.name], u_next,
                                                                        new[o.name].to_numpy(dtype=float))
                                               for o in observations}
            waves.append({"wave": k + 1, "points": len(new), **info})
            log(f"wave {k + 1}: {len(new)} points; {info['prior_share_not_ruled_out']:.2e} of the prior not ruled "
                f"out before it ({time.perf_counter() - started:.0f} s)")
            data = pd.concat([data, new], ignore_index=True)
        # the final emulators learn where it matters: from the points the previous wave's emulators had not
        # ruled out (history matching's refocusing; points from the prior's far corners, with turnover near
        # 100% a year, would otherwise teach every emulator a large noise term), and the particles stay there
        previous = None
        training = data
        if settings.waves > 1:
            previous = emulators
            u_all = data[[f"u:{p}" for p in paths]].to_numpy()
            inside = implausibility(previous, observations, u_all, settings.cutoff) <= settings.cutoff
            inside |= (data["wave"] == data["wave"].max()).to_numpy()
            if inside.sum() >= 60:
                training = data[inside]
        emulators = fit_emulators(training, paths, observations, settings.active, settings.seed, pool)
        log(f"final emulators fitted on {len(training)} points ({time.perf_counter() - started:.0f} s); "
            f"sampling: 2 independent SMC runs of {settings.particles} particles")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # small matrices: BLAS threads cost more than they give here
            runs = [_smc(emulators, observations, d, np.random.default_rng([settings.seed, r]), settings.particles,
                         previous, settings.cutoff) for r in (1, 2)]
        sample = _pooled_sample(runs, emulators, observations, d)
        waves[-1]["final_emulators_trained_on"] = int(len(training))
        # the ensemble: a random subset of the pooled particles (equally weighted), in random order
        u_post = sample["u"][rng.choice(len(sample["u"]), settings.draws, replace=False)]
        sims = simulate(u_post[: settings.predictive], -1)  # wave -1: the ensemble's first draws
    ensemble = to_theta(u_post, paths)
    ensemble.index = pd.RangeIndex(len(ensemble), name="draw")
    predictive = _predictive(observations, sims)
    checks = _out_of_sample(emulators, observations, sample, rng)
    parameters = _parameter_table(paths, sample, emulators)
    correlations = _correlations(paths, u_post, [i for e in emulators.values() for i in e.active])
    moved = _moved(paths, emulators, observations, sample)
    provenance = {
        "method": "history matching with Gaussian-process emulators (scikit-learn), then sequential Monte Carlo "
                  "with adaptive tempering on the final emulators (two independent runs, pooled); the draws are "
                  "a random subset of the particles",
        "date": time.strftime("%Y-%m-%d"),
        "code_version": code,
        "settings": asdict(settings),
        "simulator": asdict(simulator),
        "observations": [asdict(o) for o in observations],
        "uncertain_values": d,
        "simulations": int(len(data) + len(sims)),
        "waves": waves,
        "sampler": {k: sample[k] for k in ("runs", "particles", "stages", "rhat_max", "ess_min",
                                           "max_mean_gap_sd", "prior_draws_tried")},
        "rhat_worst_path": paths[sample["rhat_worst"]],
        "ess": sample["ess"],
        "draws": settings.draws,
        "predictive_draws": int(len(sims)),
        "emulators": {name: {"active": [paths[i] for i in e.active], "kernel": str(e.gp.kernel_)}
                      for name, e in emulators.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    log(f"posterior: 2 SMC runs x {settings.particles} particles, {len(sample['stages'][0])} and "
        f"{len(sample['stages'][1])} tempering steps; between the runs the largest R-hat is {sample['rhat_max']:.3f}, "
        f"the smallest ESS {sample['ess_min']:.0f} ({provenance['seconds']:.0f} s)")
    return PosteriorResult(ensemble, provenance, predictive, checks, parameters, correlations, moved,
                           pd.concat([data, sims], ignore_index=True))


def _rank_normal(trace: np.ndarray) -> np.ndarray:
    """Each column of ``trace`` (steps x chains x inputs) replaced by the normal scores of its ranks over all
    chains (Vehtari et al. 2021), so that R-hat and ESS do not depend on the scale or the tails."""
    n, m, k = trace.shape
    flat = trace.reshape(n * m, k)
    ranks = stats.rankdata(flat, axis=0)
    return stats.norm.ppf((ranks - 3 / 8) / (n * m + 1 / 4)).reshape(n, m, k)


def _split_rhat_ess(trace: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalised split-chain R-hat (Vehtari et al. 2021: the larger of the bulk R-hat, on the ranks, and
    the tail R-hat, on the ranks of the distance from the median) and the bulk effective sample size (initial
    positive sequence of the chains' mean autocorrelation of the ranks) of each column of ``trace`` (steps x
    chains x inputs)."""
    bulk = _rank_normal(trace)
    tail = _rank_normal(np.abs(trace - np.median(trace.reshape(-1, trace.shape[2]), axis=0)))
    rhat = np.maximum(_split_rhat(bulk), _split_rhat(tail))
    return rhat, _ess_of(bulk)


def _split_rhat(trace: np.ndarray) -> np.ndarray:
    """Split-chain R-hat (Gelman et al. 2013) of each column of ``trace`` (steps x chains x inputs)."""
    n, m, k = trace.shape
    half = n // 2
    split = np.concatenate([trace[:half], trace[half: 2 * half]], axis=1)  # (half, 2m, k)
    means = split.mean(axis=0)
    within = split.var(axis=0, ddof=1).mean(axis=0)
    between = half * means.var(axis=0, ddof=1)
    var_plus = (half - 1) / half * within + between / half
    return np.sqrt(var_plus / within)


def _ess_of(trace: np.ndarray) -> np.ndarray:
    """Multi-chain effective sample size of each column of ``trace`` (steps x chains x inputs), as Stan and
    ArviZ compute it (Vehtari et al. 2021, eq. 10-11): the chains' autocorrelations combined with the
    between-chain variance, so that chains that have not mixed count as few draws, summed by Geyer's initial
    monotone positive sequence."""
    n, m, k = trace.shape
    ess = np.empty(k)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    for j in range(k):
        x = trace[:, :, j]
        means = x.mean(axis=0)
        f = np.fft.rfft(x - means, n=size, axis=0)
        acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:n] / n  # (lags, chains), biased
        within = x.var(axis=0, ddof=1).mean()
        var_plus = (n - 1) / n * within + (means.var(ddof=1) if m > 1 else 0.0)
        if var_plus <= 0:
            ess[j] = float(n * m)
            continue
        rho = 1 - (within - acov.mean(axis=1)) / var_plus
        rho[0] = 1.0
        pairs = rho[: n - n % 2].reshape(-1, 2).sum(axis=1)  # Geyer: rho_2t + rho_2t+1
        stop = np.argmax(pairs < 0) if np.any(pairs < 0) else len(pairs)
        pairs = np.minimum.accumulate(pairs[:stop])  # monotone
        tau = -1 + 2 * pairs.sum()
        ess[j] = n * m / max(tau, 1 / np.log10(n * m))
    return ess


def _prior_not_ruled_out(ruled_out, observations, d: int, n: int, rng: np.random.Generator, cutoff: float,
                         batch: int = 40_000, budget: int = 2_000_000) -> tuple[np.ndarray, int]:
    """``n`` draws from the prior restricted to the space an earlier wave's emulators did not rule out (all of
    the prior without them), and how many prior draws that took."""
    found, tried = [], 0
    while sum(len(f) for f in found) < n and tried < budget:
        u = rng.standard_normal((batch, d))
        tried += batch
        found.append(u if ruled_out is None else u[implausibility(ruled_out, observations, u, cutoff) <= cutoff])
    found = np.concatenate(found)
    if len(found) < n:
        raise RuntimeError(f"only {len(found)} of {tried:,} prior draws are not ruled out; too few to start "
                           f"{n} particles")
    return found[:n], tried


def _smc(emulators, observations, d: int, rng: np.random.Generator, particles: int = 2000, ruled_out=None,
         cutoff: float = 3.0, target_ess: float = 0.7, accepted_moves: float = 10.0) -> dict:
    """Sequential Monte Carlo with adaptive tempering (Del Moral, Doucet & Jasra 2006; Jasra et al. 2011) on
    the emulators' posterior: ``particles`` draws from the prior not ruled out, then the likelihood raised
    from power 0 to 1 in steps chosen so that each keeps ``target_ess`` of the particles' effective sample
    size; after each step the particles are resampled (systematic) and moved by random-walk Metropolis with
    the population's covariance (step tuned toward a quarter accepted) until a particle has moved
    ``accepted_moves`` times on average. The particles need no start and no burn-in: they are the posterior
    when the power reaches 1, and the steps' ESS say how much the evidence narrowed the prior."""
    active = sorted({int(i) for e in [*emulators.values(), *(ruled_out or {}).values()] for i in e.active})
    k = len(active)
    start, tried = _prior_not_ruled_out(ruled_out, observations, d, particles, rng, cutoff)
    x = start[:, active]

    def loglik(ua):
        u = np.zeros((len(ua), d))
        u[:, active] = ua
        return sum(stats.norm.logpdf(o.value, *_mean_sd(emulators[o.name], u, o.sd)) for o in observations)

    def inside(ua):
        if ruled_out is None:
            return np.ones(len(ua), dtype=bool)
        u = np.zeros((len(ua), d))
        u[:, active] = ua
        return implausibility(ruled_out, observations, u, cutoff) <= cutoff

    ll = loglik(x)
    beta, stages, scale = 0.0, [], 2.38 / np.sqrt(k)
    while beta < 1.0:
        def ess_at(b):
            return _ess((b - beta) * ll)[1]
        if ess_at(1.0) >= target_ess * particles:
            new = 1.0
        else:  # bisection for the power that keeps target_ess of the particles
            lo, hi = beta, 1.0
            for _ in range(60):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if ess_at(mid) >= target_ess * particles else (lo, mid)
            new = lo if lo > beta else hi
        w, ess = _ess((new - beta) * ll)
        beta = new
        # systematic resampling
        positions = (rng.random() + np.arange(particles)) / particles
        pick = np.minimum(np.searchsorted(np.cumsum(w), positions), particles - 1)
        x, ll = x[pick], ll[pick]
        moved = np.zeros(particles)
        accepted, moves = [], 0
        while moved.mean() < accepted_moves and moves < 200:
            cov = np.atleast_2d(np.cov(x, rowvar=False)) + 1e-9 * np.eye(k)
            proposal = x + scale * rng.standard_normal((particles, k)) @ np.linalg.cholesky(cov).T
            ll_new = loglik(proposal)
            log_ratio = beta * (ll_new - ll) + stats.norm.logpdf(proposal).sum(axis=1) \
                - stats.norm.logpdf(x).sum(axis=1)
            take = np.log(rng.random(particles)) < log_ratio
            take[take] = inside(proposal[take])  # the earlier wave's emulators only where Metropolis says yes
            x = np.where(take[:, None], proposal, x)
            ll = np.where(take, ll_new, ll)
            moved += take
            accepted.append(take.mean())
            scale *= np.exp(take.mean() - 0.25)  # toward a quarter accepted
            moves += 1
        stages.append({"power": float(beta), "ess_before_resampling": float(ess), "moves": moves,
                       "acceptance": float(np.mean(accepted)), "never_moved": float(np.mean(moved == 0))})
    u = rng.standard_normal((particles, d))  # inputs no emulator uses keep their prior
    u[:, active] = x
    return {"u": u, "active": active, "stages": stages, "prior_draws_tried": tried}


def _mean_sd(emulator, u: np.ndarray, obs_sd: float) -> tuple[np.ndarray, np.ndarray]:
    mean, var = emulator.predict(u)
    return mean, np.sqrt(var + obs_sd ** 2)


def _pooled_sample(runs: list[dict], emulators, observations, d: int) -> dict:
    """The particles of independent SMC runs pooled (equally weighted), with each observation's log-likelihood
    term and emulator prediction at them (what the out-of-sample checks reweight), and how well the runs
    agree: the rank-normalised R-hat with each run as a chain (particles in random order) and the
    effective sample size it implies, per input an emulator uses, and the largest gap between the runs'
    means in posterior standard deviations."""
    active = runs[0]["active"]
    trace = np.stack([r["u"][:, active] for r in runs], axis=1)  # (particles, runs, inputs)
    rhat, ess = _split_rhat_ess(trace)
    means = trace.mean(axis=0)
    gap = np.abs(means[0] - means[1]) / trace.reshape(-1, len(active)).std(axis=0)
    u = np.concatenate([r["u"] for r in runs])
    terms = {}
    for o in observations:
        mean, var = emulators[o.name].predict(u)
        terms[o.name] = (mean, var)
    logl = {o.name: stats.norm.logpdf(o.value, terms[o.name][0], np.sqrt(terms[o.name][1] + o.sd ** 2))
            for o in observations}
    worst = int(np.argmax(rhat))
    return {"u": u, "weights": np.full(len(u), 1.0 / len(u)), "logl": logl, "terms": terms, "active": active,
            "runs": len(runs), "particles": int(len(runs[0]["u"])), "stages": [r["stages"] for r in runs],
            "prior_draws_tried": [int(r["prior_draws_tried"]) for r in runs],
            "rhat_max": float(rhat.max()), "rhat_worst": int(active[worst]), "ess_min": float(ess.min()),
            "ess": float(np.median(ess)), "max_mean_gap_sd": float(gap.max())}


def _predictive(observations, sims: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for o in observations:
        y = sims[o.name].to_numpy(dtype=float)
        noisy = y + np.random.default_rng(0).normal(0, o.sd, len(y))
        lo, hi = np.nanquantile(y, [0.05, 0.95])
        nlo, nhi = np.nanquantile(noisy, [0.05, 0.95])
        rows.append({"observation": o.name, "group": o.group, "value": o.value, "sd": o.sd,
                     "mean": float(np.nanmean(y)), "q05": lo, "q95": hi, "q05_with_error": nlo,
                     "q95_with_error": nhi, "inside": bool(nlo <= o.value <= nhi)})
    return pd.DataFrame(rows)


def _out_of_sample(emulators, observations, sample: dict, rng) -> pd.DataFrame:
    """Pre-registered checks O1/O2: each observation's term dropped in turn, is it inside 90%?"""
    rows = []
    for o in observations:
        # the posterior without this term: the sample's own weights over its likelihood term (importance
        # reweighting; for equally weighted MCMC draws, weights proportional to 1 / L_j)
        w, ess = _ess(np.log(sample["weights"]) - sample["logl"][o.name])
        mean, var = sample["terms"][o.name]
        model = mean + np.sqrt(var) * rng.standard_normal(len(mean))
        with_error = model + o.sd * rng.standard_normal(len(mean))
        lo, hi = _weighted_quantiles(with_error, w, [0.05, 0.95])
        mlo, mhi = _weighted_quantiles(model, w, [0.05, 0.95])
        rows.append({"check": ("O1 leave case out" if o.group != "2023" else "O2 leave target out"),
                     "observation": o.name, "value": o.value, "q05": lo, "q95": hi, "model_q05": mlo,
                     "model_q95": mhi, "ess": ess, "inside": bool(lo <= o.value <= hi)})
    return pd.DataFrame(rows)


def _parameter_table(paths, sample, emulators) -> pd.DataFrame:
    u, w = sample["u"], sample["weights"]
    used = {paths[i] for e in emulators.values() for i in e.active}
    rows = []
    for j, path in enumerate(paths):
        prior = PRIORS[path]
        theta = to_theta(u[:, [j]], [path])[path].to_numpy(dtype=float)
        q = _weighted_quantiles(theta, w, [0.05, 0.5, 0.95])
        mean_u = float(np.sum(w * u[:, j]))
        var_u = float(np.sum(w * (u[:, j] - mean_u) ** 2))
        plo, phi = prior.interval()
        rows.append({"path": path, "kind": prior.kind, "prior_q05": plo, "prior_median": float(prior.dist.median()),
                     "prior_q95": phi, "posterior_q05": q[0], "posterior_median": q[1], "posterior_q95": q[2],
                     "shift_prior_sd": mean_u, "shrinkage": 1.0 - var_u, "informed": path in used})
    return pd.DataFrame(rows)


def _correlations(paths, u_post: np.ndarray, active, top: int = 10) -> pd.DataFrame:
    idx = sorted(set(int(i) for i in active))
    if len(idx) < 2:
        return pd.DataFrame(columns=["a", "b", "correlation"])
    corr = np.corrcoef(u_post[:, idx], rowvar=False)
    pairs = [(abs(corr[a, b]), paths[idx[a]], paths[idx[b]], corr[a, b]) for a in range(len(idx))
             for b in range(a + 1, len(idx)) if np.isfinite(corr[a, b])]
    pairs.sort(reverse=True)
    return pd.DataFrame([{"a": a, "b": b, "correlation": float(c)} for _, a, b, c in pairs[:top]])


def _moved(paths, emulators, observations, sample: dict, top: int = 3) -> pd.DataFrame:
    """For each piece of evidence (a case, or the 2023 targets together), the values whose posterior mean moves
    most when that evidence is dropped, in prior standard deviations (u scale)."""
    u = sample["u"]
    full = sample["weights"] @ u
    rows = []
    for group in dict.fromkeys(o.group for o in observations):
        w, ess = _ess(np.log(sample["weights"]) - sum(sample["logl"][o.name] for o in observations
                                                       if o.group == group))
        shift = full - w @ u
        for j in np.argsort(-np.abs(shift))[:top]:
            rows.append({"evidence": group, "path": paths[j], "moved_prior_sd": float(shift[j]),
                         "ess_without": ess})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- writing
BEGIN, END = "<!-- posterior ensemble: begin (written by grassroots calibrate --posterior) -->", \
    "<!-- posterior ensemble: end -->"
# the pre-registered out-of-sample checks in docs/validation.md (`grassroots patterns` keeps this section)
OOS_BEGIN, OOS_END = "<!-- out-of-sample checks: begin (written by grassroots calibrate --posterior) -->", \
    "<!-- out-of-sample checks: end -->"


def _pct(x: float, value: float) -> str:
    return f"{x:.1f}" if abs(value) > 2 else f"{100 * x:.1f}%"


def posterior_report(result: PosteriorResult) -> str:
    """The posterior section of docs/calibration.md, in Markdown."""
    p = result.provenance
    s = p["settings"]
    lines = [BEGIN, "", "## Posterior ensemble: what all the evidence allows", "",
             f"Written by `grassroots calibrate --posterior` on {p['date']} (code {p['code_version']}), "
             f"{p['simulations']:,} simulations in {p['seconds'] / 60:.0f} min. The point fit above gives one "
             "parameter set; the forecasts' `--draws N` take N of the "
             f"{p['draws']} parameter sets stored in `sim/data/posterior.parquet` (provenance and diagnostics in "
             "`sim/data/posterior.json`).", "",
             "**Method.** History matching with Gaussian-process emulators, then sequential Monte Carlo on the "
             "final emulators (`sim/inference.py` says each step and why). Every one of the "
             f"{p['uncertain_values']} values whose prior is not a point (`sim/registry/parameters.yaml`, ODD "
             "parameter table) is uncertain, implementation uncertainty (fidelity, rebound, resistance) "
             "included: one draw is one value for every county of a run. Each simulation is one replicate of a "
             f"{s['counties']}-county 2023 baseline (seed {s['seed']}, common random numbers across points) and of "
             "each local case (`sim/cases.py`, tuned to its before-value in every simulation). "
             f"{s['waves']} waves of {', '.join(str(s['points'][min(k, len(s['points']) - 1)]) for k in range(s['waves']))} "
             f"points; implausibility cut-off {s['cutoff']:g}; each emulator uses at most {s['active']} inputs "
             "(picked by a cross-validated lasso), the rest enter its noise term; an input no emulator uses is "
             "drawn from its prior.", "",
             "| wave | points | share of the prior not ruled out before it | emulators' new points within 3 sd "
             "(worst output) |", "|---|---|---|---|"]
    for w in p["waves"]:
        checks = w.get("emulators_on_new_points")
        worst = (min(checks.items(), key=lambda kv: kv[1]["within_3sd"]) if checks else None)
        lines.append(f"| {w['wave']} | {w['points']} | "
                     f"{w['prior_share_not_ruled_out']:.2g} | " if "prior_share_not_ruled_out" in w else
                     f"| {w['wave']} | {w['points']} | 1 (the whole prior) | ")
        lines[-1] += (f"{100 * worst[1]['within_3sd']:.0f}% ({worst[0]}) |" if worst else "- |")
    m = p["sampler"]
    steps = "; ".join(", ".join(f"{st['power']:.2f}" for st in run) for run in m["stages"])
    moves = [st["moves"] for run in m["stages"] for st in run]
    lines += ["", f"Sampling: sequential Monte Carlo with adaptive tempering on the final emulators, "
              f"{m['runs']} independent runs of {m['particles']:,} particles each. A run starts from the prior "
              "not ruled out by the previous wave (that space keeps zero posterior mass throughout), raises the "
              "likelihood's power from 0 to 1 in steps that keep 70% of the particles' effective sample size "
              f"(powers {steps}), resamples, and moves every particle by random-walk Metropolis until it has "
              f"moved 10 times on average ({min(moves)}-{max(moves)} proposals a step). The runs agree: "
              f"treating each as a chain, the largest rank-normalised R-hat is {m['rhat_max']:.3f} "
              f"(`{p['rhat_worst_path']}`), the effective sample size is {m['ess_min']:.0f} at the least "
              f"(median {p['ess']:.0f}) of {m['runs'] * m['particles']:,} pooled particles, and their means "
              f"differ by at most {m['max_mean_gap_sd']:.2f} posterior sd. The ensemble is a random "
              f"{p['draws']} of the pooled particles. (Tried before: importance sampling from a Student-t fitted "
              "to the survivors, effective sample size 1 of 40,000; then population adaptive Metropolis, 200 "
              "chains x 1,500 steps started at the last wave's survivors, split R-hat 1.30: the chains had not "
              "mixed.)", "",
              "### Posterior predictive: every piece of evidence", "",
              f"The ensemble's first {p['predictive_draws']} draws (a random subset) simulated again (the "
              "simulator, not the emulators). \"Model 90%\" is the "
              "spread of the simulated output; \"with error\" adds the observation error and model discrepancy "
              "the likelihood allows.", "",
              "| evidence | observed ± sd | simulated mean | model 90% | 90% with error | inside |",
              "|---|---|---|---|---|---|"]
    for r in result.predictive.itertuples():
        lines.append(f"| {r.observation} | {_pct(r.value, r.value)} ± {_pct(r.sd, r.value)} | {_pct(r.mean, r.value)} "
                     f"| [{_pct(r.q05, r.value)}, {_pct(r.q95, r.value)}] "
                     f"| [{_pct(r.q05_with_error, r.value)}, {_pct(r.q95_with_error, r.value)}] | "
                     f"{'yes' if r.inside else '**no**'} |")
    lines += ["", "### Out of sample, as pre-registered", "", *out_of_sample_lines(result.checks), "",
              "### What each piece of evidence moved", "",
              "The values whose posterior mean moves most when that evidence is dropped, in prior standard "
              "deviations (the normal scores the fit works on).", "",
              "| evidence | value | moved by (prior sd) |", "|---|---|---|"]
    for r in result.moved.itertuples():
        lines.append(f"| {r.evidence} | `{r.path}` | {r.moved_prior_sd:+.2f} |")
    informed = result.parameters[result.parameters["informed"]].sort_values("shrinkage", ascending=False)
    lines += ["", "### Prior and posterior of the values the evidence informs", "",
              f"{len(informed)} values enter some emulator; the other "
              f"{len(result.parameters) - len(informed)} keep their prior (no evidence here constrains them: the "
              "forecasts carry that uncertainty). Shrinkage = 1 - posterior variance / prior variance on the "
              "normal-score scale.", "",
              "| value | kind | prior 90% | posterior 90% | posterior median | shrinkage |", "|---|---|---|---|---|---|"]
    for r in informed.itertuples():
        lines.append(f"| `{r.path}` | {r.kind} | [{r.prior_q05:.3g}, {r.prior_q95:.3g}] | "
                     f"[{r.posterior_q05:.3g}, {r.posterior_q95:.3g}] | {r.posterior_median:.3g} | {r.shrinkage:.2f} |")
    lines += ["", "### Strongest posterior correlations", "", "| value | value | correlation |", "|---|---|---|"]
    for r in result.correlations.itertuples():
        lines.append(f"| `{r.a}` | `{r.b}` | {r.correlation:+.2f} |")
    lines += ["", "### What this fit does not do", "",
              "- Residents' initial opinions (`initial_trust_mean`, `initial_efficacy_mean`, kind \"derived\") stay "
              "at the point fit's steady values in every draw; the 2023 attendance and satisfaction targets hold "
              "them in place, but a draw's no-reform world may drift a little.",
              "- The simulations are 12-county baselines, one replicate each: the emulators' noise term includes "
              "that simulation noise, so the posterior is a little wider than a province-scale one would be.",
              "- An emulator sees at most "
              f"{s['active']} inputs; a value that moves an output only weakly is treated as noise for it.", "", END]
    return "\n".join(lines) + "\n"


def out_of_sample_lines(checks: pd.DataFrame) -> list[str]:
    """The pre-registered checks O1 and O2 (``PosteriorResult.checks``) as Markdown lines: what was done, a
    table, and the verdict by the rule registered before the fit."""
    inside = int(checks["inside"].sum())
    lines = ["Checks O1 and O2 of `docs/validation-plan.md` (committed before the first fit): each piece of "
             "evidence left out in turn, the posterior recomputed from the rest (same simulations and emulators), "
             "and its 90% predictive interval (with the left-out item's observation error) compared with the "
             "reported value.", "",
             "| check | left out | observed | 90% predictive | model only | ESS without it | inside |",
             "|---|---|---|---|---|---|---|"]
    for r in checks.itertuples():
        lines.append(f"| {r.check} | {r.observation} | {_pct(r.value, r.value)} | [{_pct(r.q05, r.value)}, "
                     f"{_pct(r.q95, r.value)}] | [{_pct(r.model_q05, r.value)}, {_pct(r.model_q95, r.value)}] | "
                     f"{r.ess:.0f} | {'yes' if r.inside else '**no**'} |")
    verdict = ("the posterior's intervals are too narrow (the pre-registered rule: 11 or fewer inside)"
               if inside <= 11 and len(checks) == 15 else
               "not too narrow by the pre-registered rule (too narrow: 11 or fewer of 15 inside); wide intervals "
               "pass this check easily, so it says nothing about sharpness: the model-only intervals show that")
    return [*lines, "", f"**Coverage: {inside} of {len(checks)} inside**: {verdict}."]


def validation_section(result: PosteriorResult) -> str:
    """The out-of-sample section of docs/validation.md, between its markers."""
    p = result.provenance
    return "\n".join([OOS_BEGIN, "", "## Out of sample: the posterior's coverage (pre-registered O1, O2)", "",
                      f"Written by `grassroots calibrate --posterior` on {p['date']} (code {p['code_version']}); "
                      "the posterior and its method are in [calibration.md](calibration.md).", "",
                      *out_of_sample_lines(result.checks), "", OOS_END]) + "\n"


def with_posterior_section(text: str, section: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` (a report) with its section between ``begin`` and ``end`` replaced by ``section`` (or appended)."""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + section.rstrip("\n") + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + section


def posterior_section(text: str, begin: str = BEGIN, end: str = END) -> str:
    """The section of a report between ``begin`` and ``end`` (the posterior section of a calibration report by
    default; '' if it has none)."""
    if begin in text and end in text:
        return begin + text.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
    return ""


def write_posterior(result: PosteriorResult, out: str | Path = "results/posterior",
                    ensemble: str | Path | None = ENSEMBLE_FILE, report: str | Path | None = "docs/calibration.md",
                    validation: str | Path | None = "docs/validation.md") -> list[Path]:
    """Write the ensemble (Parquet + provenance JSON), the diagnostics (CSV), the calibration report's posterior
    section and the validation report's out-of-sample section."""
    from .store import atomic_write, atomic_write_text

    out = Path(out)
    written = []
    tables = {"predictive.csv": result.predictive, "checks.csv": result.checks, "parameters.csv": result.parameters,
              "correlations.csv": result.correlations, "moved.csv": result.moved}
    for name, table in tables.items():
        written.append(atomic_write_text(out / name, table.to_csv(index=False)))
    if result.simulations is not None:
        path = out / "simulations.parquet"
        atomic_write(path, lambda tmp: result.simulations.to_parquet(tmp, index=False))
        written.append(path)
    provenance = {**result.provenance,
                  "predictive": result.predictive.to_dict("records"),
                  "checks": result.checks.to_dict("records")}
    if ensemble:
        ensemble = Path(ensemble)
        atomic_write(ensemble, lambda tmp: result.ensemble.to_parquet(tmp))
        written.append(ensemble)
        written.append(atomic_write_text(ensemble.with_suffix(".json"),
                                         json.dumps(provenance, indent=1, default=float) + "\n"))
    if report:
        report = Path(report)
        old = report.read_text() if report.exists() else "# Calibration\n"
        written.append(atomic_write_text(report, with_posterior_section(old, posterior_report(result))))
    if validation:
        validation = Path(validation)
        old = validation.read_text() if validation.exists() else "# Validation\n"
        written.append(atomic_write_text(validation, with_posterior_section(old, validation_section(result),
                                                                             OOS_BEGIN, OOS_END)))
    return written
