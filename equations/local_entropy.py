r"""Franz–Parisi local entropy of the perceptron around a reference solution (physics notes, perceptron §C).

A reference W~ is drawn uniformly among the solutions with margin kappa_ref (its RS overlap q_ref and conjugate
qhat_ref come from the storage problem at (alpha, kappa_ref) and enter here as parameters); one counts the solutions
W with margin kappa at overlap p = W.W~/N = 1 - 2d with it. Replica structure: n -> 0 reference replicas, s -> 0
constrained replicas attached to W~^1; t = W.W~^{b != 1}/N, q1 = W^c.W^{c'}/N.
"""
import sympy as sp

from .model import FreeEntropy, Symbol
from .vocabulary import E, E_trunc, log2cosh, logH

__all__ = ["binary_perceptron_fp", "spherical_perceptron_fp", "binary_entropy", "counted_stability"]

t, q1, phat, that, q1hat = sp.symbols("t q1 phat that q1hat")
alpha, kappa, kappa_ref, p, q_ref, qhat_ref = sp.symbols("alpha kappa kappa_ref p q_ref qhat_ref")
z0, z1, x = sp.symbols("z0 z1 x")

ALPHA = Symbol(alpha, sp.Interval(0, sp.oo), "load P/N")
KAPPA = Symbol(kappa, sp.S.Reals, "margin of the counted solutions")
KAPPA_REF = Symbol(kappa_ref, sp.S.Reals, "margin of the reference")
P = Symbol(p, sp.Interval.open(-1, 1), "overlap with the reference, p = 1 - 2d")
Q_REF = Symbol(q_ref, sp.Interval.Ropen(0, 1), "RS overlap of the references")
QHAT_REF = Symbol(qhat_ref, sp.Interval.open(0, sp.oo), "conjugate of q_ref")


def _energetic(kernel=None):
    r"""G_E = int Dz0 (1/H(x~)) int_{x > x~} Dx int Dz1 ln H((kappa - t/sqrt(q~) z0 - (p-t)/sqrt(1-q~) x
    - sqrt(B) z1)/sqrt(1-q1)), x~ = (kappa_ref - sqrt(q~) z0)/sqrt(1-q~), B = q1 - t^2/q~ - (p-t)^2/(1-q~):
    the reference's stability x conditioned on x > x~ (a truncated Gaussian average). With a ``kernel`` Q, the
    stabilities' correlations are Q of the overlaps: q~, p, t, q1 -> Q(q~), Q(p), Q(t), Q(q1).

    As d -> 0 (q1 -> 1) the x integrand is a boundary layer: u = (delta - c (x - x~) - sqrt(B) z1)/sqrt(1-q1) with
    c = (p-t)/sqrt(1-q~) and delta = kappa - t/sqrt(q~) z0 - c x~, so ln H(u) turns from about -u^2/2 to 0 where
    c (x - x~) crosses delta, over a width sqrt(1 - q1 + B)/c in x. That width (plus |delta|/c) is the truncated
    average's ``layer``: the rule resolves it however thin it gets."""
    qr, pp, tt, qq = (x if kernel is None else kernel(x) for x in (q_ref, p, t, q1))
    u, B = counted_stability(qr, pp, tt, qq)
    x_ref = (kappa_ref - sp.sqrt(qr) * z0) / sp.sqrt(1 - qr)
    c = (pp - tt) / sp.sqrt(1 - qr)
    delta = kappa - tt / sp.sqrt(qr) * z0 - c * x_ref
    layer = (sp.Abs(delta) + sp.sqrt(1 - qq + B)) / sp.Abs(c)
    return E(E_trunc(E(logH(u), z1), x, x_ref, layer), z0)


def counted_stability(qr=q_ref, pp=p, tt=t, qq=q1):
    """(u, B): the counted solution's margin excess in units of its own spread, u = (kappa - t/sqrt(q~) z0
    - (p-t)/sqrt(1-q~) x - sqrt(B) z1)/sqrt(1-q1), given the reference's fields sqrt(q~) z0 (shared) and
    sqrt(1-q~) x (its own), and B = q1 - t^2/q~ - (p-t)^2/(1-q~), the variance of the part of the counted
    solutions' common field that the reference does not explain."""
    B = qq - tt**2 / qr - (pp - tt) ** 2 / (1 - qr)
    u = (kappa - tt / sp.sqrt(qr) * z0 - (pp - tt) / sp.sqrt(1 - qr) * x - sp.sqrt(B) * z1) / sp.sqrt(1 - qq)
    return u, B


def binary_entropy(p_):
    """H2(d) = -d ln d - (1-d) ln(1-d) at d = (1 - p)/2: the log-number of binary configurations at overlap p with a
    given one (the upper bound of the binary local entropies)."""
    d = (1 - p_) / 2
    return -d * sp.log(d) - (1 - d) * sp.log(1 - d)


def binary_perceptron_fp(kernel=None, name="binary-perceptron-fp"):
    r"""Franz–Parisi local entropy, binary weights [Huang–Kabashima 2014; PRL 2021; physics notes §C.2]:

        phi_FP = extr_{t, q1, phat, that, q1hat} [ G_S + alpha G_E ],
        G_S = -phat p + that t - q1hat (1-q1)/2
              + int Dz0 (1 + tanh(sqrt(qhat~) z0)) int Dz1 ln 2cosh(that/sqrt(qhat~) z0
                                                   + sqrt(q1hat - that^2/qhat~) z1 + phat - that),

    G_E as in :func:`_energetic`. The weight 1 + tanh is twice the probability of W~_i = +1 after the gauge
    W~_i -> +1. Observable ``upper_bound`` = H2(d) = -d ln d - (1-d) ln(1-d), d = (1-p)/2: the log-number of
    configurations at distance d (the alpha = 0 value of phi_FP).

    A ``kernel`` Q maps the overlaps of the energetic term to the correlations of the stabilities (two-layer
    machines in the K -> infinity limit, :func:`replica.equations.committee.committee_fp`).
    """
    return FreeEntropy(
        name=name,
        phi=binary_fp_entropic() + alpha * _energetic(kernel),
        order=BINARY_FP_ORDER,
        params=[ALPHA, KAPPA, KAPPA_REF, P, Q_REF, QHAT_REF],
        pairs={t: that, q1: q1hat},
        observables={"upper_bound": binary_entropy(p)},
    )


def binary_fp_entropic():
    """G_S of the binary Franz–Parisi free entropy (binary references with overlap q~ and conjugate qhat~, whatever
    measure they are drawn from: it only enters G_E)."""
    h = that / sp.sqrt(qhat_ref) * z0 + sp.sqrt(q1hat - that**2 / qhat_ref) * z1 + phat - that
    return (-phat * p + that * t - q1hat * (1 - q1) / 2
            + E((1 + sp.tanh(sp.sqrt(qhat_ref) * z0)) * E(log2cosh(h), z1), z0))


BINARY_FP_ORDER = [Symbol(t, sp.Interval(-1, 1), "overlap with other references"),
                   Symbol(q1, sp.Interval.Ropen(0, 1), "overlap between constrained solutions"),
                   Symbol(phat, sp.S.Reals, "conjugate of p"), Symbol(that, sp.S.Reals, "conjugate of t"),
                   Symbol(q1hat, sp.Interval(0, sp.oo), "conjugate of q1")]


def spherical_perceptron_fp():
    r"""Franz–Parisi local entropy, spherical weights [physics notes §C.3]:

        phi_FP = extr_{t, q1} [ 1/2 (ln(1-q1) + (q1 - c)/(1-q1)) + alpha G_E ],
        c = [p^2 - t^2 - q~ (p-t)^2/(1-q~)]/(1-q~),

    the Schur complement of the replicated overlap matrix (n -> 0 before s -> 0). Observable ``upper_bound`` =
    1/2 ln(1 - p^2), the alpha = 0 value (the log-volume of the sphere at overlap p with a point).
    """
    c = (p**2 - t**2 - q_ref * (p - t) ** 2 / (1 - q_ref)) / (1 - q_ref)
    gs = (sp.log(1 - q1) + (q1 - c) / (1 - q1)) / 2
    return FreeEntropy(
        name="spherical-perceptron-fp",
        phi=gs + alpha * _energetic(),
        order=[Symbol(t, sp.Interval(-1, 1), "overlap with other references"),
               Symbol(q1, sp.Interval.Ropen(0, 1), "overlap between constrained solutions")],
        params=[ALPHA, KAPPA, KAPPA_REF, P, Q_REF],
        observables={"upper_bound": sp.log(1 - p**2) / 2},
    )
