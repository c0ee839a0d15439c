r"""Two-layer tree machines: the committee machine (sign or ReLU hidden units) and the parity machine (physics notes,
perceptron §E).

K hidden units, each with its own N/K inputs (disjoint receptive fields: a tree), preactivations
lambda_l = sqrt(K/N) W_l . xi_l, alpha = P/N with N the total number of weights. Outputs:

* committee, sign units, K odd: sign(sum_l sign(lambda_l)), the majority of the internal representation;
* committee, K -> infinity, activation g (sign or ReLU): sign(h - kappa), h = K^{-1/2} sum_l [g(lambda_l) - E g]/sd g,
  the centred, normalized output field (by the central limit theorem a Gaussian field; a margin kappa can be put on
  it). Balanced read-out weights c_l = +-1 instead of the centring give the same kernel Q (docs/committee.md);
* committee, ReLU units, finite K: sign(h - theta), the same centred field with an offset theta of the threshold
  (:func:`relu_sum_probabilities`);
* parity, K >= 2: prod_l sign(lambda_l).

Replica symmetry with the same overlap q = W_l^a . W_l^b K/N in every unit. The entropic term is the perceptron's
(binary or spherical weights); the energetic term is, for a finite tree with internal representations tau in
{-1, +1}^K,

    G_E = int prod_l Dz_l ln sum_{tau: out(tau) = +1} prod_l H(-tau_l sqrt(q/(1-q)) z_l),

written as a logsumexp over tau of sums of ln H (no product underflows near q = 1) and averaged over the K i.i.d.
z_l with the symmetric product rule (:class:`~replica.equations.vocabulary.IidAverage`). For K -> infinity the
output fields of two replicas are jointly Gaussian with correlation Q(q) (the kernel of the activation), and
G_E = int Dz ln H((kappa - sqrt(Q) z)/sqrt(1-Q)): the perceptron's with q -> Q(q).
"""
import itertools
import math

import sympy as sp

from .local_entropy import P, binary_entropy, binary_perceptron_fp
from .model import FreeEntropy, Symbol
from .perceptron import (
    ALPHA,
    KAPPA,
    QHAT,
    Q,
    energetic,
    energetic_replicon,
    entropic_binary,
    entropic_replicon_binary,
    entropic_spherical,
    q,
    qhat,
)
from .vocabulary import E, E_iid, E_trunc, H, gauss_integral, log2cosh, logH, logsumexp

__all__ = ["kernel", "KERNELS", "tree_machine", "committee_fp", "parity_fp"]

alpha, kappa = ALPHA.symbol, KAPPA.symbol


def _sign_kernel(x):
    """E[sign u sign v] for unit Gaussians with correlation x: (2/pi) arcsin x (mean 0, variance 1 already)."""
    return 2 / sp.pi * sp.asin(x)


def _relu_kernel(x):
    """Correlation of centred ReLU outputs: (E[g(u) g(v)] - (E g)^2)/Var g with E[g(u) g(v)] =
    [sqrt(1-x^2) + x (pi - arccos x)]/(2 pi), E g = 1/sqrt(2 pi), Var g = (pi-1)/(2 pi)."""
    return (sp.sqrt(1 - x**2) + x * (sp.pi - sp.acos(x)) - 1) / (sp.pi - 1)


KERNELS = {"sign": _sign_kernel, "relu": _relu_kernel}


def kernel(activation, x):
    """Q(x): the correlation of the K -> infinity output fields of two replicas whose hidden units have overlap x."""
    return KERNELS[activation](x)


def _out(machine, tau):
    return sum(tau) > 0 if machine == "committee" else math.prod(tau) > 0


def _log_output(machine, K, q_, zs):
    """ln P(out = +1) given the hidden fields' means sqrt(q) z_l and variance 1 - q: a logsumexp over the internal
    representations tau with out(tau) = +1."""
    a = sp.sqrt(q_ / (1 - q_))
    terms = [sum(logH(-t * a * z) for t, z in zip(tau, zs))
             for tau in itertools.product((1, -1), repeat=K) if _out(machine, tau)]
    return logsumexp(*terms) if len(terms) > 1 else terms[0]


def _energetic_finite(machine, K):
    zs = sp.symbols(f"z1:{K + 1}")
    return E_iid(_log_output(machine, K, q, zs), zs)


THETA = Symbol(sp.Symbol("theta"), sp.S.Reals, "offset of the ReLU committee's output threshold from the centred one, "
               "in units of the output field's standard deviation (0: centred)")
ACTIVATION_MEAN, ACTIVATION_SD = 1 / sp.sqrt(2 * sp.pi), sp.sqrt((sp.pi - 1) / (2 * sp.pi))  # of relu(lambda)


def relu_sum_probabilities(omegas, sigma, s):
    r"""(P(S <= s), P(S > s)) for S = sum_l relu(omega_l + sigma x_l), x_l i.i.d. standard Gaussians, s >= 0, as sums
    of positive terms (no cancellation). By recursion over the units, unit k being inactive (x_k < b_k = -omega_k/sigma,
    probability H(-b_k)), active below s (b_k < x_k < c_k = (s - omega_k)/sigma: the others then share
    s - omega_k - sigma x_k), or, for P(S > s), active above s (H(c_k)):

        F_k(s) = H(-b_k) F_{k-1}(s) + int_{b_k}^{c_k} Dx F_{k-1}(s - omega_k - sigma x),   F_1(s) = H(-c_1),
        G_k(s) = H(-b_k) G_{k-1}(s) + int_{b_k}^{c_k} Dx G_{k-1}(s - omega_k - sigma x) + H(c_k),   G_1(s) = H(c_1).

    Each integral is over an interval that ends at the kinks (where unit k switches on, and where the others' budget
    runs out), so its integrand is smooth: K - 1 nested Gauss–Legendre levels (:func:`gauss_integral`)."""
    def both(k, s):
        w = omegas[k - 1]
        b, c = -w / sigma, (s - w) / sigma
        if k == 1:
            return H(-c), H(c)
        x = sp.Symbol(f"x{k}")
        low, high = both(k - 1, s)
        low_in, high_in = both(k - 1, s - w - sigma * x)
        return (H(-b) * low + gauss_integral(low_in, x, b, c),
                H(-b) * high + gauss_integral(high_in, x, b, c) + H(c))

    return both(len(omegas), s)


def _energetic_relu(K, q_):
    r"""G_E of the finite-K ReLU committee: output sign(h - theta), h = K^{-1/2} sum_l [relu(lambda_l) - E relu]/sd, so
    the label +1 needs S = sum_l relu(lambda_l) > T = K E relu + theta sqrt(K) sd, the label -1 needs S <= T; labels
    are +-1 with probability 1/2 each, and the hidden fields are omega_l + sqrt(1-q) x_l, omega_l = sqrt(q) z_l:

        G_E = (1/2) E_z [ln P(S > T) + ln P(S <= T)]."""
    zs = sp.symbols(f"z1:{K + 1}")
    T = K * ACTIVATION_MEAN + THETA.symbol * sp.sqrt(K) * ACTIVATION_SD
    below, above = relu_sum_probabilities([sp.sqrt(q_) * z for z in zs], sp.sqrt(1 - q_), T)
    ge = (sp.log(above) + sp.log(below)) / 2
    ge = ge.replace(lambda e: isinstance(e, sp.log) and isinstance(e.args[0], H), lambda e: logH(e.args[0].args[0]))
    return E_iid(ge, zs)


def _replicon_finite(machine, K):
    r"""The energetic replicon factor of a finite tree: E_z ||d^2 ln P / d omega_l d omega_m||_F^2, the squared
    Hessian of ln P(out = +1) in the hidden fields' means omega_l = sqrt(q) z_l (variance 1 - q), summed over all
    l, m. Each unit's overlap q_ab^l fluctuates on its own (K units of N/K weights, alpha K constraints per unit), so
    the replicon is the largest eigenvalue of alpha K e M with M_lm = E[(d_l d_m ln P)^2]: by the symmetry of the tree
    the uniform mode, alpha e (K M_ll + K (K-1) M_lm), i.e. alpha e E||Hessian||_F^2 (e the entropic factor). K = 1:
    the perceptron's E[(d^2_omega ln H)^2]."""
    zs, ws = sp.symbols(f"z1:{K + 1}"), sp.symbols(f"omega1:{K + 1}")
    s = sp.sqrt(1 - q)
    ln_p = _log_output(machine, K, sp.Rational(1, 2), [w / s for w in ws])  # sqrt(q/(1-q)) z at q = 1/2 is z
    hessian = sum(sp.diff(ln_p, a, b) ** 2 for a in ws for b in ws)
    return E_iid(hessian.subs({w: sp.sqrt(q) * z for w, z in zip(ws, zs)}), zs)


def _replicon_kernel(Qq, kappa_):
    r"""The energetic replicon factor of the K -> infinity committee, whose output fields have covariance Q(q_ab):
    by the chain rule, Q'(q)^2 E[(d^2_omega ln H)^2] + Q''(q) E[(d_omega ln H)^2], with the perceptron's
    ln H((kappa - omega)/sqrt(1-Q)) at omega = sqrt(Q) z (the second term is the diagonal of the Hessian that the
    kernel's curvature adds: dG/dQ_ab = E[(d_omega ln H)^2])."""
    return (sp.diff(Qq, q) ** 2 * energetic_replicon(Qq, kappa_)
            + sp.diff(Qq, q, 2) * energetic_replicon(Qq, kappa_, order=1))


def tree_machine(machine, K, activation, weights, replicon=False):
    r"""The RS storage free entropy of a tree ``machine`` ('committee' or 'parity') with ``K`` hidden units (an integer,
    or ``math.inf`` for the committee's K -> infinity limit), ``activation`` ('sign' or 'relu') and
    ``weights`` ('binary' or 'spherical'):

        phi = G_S(q, qhat) + alpha G_E(q),

    G_S the perceptron's entropic term, G_E as in the module docstring. K = inf takes a margin ``kappa`` on the output
    field and reports the output overlap ``Q`` and ``lambda_AT``, the replicon eigenvalue: alpha times the entropic
    factor (binary: E[(1 - tanh^2)^2]; spherical: (1-q)^2) times the energetic one (:func:`_replicon_kernel`); RS is
    locally stable while it is below 1. A finite tree reports ``lambda_AT`` with ``replicon`` (its energetic factor,
    :func:`_replicon_finite`, is a K-dimensional average of a large expression: compiled only when asked for).
    """
    entropic = {"binary": entropic_binary, "spherical": entropic_spherical}[weights]
    params, observables = [ALPHA], {}
    entropic_replicon = entropic_replicon_binary(qhat) if weights == "binary" else (1 - q) ** 2
    if K == math.inf:
        Qq = kernel(activation, q)
        ge = energetic(Qq, kappa)
        params.append(KAPPA)
        observables.update(Q=Qq, lambda_AT=alpha * entropic_replicon * _replicon_kernel(Qq, kappa))
    elif activation == "relu":
        ge = _energetic_relu(K, q)
        params.append(THETA)
    else:
        ge = _energetic_finite(machine, K)
        if replicon:
            observables.update(lambda_AT=alpha * entropic_replicon * _replicon_finite(machine, K))
    label = "inf" if K == math.inf else str(K)
    name = f"{machine}-K{label}-{activation}-{weights}" if machine == "committee" else f"parity-K{label}-{weights}"
    return FreeEntropy(
        name=name + ("-replicon" if replicon and K != math.inf else ""),
        phi=entropic(q, qhat) + alpha * ge,
        order=[Q, QHAT],
        params=params,
        pairs={q: qhat},
        observables=observables,
    )


def committee_fp(activation):
    r"""Franz–Parisi local entropy of the K -> infinity committee machine with binary weights around a reference of
    output margin kappa_ref: the binary perceptron's (:func:`~replica.equations.local_entropy.binary_perceptron_fp`)
    with every overlap in the energetic term (q~, p, t, q1) replaced by its output correlation Q (the replicated
    output fields are jointly Gaussian with covariance Q applied entry by entry); the entropic term keeps the weights'
    overlaps."""
    return binary_perceptron_fp(kernel=KERNELS[activation], name=f"committee-Kinf-{activation}-binary-fp")


q1, phat, q1hat, p = sp.symbols("q1 phat q1hat p")


KAPPA_H = Symbol(sp.Symbol("kappa_h"), sp.Interval(0, sp.oo), "margin of the reference's hidden fields")


def parity_fp(K):
    r"""Franz–Parisi local entropy of the parity machine (binary weights, K >= 2 hidden units) around a reference whose
    hidden fields all have |x_l| > kappa_h (kappa_h = 0: a typical solution; kappa_h > 0: rarer references with margins
    on the hidden units). For alpha < 1 the RS reference problem has q~ = 0 (the output is odd in every hidden field,
    and flipping two hidden units' weights keeps every |x_l|), so the references are independent and, by that
    symmetry, the overlap t with the other references vanishes: only p (fixed), q1 and their conjugates remain,

        phi_FP = extr [ -phat p - q1hat (1-q1)/2 + int Dz ln 2cosh(sqrt(q1hat) z + phat) + alpha G_E ],
        G_E = E_{x_l > kappa_h} E_{z_l} ln sum_{tau: prod tau = +1} prod_l H(-tau_l mu_l / sqrt(1-q1)),

    mu_l = p x_l + sqrt(q1 - p^2) z_l the mean hidden field of the counted configuration (no margins) given the
    reference's field x_l; the reference's fields are independent Gaussians conditioned on |x_l| > kappa_h and the
    right parity, which the gauge x_l > kappa_h covers (the 2^(K-1) sign patterns of even parity all give the same
    value). A 2K-dimensional average, nested. At alpha = 0 phi_FP is H2(d); at p = 0 it is the storage entropy
    (1 - alpha) ln 2 of the counted configurations, for every kappa_h. The references themselves have the entropy
    (1 - alpha) ln 2 + alpha K ln(2 H(kappa_h)).
    """
    xs, zs = sp.symbols(f"x1:{K + 1}"), sp.symbols(f"z1:{K + 1}")
    B = q1 - p**2
    a = 1 / sp.sqrt(1 - q1)
    terms = [sum(logH(-t * a * (p * x + sp.sqrt(B) * z)) for t, x, z in zip(tau, xs, zs))
             for tau in itertools.product((1, -1), repeat=K) if math.prod(tau) > 0]
    ge = logsumexp(*terms)
    for z in reversed(zs):
        ge = E(ge, z)
    for x in reversed(xs):
        ge = E_trunc(ge, x, KAPPA_H.symbol)
    z = sp.Symbol("z")
    gs = -phat * p - q1hat * (1 - q1) / 2 + E(log2cosh(sp.sqrt(q1hat) * z + phat), z)
    return FreeEntropy(
        name=f"parity-K{K}-binary-fp",
        phi=gs + alpha * ge,
        order=[Symbol(q1, sp.Interval.Ropen(0, 1), "overlap between counted configurations"),
               Symbol(phat, sp.S.Reals, "conjugate of p"), Symbol(q1hat, sp.Interval(0, sp.oo), "conjugate of q1")],
        params=[ALPHA, P, KAPPA_H],
        pairs={q1: q1hat},
        observables={"upper_bound": binary_entropy(p)},
    )
