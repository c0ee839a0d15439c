r"""Binary perceptron with the cross-entropy loss, and the Franz–Parisi local entropy around its Gibbs references
(physics notes, perceptron §F; PNAS 2020).

Loss per pattern, with the stability u = W.xi/sqrt(N) (label absorbed) and steepness gamma:

    f_gamma(u) = (1/(2 gamma)) ln(1 + exp(-2 gamma u)) = -u/2 + ln(2 cosh(gamma u)) / (2 gamma),

the logistic loss at inverse temperature 2 gamma rescaled by 1/(2 gamma): f -> max(0, -u) as gamma -> infinity (the
perceptron loss), and for continuous weights W -> lambda W is gamma -> lambda gamma. References are drawn from
P(W~) ∝ exp(-beta sum_mu f_gamma(u_mu)) over W~ in {-1, +1}^N; as beta -> infinity they are the loss minimizers.
"""
import sympy as sp

from .local_entropy import (
    BINARY_FP_ORDER,
    KAPPA,
    Q_REF,
    QHAT_REF,
    P,
    alpha,
    binary_entropy,
    binary_fp_entropic,
    kappa,
    p,
    q1,
    q1hat,
    q_ref,
    t,
    that,
    x,
    z0,
    z1,
)
from .model import FreeEntropy, Symbol
from .perceptron import entropic_binary
from .vocabulary import E, E_trunc, H, log2cosh, logH

__all__ = ["ce_loss", "binary_perceptron_ce", "binary_perceptron_ce_fp"]

q, qhat, beta, gamma, z = sp.symbols("q qhat beta gamma z")
BETA = Symbol(beta, sp.Interval(0, sp.oo), "inverse temperature of the reference measure exp(-beta L)")
GAMMA = Symbol(gamma, sp.Interval.open(0, sp.oo), "steepness of the cross-entropy loss")


def ce_loss(u):
    """f_gamma(u) = -u/2 + ln 2cosh(gamma u)/(2 gamma) (stable for any u)."""
    return -u / 2 + log2cosh(gamma * u) / (2 * gamma)


def _tilt(center, spread):
    """The Boltzmann weight exp(-beta f(center + spread x)) of the stability's free part x, divided by its value at
    x = 0 (an exact rescaling that cancels in every ratio and keeps the weight of order one)."""
    return sp.exp(-beta * (ce_loss(center + spread * x) - ce_loss(center)))


def binary_perceptron_ce():
    r"""RS free entropy of the cross-entropy Gibbs measure, binary weights [physics notes §F.3]:

        phi = extr_{q, qhat} [ -qhat (1-q)/2 + int Dz ln 2cosh(sqrt(qhat) z)
                               + alpha int Dz ln int Dx exp(-beta f_gamma(sqrt(q) z + sqrt(1-q) x)) ].

    Observables: ``loss`` = -(1/alpha) dphi/dbeta (mean loss per pattern), ``entropy`` = phi + beta alpha loss
    (log-number of references per weight), ``train_error`` (fraction of patterns with u < 0).
    """
    center, spread = sp.sqrt(q) * z, sp.sqrt(1 - q)
    w = _tilt(center, spread)
    energetic = E(-beta * ce_loss(center) + sp.log(E(w, x)), z)
    phi = entropic_binary(q, qhat) + alpha * energetic
    a = -center / spread  # u < 0 <=> x < a
    error = 1 - E(H(a) * E_trunc(w, x, a) / E(w, x), z)
    return FreeEntropy(
        name="binary-perceptron-ce",
        phi=phi,
        phi_name="free_entropy",
        order=[Symbol(q, sp.Interval.Ropen(0, 1), "overlap between references"),
               Symbol(qhat, sp.Interval(0, sp.oo), "conjugate of q")],
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"), BETA, GAMMA],
        pairs={q: qhat},
        observables={"loss": -sp.diff(phi, beta) / alpha, "entropy": phi - beta * sp.diff(phi, beta),
                     "train_error": error},
    )


def binary_perceptron_ce_fp():
    r"""Franz–Parisi local entropy of the solutions with margin kappa at overlap p with a cross-entropy reference
    [physics notes §F.3]: the binary FP free entropy of :func:`replica.equations.local_entropy.binary_perceptron_fp`
    with the reference's stability x averaged under the Boltzmann tilt instead of conditioned on x > x~,

        G_E = int Dz0 [ int Dx w(x) int Dz1 ln H(u) ] / int Dx w(x),
        w = exp(-beta f_gamma(sqrt(q~) z0 + sqrt(1-q~) x)),

    u as in the FP model. G_S is unchanged (the reference's measure enters through q~, qhat~ only).
    """
    B = q1 - t**2 / q_ref - (p - t) ** 2 / (1 - q_ref)
    u = (kappa - t / sp.sqrt(q_ref) * z0 - (p - t) / sp.sqrt(1 - q_ref) * x - sp.sqrt(B) * z1) / sp.sqrt(1 - q1)
    w = _tilt(sp.sqrt(q_ref) * z0, sp.sqrt(1 - q_ref)).subs(z, z0)
    energetic = E(E(w * E(logH(u), z1), x) / E(w, x), z0)
    return FreeEntropy(
        name="binary-perceptron-ce-fp",
        phi=binary_fp_entropic() + alpha * energetic,
        order=BINARY_FP_ORDER,
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"), KAPPA, P, Q_REF, QHAT_REF, BETA, GAMMA],
        pairs={t: that, q1: q1hat},
        observables={"upper_bound": binary_entropy(p)},
    )
