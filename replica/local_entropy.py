"""Franz–Parisi local-entropy models of the perceptron: the free entropies live in ``replica.equations.local_entropy``;
here the reference problem is solved and its overlap handed to them.

User parameters: ``alpha``, ``kappa`` (margin of the counted solutions, default 0), ``ref_kappa`` (margin of the
reference; for binary weights also ``"max"``, the maximal margin kappa_max(alpha) — for spherical weights the
references at the maximal margin have q~ = 1 and the RS formula degenerates), ``d`` (distance d = (1 - p)/2 to the
reference, in (0, 1/2)).
"""
import math
from functools import lru_cache, partial

import sympy as sp

from replica.equations import local_entropy as eq
from replica.equations.model import Symbol
from replica.solvers.quadrature import Quadrature

from .errors import ConvergenceError
from .models import NO_SOLUTIONS, Homotopy, ModelSpec
from .onset import Onset
from .perceptron import BINARY, SPHERICAL
from .thresholds import capacity, max_margin

__all__ = ["BINARY_FP", "SPHERICAL_FP", "binary_fp_spec", "follow_fp", "fp_notes", "fp_branch_end", "alpha0_start",
           "reference", "models"]


def _user_params(ref_doc):
    return (
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0 (at alpha = 0 phi_FP is the upper bound)"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the counted solutions"),
        Symbol(sp.Symbol("ref_kappa"), sp.S.Reals, ref_doc),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-p)/2"),
    )


ENTROPY_SLACK = 1e-9  # a reference at kappa_max has zero entropy up to this
MANIFOLD_EXPONENT = 4.0  # start where the alpha = 0 solution is exact up to about exp(-4)


@lru_cache(maxsize=4096)
def reference(storage_name, alpha, kappa):
    """The storage problem's RS solution at (alpha, kappa): the references' overlap (not strict: its status says
    whether it converged; None where no RS solution exists there)."""
    from .models import get_model

    storage = get_model(storage_name)
    params = storage.validate({"alpha": alpha, "kappa": kappa})
    if storage.outside(params):
        return None
    return storage.solve(params)


def _region(storage, binary):
    """Where no Franz–Parisi saddle point exists: counted solutions with a larger margin than the reference, or no
    references (the reference's margin above the maximal margin at this load)."""
    def region(p):
        if p["kappa"] > p["ref_kappa"]:
            return (f"kappa={p['kappa']:g} exceeds ref_kappa={p['ref_kappa']:g}: the counted solutions cannot have a "
                    "larger margin than the reference; allowed: kappa <= ref_kappa")
        ref = reference(storage.name, p["alpha"], p["ref_kappa"])
        if ref is None or (binary and ref.converged and ref.entropy < -ENTROPY_SLACK):
            why = "" if ref is None else f" (their RS entropy is {ref.entropy:.3g})"
            return (f"ref_kappa={p['ref_kappa']:g} is above the maximal margin at alpha={p['alpha']:g}: no reference "
                    f"solutions exist{why}; allowed: ref_kappa <= kappa_max(alpha), or 'max'")
        return None
    return region


def _inputs(storage, params, binary):
    """Solve the reference problem and map the user parameters to the free entropy's."""
    ref = reference(storage.name, params["alpha"], params["ref_kappa"])
    if not ref.converged:
        raise ConvergenceError(ref)
    out = {"alpha": params["alpha"], "kappa": params["kappa"], "kappa_ref": params["ref_kappa"],
           "p": 1 - 2 * params["d"], "q_ref": ref.q}
    if binary:
        out["qhat_ref"] = ref.qhat
    return out


def _kappa_max(storage):
    """The named value ``ref_kappa='max'``: kappa_max(alpha) of the storage model (cached per load)."""
    @lru_cache(maxsize=4096)
    def at(alpha):
        thr = max_margin(storage.name, alpha=alpha)
        if not thr.converged:
            raise ConvergenceError(thr)
        return thr.value

    return lambda p: at(p["alpha"])


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


def fp_notes(params, order, obs, binary=True):
    """The notes a Franz-Parisi solution carries: above the upper bound, freezing, and for ``binary`` weights a
    negative local entropy (fewer than one solution at that distance). For spherical weights the local entropy is
    the log of a volume fraction, negative at every d (as its bound 1/2 ln(1 - p^2) is), and says nothing about
    isolation."""
    notes = []
    if obs["entropy"] > obs["upper_bound"] + 1e-9:
        notes.append("entropy above the upper bound: this saddle point is not the Franz-Parisi one")
    if binary and obs["entropy"] < 0:
        notes.append(f"{NO_SOLUTIONS}: no solutions at this distance from such references (they are isolated)")
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


def fp_slope(spec, order, params):
    """d phi_FP / d d at a solved point: -2 d phi / d p, the explicit derivative (the saddle point is stationary in
    the order parameters), on the model's quadrature doubled."""
    system = spec.system
    v = system.vector(order, spec.inputs_of(params))
    return -2.0 * float(system.call("obs_grad_0", v, spec.quadrature.doubled())[1 + system.index("p")])


def _below_typical(spec, params):
    """0.8 (1 - q~)/2: below the typical distance, near where the curve peaks."""
    return 0.8 * (1 - spec.inputs_of(params)["q_ref"]) / 2


def _below_capacity(storage):
    """The default onset bracket: from 0.4 to 0.92 of the capacity at the counted margin (beyond the capacity
    kappa_max < kappa: no references; next to it the curves' smallest distances need minutes; the perceptron's onset
    lies at 0.875 of it at kappa = 0)."""
    def bracket(fixed):
        cap = capacity(storage.name, kappa=fixed["kappa"])
        return (0.4, 0.92 * cap.value) if cap.converged else (0.4, 0.75)
    return bracket


def fp_onset(storage, **defaults):
    """The ``onset`` threshold of a Franz–Parisi model around references of ``storage``: the curve followed up from
    d_min (where curves around references denser than the counted solutions start) to 0.8 (1 - q~)/2."""
    return Onset(slope=fp_slope, d_high=_below_typical, upward=True,
                 defaults={"ref_kappa": "max", "kappa": 0.0, "d_min": 4e-3, "alpha_range": _below_capacity(storage),
                           **defaults})


# where the start fails at the path's beginning (around typical references at alpha >~ 0.68 the guess of _start is
# outside Newton's basin): the same point at a small load, near the alpha = 0 solution, continued up in alpha
FP_HOMOTOPY = Homotopy("alpha", 0.02, alpha0_start)

# entropic z0: 128 trapezoid nodes (the reference's tanh weight has poles at +-i pi/(2 sqrt(qhat~)); 64 leave 1e-6
# in the roots); energetic z0 (the nest with the truncated level, smooth in z0): 48 give 1e-14; inner levels:
# 6 Gauss-Hermite nodes (smooth integrands: 12 move phi and the roots by 2e-10 at most; refined where they sharpen)
FP_QUADRATURE = Quadrature(gauss=128, nest=48, trunc=32, inner=6, inner_rule="hermite")


def binary_fp_spec(name, summary, build, storage, overlap_of=None, onset=None, hidden=False):
    """The Franz–Parisi model ``build`` (binary weights) around references solved by the storage model ``storage``
    (``ref_kappa='max'``: its maximal margin); ``overlap_of`` inverts the stabilities' kernel, if any (see
    ``_path_start``); ``onset`` overrides the defaults of its ``onset`` threshold (``alpha_range``, ``d_min``)."""
    return ModelSpec(
        name=name, summary=summary, build=build, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start,
        guess=follow_fp, notes=fp_notes, branch_end=fp_branch_end, path="p",
        path_start=lambda inputs: _path_start(inputs, overlap_of),
        user_params=_user_params("margin of the reference, or 'max' for kappa_max"),
        inputs=lambda p: _inputs(storage, p, binary=True), region=_region(storage, binary=True),
        report=("q_ref", "qhat_ref"), special={"ref_kappa": {"max": _kappa_max(storage)}},
        quadrature=FP_QUADRATURE, max_nodes=512, direct=False, homotopy=FP_HOMOTOPY,
        thresholds={"onset": fp_onset(storage, **(onset or {}))}, hidden=hidden,
    )


BINARY_FP = binary_fp_spec(
    "binary-perceptron-fp",
    "Franz-Parisi local entropy of the binary perceptron at distance d from a reference of margin ref_kappa",
    eq.binary_perceptron_fp, BINARY)
SPHERICAL_FP = ModelSpec(
    name="spherical-perceptron-fp",
    summary="Franz-Parisi local entropy of the spherical perceptron at distance d from a reference of margin "
            "ref_kappa",
    build=eq.spherical_perceptron_fp, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start, guess=follow_fp,
    notes=partial(fp_notes, binary=False), branch_end=fp_branch_end,
    path="p", path_start=_path_start, user_params=_user_params("margin of the reference"),
    inputs=lambda p: _inputs(SPHERICAL, p, binary=False), region=_region(SPHERICAL, binary=False),
    report=("q_ref",), quadrature=FP_QUADRATURE, max_nodes=512, direct=False, homotopy=FP_HOMOTOPY,
    thresholds={"onset": Onset(slope=fp_slope, d_high=_below_typical, upward=True,
                               defaults={"ref_kappa": 0.0, "kappa": 0.0, "d_min": 4e-3})},
)


def models():
    """The Franz–Parisi models of the perceptron (the ``replica.models`` entry point)."""
    return [BINARY_FP, SPHERICAL_FP]
