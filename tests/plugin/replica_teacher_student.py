r"""Gibbs learning of a spherical perceptron from a spherical perceptron teacher (Engel & Van den Broeck,
*Statistical Mechanics of Learning*, ch. 2): a model declared from outside ``replica``, as a plugin.

The student is drawn uniformly from the version space of P = alpha N examples labelled by the teacher. At the
replica-symmetric saddle point the overlap between two students equals the overlap R with the teacher, and

    s(R) = 1/2 ln(1 - R) + R/2 + 2 alpha int Dt H(-sqrt(R/(1-R)) t) ln H(-sqrt(R/(1-R)) t),

with generalization error eps = arccos(R)/pi. As alpha grows, R -> 1 and the integrand turns on a scale
sqrt((1-R)/R) around t = 0: the average declares that boundary layer, so the quadrature resolves it.
"""
import math

import sympy as sp
from replica.equations import E, FreeEntropy, H, Symbol, logH

from replica import ModelSpec

R, alpha, t = sp.symbols("R alpha t")


def gibbs_learning():
    x = sp.sqrt(R / (1 - R)) * t
    phi = sp.log(1 - R) / 2 + R / 2 + 2 * alpha * E(H(-x) * logH(-x), t, layer=(0, sp.sqrt((1 - R) / R)))
    return FreeEntropy(
        name="teacher-student-perceptron", phi=phi,
        order=[Symbol(R, sp.Interval.open(0, 1), "overlap of the student with the teacher")],
        params=[Symbol(alpha, sp.Interval.open(0, sp.oo), "load P/N")],
        observables={"error": sp.acos(R) / sp.pi},
    )


def start(p):
    """R from eps ~ 0.625/alpha at large alpha (eps = arccos(R)/pi), a small overlap at small alpha."""
    eps = min(0.4, 0.625 / p["alpha"])
    return {"R": max(0.05, math.cos(math.pi * eps))}


def models():
    return [ModelSpec(name="teacher-student-perceptron",
                      summary="Gibbs learning of a spherical perceptron from a teacher: overlap R, error (a plugin)",
                      build=gibbs_learning, start=start, path="alpha", path_start=0.5)]
