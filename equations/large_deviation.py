r"""Large-deviation local entropy of the binary perceptron: y real replicas tied to one reference at distance d
(physics notes, perceptron §D).

    F(d, y) = lim (1/N) E ln sum_{W~} [ sum_W X_kappa(W) delta(W.W~ - N S) ]^y ,   S = 1 - 2d,

with the reference W~ in {-1, +1}^N unconstrained. From it, the local entropy of the dominant references
S_I = dF/dy (the typical number of solutions at distance d from them) and their log-number Sigma = F - y S_I
(the complexity); y -> infinity selects the densest regions.

Replica structure: n -> 0 references W~^a, each with y replicas W^{ac}; q1 = W^{ac}.W^{ac'}/N (same reference),
q0 = W^{ac}.W^{bc'}/N (different references), S = W^{ac}.W~^a/N (fixed). The overlaps between references, and of a
replica with another reference, have vanishing conjugates when the reference is unconstrained (nothing but the
distance constraint depends on them) and drop out.
"""
import sympy as sp

from .local_entropy import binary_entropy
from .model import FreeEntropy, Symbol
from .vocabulary import E, log2cosh, logaddexp, logH

__all__ = ["binary_perceptron_ld"]

q1, q0, q1hat, q0hat, Shat = sp.symbols("q1 q0 q1hat q0hat Shat")
alpha, kappa, y, S = sp.symbols("alpha kappa y S")
z, z0, z1 = sp.symbols("z z0 z1")


def binary_perceptron_ld():
    r"""Large-deviation free entropy, binary weights, unconstrained reference [physics notes §D.2, epsilon = 0]:

        F = extr_{q1, q0, q1hat, q0hat, Shat} [ G_S + alpha G_E ],
        G_S = -(y q1hat/2)(1 + (y-1) q1) + y^2 q0hat q0/2 - y Shat S
              + int Dz ln sum_{W~ = +-1} int Dz1 [2 cosh(sqrt(q0hat) z + sqrt(q1hat - q0hat) z1 + Shat W~)]^y,
        G_E = int Dz0 ln int Dz1 H((kappa - sqrt(q0) z0 - sqrt(q1 - q0) z1)/sqrt(1 - q1))^y ,

    a 1RSB-like structure with Parisi parameter y. Observables: ``entropy`` = S_I = dF/dy (the local entropy),
    ``complexity`` = F - y S_I, ``upper_bound`` = H2(d) (the alpha = 0 local entropy). The free entropy F itself is
    ``free_entropy``. At alpha = 0, F = ln 2 + y H2(d); at y = 1, F = s_RS(alpha, kappa) + H2(d).
    """
    def inner(sign):  # ln int Dz1 [2 cosh(...)]^y, the replicas of one reference W~ = sign
        h = sp.sqrt(q0hat) * z + sp.sqrt(q1hat - q0hat) * z1 + sign * Shat
        return sp.log(E(sp.exp(y * log2cosh(h)), z1))

    gs = (-y * q1hat / 2 * (1 + (y - 1) * q1) + y**2 * q0hat * q0 / 2 - y * Shat * S
          + E(logaddexp(inner(1), inner(-1)), z))
    u = (kappa - sp.sqrt(q0) * z0 - sp.sqrt(q1 - q0) * z1) / sp.sqrt(1 - q1)
    ge = E(sp.log(E(sp.exp(y * logH(u)), z1)), z0)
    phi = gs + alpha * ge
    local = sp.diff(phi, y)
    return FreeEntropy(
        name="binary-perceptron-ld",
        phi=phi,
        phi_name="free_entropy",
        order=[Symbol(q1, sp.Interval.Ropen(0, 1), "overlap of replicas of the same reference"),
               Symbol(q0, sp.Interval.Ropen(0, 1), "overlap of replicas of different references"),
               Symbol(q1hat, sp.Interval(0, sp.oo), "conjugate of q1"),
               Symbol(q0hat, sp.Interval(0, sp.oo), "conjugate of q0"),
               Symbol(Shat, sp.S.Reals, "conjugate of S")],
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"),
                Symbol(kappa, sp.S.Reals, "margin of the replicas"),
                Symbol(y, sp.Interval.open(0, sp.oo), "number of replicas per reference (large-deviation parameter)"),
                Symbol(S, sp.Interval.open(-1, 1), "overlap with the reference, S = 1 - 2d")],
        pairs={q1: q1hat, q0: q0hat},
        observables={"entropy": local, "complexity": phi - y * local, "upper_bound": binary_entropy(S)},
    )
