"""Large-deviation (y-replica) local entropy of the binary perceptron; the free entropies live in
``replica.equations.large_deviation``.

User parameters: ``alpha``, ``kappa`` (margin of the replicas, default 0), ``y`` (replicas per reference, > 0, or
``'inf'`` for the densest references, the model ``binary-perceptron-ld-inf``) and ``d`` (distance of the replicas to
the reference, in (0, 1/2)). The reference is unconstrained.
"""
import math
from functools import lru_cache

import numpy as np
import sympy as sp

from replica.equations import large_deviation as eq
from replica.equations.model import Symbol
from replica.solvers.quadrature import Quadrature

from .errors import ConvergenceError
from .models import ModelSpec, get_model
from .onset import Onset
from .thresholds import Refusal

__all__ = ["BINARY_LD", "BINARY_LD_INF", "BINARY_LD_SOLUTION", "BINARY_LD_SOLUTION_INF", "plateau", "models"]


def _inputs(params):
    return {"alpha": params["alpha"], "kappa": params["kappa"], "y": params["y"], "S": 1 - 2 * params["d"]}


def _start(inputs):
    """Slightly inside the alpha = 0 solution (q1 = S^2, q0 = 0, conjugates 0, Shat = atanh S)."""
    s = inputs["S"]
    return {"q1": s * s + 0.01 * (1 - s * s), "q0": 0.01, "q1hat": 0.02, "q0hat": 0.01, "Shat": math.atanh(s)}


def _follow(order, old, new):
    """Keep the deviation from the alpha = 0 solution when S moves."""
    s, s1 = old["S"], new["S"]
    return dict(order, q1=order["q1"] - s * s + s1 * s1, Shat=order["Shat"] - math.atanh(s) + math.atanh(s1))


def _region_y(params):
    if params["y"] == 1:
        return ("y=1: with one replica per reference the overlap q1 between replicas of the same reference is "
                "undefined and its equation degenerate; F is continuous there: use y = 1 +- 1e-6 (for an "
                "unconstrained reference F(1) = s_RS + H2(d))")
    return None


def _bound_notes(obs):
    if obs["entropy"] > obs["upper_bound"] + 1e-9:
        return ["local entropy above the upper bound H2(d): this saddle point is unphysical"]
    return []


def _notes(params, order, obs):
    notes = _bound_notes(obs)
    if obs["complexity"] < 0:
        notes.append("complexity < 0: no references with this local entropy exist (the RS large-deviation "
                     "measure is dominated by fewer references than it assumes; increase d or lower y)")
    return notes


BINARY_LD = ModelSpec(
    name="binary-perceptron-ld",
    summary="large-deviation local entropy of the binary perceptron: y replicas at distance d from an unconstrained "
            "reference; entropy = dF/dy, complexity",
    build=eq.binary_perceptron_ld, defaults={"kappa": 0.0}, start=_start, guess=_follow, notes=_notes,
    region=_region_y,
    user_params=(
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0 (at alpha = 0, F = ln 2 + y H2(d))"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the replicas"),
        Symbol(sp.Symbol("y"), sp.Interval.open(0, sp.oo), "replicas per reference (large-deviation parameter), or "
               "'inf' for the densest references (binary-perceptron-ld-inf)"),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-S)/2"),
    ),
    inputs=_inputs,
    max_nodes=1024,  # two nested levels: 1024^2 nodes per evaluation at most
    limits={"y": {"inf": "binary-perceptron-ld-inf", "infinity": "binary-perceptron-ld-inf"}},
)


# ----- y -> infinity: the densest references ---------------------------------------------------------------------

@lru_cache(maxsize=256)
def plateau(alpha, kappa=0.0):
    """Where the y -> infinity curve meets the equilibrium: the RS storage solution (q, qhat, entropy s_RS) and the
    overlap S* = E|tanh(sqrt(qhat) z)| of a typical solution with the clipped centre of mass sign(<W>), the densest
    reference at distance d* = (1 - S*)/2. There the y -> infinity saddle point is the storage one (dq = dqhat =
    Shat = 0) and S_I = s_RS; for d >= d* some reference has all solutions at distance d, S_I = s_RS (a plateau)."""
    storage = get_model("binary-perceptron")
    rs = storage.solve(storage.check({"alpha": alpha, "kappa": kappa}))
    if not rs.converged:
        raise ConvergenceError(rs)
    g = math.sqrt(rs.qhat)
    from scipy.integrate import quad  # imported where used: importing replica does not need it

    s_star = 2 * quad(lambda z: math.exp(-z * z / 2) * math.tanh(g * z), 0, np.inf, epsabs=1e-15, epsrel=1e-13)[0]
    return {"q": rs.q, "qhat": rs.qhat, "entropy": rs.entropy, "S_star": s_star / math.sqrt(2 * math.pi)}


def _region_inf(params):
    from replica.perceptron import alpha_gd_binary

    agd = alpha_gd_binary(params["kappa"])
    if params["alpha"] >= agd:
        return (f"alpha={params['alpha']:g} is at or beyond alpha_GD(kappa={params['kappa']:g})={agd:.6g}: no RS "
                f"storage solution, no plateau; allowed: alpha < {agd:.6g}")
    edge = plateau(params["alpha"], params["kappa"])
    d_star = (1 - edge["S_star"]) / 2
    if params["d"] >= d_star:
        return (f"d={params['d']:g} is at or beyond d*={d_star:.6g}, where the densest references' local entropy is "
                f"the plateau s_RS={edge['entropy']:.6g} (alpha={params['alpha']:g}); allowed: d < d*")
    return None


START_OFFSET = 1e-3  # the start sits this far above S* (converges there at every alpha, kappa tried)


def _start_inf(inputs):
    """Just below d*: the storage solution with dq = dqhat = S - S*, Shat = sqrt(S - S*) (their orders there)."""
    edge = plateau(inputs["alpha"], inputs["kappa"])
    eps = max(inputs["S"] - edge["S_star"], 1e-9)
    return {"q": edge["q"], "dq": eps, "qhat": edge["qhat"], "dqhat": eps, "Shat": math.sqrt(eps)}


def _path_start_inf(inputs):
    return min(plateau(inputs["alpha"], inputs["kappa"])["S_star"] + START_OFFSET, inputs["S"])


def _vouch_inf(params, order, obs):
    if order["Shat"] < 0:
        return (f"Shat={order['Shat']:.3g} < 0: the y -> infinity formula holds for Shat >= 0 only (the dominant "
                f"reference sign); at alpha={params['alpha']:g} the curve from d* stops increasing before "
                f"d={params['d']:g} (alpha is above the onset, replica onset binary-perceptron-ld --y inf)")
    return None


def _notes_inf(params, order, obs):
    notes = _bound_notes(obs)
    if obs["complexity"] < 0:
        notes.append("complexity < 0: the RS large-deviation measure at y -> infinity counts more densest references "
                     "than exist; the physical curve is at the finite y* where the complexity vanishes "
                     "(binary-perceptron-ld at finite y)")
    return notes


BINARY_LD_INF = ModelSpec(
    name="binary-perceptron-ld-inf",
    summary="y -> infinity large deviations of the binary perceptron (also binary-perceptron-ld --y inf): local "
            "entropy of the densest references at distance d, and their complexity",
    build=eq.binary_perceptron_ld_inf, defaults={"kappa": 0.0}, start=_start_inf, region=_region_inf,
    notes=_notes_inf,
    user_params=(
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the replicas"),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-S)/2 < d*"),
    ),
    inputs=lambda p: {"alpha": p["alpha"], "kappa": p["kappa"], "S": 1 - 2 * p["d"]},
    path="S", path_start=_path_start_inf, direct=False, vouch=_vouch_inf,
    thresholds={"onset": Onset(slope=lambda spec, order, params: 2 * order["Shat"],
                               d_high=lambda spec, p: 0.8 * (1 - plateau(p["alpha"], p["kappa"])["S_star"]) / 2,
                               upward=False, defaults={"kappa": 0.0, "d_min": 0.01})},
)


# ----- reference constrained to be a solution (epsilon = 1), finite y -------------------------------------------

Y_START = 0.05  # the path in y starts here, from the Franz-Parisi solution (the y -> 0 limit)


def _region_margins(params):
    if params["kappa"] > params["ref_kappa"]:
        return (f"kappa={params['kappa']:g} exceeds ref_kappa={params['ref_kappa']:g}: the replicas cannot have a "
                "larger margin than the reference; allowed: kappa <= ref_kappa")
    return None


def _region_solution(params):
    return _region_margins(params) or _region_y(params)


def _inputs_solution_inf(params):
    return {"alpha": params["alpha"], "kappa": params["kappa"], "kappa_ref": params["ref_kappa"],
            "S": 1 - 2 * params["d"]}


def _inputs_solution(params):
    return {**_inputs_solution_inf(params), "y": params["y"]}


def _start_solution(inputs):
    """The y -> 0 limit: the references are the storage problem's typical solutions of margin kappa_ref (Q = q~,
    Qhat = qhat~) and each replica is a Franz-Parisi configuration around one of them (R = t, Rhat = that,
    Shat = phat, q1, q1hat); q0 -> R^2/Q and q0hat -> Rhat^2/Qhat, moved slightly inside."""
    S_ = inputs["S"]
    fp_model, storage = get_model("binary-perceptron-fp"), get_model("binary-perceptron")
    fp = fp_model.solve(fp_model.check({"alpha": inputs["alpha"], "kappa": inputs["kappa"],
                                        "ref_kappa": inputs["kappa_ref"], "d": (1 - S_) / 2}))
    ref = storage.solve(storage.check({"alpha": inputs["alpha"], "kappa": inputs["kappa_ref"]}))  # the references
    if not ref.converged:
        raise ConvergenceError(ref)
    Q_, Qh = ref.q, ref.qhat
    if fp.converged:
        t, th, q1_, q1h, sh = fp.t, fp.that, fp.q1, fp.q1hat, fp.phat
    else:  # a rough guess (the solve then reports its own status): W = S W~ + an independent part
        t, th, q1_, q1h, sh = S_ * Q_, 0.5 * Qh, S_ * S_ + (1 - S_ * S_) * Q_, Qh, math.atanh(S_)
    gap, gap_hat = q1_ - t * t / Q_, q1h - th * th / Qh
    return {"q1": q1_, "q0": t * t / Q_ + 0.05 * gap, "Q": Q_, "R": t, "q1hat": q1h,
            "q0hat": th * th / Qh + 0.05 * gap_hat, "Qhat": Qh, "Rhat": th, "Shat": sh}


BINARY_LD_SOLUTION = ModelSpec(
    name="binary-perceptron-ld-solution",
    summary="large-deviation local entropy of the binary perceptron with the reference constrained to be a solution "
            "of margin ref_kappa: y replicas at distance d; entropy = dF/dy, complexity",
    build=eq.binary_perceptron_ld_solution, defaults={"kappa": 0.0, "ref_kappa": 0.0}, start=_start_solution,
    notes=_notes, path="y", path_start=Y_START, direct=False, region=_region_solution,
    user_params=(
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the replicas"),
        Symbol(sp.Symbol("ref_kappa"), sp.S.Reals, "margin of the reference (a solution)"),
        Symbol(sp.Symbol("y"), sp.Interval.open(0, sp.oo), "replicas per reference (large-deviation parameter)"),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-S)/2"),
    ),
    inputs=_inputs_solution,
    quadrature=Quadrature(gauss=64, trunc=24, inner=16, inner_rule="hermite"),
    max_nodes=256,
    limits={"y": {"inf": "binary-perceptron-ld-solution-inf", "infinity": "binary-perceptron-ld-solution-inf"}},
)


# ----- reference constrained to be a solution (epsilon = 1), y -> infinity --------------------------------------

def _start_solution_inf(inputs):
    """From the unconstrained reference's y -> infinity solution at the same (alpha, kappa, S): q, dq, qhat, dqhat
    and shat = Shat, with the reference's field weak (W = 1e-3, rhat = 0.5 sqrt(W qhat)) and its overlaps soft
    (dQ = 3, dR = 0.85 sqrt(dQ dq)); Newton converges from there in about five steps (measured at alpha = 0.6 and
    0.75). Where the unconstrained solve fails, its own start (just inside d*)."""
    unconstrained = {"alpha": inputs["alpha"], "kappa": inputs["kappa"], "S": inputs["S"]}
    system = BINARY_LD_INF.system
    result, v = system.solve(system.vector(_start_inf(unconstrained), unconstrained), BINARY_LD_INF.quadrature,
                             method="newton")
    o = dict(zip(system.order_names, v)) if result.converged else _start_inf(unconstrained)
    w, dQ_ = 1e-3, 3.0
    return {"q": o["q"], "dq": o["dq"], "qhat": o["qhat"], "dqhat": o["dqhat"], "dQ": dQ_, "W": w,
            "dR": 0.85 * math.sqrt(dQ_ * o["dq"]), "rhat": 0.5 * math.sqrt(w * o["qhat"]), "shat": o["Shat"]}


def _path_start_solution_inf(inputs):
    """S at d = d*/2 (d* the unconstrained plateau edge): there the start converges in 5-11 Newton steps at every
    alpha tried in [0.45, 0.8] (at 0.8 d* or 0.3 d* it does not; below alpha = 0.45 no start tried converges)."""
    return min((1 + plateau(inputs["alpha"], inputs["kappa"])["S_star"]) / 2, inputs["S"])


W_INACTIVE = 1e-8  # below this W the reference's constraint changes nothing at the solver's tolerance


def _notes_solution_inf(params, order, obs):
    notes = _bound_notes(obs)
    if order["W"] < W_INACTIVE:
        notes.append(f"W={order['W']:.1e}: the reference's constraint is inactive here, the densest references of "
                     "binary-perceptron-ld --y inf are solutions, and this curve is that one")
    return notes


def _vouch_solution_inf(params, order, obs):
    if order["shat"] < 0:
        return (f"shat={order['shat']:.3g} < 0: the y -> infinity formula is written for shat >= 0 (where the "
                "replicas' field changes sign); below it is its analytic continuation, not the limit")
    return None


BINARY_LD_SOLUTION_INF = ModelSpec(
    name="binary-perceptron-ld-solution-inf",
    summary="y -> infinity large deviations of the binary perceptron with the reference constrained to be a solution "
            "(also binary-perceptron-ld-solution --y inf): local entropy of the densest solutions at distance d",
    build=eq.binary_perceptron_ld_solution_inf, defaults={"kappa": 0.0, "ref_kappa": 0.0},
    user_params=(
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the replicas"),
        Symbol(sp.Symbol("ref_kappa"), sp.S.Reals, "margin of the reference (a solution)"),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-S)/2"),
    ),
    inputs=_inputs_solution_inf, start=_start_solution_inf, path="S", path_start=_path_start_solution_inf,
    notes=_notes_solution_inf, vouch=_vouch_solution_inf, max_nodes=256, region=_region_margins,
    thresholds={"onset": Refusal(
        "with the reference constrained to be a solution the y -> infinity curve cannot be followed past its dip (the "
        "constraint's conjugate W underflows); there it coincides with the unconstrained one: use binary-perceptron-ld "
        "--y inf (docs/local_entropy.md)")},
)


def models():
    """The large-deviation models of the binary perceptron (the ``replica.models`` entry point)."""
    return [BINARY_LD, BINARY_LD_INF, BINARY_LD_SOLUTION, BINARY_LD_SOLUTION_INF]
