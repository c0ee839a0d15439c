"""Gaussian-mixture classification: Bayes-optimal error and ridge ERM, against closed forms, limits and simulation."""
import json
import math

import numpy as np
import pytest
from replica.solvers.continuation import follow
from replica.solvers.root import Tolerance
from replica.solvers.special import H

import replica
from replica.cli import main
from replica.errors import ParameterError
from replica.gaussian_mixture import (
    bayes_error,
    fixed_norm_closed_form,
    fixed_norm_limit,
    generalization_error,
    ridge_closed_form,
)
from replica.models import get_model
from replica.optimize import optimize
from replica.simulate import simulate

RIDGE_POINTS = [
    dict(alpha=2.0, delta=0.5, rho=0.2, lam=0.47),
    dict(alpha=3.0, delta=0.5, rho=0.3, lam=0.01),  # the undamped map diverges here (c = 1.66)
    dict(alpha=0.5, delta=1.0, rho=0.5, lam=0.1),
    dict(alpha=2.0, delta=1.0, rho=0.5, lam=0.0),  # lam -> 0+ above alpha = 1
    dict(alpha=0.7, delta=0.8, rho=0.35, lam=5.0),
]


@pytest.mark.parametrize("alpha,delta,rho", [(1.0, 1.0, 0.5), (2.0, 0.5, 0.2), (0.3, 2.0, 0.7), (5.0, 1.0, 0.1)])
def test_bayes_state_evolution_gives_the_closed_form(alpha, delta, rho):
    sol = replica.solve("gm-bayes", alpha=alpha, delta=delta, rho=rho)
    assert sol.q == pytest.approx(alpha / (alpha + delta), abs=1e-14)
    assert sol.qhat == pytest.approx(alpha / delta, rel=1e-13)
    assert sol.error == pytest.approx(bayes_error(alpha, delta, rho), abs=1e-14)
    assert sol.bias == pytest.approx(delta / 2 * math.log(rho / (1 - rho)), abs=1e-14)
    b = sol.bias
    oracle = rho * H((1 + b) / math.sqrt(delta)) + (1 - rho) * H((1 - b) / math.sqrt(delta))
    assert sol.oracle_error == pytest.approx(oracle, abs=1e-14)
    assert sol.oracle_error < sol.error < min(rho, 1 - rho)


def test_bayes_balanced_closed_form():
    for alpha, delta in [(1.0, 1.0), (3.0, 0.5)]:
        expected = 0.5 * math.erfc(math.sqrt(alpha / (2 * delta * (alpha + delta))))
        assert replica.solve("gm-bayes", alpha=alpha, delta=delta).error == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("params", RIDGE_POINTS, ids=lambda p: ",".join(f"{k}={v:g}" for k, v in p.items()))
def test_ridge_saddle_point_equals_the_closed_form(params):
    """The symbolic equations, iterated by the damped fixed point from a generic start, against the hand solution."""
    sol = replica.solve("gm-ridge", method="fixed-point", **params)
    closed = ridge_closed_form(**params)
    for k in ("m", "q", "chi"):
        assert getattr(sol, k) == pytest.approx(closed[k], rel=1e-9), k
    assert sol.b == pytest.approx(closed["b"], abs=1e-9)
    assert sol.error == pytest.approx(closed["error"], abs=1e-10)


def test_ridge_min_norm_interpolator_below_alpha_one():
    """lam -> 0+ below alpha = 1: the solve at a tiny lam approaches the closed-form limit (chi = infinity)."""
    closed = ridge_closed_form(alpha=0.5, delta=1.0, rho=0.3, lam=0)
    sol = replica.solve("gm-ridge", alpha=0.5, delta=1.0, rho=0.3, lam=1e-8)
    assert sol.m == pytest.approx(closed["m"], rel=1e-6) and sol.q == pytest.approx(closed["q"], rel=1e-6)
    assert sol.train_error == 0 and sol.train_loss < 1e-12  # interpolation
    with pytest.raises(replica.ParameterError, match="min-norm interpolator"):
        replica.solve("gm-ridge", alpha=0.5, delta=1.0, rho=0.3, lam=0)


def test_undamped_iteration_diverges_where_the_solver_converges():
    """Physics notes §C.1: at alpha=3, Delta=0.5, rho=0.3, lam=0.01 the m-update has slope -c with c > 1."""
    spec = get_model("gm-ridge")
    system = spec.system
    params = dict(alpha=3.0, delta=0.5, rho=0.3, lam=0.01)
    closed = ridge_closed_form(**params)
    v_sol = 4 * 0.3 * 0.7 * 3.0 * closed["chi"] * 0.5 / (0.5 * (1 + closed["chi"] * 0.5))
    assert v_sol > 1  # c = 4 rho (1-rho) alpha V/(Delta (1+V)) with V = Delta chi
    sol = replica.solve("gm-ridge", method="fixed-point", **params)
    v = system.vector(sol.order, params)
    v[0] += 1e-3  # a small kick in m; the undamped map amplifies it by c per iteration
    quad = spec.quadrature
    with np.errstate(all="ignore"):
        for _ in range(60):
            v[: system.n_order] = system.call("fp", v, quad)
    assert not abs(v[0] - sol.m) < 1e-2


def test_large_lambda_balanced_ridge_reaches_bayes_optimal():
    """rho = 1/2: as lam -> infinity, w -> the Hebbian direction and b -> 0, the Bayes-optimal classifier."""
    eps_bo = bayes_error(1.5, 0.7, 0.5)
    gaps = [replica.solve("gm-ridge", alpha=1.5, delta=0.7, lam=lam).error - eps_bo for lam in (1e1, 1e3, 1e5)]
    assert gaps[0] > gaps[1] > gaps[2] >= -1e-15 and gaps[2] < 1e-8


def test_optimal_ridge_is_above_bayes_when_unbalanced():
    """Physics notes §0.3: alpha=2, Delta=0.5, rho=0.2 gives eps_ridge,min ~ 0.1025 at lam ~ 0.47, eps_BO = 0.0753."""
    best = optimize("gm-ridge", "lam", alpha=2.0, delta=0.5, rho=0.2)
    assert best.converged
    assert best.value == pytest.approx(0.47, abs=0.01)
    assert best.extra["error"] == pytest.approx(0.1025, abs=5e-4)
    assert best.extra["error"] <= min(ridge_closed_form(2.0, 0.5, 0.2, lam)["error"] for lam in (0.3, 0.47, 0.7))
    assert bayes_error(2.0, 0.5, 0.2) == pytest.approx(0.0753, abs=5e-5)
    assert best.extra["error"] > bayes_error(2.0, 0.5, 0.2) + 0.02


def _within(df, theory, keys, sigmas=3.0):
    for k in keys:
        mean, sem = df[k].mean(), df[k].sem()
        assert abs(mean - theory[k]) <= sigmas * sem, (k, mean, sem, theory[k])


def test_ridge_theory_matches_simulation():
    params = dict(alpha=2.0, delta=0.5, rho=0.2, lam=0.47)
    df = simulate("gm-ridge", n=1000, seeds=20, seed=3, **params)
    sol = replica.solve("gm-ridge", **params)
    _within(df, {**sol.order, **sol.observables}, ["m", "q", "b", "error", "train_loss", "train_error"])


def test_bayes_theory_matches_simulation_and_nishimori():
    """The posterior-mean plug-in at N = 1000: m and q agree with alpha/(alpha + Delta) (Nishimori m = q)."""
    params = dict(alpha=1.0, delta=1.0, rho=0.3)
    df = simulate("gm-bayes", n=1000, seeds=20, seed=5, **params)
    sol = replica.solve("gm-bayes", **params)
    _within(df, {"m": sol.q, "q": sol.q, "error": sol.error}, ["m", "q", "error"])
    diff = df.m - df.q
    assert abs(diff.mean()) <= 3 * diff.sem()


@pytest.mark.parametrize("alpha,rho,norm", [(0.5, 0.5, 0.3), (0.8, 0.2, 2.0), (1.0, 0.3, 3.0), (2.0, 0.2, 1.0),
                                            (5.0, 0.2, 0.5), (5.0, 0.5, 20.0), (20.0, 0.1, 1e-3)])
def test_fixed_norm_engine_matches_its_closed_form(alpha, rho, norm):
    """The symbolic saddle point against the hand solution Q(V) = norm, on both sides of the ridgeless norm
    (lam < 0 beyond it, alpha > 1)."""
    sol = replica.solve("gm-fixed-norm", alpha=alpha, delta=0.5, rho=rho, norm=norm)
    ref = fixed_norm_closed_form(alpha, 0.5, rho, norm)
    assert sol.converged
    for k in ("m", "chi", "b", "error", "lam"):
        assert sol[k] == pytest.approx(ref[k], rel=1e-10, abs=1e-13), k


@pytest.mark.parametrize("alpha,rho,lam", [(2.0, 0.2, 0.47), (0.5, 0.5, 0.1), (3.0, 0.3, 0.01)])
def test_fixed_norm_at_the_ridge_norm_is_the_ridge(alpha, rho, lam):
    """At the norm of the ridge minimizer the multiplier is the ridge penalty and the minimizer is the ridge one."""
    ridge = replica.solve("gm-ridge", alpha=alpha, delta=0.5, rho=rho, lam=lam)
    sol = replica.solve("gm-fixed-norm", alpha=alpha, delta=0.5, rho=rho, norm=ridge.q)
    assert sol.lam == pytest.approx(lam, rel=1e-9)
    for k in ("m", "chi", "b", "error", "train_loss", "train_error"):
        assert sol[k] == pytest.approx(ridge[k], rel=1e-9, abs=1e-13), k


def test_fixed_norm_refuses_norms_beyond_the_interpolator():
    top = fixed_norm_limit(0.5, 0.5, 0.3)
    assert top == pytest.approx(ridge_closed_form(0.5, 0.5, 0.3, 0)["q"])
    with pytest.raises(ParameterError, match="min-norm interpolator"):
        replica.solve("gm-fixed-norm", alpha=0.5, delta=0.5, rho=0.3, norm=1.01 * top)
    assert fixed_norm_limit(1.5, 0.5, 0.3) == math.inf


def test_fixed_norm_theory_matches_simulation_with_a_negative_multiplier():
    params = dict(alpha=2.0, delta=0.5, rho=0.2, norm=1.0)
    sol = replica.solve("gm-fixed-norm", **params)
    assert sol.lam < 0
    df = simulate("gm-fixed-norm", n=1000, seeds=20, seed=7, **params)
    assert np.allclose(df.q, 1.0, rtol=1e-9)
    _within(df, {**sol.order, **sol.observables}, ["m", "b", "error", "train_loss", "train_error"])


def test_optimal_norm_is_the_optimal_ridge_where_its_multiplier_is_positive():
    """Unbalanced clusters at alpha = 2: the fixed norm adds the lam < 0 minimizers to the ridge family, but the best
    error is at lam > 0, so fixing the norm does not beat optimal ridge (0.10245 against eps_BO = 0.0753)."""
    norm = optimize("gm-fixed-norm", "norm", alpha=2.0, delta=0.5, rho=0.2, bounds=(1e-3, 100))
    ridge = optimize("gm-ridge", "lam", alpha=2.0, delta=0.5, rho=0.2)
    assert norm.converged and norm.solution.lam == pytest.approx(ridge.value, rel=1e-3)
    assert norm.extra["error"] == pytest.approx(ridge.extra["error"], abs=1e-10)
    assert norm.extra["error"] > bayes_error(2.0, 0.5, 0.2) + 0.02


def test_cli_solve_optimize_simulate(capsys):
    assert main(["solve", "gm-ridge", "--alpha", "2", "--delta", "0.5", "--rho", "0.2", "--lam", "0.47",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["error"] == pytest.approx(0.10244798, abs=1e-8) and {"m", "q", "b"} <= set(out)
    assert main(["optimize", "gm-ridge", "lam", "--alpha", "2", "--delta", "0.5", "--rho", "0.2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lam_opt"] == pytest.approx(0.471, abs=0.01)
    assert main(["simulate", "gm-bayes", "--alpha", "1", "--delta", "1", "--n", "200", "--seeds", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seeds"] == 3 and 0 < out["error"] < 0.5 and out["error_sem"] > 0


@pytest.mark.parametrize("argv,message", [
    (["solve", "gm-ridge", "--alpha", "-1", "--delta", "1", "--lam", "1"], "outside the allowed range"),
    (["solve", "gm-bayes", "--alpha", "1", "--delta", "1", "--rho", "1.5"], "rho=1.5 is outside"),
    (["optimize", "gm-ridge", "mu", "--alpha", "1", "--delta", "1"], "no parameter mu"),
    (["optimize", "gm-ridge", "lam", "--alpha", "1", "--delta", "1", "--bounds", "3"], "--bounds"),
    (["simulate", "gm-ridge", "--alpha", "1", "--delta", "1"], "needs lam"),
    (["simulate", "gm-ridge", "--alpha", "1", "--delta", "1", "--lam", "0"], "min-norm"),
    (["simulate", "spherical-perceptron", "--alpha", "1"], "no simulation"),
    (["simulate", "binary-perceptron", "--alpha", "1"], "needs --algorithm"),
])
def test_cli_bad_input(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("d", [0.3, 0.05, 0.005])
def test_bo_local_entropy_beta_zero_is_the_cap(d):
    """beta = 0: the uniform measure on the cap, Phi = 1/2 ln(1-p^2), q = p^2, m = p sqrt(alpha/(alpha+Delta))."""
    sol = replica.solve("gm-bo-local-entropy", alpha=2, delta=0.5, rho=0.2, beta=0, d=d)
    p = 1 - 2 * d
    assert sol.entropy == pytest.approx(0.5 * math.log(1 - p * p), abs=1e-12)
    assert sol.q == pytest.approx(p * p, abs=1e-12)
    assert sol.m == pytest.approx(p * math.sqrt(2 / 2.5), abs=1e-12)


def test_bo_local_entropy_typical_point_matches_the_physics_notes():
    """Without the tilt (the unconstrained zero-error ensemble, alpha = Delta = 1, rho = 1/2): Phi = -0.58510,
    q = 0.4726, m = 0.4218 (physics notes §C.3, two independent implementations)."""
    spec = get_model("gm-bo-local-entropy")
    sol = replica.solve("gm-bo-local-entropy", alpha=1, delta=1, beta=60, d=0.2)
    system = spec.system
    v = system.vector(sol.order, spec.inputs_of(sol.params))
    branch = follow(system, v, "r", 0.0, spec.quadrature, tol=Tolerance(), unknowns=["q", "m", "p"])
    assert branch.arrived
    w = branch.last.v
    assert system.call("phi", w, spec.quadrature)[0] == pytest.approx(-0.58510, abs=1e-5)
    assert w[system.index("q")] == pytest.approx(0.4726, abs=1e-4)
    assert w[system.index("m")] == pytest.approx(0.4218, abs=1e-4)


def test_bo_local_entropy_below_the_cap():
    df = replica.sweep("gm-bo-local-entropy", alpha=2, delta=0.5, rho=0.2, beta=2.0, d=[0.3, 0.1, 0.03, 0.01],
                       progress=False)
    assert df.converged.all()
    assert (df.entropy < df.upper_bound).all()
    assert (df.train_error > 0).all() and (df.train_error < 0.2).all()




# ----- the y -> infinity robust ensemble: square loss (= ridge) and hinge loss ----------------------------------------

@pytest.mark.parametrize("beta, gamma", [(10.0, 1.0), (2.0, 0.1), (40.0, 5.0)])
def test_flat_inf_square_centre_is_the_ridge_minimizer(beta, gamma):
    """gm-flat --y inf (the y -> infinity free entropy, G_S taken to the limit by hand): for the square loss the
    centre is the ridge minimizer for every beta and gamma (the identity of docs/gaussian_mixture.md), unbalanced."""
    sol = replica.solve("gm-flat", y="inf", alpha=2, delta=0.5, rho=0.2, lam=0.3, beta=beta, gamma=gamma)
    ref = ridge_closed_form(2, 0.5, 0.2, 0.3)
    assert sol.model == "gm-flat-inf"
    assert (sol.m, sol.q0, sol.b) == pytest.approx((ref["m"], ref["q"], ref["b"]), abs=1e-10)
    assert sol.error_center == pytest.approx(ref["error"], abs=1e-10)


def test_hinge_gibbs_weight_against_quadrature():
    """The declared ln int Deps exp(-beta max(0, 1 - mu - s eps)) against scipy's quad."""
    import sympy as sp
    from replica.equations.gaussian_mixture import GIBBS_LNZ
    from scipy.integrate import quad

    from replica import highprec

    mu, s2, beta = sp.symbols("mu s2 beta")
    expr = GIBBS_LNZ["hinge"](mu, s2, beta)
    for point in [(0.3, 0.5, 2.0), (1.7, 0.05, 10.0), (-2.0, 1.5, 0.5), (0.99, 1e-3, 40.0)]:
        m_, v_, b_ = point
        f = lambda e: math.exp(-b_ * max(0.0, 1 - m_ - math.sqrt(v_) * e) - e * e / 2) / math.sqrt(2 * math.pi)  # noqa
        kink = (1 - m_) / math.sqrt(v_)
        direct = quad(f, -40, kink, epsabs=0, epsrel=1e-13)[0] + quad(f, kink, 40, epsabs=0, epsrel=1e-13)[0]
        assert float(highprec.evaluate(expr, {mu: m_, s2: v_, beta: b_})) == pytest.approx(math.log(direct), abs=1e-12)


@pytest.mark.slow  # 37 s cold: the flat hinge ensemble and the Gibbs sampler it is checked against
def test_hinge_flat_centre_at_weak_coupling_is_the_gibbs_mean():
    """As gamma -> 0 the centre that maximizes the local free entropy is the Gibbs mean of one replica: its m, |w~|^2
    = q0 and b equal those of the y = 1 (Gibbs) RS free entropy of the hinge at the same beta, declared here on its
    own (G_S of gm-flat at y = 1, the same Gibbs weight)."""
    import sympy as sp
    from replica.equations import gaussian_mixture as eq
    from replica.equations.model import FreeEntropy, Symbol
    from replica.equations.vocabulary import E
    from replica.solvers.quadrature import Quadrature
    from replica.solvers.system import System

    Q, q0, Qh, q0h, beta, zeta = sp.symbols("Q q0 Qhat q0hat beta zeta")
    D = Qh + q0h + beta * eq.lam
    gs = (Qh * Q / 2 + q0h * q0 / 2 - eq.mhat * eq.m + sp.log(2 * sp.pi) / 2 - sp.log(D) / 2
          + (eq.mhat**2 + q0h) / (2 * D))
    ge = sum(w * E(eq.GIBBS_LNZ["hinge"](eq.m + y * eq._BIAS + sp.sqrt(eq.delta * q0) * zeta,
                                         eq.delta * (Q - q0), beta), zeta) for y, w in ((1, eq.rho), (-1, 1 - eq.rho)))
    gibbs = System(FreeEntropy(name="test-hinge-gibbs", phi=gs + eq.alpha * ge,
                               order=[Symbol(s, sp.S.Reals) for s in (Q, q0, eq.m, Qh, q0h, eq.mhat, eq._BIAS)],
                               params=[Symbol(s, sp.S.Reals) for s in (eq.alpha, eq.delta, eq.rho, eq.lam, beta)]),
                   verbose=False)
    kw = dict(alpha=2, delta=0.5, rho=0.2, lam=0.18, beta=2.3)
    flat = replica.solve("gm-hinge-flat-inf", gamma=1e-10, **kw)
    guess = {k: flat.order[k] for k in gibbs.order_names}
    res, v = gibbs.solve(gibbs.vector(guess, kw), Quadrature(), method="newton")
    assert res.converged
    for k in ("Q", "q0", "m", "b"):
        assert v[gibbs.index(k)] == pytest.approx(flat.order[k], abs=1e-8), k


@pytest.mark.slow  # 29 s cold: the flat hinge centre's models compile for it alone
def test_hinge_flat_centre_approaches_hinge_erm_as_beta_grows():
    """At fixed gamma the replicas collapse onto the hinge minimizer as beta -> infinity: the centre's distance to it
    (m, b) shrinks roughly like 1/beta."""
    erm = replica.solve("gm-hinge", alpha=2, delta=0.5, rho=0.2, lam=0.1)
    gaps = []
    for beta in (25.0, 50.0, 100.0):
        sol = replica.solve("gm-hinge-flat-inf", alpha=2, delta=0.5, rho=0.2, lam=0.1, beta=beta, gamma=0.5)
        gaps.append((abs(sol.m - erm.m), abs(sol.b - erm.b)))
    for k in range(2):
        assert gaps[0][k] > gaps[1][k] > gaps[2][k] and gaps[2][k] < 0.4 * gaps[0][k]


def test_hinge_flat_centre_beats_hinge_erm_when_unbalanced():
    """The finding of docs/gaussian_mixture.md: at alpha = 2, Delta = 0.5, rho = 0.2 the robust ensemble's centre
    (lam = 0.18, beta = 2.3, gamma -> 0: the hinge Gibbs mean) has test error 0.09909, below hinge ERM at its optimal
    lam (0.10237), still far above Bayes-optimal (0.07528)."""
    sol = replica.solve("gm-hinge-flat-inf", lam=0.18, beta=2.3, gamma=1e-3, **UNBALANCED)
    assert sol.error_center == pytest.approx(0.09909, abs=1e-5)
    assert sol.error_center < optimize("gm-hinge", "lam", bounds=(0.05, 5.0), **UNBALANCED).extra["error"] - 3e-3
    assert sol.error_center > bayes_error(2, 0.5, 0.2) + 0.02


UNBALANCED = dict(alpha=2, delta=0.5, rho=0.2)


@pytest.mark.slow
def test_hinge_flat_centre_beats_logistic_erm_and_mpmath():
    """... and below logistic ERM at its optimal lam (0.09959); phi there re-evaluated with mpmath (13 s)."""
    from replica import highprec

    sol = replica.solve("gm-hinge-flat-inf", lam=0.18, beta=2.3, gamma=1e-3, **UNBALANCED)
    assert sol.error_center < optimize("gm-logistic", "lam", bounds=(0.01, 5.0), **UNBALANCED).extra["error"] - 4e-4
    hp = highprec.phi("gm-hinge-flat-inf", {**sol.order, **sol.params}, dps=15)
    assert abs(float(hp) - sol.free_entropy) <= 1e-10


@pytest.mark.slow
def test_hinge_gibbs_mean_against_metropolis():
    """The centre at gamma -> 0 is the hinge Gibbs mean: Metropolis sampling of the hinge Gibbs measure with the bias
    sampled alongside (N = 400, 10 training sets, two chains of 4000 sweeps each, 35 s) gives its m, q0 (the chains'
    means overlapped), Q, b and test error within 4 standard errors of the saddle point at lam = 0.18, beta = 2.3."""
    from replica.simulate import hinge_gibbs_mean, sample

    sol = replica.solve("gm-hinge-flat-inf", lam=0.18, beta=2.3, gamma=1e-8, **UNBALANCED)
    rows = []
    for k in range(10):
        x, y, v = sample(400, 2.0, 0.5, 0.2, np.random.default_rng([2, k]))
        row = hinge_gibbs_mean(x, y, v, lam=0.18, beta=2.3, sweeps=4000, seed=k)
        rows.append({**row, "error": generalization_error(row["m"], row["q0"], row["b"], 0.5, 0.2)})
    for key in ("m", "q0", "Q", "b", "error"):
        values = np.array([r[key] for r in rows])
        theory = sol.error_center if key == "error" else sol.order[key]
        assert abs(values.mean() - theory) <= 4 * values.std(ddof=1) / math.sqrt(len(values)), key


@pytest.mark.slow
def test_hinge_robust_centre_against_metropolis():
    """The centre at gamma > 0 (lam = 0.1, beta = 2, gamma = 0.5): on each training set (N = 400, 10 sets) the
    maximum of the local free entropy is found by iterating c <- <w>_c with Metropolis chains (12 iterations of 2000
    sweeps; it settles after about 8), the bias sampled alongside. m, |c|^2/N, b and the centre's test error
    within 4 standard errors of the saddle point (0.1019, against hinge ERM's 0.1182 at this lam). About 4 min."""
    from replica.simulate import hinge_robust_centre, sample

    sol = replica.solve("gm-hinge-flat-inf", lam=0.1, beta=2.0, gamma=0.5, **UNBALANCED)
    rows = []
    for k in range(10):
        x, y, v = sample(400, 2.0, 0.5, 0.2, np.random.default_rng([3, k]))
        row = hinge_robust_centre(x, y, v, lam=0.1, beta=2.0, gamma=0.5, iterations=12, seed=k)
        rows.append({**row, "error": generalization_error(row["m"], row["q0"], row["b"], 0.5, 0.2)})
    for key in ("m", "q0", "b", "error"):
        values = np.array([r[key] for r in rows])
        theory = sol.error_center if key == "error" else sol.order[key]
        assert abs(values.mean() - theory) <= 4 * values.std(ddof=1) / math.sqrt(len(values)), key

# ----- Franz-Parisi local entropy around the ridge minimizer --------------------------------------------------------

@pytest.mark.parametrize("d", [0.3, 0.02])
def test_ridge_local_entropy_beta_zero_is_the_cap(d):
    """beta = 0: the uniform measure on the cap, Phi = 1/2 ln(1-p^2), q = p^2, m = p m~/sqrt(q~), r = p."""
    sol = replica.solve("gm-ridge-local-entropy", alpha=2, delta=0.5, rho=0.2, lam=0.3, beta=0, d=d)
    ref = ridge_closed_form(2, 0.5, 0.2, 0.3)
    p = 1 - 2 * d
    assert sol.entropy == pytest.approx(0.5 * math.log(1 - p * p), abs=1e-12)
    assert (sol.q, sol.m, sol.r) == pytest.approx((p * p, p * ref["m"] / math.sqrt(ref["q"]), p), abs=1e-12)
    assert sol.observables["ref_error"] == pytest.approx(ref["error"], abs=1e-12)
    assert sol.params["b"] == pytest.approx(ref["b"] / math.sqrt(ref["q"]), abs=1e-12)


@pytest.mark.parametrize("d", [0.2, 0.05])
def test_ridge_local_entropy_tends_to_the_bayes_optimal_one_as_lam_grows(d):
    """At rho = 1/2 the ridge minimizer turns into the Hebbian (Bayes-optimal) direction as lam -> infinity, with
    corrections of order 1/lam: the two-group computation (reference replicas) extrapolated from lam = 1e4 and 1e5
    meets the single-system one (a per-pattern tilt, gm-bo-local-entropy), r included."""
    kw = dict(alpha=2, delta=0.5, beta=3, b=0, d=d)
    bo = replica.solve("gm-bo-local-entropy", **kw)
    far, farther = (replica.solve("gm-ridge-local-entropy", lam=lam, **kw) for lam in (1e4, 1e5))
    limit = lambda key: (10 * getattr(farther, key) - getattr(far, key)) / 9  # noqa: E731
    assert limit("entropy") == pytest.approx(bo.entropy, abs=1e-9)
    assert limit("q") == pytest.approx(bo.q, abs=1e-9) and limit("m") == pytest.approx(bo.m, abs=1e-9)
    assert limit("r") == pytest.approx(bo.r, abs=1e-8)
    assert abs(far.entropy - bo.entropy) > 1e-6  # a reference that differs from BO's, and a limit that is reached


def test_ridge_local_entropy_at_its_typical_overlap_is_the_unconstrained_entropy():
    """Where the constraint's multiplier vanishes (r = 0, the tilt around the Bayes-optimal direction too) the
    counted configurations are those of the unconstrained error-counting ensemble, whatever the reference: both
    local entropies reach the same maximum, at different overlaps (ridge minimizers at two lam, unbalanced, a bias
    that is not the references')."""
    kw = dict(alpha=2, delta=0.5, rho=0.2, beta=3, b=0.3)
    tops = []
    for model, extra in [("gm-bo-local-entropy", {}), ("gm-ridge-local-entropy", {"lam": 0.5}),
                         ("gm-ridge-local-entropy", {"lam": 0.05})]:
        spec = get_model(model)
        sol = replica.solve(model, d=0.15, **kw, **extra)
        system = spec.system
        v = system.vector(sol.order, spec.inputs_of(sol.params))
        branch = follow(system, v, "r", 0.0, spec.quadrature, tol=Tolerance(), unknowns=["q", "m", "p"])
        assert branch.arrived
        w = branch.last.v
        tops.append((system.call("phi", w, spec.quadrature)[0], w[system.index("p")]))
    assert tops[1][0] == pytest.approx(tops[0][0], abs=1e-10)
    assert tops[2][0] == pytest.approx(tops[0][0], abs=1e-10)
    assert abs(tops[1][1] - tops[0][1]) > 1e-2 and abs(tops[2][1] - tops[1][1]) > 1e-2


def test_ridge_local_entropy_below_the_cap_and_against_mpmath():
    from replica import highprec

    df = replica.sweep("gm-ridge-local-entropy", alpha=2, delta=0.5, rho=0.2, lam=0.3, beta=2.0,
                       d=[0.3, 0.1, 0.03, 0.01], progress=False)
    assert df.converged.all()
    assert (df.entropy < df.upper_bound).all()
    sol = replica.solve("gm-ridge-local-entropy", alpha=2, delta=0.5, rho=0.2, lam=0.3, beta=2.0, d=0.1)
    hp = highprec.phi("gm-ridge-local-entropy", {**sol.order, **sol.params}, dps=20)
    assert abs(float(hp) - sol.entropy) <= 1e-10


@pytest.mark.parametrize("model", ["gm-ridge-local-entropy",
                                   pytest.param("gm-bo-local-entropy", marks=pytest.mark.slow)])
def test_local_entropy_against_metropolis(model):
    """The counted ensemble sampled at N = 400 (10 training sets, two Metropolis chains each, at fixed overlap with
    each set's own reference): q, m and the training error within 4 standard errors of the saddle point. Around the
    ridge minimizer this tests the reference's proximal displacement in the fields: without its share of the
    variance (-2 r g p + r^2 g^2) the theory gives q = 0.822, 21 standard errors away."""
    params = dict(alpha=2.0, delta=0.5, rho=0.2, beta=2.0, d=0.05, **({"lam": 0.3} if "ridge" in model else {}))
    sol = replica.solve(model, **params)
    df = simulate(model, n=400, seeds=10, **params)
    for key in ("q", "m", "train_error"):
        assert abs(df[key].mean() - getattr(sol, key)) <= 4 * df[key].sem(), key


# ----- logistic-loss ERM (the Moreau envelope compiled by Max) ------------------------------------------------------

@pytest.mark.slow  # finite-N fits: 8 s of L-BFGS for logistic, more for the SVMs
@pytest.mark.parametrize("model", ["gm-logistic", "gm-hinge"])
def test_convex_erm_against_simulation(model):
    """Theory against finite-N fits (N = 1000, 10 training sets): logistic regression by L-BFGS to gtol 1e-10; soft-
    margin SVMs with the hinge smoothed over a width 1e-4, which moves the overlaps far less than their spread (at
    N = 400 the SVMs' training loss and error sit 2-3 standard errors above the theory: finite-size corrections; the
    SVMs take 5-9 minutes). Every overlap, the bias, the errors and the training loss within 4 standard errors,
    balanced and unbalanced."""
    from replica.simulate import simulate

    for rho in (0.5, 0.2):
        params = {"alpha": 2.0, "delta": 0.5, "rho": rho, "lam": 0.1}
        sol = replica.solve(model, **params)
        df = simulate(model, n=1000, seeds=10, **params)
        for key in ("m", "q", "b", "error", "train_loss", "train_error"):
            theory = sol.order.get(key, sol.observables.get(key))
            assert abs(df[key].mean() - theory) <= 4 * df[key].sem() + 1e-12, (rho, key)


def test_logistic_symmetries_and_bounds():
    """rho = 1/2 gives b = 0; the error is above eps_BO; at large lam the weights follow the Hebbian direction and, for
    balanced clusters, reach eps_BO."""
    from replica.gaussian_mixture import bayes_error

    sol = replica.solve("gm-logistic", alpha=2.0, delta=0.5, rho=0.5, lam=0.1)
    assert abs(sol.b) <= 1e-12
    for rho in (0.5, 0.2):
        assert replica.solve("gm-logistic", alpha=2.0, delta=0.5, rho=rho, lam=0.1).error > bayes_error(2, 0.5, rho)
    big = replica.solve("gm-logistic", alpha=2.0, delta=0.5, rho=0.5, lam=1e4)
    assert abs(big.error - bayes_error(2, 0.5, 0.5)) <= 1e-6


def test_logistic_phi_against_mpmath():
    from replica import highprec

    sol = replica.solve("gm-logistic", alpha=2.0, delta=0.5, rho=0.2, lam=0.1)
    assert abs(float(highprec.phi("gm-logistic", {**sol.order, **sol.params}, dps=20)) - sol.energy) <= 1e-10


# ----- hinge-loss ERM (the soft-margin SVM; Moreau envelope in closed form) -----------------------------------------

def test_hinge_envelope_against_direct_integration():
    """The declared closed form of E M (three pieces of a Gaussian average) against the envelope minimized
    numerically at each point and integrated by scipy's quad, through the compiled energy at an arbitrary point."""
    from scipy.integrate import quad
    from scipy.optimize import minimize_scalar
    from scipy.stats import norm

    spec = get_model("gm-hinge")
    params = {"alpha": 1.5, "delta": 0.7, "rho": 0.3, "lam": 0.2}
    order = {"m": 0.8, "q": 1.3, "chi": 0.9, "mhat": 0.4, "qhat": 0.3, "chihat": 0.5, "b": -0.2}
    v = spec.system.vector(order, params)
    compiled = spec.system.call("phi", v, spec.quadrature)[0]
    vv, s = params["delta"] * order["chi"], math.sqrt(params["delta"] * order["q"])

    def envelope(t):
        return minimize_scalar(lambda u: (u - t) ** 2 / (2 * vv) + max(0.0, 1 - u), bounds=(t - 10, t + 10),
                               method="bounded", options={"xatol": 1e-12}).fun

    output = 0.0
    for y, weight in ((1, params["rho"]), (-1, 1 - params["rho"])):
        mu = order["m"] + y * order["b"]
        output += weight * sum(quad(lambda xi: norm.pdf(xi) * envelope(mu + s * xi), lo, hi, epsabs=1e-13)[0]
                               for lo, hi in ((-12, (1 - vv - mu) / s), ((1 - vv - mu) / s, (1 - mu) / s),
                                              ((1 - mu) / s, 12)))
    lam, chihat = params["lam"], order["chihat"]
    prior = (-chihat * order["q"] / 2 + order["qhat"] * order["chi"] / 2 + order["mhat"] * order["m"]
             - (order["mhat"] ** 2 + order["qhat"]) / (2 * (lam + chihat)))
    assert compiled == pytest.approx(prior + params["alpha"] * output, abs=1e-9)


def test_hinge_symmetries_limits_and_mpmath():
    """rho = 1/2 gives b = 0; the error lies above eps_BO; at large lam (30) every point is in the linear part of the
    hinge, w follows the Hebbian direction and balanced clusters reach eps_BO; phi against mpmath. (Much larger lam
    leaves no point near the margin, so the loss no longer fixes the bias: the Jacobian turns singular, as it should,
    and the solver says so.)"""
    from replica import highprec
    from replica.gaussian_mixture import bayes_error

    assert abs(replica.solve("gm-hinge", alpha=2.0, delta=0.5, rho=0.5, lam=0.1).b) <= 1e-12
    for rho in (0.5, 0.2):
        sol = replica.solve("gm-hinge", alpha=2.0, delta=0.5, rho=rho, lam=0.1)
        assert sol.converged and sol.error > bayes_error(2, 0.5, rho)
        assert 0 < sol.train_error < sol.support < 1
    big = replica.solve("gm-hinge", alpha=2.0, delta=0.5, rho=0.5, lam=30.0)
    assert abs(big.error - bayes_error(2, 0.5, 0.5)) <= 1e-12 and big.support == pytest.approx(1, abs=1e-12)
    sol = replica.solve("gm-hinge", alpha=2.0, delta=0.5, rho=0.2, lam=0.1)
    assert abs(float(highprec.phi("gm-hinge", {**sol.order, **sol.params}, dps=20)) - sol.energy) <= 1e-10


# ----- y replicas coupled to a centre (physics notes §C.2) ----------------------------------------------------------

FLAT_POINTS = [dict(alpha=2.0, delta=0.5, rho=0.2, lam=0.47, beta=10.0, gamma=0.5, y=5.0),
               dict(alpha=0.5, delta=1.0, rho=0.3, lam=0.01, beta=3.0, gamma=0.2, y=2.0),
               dict(alpha=3.0, delta=0.5, rho=0.5, lam=0.1, beta=1.0, gamma=0.1, y=3.0)]


@pytest.mark.parametrize("p", FLAT_POINTS)
def test_flat_centre_is_ridge_gibbs_at_beta_y(p):
    """With a quadratic loss the coupling acts on the relative modes only, so the centre of mass is distributed as the
    Gibbs measure of ridge at inverse temperature beta*y (docs/gaussian_mixture.md): its mean is the ridge minimizer
    at the same lam (m, b, q0 = q_ridge), its thermal spread is chi_ridge/(beta y), and its error is
    eps_g(m, q + chi/(beta y), b), above ridge's, tending to it as y -> infinity."""
    sol = replica.solve("gm-flat", **p)
    ridge = ridge_closed_form(p["alpha"], p["delta"], p["rho"], p["lam"])
    by = p["beta"] * p["y"]
    centre_norm = (sol.Q + (p["y"] - 1) * sol.q1) / p["y"]
    assert abs(sol.m - ridge["m"]) <= 1e-10 and abs(sol.b - ridge["b"]) <= 1e-10
    assert abs(sol.q0 - ridge["q"]) <= 1e-10 and abs(centre_norm - ridge["q"] - ridge["chi"] / by) <= 1e-10
    gibbs = generalization_error(ridge["m"], ridge["q"] + ridge["chi"] / by, ridge["b"], p["delta"], p["rho"])
    assert abs(sol.error_center - gibbs) <= 1e-10
    assert sol.error_center > ridge["error"] and sol.error_replica > sol.error_center


def test_flat_centre_depends_on_beta_times_y_only():
    """Same beta*y, different (beta, y, gamma): the same centre of mass; a larger y at fixed beta moves it to ridge."""
    common = dict(alpha=2.0, delta=0.5, rho=0.2, lam=0.47)
    same = [replica.solve("gm-flat", beta=b, y=y, gamma=g, **common) for b, y, g in ((10, 5, 0.5), (25, 2, 3.0),
                                                                                     (2.5, 20, 0.05))]
    assert max(s.error_center for s in same) - min(s.error_center for s in same) <= 1e-10
    ridge = ridge_closed_form(2.0, 0.5, 0.2, 0.47)["error"]
    gaps = [replica.solve("gm-flat", beta=2.5, y=y, gamma=0.5, **common).error_center - ridge for y in (5, 20, 80)]
    assert 0 < gaps[2] < gaps[1] < gaps[0]


def test_flat_distance_is_the_gamma_derivative():
    """d = (y-1)(Q-q1)/y + 1/(y gamma) = -(2/y) dphi/dgamma (centred difference)."""
    p, h = FLAT_POINTS[0], 1e-5
    sol, up, down = (replica.solve("gm-flat", **{**p, "gamma": p["gamma"] + s}) for s in (0.0, h, -h))
    assert abs(-(2 / p["y"]) * (up.free_entropy - down.free_entropy) / (2 * h) - sol.distance) <= 1e-7


@pytest.mark.parametrize("gamma", [0.05, 0.5, 5.0])
def test_fixed_distance_is_the_legendre_transform_of_the_soft_coupling(gamma):
    """At the distance the soft coupling gamma produces, the fixed-distance ensemble has multiplier gamma, the same
    errors, and phi_d = phi + y gamma d/2; the centre of mass is the ridge minimizer at every distance."""
    common = dict(alpha=2.0, delta=0.5, rho=0.2, lam=0.47, beta=10.0, y=5.0)
    soft = replica.solve("gm-flat", gamma=gamma, **common)
    fixed = replica.solve("gm-flat-distance", d=soft.distance, **common)
    assert fixed.converged and fixed.gamma == pytest.approx(gamma, rel=1e-10)
    for k in ("error_center", "error_replica", "m", "Q", "q1", "q0"):
        assert fixed[k] == pytest.approx(soft[k], rel=1e-10), k
    assert fixed.free_entropy == pytest.approx(soft.free_entropy + 5.0 * gamma * soft.distance / 2, abs=1e-10)
    ridge = ridge_closed_form(2.0, 0.5, 0.2, 0.47)
    assert fixed.m == pytest.approx(ridge["m"], rel=1e-10)


def test_fixed_distance_reaches_large_beta_by_continuation():
    sol = replica.solve("gm-flat-distance", alpha=2.0, delta=0.5, rho=0.2, lam=0.47, beta=100.0, y=5.0, d=0.1)
    assert sol.converged and sol.distance == pytest.approx(0.1, rel=1e-10)
