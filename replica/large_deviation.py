"""Large-deviation (y-replica) local entropy of the binary perceptron; the free entropy lives in
``replica.equations.large_deviation``.

User parameters: ``alpha``, ``kappa`` (margin of the replicas, default 0), ``y`` (replicas per reference, > 0) and ``d``
(distance of the replicas to the reference, in (0, 1/2)). The reference is unconstrained.
"""
import math

import sympy as sp

from replica.equations import large_deviation as eq
from replica.equations.model import Symbol

from .models import ModelSpec, register

__all__ = ["BINARY_LD"]


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


def _notes(params, order, obs):
    notes = []
    if obs["entropy"] > obs["upper_bound"] + 1e-9:
        notes.append("local entropy above the upper bound H2(d): this saddle point is unphysical")
    if obs["complexity"] < 0:
        notes.append("complexity < 0: no references with this local entropy exist (the RS large-deviation "
                     "measure is dominated by fewer references than it assumes; increase d or lower y)")
    return notes


BINARY_LD = register(ModelSpec(
    name="binary-perceptron-ld",
    summary="large-deviation local entropy of the binary perceptron: y replicas at distance d from an unconstrained "
            "reference; entropy = dF/dy, complexity",
    build=eq.binary_perceptron_ld, defaults={"kappa": 0.0}, start=_start, follow=_follow, notes=_notes,
    user_params=[
        Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0 (at alpha = 0, F = ln 2 + y H2(d))"),
        Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the replicas"),
        Symbol(sp.Symbol("y"), sp.Interval.open(0, sp.oo), "replicas per reference (large-deviation parameter)"),
        Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference, d = (1-S)/2"),
    ],
    inputs=_inputs,
    max_nodes=1024,  # two nested levels: 1024^2 nodes per evaluation at most
))
