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
    counted_stability,
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
from .vocabulary import E, E_trunc, expit, log2cosh, logaddexp, logH

__all__ = ["ce_loss", "binary_perceptron_ce", "binary_perceptron_ce_fp"]

q, qhat, beta, gamma, z = sp.symbols("q qhat beta gamma z")
BETA = Symbol(beta, sp.Interval(0, sp.oo), "inverse temperature of the reference measure exp(-beta L)")
GAMMA = Symbol(gamma, sp.Interval.open(0, sp.oo), "steepness of the cross-entropy loss")


def ce_loss(u):
    """f_gamma(u) = -u/2 + ln 2cosh(gamma u)/(2 gamma) (stable for any u)."""
    return -u / 2 + log2cosh(gamma * u) / (2 * gamma)


def _tilted(center, spread, g=None):
    r"""The Boltzmann tilt exp(-beta f(u)) of the reference's stability u = center + spread x, x ~ N(0, 1), split
    at u = 0 into two truncated Gaussian averages with smooth integrands (exact for every beta):

        u > 0 (x > x0 = -center/spread):  H(x0) E_{x > x0}[ exp(-beta f(u)) g(x) ],
        u < 0:  exp(-beta f(u)) = exp(beta u + rho(u)), rho(u) = -(beta/2gamma) ln(1 + e^{2 gamma u}); the factor
                exp(beta spread x) shifts the Gaussian by beta spread, and with x = beta spread - x',
                exp(beta center + (beta spread)^2/2 + ln H(a)) E_{x' > a}[ exp(rho(u)) g(beta spread - x') ],
                a = beta spread - x0.

    A plain average would need its nodes to resolve the tilt's edge (width ~ 1/(beta spread)) and to reach the mass,
    which moves out to x ~ beta spread. Returns (ln of the u > 0 part, ln of the u < 0 part, the conditional average
    of ``g`` (a function of x) under the tilt, or None)."""
    x0 = -center / spread
    a = beta * spread - x0
    w_up = sp.exp(-beta * ce_loss(center + spread * x))
    w_low = sp.exp(-beta / (2 * gamma) * logaddexp(0, 2 * gamma * (center + spread * (beta * spread - x))))
    ln_up = logH(x0) + sp.log(E_trunc(w_up, x, x0))
    ln_low = beta * center + (beta * spread) ** 2 / 2 + logH(a) + sp.log(E_trunc(w_low, x, a))
    if g is None:
        return ln_up, ln_low, None
    low = expit(ln_low - ln_up)  # the tilted probability of u < 0
    mean = ((1 - low) * E_trunc(w_up * g, x, x0) / E_trunc(w_up, x, x0)
            + low * E_trunc(w_low * g.subs(x, beta * spread - x), x, a) / E_trunc(w_low, x, a))
    return ln_up, ln_low, mean


def binary_perceptron_ce():
    r"""RS free entropy of the cross-entropy Gibbs measure, binary weights [physics notes §F.3]:

        phi = extr_{q, qhat} [ -qhat (1-q)/2 + int Dz ln 2cosh(sqrt(qhat) z)
                               + alpha int Dz ln int Dx exp(-beta f_gamma(sqrt(q) z + sqrt(1-q) x)) ].

    Observables: ``loss`` = -(1/alpha) dphi/dbeta (mean loss per pattern), ``entropy`` = phi + beta alpha loss
    (log-number of references per weight), ``train_error`` (fraction of patterns with u < 0).
    """
    ln_up, ln_low, _ = _tilted(sp.sqrt(q) * z, sp.sqrt(1 - q))
    phi = entropic_binary(q, qhat) + alpha * E(logaddexp(ln_up, ln_low), z)
    error = E(expit(ln_low - ln_up), z)
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

    u as in the FP model; the x averages are written around the tilt's mode (split at u = 0: :func:`_tilted`).
    G_S is unchanged (the reference's measure enters through q~, qhat~ only).
    """
    u, _ = counted_stability()
    energetic = E(_tilted(sp.sqrt(q_ref) * z0, sp.sqrt(1 - q_ref), E(logH(u), z1))[2], z0)
    return FreeEntropy(
        name="binary-perceptron-ce-fp",
        phi=binary_fp_entropic() + alpha * energetic,
        order=BINARY_FP_ORDER,
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"), KAPPA, P, Q_REF, QHAT_REF, BETA, GAMMA],
        pairs={t: that, q1: q1hat},
        observables={"upper_bound": binary_entropy(p)},
    )
