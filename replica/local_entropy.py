"""Franz–Parisi local-entropy models of the perceptron: the free entropies live in ``replica.equations.local_entropy``;
here the reference problem is solved and its overlap handed to them.

User parameters: ``alpha``, ``kappa`` (margin of the counted solutions, default 0), ``ref_kappa`` (margin of the
reference; for binary weights also ``"max"``, the maximal margin kappa_max(alpha) — for spherical weights the
references at the maximal margin have q~ = 1 and the RS formula degenerates), ``d`` (distance d = (1 - p)/2 to the
reference, in (0, 1/2)).
"""
import math

import numpy as np
import sympy as sp

from replica.equations import local_entropy as eq
from replica.equations.model import Symbol
from replica.solvers.quadrature import Quadrature

from .errors import ParameterError
from .models import ModelSpec, register, resolve
from .perceptron import BINARY, SPHERICAL, max_margin
from .results import Threshold
from .sweep import sweep

__all__ = ["BINARY_FP", "SPHERICAL_FP", "onset"]

def _user_params(ref_doc):
    return [
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0 (at alpha = 0 phi_FP is the upper bound)"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the counted solutions"),
        Symbol(sp.Symbol("ref_kappa"), sp.S.Reals, ref_doc),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-p)/2"),
    ]


ENTROPY_SLACK = 1e-9  # a reference at kappa_max has zero entropy up to this


def _inputs(storage, params, binary):
    """Solve the reference problem and map the user parameters to the free entropy's."""
    if params["kappa"] > params["ref_kappa"]:
        raise ParameterError(f"kappa={params['kappa']:g} exceeds ref_kappa={params['ref_kappa']:g}: the counted "
                             "solutions cannot have a larger margin than the reference; allowed: kappa <= ref_kappa")
    ref_params = {"alpha": params["alpha"], "kappa": params["ref_kappa"]}
    try:
        ref = storage.solve(storage.validate(ref_params))
    except ParameterError as e:
        raise ParameterError(f"ref_kappa={params['ref_kappa']:g} is above the maximal margin at alpha="
                             f"{params['alpha']:g} ({e}); allowed: ref_kappa <= kappa_max(alpha), or 'max'") from None
    if not ref.converged:
        raise ParameterError(f"the reference problem {storage.name} at alpha={params['alpha']:g}, kappa="
                             f"{params['ref_kappa']:g} did not converge: {ref.status} ({ref.remedy})")
    if binary and ref.entropy < -ENTROPY_SLACK:  # spherical: alpha < alpha_c(ref_kappa) was checked
        raise ParameterError(f"ref_kappa={params['ref_kappa']:g} is above the maximal margin at alpha="
                             f"{params['alpha']:g}: no reference solutions exist (their RS entropy is "
                             f"{ref.entropy:.3g}); allowed: ref_kappa <= kappa_max(alpha), or 'max'")
    out = {"alpha": params["alpha"], "kappa": params["kappa"], "kappa_ref": params["ref_kappa"],
           "p": 1 - 2 * params["d"], "q_ref": ref.q}
    if binary:
        out["qhat_ref"] = ref.qhat
    return out


# entropic z0: 128 trapezoid nodes (the reference's tanh weight has poles at +-i pi/(2 sqrt(qhat~)); 64 leave 1e-6
# in the roots); energetic z0 (the nest with the truncated level, smooth in z0): 48 give 1e-14; inner levels:
# 6 Gauss-Hermite nodes (smooth integrands: 12 move phi and the roots by 2e-10 at most; refined where they sharpen)
FP_QUADRATURE = Quadrature(gauss=128, nest=48, trunc=32, inner=6, inner_rule="hermite")
MANIFOLD_EXPONENT = 4.0  # start where the alpha = 0 solution is exact up to about exp(-4)


def _start(inputs):
    """Where the counted margin is below the reference's (kappa < ref_kappa), the alpha = 0 solution t = p q~,
    q1 = p^2, phat = atanh p, that = q1hat = 0, moved slightly into the domain B > 0: near p = 1 the constraints of
    the counted solutions are exponentially inactive and it is the solution. Otherwise W = p W~ + (an independent
    part with the references' own overlap): t = p q~, q1 = p^2 + (1 - p^2) q~, conjugates near the reference's."""
    p, q = inputs["p"], inputs["q_ref"]
    if inputs["kappa"] < inputs["kappa_ref"]:
        return alpha0_start(inputs)
    start = {"t": p * q, "q1": p * p + (1 - p * p) * q}
    if "qhat_ref" in inputs:
        qh = inputs["qhat_ref"]
        start.update(phat=max(qh, math.atanh(p)), that=0.9 * qh, q1hat=qh)
    return start


def alpha0_start(inputs, eps=1e-3):
    """The alpha = 0 solution t = p q~, q1 = p^2, phat = atanh p, that = q1hat = 0, moved into the domain by ``eps``
    (of the way to the independent part's overlap q~ and conjugate qhat~)."""
    p, q = inputs["p"], inputs["q_ref"]
    start = {"t": p * q, "q1": p * p + eps * (1 - p * p) * q}
    if "qhat_ref" in inputs:
        start.update(phat=math.atanh(p), that=0.0, q1hat=eps * inputs["qhat_ref"])
    return start


def _path_start(inputs, overlap_of=None):
    """Where kappa < ref_kappa: a distance d0 so small that the alpha = 0 solution is close there, up to terms
    exp(-(ref_kappa - kappa)^2 / (8 d0)) = exp(-4) (the counted solutions' constraints are nearly inactive; much
    closer, the equations degenerate towards the boundary that = q1hat = 0), or the target itself if it is closer.
    d0 is a distance between the stabilities: where they correlate through a kernel (two-layer machines),
    ``overlap_of`` maps the stabilities' correlation 1 - 2 d0 back to the weights' overlap. Otherwise an overlap a
    quarter of the way from the typical point p = q~ towards the target side (1 or 0), where the start is reliable;
    the continuation never crosses the typical point, which lies on the boundary B = 0."""
    p, q, gap = inputs["p"], inputs["q_ref"], inputs["kappa_ref"] - inputs["kappa"]
    if gap > 0:
        d0 = max(gap * gap / (8 * MANIFOLD_EXPONENT), 1e-6)
        return max(p, 1 - 2 * d0 if overlap_of is None else overlap_of(1 - 2 * d0))
    return q + 0.25 * (1 - q) if p >= q else 0.75 * q


def follow_fp(order, old, new):
    """A Franz–Parisi solution moved to new parameters keeping its deviation from the alpha = 0 solution (t = p q~,
    q1 = p^2, phat = atanh p, that = q1hat = 0), on which B = q1 - t^2/q~ - (p-t)^2/(1-q~) vanishes: B is unchanged
    by the move, so the guess stays where the equations are defined even where the solution hugs B = 0 (small d
    around dense references). Models without the overlap t with other references (q~ = 0) move q1 and phat only."""
    p, p1 = old["p"], new["p"]
    out = dict(order, q1=order["q1"] - p * p + p1 * p1)
    if "t" in order:
        out["t"] = order["t"] - p * old["q_ref"] + p1 * new["q_ref"]
    if "phat" in order:
        out["phat"] = order["phat"] - math.atanh(p) + math.atanh(p1)
    return out


def fp_notes(params, order, obs):
    notes = []
    if obs["entropy"] > obs["upper_bound"] + 1e-9:
        notes.append("entropy above the upper bound: this saddle point is not the Franz-Parisi one")
    if obs["entropy"] < 0:
        notes.append("entropy < 0: no solutions at this distance from such references (they are isolated)")
    frozen = _freezing(params["d"], order["q1"])
    if frozen is not None:
        notes.append(f"1 - q1 = {frozen:.3g} d: the constrained solutions are freezing onto one "
                     "configuration; the RS curve ends where q1 reaches 1, at a finite d (docs/local_entropy.md)")
    return notes


def _freezing(d, q1):
    """(1 - q1)/d where it is below 1: the constrained solutions freezing onto one configuration (independent flips
    would give about 4); None otherwise."""
    ratio = (1 - q1) / d
    return ratio if ratio < 1 else None


def fp_branch_end(params, order):
    """Why the RS branch ends where a march towards smaller d stalled (None if the model cannot say): the
    constrained solutions freezing onto one configuration, 1 - q1 < d there and falling (docs/local_entropy.md)."""
    d = (1 - params["p"]) / 2
    frozen = _freezing(d, order["q1"])
    if frozen is None:
        return None
    return (f"the RS solution freezes before this distance: followed from larger d it stops at d = {d:.4g}, "
            f"where 1 - q1 = {frozen:.2g} d on the way to q1 = 1; below the freezing distance the RS equations "
            "have no solution with q1 < 1 (docs/local_entropy.md)")


def _slope(spec, order, params):
    """d phi_FP / d d at a solved point: -2 d phi / d p, the explicit derivative (the saddle point is stationary in
    the order parameters), on the model's quadrature doubled."""
    system = spec.system
    v = system.vector(order, spec.inputs_of(params))
    return -2.0 * float(system.call("obs_grad_0", v, spec.quadrature.doubled())[1 + system.index("p")])


class CurveFailed(Exception):
    pass


def _dip(spec, alpha, fixed, d_min, points):
    """The smallest slope of phi_FP(d) below the main peak, on d in [d_min, 0.8 d_typ] (d_typ = (1 - q~)/2, near
    where the curve peaks): negative iff the curve has a dip at small d. Grid of ``points`` geometric steps (a
    warm-started sweep), then Brent's method between the neighbours of the lowest grid slope. Returns (slope, d)."""
    from scipy.optimize import minimize_scalar

    params = spec.validate({**fixed, "alpha": alpha, "d": 0.25})
    d_hi = 0.8 * (1 - spec.inputs_of(params)["q_ref"]) / 2
    if not d_hi > d_min:
        raise CurveFailed(f"at alpha={alpha:g} the typical distance 0.8 (1-q~)/2 = {d_hi:.3g} is below d_min={d_min:g}")
    grid = np.geomspace(d_min, d_hi, points)
    # upwards from d_min, where curves around references with ref_kappa > kappa start (the alpha = 0 solution),
    # stopping at the first point that fails: a curve that cannot be followed costs one failure, not one per point
    df = sweep(spec.name, progress=False, until_failure=True, alpha=alpha, kappa=params["kappa"],
               ref_kappa=params["ref_kappa"], d=grid)
    if not df["converged"].to_numpy(bool).all():
        raise CurveFailed(f"Franz-Parisi point did not converge at alpha={alpha:g}, d={df['d'].iloc[-1]:g}")
    names = spec.system.order_names
    rows = df.to_dict("records")
    slopes = [_slope(spec, {n: r[n] for n in names}, {**params, "d": r["d"]}) for r in rows]
    k = int(np.argmin(slopes))
    if k in (0, points - 1):
        return slopes[k], float(grid[k])

    def slope(d):
        at = {**params, "d": float(d)}
        near = rows[int(np.argmin(np.abs(grid - d)))]  # warm start: the closest grid point, moved to d
        x0 = spec.follow({n: near[n] for n in names}, spec.inputs_of({**params, "d": near["d"]}),
                         spec.inputs_of(at))
        sol = spec.solve(at, x0=x0, strict=False)
        if not sol.converged:
            raise CurveFailed(f"Franz-Parisi point did not converge at alpha={alpha:g}, d={d:g}: {sol.status}")
        return _slope(spec, sol.order, at)

    best = minimize_scalar(slope, bounds=(grid[k - 1], grid[k + 1]), method="bounded", options={"xatol": 1e-4})
    if best.fun > slopes[k]:
        return slopes[k], float(grid[k])
    return float(best.fun), float(best.x)


# the curves onset works on: model name -> (dip, onset defaults), dip(spec, alpha, fixed params, d_min, points) ->
# (the smallest slope of the local-entropy curve at small d, where), negative iff the curve dips there; defaults:
# the fixed parameters, d_min and optionally alpha_range
CURVES = {}
NO_ONSET = {}  # model name -> why its curves have no onset here (and what to use instead)


# where the start fails at the path's beginning (around typical references at alpha >~ 0.68 the guess of _start is
# outside Newton's basin): the same point at a small load, near the alpha = 0 solution, continued up in alpha
FP_HOMOTOPY = ("alpha", 0.02, alpha0_start)

FP_ONSET = {"ref_kappa": "max", "kappa": 0.0, "d_min": 4e-3}


def binary_fp_spec(name, summary, build, storage, overlap_of=None, onset_defaults=None):
    """The Franz–Parisi model ``build`` (binary weights) around references solved by the storage model ``storage``
    (``ref_kappa='max'``: its maximal margin); ``overlap_of`` inverts the stabilities' kernel, if any (see
    :func:`_path_start`); ``onset_defaults`` overrides :data:`FP_ONSET` for :func:`onset` (``alpha_range``,
    ``d_min``)."""
    CURVES[name] = (_dip, {**FP_ONSET, **(onset_defaults or {})})
    return register(ModelSpec(
        name=name, summary=summary, build=build, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start,
        follow=follow_fp, notes=fp_notes, branch_end=fp_branch_end, path="p",
        path_start=lambda inputs: _path_start(inputs, overlap_of),
        user_params=_user_params("margin of the reference, or 'max' for kappa_max"),
        inputs=lambda p: _inputs(storage, p, binary=True), report=("q_ref", "qhat_ref"),
        special={"ref_kappa": {"max": lambda p: max_margin(storage.name, alpha=p["alpha"]).value}},
        quadrature=FP_QUADRATURE, max_nodes=512, direct=False, homotopy=FP_HOMOTOPY,
    ))


BINARY_FP = binary_fp_spec(
    "binary-perceptron-fp",
    "Franz-Parisi local entropy of the binary perceptron at distance d from a reference of margin ref_kappa",
    eq.binary_perceptron_fp, BINARY)
CURVES["spherical-perceptron-fp"] = (_dip, FP_ONSET)
SPHERICAL_FP = register(ModelSpec(
    name="spherical-perceptron-fp",
    summary="Franz-Parisi local entropy of the spherical perceptron at distance d from a reference of margin "
            "ref_kappa",
    build=eq.spherical_perceptron_fp, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start, follow=follow_fp,
    notes=fp_notes, branch_end=fp_branch_end,
    path="p", path_start=_path_start, user_params=_user_params("margin of the reference"),
    inputs=lambda p: _inputs(SPHERICAL, p, binary=False),
    report=("q_ref",),
    quadrature=FP_QUADRATURE, max_nodes=512, direct=False, homotopy=FP_HOMOTOPY,
))


def onset(model="binary-perceptron-fp", *, alpha_range=None, d_min=None, xtol=1e-3, points=12, **params):
    """The load alpha_onset at which a local-entropy curve first stops increasing in d at small d: below it the curve
    grows with d up to its main peak; above it a dip opens (a local maximum, then a local minimum) at d ~
    ``extra['d_dip']``.

    Models: the Franz–Parisi ones (``ref_kappa``, default ``'max'``: the maximal margin; ``kappa``, default 0) and the
    y -> infinity large deviations (``binary-perceptron-ld`` with ``y='inf'``). For each alpha the smallest slope of
    the curve on [d_min, 0.8 d_peak] is found (a warm-started march, then Brent's method); the onset is its sign change
    in ``alpha_range`` (default: the model's, else 0.4 to 0.9), located by Brent's root finder to ``xtol``. A dip
    below ``d_min`` (default: the model's) is not seen; where the dip at the onset lies at ``d_min`` itself, it may
    open further down, and the result has status ``unvouched`` (lower ``d_min``).

    Returns a :class:`~replica.results.Threshold` named ``alpha_onset``; status ``not_bracketed`` when the curve
    already dips at the lower end of ``alpha_range`` or does not dip at the upper end.
    """
    from scipy.optimize import brentq

    spec, params = resolve(model, params)
    if spec.name in NO_ONSET:
        raise ParameterError(f"onset: {NO_ONSET[spec.name]}")
    if spec.name not in CURVES:
        raise ParameterError(f"onset is defined for the Franz-Parisi models and binary-perceptron-ld with y='inf', "
                             f"not {model}")
    dip_of, defaults = CURVES[spec.name]
    params = {**{k: v for k, v in defaults.items() if k not in ("d_min", "alpha_range")}, **params}
    d_min = defaults["d_min"] if d_min is None else d_min
    lo, hi = (float(a) for a in (alpha_range or defaults.get("alpha_range", (0.4, 0.9))))
    if not 0 < lo < hi:
        raise ParameterError(f"alpha_range=({lo:g}, {hi:g}): need 0 < low < high")
    found = {}

    def dip(alpha):
        m, found[alpha] = dip_of(spec, alpha, params, d_min, points)
        return m

    record = {**params, "alpha_range": f"{lo:g}:{hi:g}", "d_min": d_min}
    top_asked = hi

    def top(hi):
        """The curve at the top of the bracket; where it does not converge (near the capacity the smallest distances
        stall), the top is lowered by a quarter of the bracket, up to four times."""
        for _ in range(4):
            try:
                return hi, dip(hi)
            except CurveFailed:
                hi -= (hi - lo) / 4
        return hi, dip(hi)

    try:
        m_lo = dip(lo)
        hi, m_hi = top(hi) if m_lo > 0 else (hi, None)
        if m_lo > 0 > m_hi:
            alpha = brentq(dip, lo, hi, xtol=xtol)
    except CurveFailed as e:
        return Threshold("alpha_onset", None, spec.name, record, False, "not_converged", message=str(e),
                         remedy="narrow alpha_range or raise d_min (the smallest distances need the most nodes)")
    if not (m_lo > 0 > m_hi):
        where = "already dips at" if m_lo <= 0 else "does not dip at"
        edge = lo if m_lo <= 0 else hi
        return Threshold("alpha_onset", None, spec.name, record, False, "not_bracketed",
                         message=f"the local-entropy curve {where} alpha={edge:g}",
                         remedy="widen alpha_range (or lower d_min if the dip lies at smaller d)")
    d_dip = found[min(found, key=lambda a: abs(a - alpha))]
    if d_dip <= d_min * (1 + 1e-9):
        return Threshold("alpha_onset", alpha, spec.name, record, False, "unvouched",
                         message=f"the dip opens at the smallest distance searched, d_min={d_min:g}: it may open "
                                 "further down, at a lower load", extra={"d_dip": d_dip},
                         remedy="lower d_min until the dip lies above it")
    lowered = f" (the curve at alpha={top_asked:g} did not converge: bracket top lowered to {hi:g})" \
        if hi < top_asked else ""
    return Threshold("alpha_onset", alpha, spec.name, record, True, "converged",
                     message=f"located to +-{xtol:g} in alpha{lowered}", extra={"d_dip": d_dip})
