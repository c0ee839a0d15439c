"""Gaussian-mixture classification: Bayes-optimal error and square-loss (ridge) ERM with a bias. The free entropies
live in ``replica.equations.gaussian_mixture``; this module declares the models and gives the hand-derived closed
forms they are tested against (optimal hyperparameters: :mod:`replica.optimize`).

Parameters: ``alpha`` = P/N > 0, ``delta`` = cluster variance Delta > 0, ``rho`` = P(y = +1) in (0, 1), ``lam`` =
ridge penalty >= 0; for the local entropy around the Bayes-optimal direction ``beta`` >= 0 (inverse temperature of
the error count), ``b`` (the fixed bias, a number or ``bo``) and ``d`` = (1 - p)/2.
"""
import math
from functools import lru_cache

import sympy as sp

from replica.equations import gaussian_mixture as eq
from replica.equations.model import Symbol

from .errors import ConvergenceError, ParameterError
from .models import ModelSpec, get_model, numeric

__all__ = ["generalization_error", "bayes_error", "ridge_closed_form", "fixed_norm_closed_form", "models"]

_b = sp.Symbol("b")
generalization_error = numeric(eq.generalization_error(eq.m, eq.q, _b), eq.m, eq.q, _b, eq.delta, eq.rho)
generalization_error.__doc__ = """eps_g(m, q, b, delta, rho): test error of sign(w.x/sqrt N + b) with m = w.v/N and
q = |w|^2/N (the declaration's own expression, physics notes §A.2)."""


def bayes_error(alpha, delta, rho):
    """Closed form of the Bayes-optimal test error (physics notes §B.1): eps_g(m, m, b_BO) with
    m = q = alpha/(alpha + Delta) and b_BO = (Delta/2) ln(rho/(1-rho))."""
    m = alpha / (alpha + delta)
    return generalization_error(m, m, delta / 2 * math.log(rho / (1 - rho)), delta, rho)


def ridge_closed_form(alpha, delta, rho, lam):
    """The ridge saddle point solved by hand (physics notes §C.1): V = Delta chi from
    lam V^2 + (lam + Delta (alpha - 1)) V - Delta = 0, c = 4 rho (1-rho) alpha V/(Delta (1 + V)), m = c/(1 + c),
    b = (2 rho - 1)(1 - m), mhat = 4 rho (1-rho) alpha (1-m)/(1+V), k = alpha V^2/(1+V)^2,
    Delta q = (k E_b + V^2 mhat^2/Delta)/(1 - k). At lam = 0 the lam -> 0+ limit: V = 1/(alpha - 1) above alpha = 1,
    the min-norm interpolator below it (V -> infinity with V mhat finite). Returns m, q, chi, b and error."""
    r4 = 4 * rho * (1 - rho)
    if lam == 0:
        if alpha == 1:
            raise ParameterError("lam=0 at alpha=1 is the interpolation peak: |w| diverges; use lam > 0")
        if alpha > 1:
            v = 1 / (alpha - 1)
            c = r4 * alpha * v / (delta * (1 + v))
            m = c / (1 + c)
            mhat_v = r4 * alpha * (1 - m) * v / (1 + v)  # V mhat
            k = alpha * v**2 / (1 + v) ** 2
        else:  # V -> infinity: V/(1+V) -> 1, V mhat -> 4 rho (1-rho) alpha (1-m)
            v = math.inf
            c = r4 * alpha / delta
            m = c / (1 + c)
            mhat_v = r4 * alpha * (1 - m)
            k = alpha
    else:
        a = lam + delta * (alpha - 1)
        v = 2 * delta / (a + math.sqrt(a * a + 4 * lam * delta))  # the positive root, without cancellation
        c = r4 * alpha * v / (delta * (1 + v))
        m = c / (1 + c)
        mhat_v = r4 * alpha * (1 - m) * v / (1 + v)
        k = alpha * v**2 / (1 + v) ** 2
    b = (2 * rho - 1) * (1 - m)
    e_b = r4 * (1 - m) ** 2
    q = (k * e_b + mhat_v**2 / delta) / (1 - k) / delta
    return {"m": m, "q": q, "chi": v / delta, "b": b, "error": generalization_error(m, q, b, delta, rho)}


def fixed_norm_closed_form(alpha, delta, rho, norm):
    """The fixed-norm saddle point solved by hand, for tests: with V = Delta chi, c and m as in the ridge
    (c = 4 rho (1-rho) alpha V/(Delta (1 + V)), m = c/(1 + c)), mhat = 4 rho (1-rho) alpha (1-m)/(1+V) and
    Q(V) = (mhat^2 + alpha Delta E_b/(1+V)^2) / (Delta^2 (1/V^2 - alpha/(1+V)^2)), increasing from 0 to the largest
    norm (infinite for alpha >= 1, reached at V = 1/(sqrt(alpha) - 1) above alpha = 1); V is its root at ``norm``
    (brentq) and lam = Delta (1/V - alpha/(1 + V)). Returns m, chi, b, lam and error."""
    r4 = 4 * rho * (1 - rho)

    def norm_at(v):
        m = r4 * alpha * v / (r4 * alpha * v + delta * (1 + v))
        mhat = r4 * alpha * (1 - m) / (1 + v)
        return m, (mhat**2 * (1 + v) ** 2 + alpha * delta * r4 * (1 - m) ** 2) * v**2 / (
            delta**2 * ((1 + v) ** 2 - alpha * v**2))

    v_max = 1 / (math.sqrt(alpha) - 1) if alpha > 1 else math.inf
    _check_fixed_norm({"alpha": alpha, "delta": delta, "rho": rho, "norm": norm})
    lo, hi = 0.0, min(1.0, v_max / 2)
    while norm_at(hi)[1] < norm:
        lo, hi = hi, (hi + v_max) / 2 if alpha > 1 else 2 * hi
    from scipy.optimize import brentq  # imported where used: importing replica does not need it

    v = brentq(lambda v: norm_at(v)[1] - norm, lo, hi, xtol=1e-300, rtol=1e-15)
    m = norm_at(v)[0]
    b = (2 * rho - 1) * (1 - m)
    return {"m": m, "chi": v / delta, "b": b, "lam": delta * (1 / v - alpha / (1 + v)),
            "error": generalization_error(m, norm, b, delta, rho)}


def fixed_norm_limit(alpha, delta, rho):
    """The largest |w|^2/N of a unique square-loss minimizer: the min-norm interpolator's below alpha = 1 (beyond
    it zero-loss minimizers form a manifold), infinite from alpha = 1 on."""
    return ridge_closed_form(alpha, delta, rho, 0)["q"] if alpha < 1 else math.inf


def _region_fixed_norm(p):
    top = fixed_norm_limit(p["alpha"], p["delta"], p["rho"])
    if p["norm"] >= top:
        return (f"norm={p['norm']:g} is not below the min-norm interpolator's |w|^2/N = {top:.6g} at "
                f"alpha={p['alpha']:g} < 1: larger norms are reached by a manifold of zero-loss minimizers, not by "
                f"one ERM point; allowed: 0 < norm < {top:.6g}")
    return None


def _check_fixed_norm(p):
    reason = _region_fixed_norm(p)
    if reason:
        raise ParameterError(reason)


def _start_fixed_norm(p):
    """The small-norm limit: w -> 0 with m ~ 4 rho (1-rho) alpha chi, mhat ~ 4 rho (1-rho) alpha and
    norm ~ (mhat^2 + alpha Delta E_b) chi^2, which fixes chi; exact to leading order as norm -> 0, where the
    continuation in the norm starts."""
    alpha, delta, rho, norm = p["alpha"], p["delta"], p["rho"], p["norm"]
    r4 = 4 * rho * (1 - rho)
    chi = math.sqrt(norm / (r4**2 * alpha**2 + alpha * delta * r4))
    m = r4 * alpha * chi
    return {"m": m, "chi": chi, "mhat": r4 * alpha * (1 - m), "qhat": alpha * delta * (r4 + delta * norm),
            "A": 1 / chi}


def _region_ridge(p):
    if p["lam"] == 0 and p["alpha"] <= 1:
        return (f"lam=0 needs alpha > 1 (alpha={p['alpha']:g}): below, the lam -> 0+ limit is the min-norm "
                f"interpolator with an infinite susceptibility; give a small lam > 0 (e.g. 1e-8, which converges to "
                f"it) or use replica.gaussian_mixture.ridge_closed_form")
    return None


def _start_ridge(p):
    """A generic point inside the domain (not the closed form: the engine solves the symbolic equations itself)."""
    chi = 1 / (p["lam"] + p["alpha"] * p["delta"])
    return {"m": 0.5, "q": 0.5, "chi": chi, "mhat": 0.5, "qhat": 0.5, "chihat": p["alpha"] * p["delta"] / 2}


def _notes_bayes(params, order, obs):
    return [] if obs["error"] <= 0.5 else ["error above 1/2: not a Bayes-optimal point"]


BAYES = ModelSpec(
    name="gm-bayes",
    summary="Gaussian mixture, Bayes-optimal classifier: error eps_BO(alpha, delta, rho), its bias and the oracle "
            "(alpha -> infinity) error; q = m = alpha/(alpha+delta)",
    build=eq.gm_bayes, defaults={"rho": 0.5},
    start=lambda p: {"q": 0.5, "qhat": 1.0}, notes=_notes_bayes, path=None,
)
RIDGE = ModelSpec(
    name="gm-ridge",
    summary="Gaussian mixture, square-loss ERM with ridge penalty lam and a trained bias: error, m, q, b, training "
            "loss and error",
    build=eq.gm_ridge, defaults={"rho": 0.5}, start=_start_ridge, region=_region_ridge, path=None,
)


FIXED_NORM = ModelSpec(
    name="gm-fixed-norm",
    summary="Gaussian mixture, square-loss ERM with a trained bias on the sphere |w|^2/N = norm: error, m, b, the "
            "norm's multiplier lam (negative beyond the ridgeless norm), training loss and error",
    build=eq.gm_fixed_norm, defaults={"rho": 0.5}, region=_region_fixed_norm, start=_start_fixed_norm, path="norm",
    path_start=1e-3,
)


def _start_convex(p, name):
    """Starts for the convex losses with ridge penalty (logistic, hinge). For lam >= 1: the ridge (square-loss)
    saddle point at the same parameters, with its conjugates (the same structure, a different loss, so Newton moves
    it a little). Below, the solution of model ``name`` at the next power of 2 above lam: as lam -> 0 on separable
    data the norm grows without bound, which the ridge point does not follow, so starts descend a ladder
    lam = 1, 1/2, 1/4, ... (cached, shared by all lam)."""
    if p["lam"] < 1:
        k = math.ceil(math.log2(p["lam"]))
        rung = _ladder(name, p["alpha"], p["delta"], p["rho"], k + 1 if 2.0**k <= p["lam"] else k)
        if rung is not None:
            return rung
    r = ridge_closed_form(p["alpha"], p["delta"], p["rho"], p["lam"])
    chihat = p["alpha"] * p["delta"] / (1 + p["delta"] * r["chi"])
    mhat = r["m"] * (p["lam"] + chihat)
    qhat = max(r["q"] * (p["lam"] + chihat) ** 2 - mhat**2, 1e-3)
    return {"m": r["m"], "q": r["q"], "chi": r["chi"], "mhat": mhat, "qhat": qhat, "chihat": chihat, "b": r["b"]}


@lru_cache(maxsize=1024)
def _ladder(name, alpha, delta, rho, k):
    """The saddle point of model ``name`` at lam = 2^k (k <= 0), from the rung above (None if it does not
    converge)."""
    spec = get_model(name)
    sol = spec.solve(spec.check({"alpha": alpha, "delta": delta, "rho": rho, "lam": 2.0**k}))
    return sol.order if sol.converged else None


LOGISTIC = ModelSpec(
    name="gm-logistic",
    summary="Gaussian mixture, logistic-loss ERM with ridge penalty lam > 0 and a trained bias (Moreau envelope "
            "compiled by Max): error, m, q, b, training loss and error",
    build=eq.gm_logistic, defaults={"rho": 0.5}, start=lambda p: _start_convex(p, "gm-logistic"),
    path="lam", path_start=lambda p: min(p["lam"], 1.0),  # large lam: continued up from lam = 1
)


HINGE = ModelSpec(
    name="gm-hinge",
    summary="Gaussian mixture, hinge-loss ERM (soft-margin SVM) with ridge penalty lam > 0 and a trained bias (Moreau "
            "envelope in closed form): error, m, q, b, training loss and error, fraction of support vectors",
    build=eq.gm_hinge, defaults={"rho": 0.5}, start=lambda p: _start_convex(p, "gm-hinge"),
    path="lam", path_start=lambda p: min(p["lam"], 1.0),
)


def _start_flat(p):
    """The ridge minimizer at the same lam for the replicas' mean overlaps (the centre of mass's mean is exactly it),
    a spread 1/(beta (lam + alpha Delta) + gamma) between replicas, and the conjugates from the energetic term's
    derivatives at that point (physics notes §C.2)."""
    a, dl, r, y, beta = p["alpha"], p["delta"], p["rho"], p["y"], p["beta"]
    ridge = ridge_closed_form(a, dl, r, p["lam"])
    m, q, b = ridge["m"], ridge["q"], ridge["b"]
    spread = 1 / (beta * (p["lam"] + a * dl) + p["gamma"])
    big_q, q1 = q + spread, q + spread / 2
    u = 1 + beta * dl * (big_q - q1)
    w = u + y * beta * dl * (q1 - q)
    f = r * (1 - m - b) ** 2 + (1 - r) * (1 - m + b) ** 2 + dl * q
    return {"Q": big_q, "q1": q1, "q0": q, "m": m,
            "Qhat": a / y * ((y - 1) * beta * dl / u + beta * dl / w - y * beta**2 * dl * f / w**2),
            "q1hat": a / y * (beta * dl / u - beta * dl / w + y * beta**2 * dl * f / w**2),
            "q0hat": a * beta**2 * dl * f / w**2, "mhat": a * beta * (1 - m - (2 * r - 1) * b) / w}


FLAT = ModelSpec(
    name="gm-flat",
    summary="Gaussian mixture, y replicas of square-loss ridge at inverse temperature beta coupled (gamma) to a "
            "centre: errors of the centre of mass and of one replica, replica-centre distance",
    build=eq.gm_flat, defaults={"rho": 0.5}, start=_start_flat,
    path="beta", path_start=lambda p: min(p["beta"], 10.0),  # large beta: spreads ~ 1/beta, conjugates ~ beta^2
    limits={"y": {"inf": "gm-flat-inf", "infinity": "gm-flat-inf"}},
)


def _gamma_at_distance(p):
    """The coupling whose start point (:func:`_start_flat`) has the distance ``d``: d = (y-1)/(2y (s + gamma))
    + 1/(y gamma) with s = beta (lam + alpha Delta), i.e. 2 y d gamma^2 + B gamma - 2 s = 0, B = 2 y d s - y - 1,
    whose positive root is 4 s/(B + sqrt(B^2 + 16 y d s))."""
    y, d, s = p["y"], p["d"], p["beta"] * (p["lam"] + p["alpha"] * p["delta"])
    big_b = 2 * y * d * s - y - 1
    return 4 * s / (big_b + math.sqrt(big_b**2 + 16 * y * d * s))


def _start_flat_distance(p):
    gamma = _gamma_at_distance(p)
    return {**_start_flat({**p, "gamma": gamma}), "gamma": gamma}


FLAT_DISTANCE = ModelSpec(
    name="gm-flat-distance",
    summary="Gaussian mixture, the y-replica square-loss ensemble of gm-flat at a fixed replica-centre distance d "
            "(the coupling gamma becomes its multiplier): errors of the centre of mass and of one replica",
    build=eq.gm_flat_distance, defaults={"rho": 0.5}, start=_start_flat_distance,
    path="beta", path_start=lambda p: min(p["beta"], 10.0),
)


@lru_cache(maxsize=256)
def _erm(name, alpha, delta, rho, lam):
    """The ERM saddle point (m, q, chi, b) of model ``name`` ('gm-ridge' or 'gm-hinge') at these parameters (the
    ensembles built on a minimizer start from it)."""
    spec = get_model(name)
    sol = spec.solve(spec.check({"alpha": alpha, "delta": delta, "rho": rho, "lam": lam}))
    if not sol.converged:
        raise ConvergenceError(sol)
    return {"m": sol.order["m"], "q": sol.order["q"], "chi": sol.order["chi"],
            "b": sol.order["b"] if "b" in sol.order else sol.observables["b"]}


def _start_flat_inf(p, erm):
    """The centre at the ERM minimizer (exact for the square loss), the replicas spread around it by
    1/(beta (lam + alpha Delta) + gamma), dq = chi/beta; conjugates of order one (the path in beta starts at
    beta = 2, where these are inside Newton's basin at the points tried)."""
    e = _erm(erm, p["alpha"], p["delta"], p["rho"], p["lam"])
    spread = 1 / (p["beta"] * (p["lam"] + p["alpha"] * p["delta"]) + p["gamma"])
    return {"Q": e["q"] + spread, "q0": e["q"], "dq": e["chi"] / p["beta"], "m": e["m"], "Qhat": 1.0, "q0hat": 1.0,
            "dqhat": 0.5, "mhat": 1.0, "b": e["b"]}


FLAT_INF = ModelSpec(
    name="gm-flat-inf",
    summary="Gaussian mixture, the y -> infinity limit of gm-flat (square loss): the robust ensemble's centre, which "
            "is the ridge minimizer at lam for every beta and gamma (the check of the limit)",
    build=lambda: eq.gm_flat_inf("square"), defaults={"rho": 0.5}, region=_region_ridge,
    start=lambda p: _start_flat_inf(p, "gm-ridge"), path="beta", path_start=lambda p: min(p["beta"], 2.0),
)


HINGE_FLAT_INF = ModelSpec(
    name="gm-hinge-flat-inf",
    summary="Gaussian mixture, y -> infinity replicas of hinge-loss ridge ERM at inverse temperature beta coupled "
            "(gamma) to a centre: the robust ensemble's centre (maximum of the local free entropy), its test error "
            "against hinge ERM's",
    build=lambda: eq.gm_flat_inf("hinge"), defaults={"rho": 0.5},
    start=lambda p: _start_flat_inf(p, "gm-hinge"), path="beta", path_start=lambda p: 2.0,
)


def _bo_bias(p):
    """b_BO/sqrt(q_BO): the Bayes-optimal bias for a weight vector normalized to |w|^2 = N."""
    return p["delta"] / 2 * math.log(p["rho"] / (1 - p["rho"])) / math.sqrt(p["alpha"] / (p["alpha"] + p["delta"]))


def _cap_start(p, direction):
    """The beta = 0 solution of the local entropies (exact there), the uniform measure on the cap at overlap p with
    a reference whose normalized overlap with the cluster mean is ``direction``: q = p^2, m = p direction, r = p."""
    return {"q": p["p"] ** 2, "m": p["p"] * direction, "r": p["p"]}


ERROR_COUNT_BETA = Symbol(eq.beta, sp.Interval(0, sp.oo), "inverse temperature of the error count (beta >= 40: zero "
                          "training error to 1e-16)")  # the local entropies' beta


def _notes_bo_local(params, order, obs):
    if obs["entropy"] > obs["upper_bound"] + 1e-9:
        return ["local entropy above the spherical cap: not the Franz-Parisi saddle point"]
    return []


BO_LOCAL_ENTROPY = ModelSpec(
    name="gm-bo-local-entropy",
    summary="Gaussian mixture: Franz-Parisi local entropy of the error-counting loss (inverse temperature beta) "
            "around the Bayes-optimal direction, spherical weights, against the cap bound 1/2 ln(1-p^2)",
    build=eq.gm_bo_local_entropy, defaults={"rho": 0.5, "b": "bo"}, notes=_notes_bo_local,
    start=lambda p: _cap_start(p, math.sqrt(p["alpha"] / (p["alpha"] + p["delta"]))),
    path="beta", path_start=0.0,
    user_params=[eq.ALPHA, eq.DELTA, eq.RHO,
                 ERROR_COUNT_BETA,
                 Symbol(eq.b, sp.S.Reals, "fixed bias of the classifier, or 'bo' for b_BO/sqrt(q_BO) (default)"),
                 Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the Bayes-optimal "
                        "direction, d = (1-p)/2")],
    inputs=lambda p: {**{k: v for k, v in p.items() if k != "d"}, "p": 1 - 2 * p["d"]},
    special={"b": {"bo": _bo_bias}},
)


def _ridge_reference(alpha, delta, rho, lam):
    """The ridge saddle point (m, q, chi, b) at these parameters, solved by ``gm-ridge``, as the free entropy's
    reference inputs."""
    return {f"{k}_ref": v for k, v in _erm("gm-ridge", alpha, delta, rho, lam).items()}


def _ridge_local_inputs(p):
    ref = _ridge_reference(p["alpha"], p["delta"], p["rho"], p["lam"])
    return {**{k: v for k, v in p.items() if k not in ("d", "lam")}, "p": 1 - 2 * p["d"], **ref}


def _ridge_bias(p):
    """b~/sqrt(q~): the ridge minimizer's own bias for a weight vector normalized to |w|^2 = N (at p -> 1 the counted
    classifier is the minimizer's)."""
    ref = _ridge_reference(p["alpha"], p["delta"], p["rho"], p["lam"])
    return ref["b_ref"] / math.sqrt(ref["q_ref"])


RIDGE_LOCAL_ENTROPY = ModelSpec(
    name="gm-ridge-local-entropy",
    summary="Gaussian mixture: Franz-Parisi local entropy of the error-counting loss (inverse temperature beta) "
            "around the square-loss ERM (ridge lam) minimizer, spherical weights, against the cap bound 1/2 ln(1-p^2)",
    build=eq.gm_ridge_local_entropy, defaults={"rho": 0.5, "b": "erm"},
    start=lambda p: _cap_start(p, p["m_ref"] / math.sqrt(p["q_ref"])),
    notes=_notes_bo_local, path="beta", path_start=0.0,
    user_params=[eq.ALPHA, eq.DELTA, eq.RHO, Symbol(eq.lam, sp.Interval(0, sp.oo), "ridge penalty lambda >= 0 of the "
                                                                                   "reference"),
                 ERROR_COUNT_BETA,
                 Symbol(eq.b, sp.S.Reals, "fixed bias of the classifier, or 'erm' for the minimizer's own b~/sqrt(q~) "
                        "(default)"),
                 Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the normalized ridge "
                        "minimizer, d = (1-p)/2")],
    inputs=_ridge_local_inputs, region=_region_ridge,
    special={"b": {"erm": _ridge_bias}},
)


def models():
    """The Gaussian-mixture models (the ``replica.models`` entry point)."""
    return [BAYES, RIDGE, FIXED_NORM, LOGISTIC, HINGE, FLAT, FLAT_DISTANCE, FLAT_INF, HINGE_FLAT_INF, BO_LOCAL_ENTROPY,
            RIDGE_LOCAL_ENTROPY]
