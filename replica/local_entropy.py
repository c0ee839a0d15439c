"""Franz–Parisi local-entropy models of the perceptron: the free entropies live in ``replica.equations.local_entropy``;
here the reference problem is solved and its overlap handed to them.

User parameters: ``alpha``, ``kappa`` (margin of the counted solutions, default 0), ``ref_kappa`` (margin of the
reference; for binary weights also ``"max"``, the maximal margin kappa_max(alpha) — for spherical weights the
references at the maximal margin have q~ = 1 and the RS formula degenerates), ``d`` (distance d = (1 - p)/2 to the
reference, in (0, 1/2)).
"""
import math

import sympy as sp

from replica.equations import local_entropy as eq
from replica.equations.model import Symbol
from replica.solvers.quadrature import Quadrature

from .errors import ParameterError
from .models import ModelSpec, register
from .perceptron import BINARY, SPHERICAL, max_margin

__all__ = ["BINARY_FP", "SPHERICAL_FP"]

def _user_params(ref_doc):
    return [
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0 (at alpha = 0 phi_FP is the upper bound)"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the counted solutions"),
        Symbol(sp.Symbol("ref_kappa"), sp.S.Reals, ref_doc),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-p)/2"),
    ]


ENTROPY_SLACK = 1e-9  # a reference at kappa_max has zero entropy up to this


def _inputs(storage, params):
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
    if storage is BINARY and ref.entropy < -ENTROPY_SLACK:  # spherical: alpha < alpha_c(ref_kappa) was checked
        raise ParameterError(f"ref_kappa={params['ref_kappa']:g} is above the maximal margin at alpha="
                             f"{params['alpha']:g}: no reference solutions exist (their RS entropy is "
                             f"{ref.entropy:.3g}); allowed: ref_kappa <= kappa_max(alpha), or 'max'")
    out = {"alpha": params["alpha"], "kappa": params["kappa"], "kappa_ref": params["ref_kappa"],
           "p": 1 - 2 * params["d"], "q_ref": ref.q}
    if storage is BINARY:
        out["qhat_ref"] = ref.qhat
    return out


MANIFOLD_EXPONENT = 4.0  # start where the alpha = 0 solution is exact up to about exp(-4)


def _start(inputs):
    """Where the counted margin is below the reference's (kappa < ref_kappa), the alpha = 0 solution t = p q~,
    q1 = p^2, phat = atanh p, that = q1hat = 0, moved slightly into the domain B > 0: near p = 1 the constraints of
    the counted solutions are exponentially inactive and it is the solution. Otherwise W = p W~ + (an independent
    part with the references' own overlap): t = p q~, q1 = p^2 + (1 - p^2) q~, conjugates near the reference's."""
    p, q = inputs["p"], inputs["q_ref"]
    below = inputs["kappa"] < inputs["kappa_ref"]
    eps = 1e-3 if below else 1.0
    start = {"t": p * q, "q1": p * p + eps * (1 - p * p) * q}
    if "qhat_ref" in inputs:
        qh = inputs["qhat_ref"]
        start.update(phat=math.atanh(p), that=0.0, q1hat=eps * qh) if below else start.update(
            phat=max(qh, math.atanh(p)), that=0.9 * qh, q1hat=qh)
    return start


def _path_start(inputs):
    """Where kappa < ref_kappa: a distance d0 so small that the alpha = 0 solution is close there, up to terms
    exp(-(ref_kappa - kappa)^2 / (8 d0)) = exp(-4) (the counted solutions' constraints are nearly inactive; much
    closer, the equations degenerate towards the boundary that = q1hat = 0), or the target itself if it is closer.
    Otherwise an overlap a quarter of the way from the typical point p = q~ towards the target side (1 or 0), where
    the start is reliable; the continuation never crosses the typical point, which lies on the boundary B = 0."""
    p, q, gap = inputs["p"], inputs["q_ref"], inputs["kappa_ref"] - inputs["kappa"]
    if gap > 0:
        d0 = max(gap * gap / (8 * MANIFOLD_EXPONENT), 1e-6)
        return max(p, 1 - 2 * d0)
    return q + 0.25 * (1 - q) if p >= q else 0.75 * q


def _follow(order, old, new):
    """A solution moved to new parameters keeping its deviation from the alpha = 0 solution (t = p q~, q1 = p^2,
    phat = atanh p, that = q1hat = 0), on which B = q1 - t^2/q~ - (p-t)^2/(1-q~) vanishes: B is unchanged by the move,
    so the guess stays where the equations are defined even where the solution hugs B = 0 (small d around dense
    references)."""
    p, q, p1, q1 = old["p"], old["q_ref"], new["p"], new["q_ref"]
    out = dict(order, t=order["t"] - p * q + p1 * q1, q1=order["q1"] - p * p + p1 * p1)
    if "phat" in order:
        out["phat"] = order["phat"] - math.atanh(p) + math.atanh(p1)
    return out


def _notes(params, order, obs):
    notes = []
    if obs["entropy"] > obs["upper_bound"] + 1e-9:
        notes.append("entropy above the upper bound: this saddle point is not the Franz-Parisi one")
    if obs["entropy"] < 0:
        notes.append("entropy < 0: no solutions at this distance from typical references (isolated)")
    return notes


BINARY_FP = register(ModelSpec(
    name="binary-perceptron-fp",
    summary="Franz-Parisi local entropy of the binary perceptron at distance d from a reference of margin ref_kappa",
    build=eq.binary_perceptron_fp, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start, follow=_follow,
    notes=_notes,
    path="p", path_start=_path_start, user_params=_user_params("margin of the reference, or 'max' for kappa_max"),
    inputs=lambda p: _inputs(BINARY, p),
    report=("q_ref", "qhat_ref"),
    special={"ref_kappa": {"max": lambda p: max_margin("binary-perceptron", alpha=p["alpha"]).value}},
    quadrature=Quadrature(gauss=128, trunc=32, inner=32), max_nodes=512, direct=False,
))
SPHERICAL_FP = register(ModelSpec(
    name="spherical-perceptron-fp",
    summary="Franz-Parisi local entropy of the spherical perceptron at distance d from a reference of margin "
            "ref_kappa",
    build=eq.spherical_perceptron_fp, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start, follow=_follow,
    notes=_notes,
    path="p", path_start=_path_start, user_params=_user_params("margin of the reference"),
    inputs=lambda p: _inputs(SPHERICAL, p),
    report=("q_ref",),
    quadrature=Quadrature(gauss=128, trunc=32, inner=32), max_nodes=512, direct=False,
))
