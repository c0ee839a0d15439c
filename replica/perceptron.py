"""Perceptron storage models (spherical and binary weights) and the thresholds they declare: capacity, maximal
margin, dAT line, 1RSB SAT/UNSAT line. The free entropies live in ``replica.equations.perceptron``; this module gives
each its start, region and notes, the closed forms they are checked against, and the threshold hooks
(:mod:`replica.thresholds`)."""

import math

import numpy as np

from replica.equations import perceptron as eq
from replica.solvers.continuation import follow
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance
from replica.solvers.status import Status

from .errors import ParameterError
from .models import NO_SOLUTIONS, ModelSpec, numeric
from .results import REMEDIES, Threshold
from .thresholds import Crossing, Refusal, locate, number, replicon, trace, zero_entropy

__all__ = ["alpha_c_spherical", "alpha_gd_binary", "max_margin_crossing", "SPHERICAL", "BINARY", "JAMMING_1RSB",
           "models"]


def _unbounded(f, doc):
    """``f`` (a closed-form threshold in kappa), read as +inf where its denominator (1 + kappa^2) H(-kappa) +
    kappa G(kappa) underflows to zero (kappa < -38): there the threshold exceeds the largest float."""
    def threshold(kappa):
        try:
            return f(kappa)
        except ZeroDivisionError:
            return math.inf
    threshold.__doc__ = doc
    return threshold


alpha_c_spherical = _unbounded(numeric(eq.alpha_c_spherical(), eq.kappa),
                               "Gardner's RS capacity of the spherical perceptron at margin kappa (closed form).")
alpha_gd_binary = _unbounded(numeric(eq.alpha_gd_binary(), eq.kappa),
                             "The load where the binary perceptron's RS solution reaches q = 1: (2/pi) alpha_c^sph.")
_H = numeric(eq.H(eq.kappa), eq.kappa)


def _region_spherical(p):
    ac = alpha_c_spherical(p["kappa"])
    if p["alpha"] >= ac:
        return (f"alpha={p['alpha']:g} is at or beyond the RS capacity alpha_c(kappa={p['kappa']:g})={ac:.6g} of "
                f"spherical-perceptron: no RS saddle point exists there; allowed: 0 <= alpha < {ac:.6g}")
    return None


def _region_binary(p):
    agd = alpha_gd_binary(p["kappa"])
    if p["alpha"] >= agd:
        return (f"alpha={p['alpha']:g} is at or beyond alpha_GD(kappa={p['kappa']:g})={agd:.6g}, where the RS "
                f"solution of binary-perceptron reaches q=1 (the capacity alpha_KM is lower: replica capacity "
                f"binary-perceptron --kappa {p['kappa']:g}); allowed: 0 <= alpha < {agd:.6g}")
    return None


def _start_spherical(p):
    q = min(0.9, p["alpha"] / alpha_c_spherical(p["kappa"]))
    return {"q": q, "qhat": q / (1 - q) ** 2}


def _start_binary(p):
    q = min(0.9, 0.8 * p["alpha"] / alpha_gd_binary(p["kappa"]))
    return {"q": q, "qhat": q / (1 - q) ** 2}


def _rs_stability_note(obs):
    if obs["lambda_AT"] > 1:
        return [f"lambda_AT = {obs['lambda_AT']:.6g} > 1: replica symmetry is unstable here (beyond the dAT line); "
                "the RS values are not exact"]
    return []


def _notes_spherical(params, order, obs):
    return _rs_stability_note(obs)


def _notes_binary(params, order, obs):
    notes = _rs_stability_note(obs)
    if obs["entropy"] < 0:
        notes.append(f"{NO_SOLUTIONS}: beyond the capacity alpha_KM(kappa) (replica capacity binary-perceptron): no "
                     "solutions exist; this RS saddle point is unphysical")
    return notes


# ----- thresholds --------------------------------------------------------------------------------------------------
def _spherical_capacity(spec, quadrature=None, tol=None, kappa=0.0, eps=(4e-4, 2e-4, 1e-4, 5e-5)):
    """Gardner's closed form, checked by the q -> 1 limit of the solver: at fixed q = 1 - eps the solver finds
    (qhat, alpha) (the roles of q and alpha exchanged), and alpha(eps) = alpha_c + a eps + b eps^1.5 + c eps^2 is
    fitted through the points and read at eps = 0. The energetic term's boundary layer of width sqrt(eps) has its
    own nodes (``replica.equations.perceptron.energetic``)."""
    kappa = number("kappa", kappa)
    tol = tol or Tolerance()
    system = spec.system
    ac = alpha_c_spherical(kappa)
    rule = quadrature or spec.quadrature
    loose = Tolerance(atol=tol.atol, rtol=max(tol.rtol, 1e-9))  # qhat ~ 1/eps^2: roundoff limits the residual
    sol = spec.solve({"alpha": 0.9 * ac, "kappa": kappa}, quadrature=quadrature, tol=tol)
    iq, ih, ia = system.index("q"), system.index("qhat"), system.index("alpha")
    alphas, status = [], sol.status
    v = system.vector(sol.order, sol.params) if sol.converged else None
    for e in eps if sol.converged else ():
        v = v.copy()
        v[iq], v[ih] = 1 - e, (1 - e) / e**2
        res, v = system.solve(v, rule, method="newton", tol=loose, unknowns=["qhat", "alpha"])
        if not res.converged:
            status = Status(res.status)
        alphas.append(v[ia])
    e = np.array(eps)
    design = np.vstack([np.ones_like(e), e, e**1.5, e**2]).T
    limit = float(np.linalg.solve(design, np.array(alphas))[0]) if status == Status.CONVERGED else None
    lam = ac * _H(-kappa)
    return Threshold(name="alpha_c", value=ac, model=spec.name, params={"kappa": kappa}, converged=True,
                     status=Status.CONVERGED, message="Gardner's closed form",
                     extra={"alpha_c_solver": limit, "solver_status": str(status),
                            "solver_limit": f"q -> 1 fit through q = 1 - eps, eps in {list(eps)}",
                            "lambda_AT_at_capacity": lam, "rs_stable_at_capacity": bool(lam <= 1 + 1e-12)})


def _check_negative_margin(kappa, what):
    if not kappa < 0:
        raise ParameterError(f"kappa={kappa:g}: {what}")


def _on_negative_margins(spec, name, values, what, trace_line):
    """A line along kappa of a threshold that exists for kappa < 0 only: traced there (``trace_line(kappas)``), and a
    ``no_solution`` row saying ``what`` at each kappa >= 0, so that a range across 0 (a phase diagram's axis) keeps
    every point. A range with no negative kappa is refused."""
    kappas = [number("kappa", k) for k in values]
    inside = [k for k in kappas if k < 0]
    if not inside:
        _check_negative_margin(kappas[0], what)
    traced = iter(trace_line(inside))
    return [next(traced) if k < 0 else
            Threshold(name, None, spec.name, {"kappa": k}, False, Status.NO_SOLUTION, f"kappa={k:g}: {what}",
                      REMEDIES[Status.NO_SOLUTION])
            for k in kappas]


class _SphericalDat:
    """alpha_dAT(kappa) of the spherical perceptron, kappa < 0 (for kappa >= 0 RS is stable up to alpha_c)."""

    def __call__(self, spec, quadrature=None, tol=None, kappa=None, **rest):
        if kappa is None:
            raise ParameterError("spherical-perceptron: dat-line needs --kappa (kappa=..., negative)")
        _check_negative_margin(number("kappa", kappa), "the dAT line lies below capacity only for kappa < 0 (for "
                                                       "kappa >= 0 RS is stable up to alpha_c)")
        return DAT(spec, quadrature=quadrature, tol=tol, kappa=kappa, **rest)

    def line(self, spec, along, values, quadrature=None, tol=None, **params):
        return _on_negative_margins(spec, DAT.name, values, "the dAT line lies below capacity only for kappa < 0",
                                    lambda kappas: DAT.line(spec, along, kappas, quadrature, tol, **params))


def _nontrivial(w):
    """Whether ``w`` = (mu, q0, alpha, kappa) is on the non-trivial 1RSB branch: q0 < 1 and a load below the RS
    capacity (the trivial branch, mu -> inf and q0 -> 1, is the RS solution at alpha_RS). As kappa -> 0- the
    non-trivial branch approaches it: mu ~ 1.45/kappa^2, 1 - q0 ~ 1.43 kappa^2 (mu (1 - q0) -> 2.08) and
    alpha_RS - alpha ~ kappa^3/2, still 4e-9 at kappa = -0.002."""
    mu, q0, alpha, kappa = w[:4]
    return mu > 0 and q0 < 1 and alpha_c_spherical(kappa) - alpha > 1e-13 * alpha


def _rsb1_start(system, kappa, quad, tol):
    """A non-trivial stationary point (mu, q0) at alpha = 0.99 alpha_RS(kappa), from a small grid of starts."""
    for mu0 in (1.0, 3.0, 10.0, 0.3, 30.0):
        for q00 in (0.5, 0.3, 0.7, 0.1, 0.9):
            r, v = system.solve(system.vector([mu0, q00], [0.99 * alpha_c_spherical(kappa), kappa]), quad,
                                method="newton", tol=tol)
            if r.converged and _nontrivial(v):
                res, w = system.solve(v, quad, method="newton", tol=tol, unknowns=["mu", "q0", "alpha"],
                                      target=("entropy", 0.0))
                if res.converged and _nontrivial(w):
                    return v
    return None


RSB1_TARGET = ("entropy", 0.0)
RSB1_UNKNOWNS = ["mu", "q0", "alpha"]


class _Rsb1Capacity:
    """The 1RSB SAT/UNSAT point of the spherical perceptron, kappa < 0: dPhi/dmu = dPhi/dq0 = 0 and Phi = 0 on the
    non-trivial branch of ``spherical-perceptron-1rsb-jamming``. A non-trivial stationary point is searched at alpha
    just below the RS capacity from a small grid of starts; near kappa = 0, where the branch lives in a thin window
    below alpha_RS, the point at kappa = -1 is followed by continuation in kappa. Then Newton solves the three
    equations for (mu, q0, alpha). A line in kappa follows the three equations from point to point."""

    name = "alpha_c"

    def __call__(self, spec, quadrature=None, tol=None, kappa=0.0):
        kappa = number("kappa", kappa)
        _check_negative_margin(kappa, "the 1RSB SAT/UNSAT line is computed for kappa < 0 (for kappa >= 0 RS is exact "
                                      "up to capacity: use rsb=0)")
        return self.locate(spec, {"kappa": kappa}, quadrature, tol or Tolerance())

    def locate(self, spec, params, quadrature, tol):
        kappa = params["kappa"]
        model = JAMMING_1RSB
        system = model.system
        adaptive = quadrature is None
        base = quadrature or model.quadrature
        quad = Quadrature(gauss=max(base.gauss, 512), trunc=base.trunc, rule=base.rule)
        extra = self.extra(params)
        start = _rsb1_start(system, kappa, quad, tol)
        if start is None:
            w0 = _rsb1_start(system, -1.0, quad, tol)
            if w0 is not None:
                res, w0 = system.solve(w0, quad, method="newton", tol=tol, unknowns=RSB1_UNKNOWNS, target=RSB1_TARGET)
                branch = follow(system, w0, "kappa", kappa, quad, tol=tol, unknowns=RSB1_UNKNOWNS,
                                target=RSB1_TARGET)
                start = branch.last.v if branch.arrived and _nontrivial(branch.last.v) else None
        if start is None:
            return Threshold("alpha_c", None, spec.name, params, False, Status.WRONG_BRANCH,
                             "no non-trivial 1RSB stationary point was found (only the trivial mu -> inf, q0 -> 1 "
                             "branch, which is RS)", REMEDIES[Status.WRONG_BRANCH], extra=extra)
        return self.finish(spec, locate(model, "alpha_c", "alpha", params, start, quad, tol, RSB1_TARGET, adaptive,
                                        extra))

    def finish(self, spec, thr):
        w = JAMMING_1RSB.system.vector(thr.solution.order, thr.solution.params) if thr.converged else None
        if w is not None and not _nontrivial(w):
            thr.value, thr.converged, thr.status = None, False, Status.WRONG_BRANCH
            thr.message, thr.remedy = "Newton ran to the trivial (RS) branch", REMEDIES[Status.WRONG_BRANCH]
        elif w is not None:
            thr.extra.update(mu=float(w[0]), q0=float(w[1]))
        thr.model = spec.name
        return thr

    def line(self, spec, along, values, quadrature=None, tol=None, **params):
        if along != "kappa" or params:
            raise ParameterError("the 1RSB SAT/UNSAT line runs along kappa (and takes no other parameter)")
        tol = tol or Tolerance()

        def traced(kappas):
            rows = trace(spec, JAMMING_1RSB, lambda at: self.locate(spec, at, quadrature, tol), "alpha_c", "alpha",
                         RSB1_TARGET, "kappa", kappas, {}, quadrature, tol, self.extra, accept=_nontrivial)
            return [self.finish(spec, thr) for thr in rows]

        return _on_negative_margins(spec, "alpha_c", values, "the 1RSB SAT/UNSAT line is computed for kappa < 0",
                                    traced)

    @staticmethod
    def extra(params):
        return {"rsb": 1, "alpha_c_rs": alpha_c_spherical(params["kappa"]),
                "criterion": "1RSB: Phi = dPhi/dmu = dPhi/dq0 = 0, non-trivial branch"}


def _kappa_begin(q1_load):
    """A margin well inside the region where the RS solution at load alpha is easy: alpha <= 0.75 q1_load(kappa), the
    load where the RS solution reaches q = 1 at that margin."""
    def begin(p):
        k0 = 0.0
        while p["alpha"] > 0.75 * q1_load(k0):
            k0 -= 0.5
        return k0
    return begin


def _entropy_sign(spec, v, rule):
    return 1.0 if spec.system.call("phi", v, rule)[0] > 0 else -1.0


def _max_margin_alpha(p):
    if not p["alpha"] > 0:
        raise ParameterError(f"alpha={p['alpha']:g}: kappa_max is defined for 0 < alpha (it diverges as alpha -> 0)")
    return p


def max_margin_crossing(q1_load):
    """kappa_max(alpha) of binary weights: the margin where the RS entropy vanishes at load alpha, marched in kappa
    from a margin where the solution is easy (``_kappa_begin``; ``q1_load(kappa)`` is the load where the RS
    solution reaches q = 1), up or down by the entropy's sign there."""
    return _MaxMargin("kappa_max", "kappa", "entropy", 0.0, begin=_kappa_begin(q1_load), step=lambda p: 0.1,
                      fixed={"alpha": None}, criterion="zero RS entropy", direction=_entropy_sign)


class _MaxMargin(Crossing):
    def params(self, params):
        if params.get("alpha") is None:
            raise ParameterError("max-margin needs alpha")
        return _max_margin_alpha(super().params(params))


# ----- the models ------------------------------------------------------------------------------------------------
DAT = replicon({"kappa": None}, scale=lambda p: alpha_c_spherical(p["kappa"]),
               extra=lambda p: {"alpha_c": alpha_c_spherical(p["kappa"])})

SPHERICAL = ModelSpec(
    name="spherical-perceptron",
    summary="spherical weights |W|^2=N, margin kappa (any sign): RS entropy, q, lambda_AT; capacity, dAT, 1RSB line",
    build=eq.spherical_perceptron, defaults={"kappa": 0.0}, start=_start_spherical, region=_region_spherical,
    notes=_notes_spherical,
    thresholds={"capacity": _spherical_capacity, "capacity-1rsb": _Rsb1Capacity(), "dat-line": _SphericalDat()},
)
BINARY = ModelSpec(
    name="binary-perceptron",
    summary="binary weights W=+-1, margin kappa: RS entropy s, q, qhat, lambda_AT; capacity alpha_KM, alpha_GD, "
            "kappa_max, dAT line",
    build=eq.binary_perceptron, defaults={"kappa": 0.0}, start=_start_binary, region=_region_binary,
    notes=_notes_binary,
    thresholds={
        "capacity": zero_entropy("alpha_c", "alpha", {"kappa": 0.0}, scale=lambda p: alpha_gd_binary(p["kappa"]),
                                 end=lambda p: alpha_gd_binary(p["kappa"]),
                                 extra=lambda p: {"alpha_GD": alpha_gd_binary(p["kappa"])},
                                 criterion="zero RS entropy (Krauth-Mezard)"),
        "capacity-1rsb": Refusal("the RS zero-entropy point alpha_KM already coincides with the frozen 1RSB "
                                 "capacity; use rsb=0"),
        "max-margin": max_margin_crossing(alpha_gd_binary),
        "dat-line": replicon({"kappa": 0.0}, scale=lambda p: alpha_gd_binary(p["kappa"]),
                             end=lambda p: alpha_gd_binary(p["kappa"]),
                             extra=lambda p: {"alpha_GD": alpha_gd_binary(p["kappa"])}),
    },
)
JAMMING_1RSB = ModelSpec(
    name="spherical-perceptron-1rsb-jamming",
    summary="1RSB potential Phi(mu, q0) of the spherical perceptron at jamming (kappa < 0), for the SAT/UNSAT line",
    build=eq.spherical_perceptron_1rsb_jamming, start=lambda p: {"mu": 1.0, "q0": 0.5}, path=None, hidden=True,
)


def models():
    """The perceptron storage models (the ``replica.models`` entry point)."""
    return [SPHERICAL, BINARY, JAMMING_1RSB]
