r"""The perceptron's storage problem: spherical and binary weights, margin kappa (physics notes, perceptron §A, §B).

Conventions: Dz standard Gaussian measure, H(x) = erfc(x/sqrt 2)/2, G(x) = exp(-x^2/2)/sqrt(2 pi), entropies per weight
in nats, alpha = P/N, stability Delta = sigma W.xi/sqrt N, a solution has Delta >= kappa for every pattern.
Only free entropies and closed forms are written here; every derivative is taken by sympy.
"""
import sympy as sp

from .model import FreeEntropy, Symbol
from .vocabulary import E, G, H, log2cosh, logaddexp, logH

__all__ = ["spherical_perceptron", "binary_perceptron", "spherical_perceptron_1rsb_jamming",
           "alpha_c_spherical", "alpha_gd_binary", "entropic_spherical", "entropic_binary", "energetic",
           "energetic_replicon", "entropic_replicon_binary"]

q, qhat = sp.symbols("q qhat")
alpha, kappa = sp.symbols("alpha kappa")
z, omega = sp.symbols("z omega")

ALPHA = Symbol(alpha, sp.Interval(0, sp.oo), "load P/N")
KAPPA = Symbol(kappa, sp.S.Reals, "margin")
Q = Symbol(q, sp.Interval.Ropen(0, 1), "overlap between two solutions")
QHAT = Symbol(qhat, sp.Interval(0, sp.oo), "conjugate of q")


def stability_layer(q_, kappa_):
    """Where ln H((kappa - sqrt(q) z)/sqrt(1-q)) turns from -(kappa - sqrt(q) z)^2/(2(1-q)) to 0: a boundary layer of
    width sqrt((1-q)/q) around z = kappa/sqrt(q), thin as q -> 1 (the quadrature's ``layer`` hint; 8 widths out, the
    departure from the smooth sides, like H(8) ~ 6e-16, is below rounding)."""
    return kappa_ / sp.sqrt(q_), sp.sqrt((1 - q_) / q_)


def sign_layer(qhat_):
    """Where ln 2cosh(sqrt(qhat) z) turns from -sqrt(qhat) z to sqrt(qhat) z, around z = 0: the quadrature resolves
    8 widths on either side, and tanh(sqrt(qhat) z) approaches +-1 like exp(-2 sqrt(qhat) |z|), so the width is
    2.5/sqrt(qhat) (1 - tanh^2 is 4e-18 beyond the layer; with 1/sqrt(qhat) it would still be 1e-7, which the
    tail rule cannot resolve and which misplaces the Jacobian's small entries, d tanh^2/d qhat ~ 1/qhat^2)."""
    return 0, sp.Rational(5, 2) / sp.sqrt(qhat_)


def energetic(q_, kappa_):
    """int Dz ln H((kappa - sqrt(q) z)/sqrt(1-q)): the log-volume of one pattern's constraint (Gardner's G_E)."""
    return E(logH((kappa_ - sp.sqrt(q_) * z) / sp.sqrt(1 - q_)), z, layer=stability_layer(q_, kappa_))


def entropic_spherical(q_, qhat_):
    """-qhat (1-q)/2 + psi(qhat), psi(qhat) = [sqrt(1+4 qhat) - 1]/2 - ln[(1 + sqrt(1+4 qhat))/2]/2: the entropic
    term of spherical weights in conjugate form (extremized over qhat it is 1/2 [ln(1-q) + q/(1-q)])."""
    s = sp.sqrt(1 + 4 * qhat_)
    return -qhat_ * (1 - q_) / 2 + (s - 1) / 2 - sp.log((1 + s) / 2) / 2


def entropic_binary(q_, qhat_):
    """-qhat (1-q)/2 + int Dz ln 2cosh(sqrt(qhat) z): the entropic term of binary weights."""
    return -qhat_ * (1 - q_) / 2 + E(log2cosh(sp.sqrt(qhat_) * z), z, layer=sign_layer(qhat_))


def energetic_replicon(q_, kappa_, order=2):
    """E_z[(d^k/d omega^k ln H((kappa - omega)/sqrt(1-q)))^2] at omega = sqrt(q) z, k = ``order`` (derived by sympy):
    k = 2 is the energetic factor of the replicon eigenvalue."""
    derivative = sp.diff(logH((kappa_ - omega) / sp.sqrt(1 - q_)), omega, order)
    return E((derivative**2).subs(omega, sp.sqrt(q_) * z), z, layer=stability_layer(q_, kappa_))


def entropic_replicon_binary(qhat_):
    """E_z[(d^2/dh^2 ln 2cosh h)^2] at h = sqrt(qhat) z, i.e. E[(1 - tanh^2)^2]: the entropic factor of the replicon
    eigenvalue for binary weights (for spherical weights it is (1-q)^2)."""
    h = sp.Symbol("h")
    return E((sp.diff(log2cosh(h), h, 2) ** 2).subs(h, sp.sqrt(qhat_) * z), z, layer=sign_layer(qhat_))


def alpha_c_spherical(kappa_=kappa):
    r"""Gardner's RS capacity of the spherical perceptron [Gardner 1988]:
    alpha_c(kappa) = [int_{-kappa}^inf Dz (z+kappa)^2]^{-1} = 1/((1+kappa^2) H(-kappa) + kappa G(kappa))."""
    return 1 / ((1 + kappa_**2) * H(-kappa_) + kappa_ * G(kappa_))


def alpha_gd_binary(kappa_=kappa):
    r"""Gardner–Derrida's RS q -> 1 point of the binary perceptron: alpha_GD(kappa) = (2/pi) alpha_c^sph(kappa)
    (4/pi at kappa = 0). Not the capacity: the RS entropy is negative there (physics notes §B.4)."""
    return 2 / sp.pi * alpha_c_spherical(kappa_)


def spherical_perceptron():
    r"""Spherical perceptron (|W|^2 = N) with margin kappa, replica-symmetric [Gardner 1988; physics notes §A.2]:

        phi_RS = extr_q { 1/2 [ln(1-q) + q/(1-q)] + alpha int Dz ln H((kappa - sqrt(q) z)/sqrt(1-q)) }.

    Declared in conjugate form, phi = -qhat (1-q)/2 + psi(qhat) + alpha G_E(q), with
    psi(qhat) = [sqrt(1+4 qhat) - 1]/2 - ln[(1 + sqrt(1+4 qhat))/2]/2 the Legendre transform of the entropic term
    (extremizing over qhat gives back 1/2[ln(1-q) + q/(1-q)], and qhat = q/(1-q)^2: tested). The pairing q <-> qhat
    gives the classic fixed point q = 1 - 2/(1 + sqrt(1+4 qhat)), qhat = -2 alpha dG_E/dq.

    Observables: ``lambda_AT`` = alpha (1-q)^2 E_z[(d^2_omega ln H)^2], the replicon eigenvalue; RS is stable
    while it is below 1 (physics notes §A.4).
    """
    phi = entropic_spherical(q, qhat) + alpha * energetic(q, kappa)
    return FreeEntropy(
        name="spherical-perceptron",
        phi=phi,
        order=[Q, QHAT],
        params=[ALPHA, KAPPA],
        pairs={q: qhat},
        observables={"lambda_AT": alpha * (1 - q) ** 2 * energetic_replicon(q, kappa)},
    )


def binary_perceptron():
    r"""Binary (Ising) perceptron, W in {-1, +1}^N, margin kappa, replica-symmetric [Gardner–Derrida 1988;
    Krauth–Mézard 1989; physics notes §B.2]:

        s_RS = extr_{q, qhat} { -qhat (1-q)/2 + int Dz ln 2cosh(sqrt(qhat) z)
                                + alpha int Dz ln H((kappa - sqrt(q) z)/sqrt(1-q)) }.

    Observables: ``lambda_AT`` = alpha E_z[(1 - tanh^2 sqrt(qhat) z)^2] E_z[(d^2_omega ln H)^2], the replicon
    eigenvalue (entropic factor d^2 ln 2cosh/dh^2 = 1 - tanh^2, derived by sympy).
    """
    phi = entropic_binary(q, qhat) + alpha * energetic(q, kappa)
    return FreeEntropy(
        name="binary-perceptron",
        phi=phi,
        order=[Q, QHAT],
        params=[ALPHA, KAPPA],
        pairs={q: qhat},
        observables={"lambda_AT": alpha * entropic_replicon_binary(qhat) * energetic_replicon(q, kappa)},
    )


mu, q0 = sp.symbols("mu q0")


def spherical_perceptron_1rsb_jamming():
    r"""1RSB free entropy of the spherical perceptron at the SAT/UNSAT (jamming) point, kappa < 0 [physics notes §A.5].

    In the 1RSB free entropy take q1 -> 1, m -> 0 with mu = m/(1-q1) fixed; the coefficient of 1/(1-q1) is

        Phi(mu, q0) = 1/2 [q0/(1 + mu(1-q0)) + ln(1 + mu(1-q0))/mu]
                      + (alpha/mu) int Dz0 ln[ H(a/b) + exp(-mu a^2/(2c))/sqrt(c) (1 - H(a/(b sqrt c))) ],

    a = kappa - sqrt(q0) z0, b = sqrt(1-q0), c = 1 + mu b^2. The SAT/UNSAT line solves dPhi/dmu = dPhi/dq0 = 0 and
    Phi = 0 on the non-trivial branch (q0 < 1). The log of the sum is written as logaddexp of the two logarithms,
    1 - H(x) = H(-x), so that no term underflows. As kappa -> 0- the line approaches the RS capacity with q0 -> 1:
    the z0 integrand then turns in a layer of width sqrt((1-q0)/q0) around z0 = kappa/sqrt(q0), declared to the
    quadrature.
    """
    z0 = sp.Symbol("z0")
    a = kappa - sp.sqrt(q0) * z0
    b = sp.sqrt(1 - q0)
    c = 1 + mu * b**2
    inner = logaddexp(logH(a / b), -mu * a**2 / (2 * c) - sp.log(c) / 2 + logH(-a / (b * sp.sqrt(c))))
    phi = sp.Rational(1, 2) * (q0 / (1 + mu * (1 - q0)) + sp.log(1 + mu * (1 - q0)) / mu) \
        + alpha / mu * E(inner, z0, layer=stability_layer(q0, kappa))
    return FreeEntropy(
        name="spherical-perceptron-1rsb-jamming",
        phi=phi,
        order=[Symbol(mu, sp.Interval.open(0, sp.oo), "m/(1-q1)"),
               Symbol(q0, sp.Interval.Ropen(0, 1), "inter-state overlap")],
        params=[ALPHA, Symbol(kappa, sp.Interval.open(-sp.oo, 0), "margin (negative)")],
    )
