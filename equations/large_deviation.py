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
from .vocabulary import GH, AtMax, E, E_trunc, G, H, Max, Split, log2cosh, logaddexp, logH

__all__ = ["binary_perceptron_ld", "binary_perceptron_ld_inf", "binary_perceptron_ld_solution",
           "binary_perceptron_ld_solution_inf"]

q1, q0, q1hat, q0hat, Shat = sp.symbols("q1 q0 q1hat q0hat Shat")
alpha, kappa, y, S = sp.symbols("alpha kappa y S")
z, z0, z1, v, w = sp.symbols("z z0 z1 v w")
q, dq, qhat, dqhat = sp.symbols("q dq qhat dqhat")


def binary_perceptron_ld():
    r"""Large-deviation free entropy, binary weights, unconstrained reference [physics notes §D.2, epsilon = 0]:

        F = extr_{q1, q0, q1hat, q0hat, Shat} [ G_S + alpha G_E ],
        G_S = -(y q1hat/2)(1 + (y-1) q1) + y^2 q0hat q0/2 - y Shat S
              + int Dz ln sum_{W~ = +-1} int Dz1 [2 cosh(sqrt(q0hat) z + sqrt(q1hat - q0hat) z1 + Shat W~)]^y,
        G_E = int Dz0 ln int Dz1 H((kappa - sqrt(q0) z0 - sqrt(q1 - q0) z1)/sqrt(1 - q1))^y ,

    a 1RSB-like structure with Parisi parameter y. Each inner log-average is written as c + ln E e^{y f - c} with c
    near the exponent's largest value (ln 2cosh at z1 = 0; the quadratic-tail maximizer for ln H): an identity that
    keeps e^{y f} from overflowing or underflowing at large y. Observables: ``entropy`` = S_I = dF/dy (the local
    entropy), ``complexity`` = F - y S_I, ``upper_bound`` = H2(d) (the alpha = 0 local entropy). The free entropy F
    itself is ``free_entropy``. At alpha = 0, F = ln 2 + y H2(d); at y = 1, F = s_RS(alpha, kappa) + H2(d).
    """
    def inner(sign):  # ln int Dz1 [2 cosh(...)]^y, the replicas of one reference W~ = sign
        h0 = sp.sqrt(q0hat) * z + sign * Shat
        h = h0 + sp.sqrt(q1hat - q0hat) * z1
        return y * log2cosh(h0) + sp.log(E(sp.exp(y * (log2cosh(h) - log2cosh(h0))), z1))

    gs = (-y * q1hat / 2 * (1 + (y - 1) * q1) + y**2 * q0hat * q0 / 2 - y * Shat * S
          + E(logaddexp(inner(1), inner(-1)), z))
    u = (kappa - sp.sqrt(q0) * z0 - sp.sqrt(q1 - q0) * z1) / sp.sqrt(1 - q1)
    shift = y * logH((kappa - sp.sqrt(q0) * z0) / sp.sqrt(1 - q1 + y * (q1 - q0)))  # ~ max_z1 [y ln H(u) - z1^2/2]
    ge = E(shift + sp.log(E(sp.exp(y * logH(u) - shift), z1)), z0)
    return _large_deviation("binary-perceptron-ld", gs + alpha * ge, [], [])


def _large_deviation(name, phi, order, params):
    """The finite-y large-deviation free entropy ``name``: the replicas' order parameters (q1, q0, their conjugates,
    Shat) plus ``order``, the parameters alpha, kappa, y, S plus ``params``; observables the local entropy dF/dy,
    the complexity F - y dF/dy and the upper bound H2(d)."""
    local = sp.diff(phi, y)
    return FreeEntropy(
        name=name,
        phi=phi,
        phi_name="free_entropy",
        order=[Symbol(q1, sp.Interval.Ropen(0, 1), "overlap of replicas of the same reference"),
               Symbol(q0, sp.Interval.Ropen(0, 1), "overlap of replicas of different references"),
               Symbol(q1hat, sp.Interval(0, sp.oo), "conjugate of q1"),
               Symbol(q0hat, sp.Interval(0, sp.oo), "conjugate of q0"),
               Symbol(Shat, sp.S.Reals, "conjugate of S"), *order],
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"),
                Symbol(kappa, sp.S.Reals, "margin of the replicas"), *params,
                Symbol(y, sp.Interval.open(0, sp.oo), "number of replicas per reference (large-deviation parameter)"),
                Symbol(S, sp.Interval.open(-1, 1), "overlap with the reference, S = 1 - 2d")],
        pairs={q1: q1hat, q0: q0hat},
        observables={"entropy": local, "complexity": phi - y * local, "upper_bound": binary_entropy(S)},
    )


def _replicas_at_infinity(q_domain):
    """The replicas' order parameters of the y -> infinity limits: q (in ``q_domain``), dq, qhat, dqhat."""
    return [Symbol(q, q_domain, "overlap of replicas (of the same or different references)"),
            Symbol(dq, sp.Interval.open(0, sp.oo), "y (q1 - q0): the replicas' overlap gap, rescaled"),
            Symbol(qhat, sp.Interval.open(0, sp.oo), "conjugate of q"),
            Symbol(dqhat, sp.Interval.open(0, sp.oo), "y (q1hat - q0hat)")]


def binary_perceptron_ld_inf():
    r"""The y -> infinity limit of the large-deviation free entropy (unconstrained reference, derivation in
    docs/local_entropy.md): the local entropy of the densest references, S_I = lim F/y, and their complexity
    Sigma = lim (F - y dF/dy).

    Scaling: q0 = q, q1 = q + dq/y, q0hat = qhat, q1hat = qhat + dqhat/y. Rescaling z1 = sqrt(y) v, each average
    int Dz1 exp(y f) is a Laplace integral exp(y max_v f) / sqrt(-f''(v*)), and the sum over the reference's sign is
    dominated by the sign of the field. With L = ln 2cosh,

        S_I = extr [ -qhat (1-q)/2 - (qhat dq + q dqhat)/2 - Shat S
                     + E_{z>0} max_v ( -v^2/2 + L(sqrt(qhat) z + Shat + sqrt(dqhat) v) )
                     + alpha E_z0 max_v ( -v^2/2 + ln H(u) ) ],   u = (kappa - sqrt(q) z0 - sqrt(dq) v)/sqrt(1-q),

    and Sigma is the O(1) part of F at that saddle point: the Laplace prefactors, the O(1) terms of the y^2-scaled
    couplings and the 1/y shift of q1 in sqrt(1-q1):

        Sigma = -dqhat dq/2 - dqhat (1-q)/2 + qhat dq/2 - E_{z>0} ln(1 - dqhat sech^2 h*)/2
                + alpha E_z0 [ dq u* lnH'(u*)/(2(1-q)) - ln(1 - dq lnH''(u*)/(1-q))/2 ].

    The field h* = sqrt(qhat) z + Shat + sqrt(dqhat) v* is the maximizer's; E_{z>0} is E_z over |z|: the dominant
    reference sign is that of the field, which makes the entropic term even in z and, for Shat >= 0, a function of
    |sqrt(qhat) z| + Shat (Shat < 0 continues the formula analytically beyond where it holds). Since
    dS_I/dd = 2 Shat, the curve increases with d wherever the formula holds; Shat reaching 0 is where it would stop.
    At alpha -> 0 the limit is singular (qhat -> 0 while dq ~ y S^2 grows): there every reference is as dense, and
    Sigma jumps to ln 2.
    """
    h = sp.sqrt(qhat) * z + Shat + sp.sqrt(dqhat) * v
    f_s = -v**2 / 2 + log2cosh(h)
    u = (kappa - sp.sqrt(q) * z0 - sp.sqrt(dq) * v) / sp.sqrt(1 - q)
    f_e = -v**2 / 2 + logH(u)
    entropic, energetic = E_trunc(Max(f_s, v, sp.sqrt(dqhat)), z, 0), E(Max(f_e, v, 0), z0)
    phi = -qhat * (1 - q) / 2 - (qhat * dq + q * dqhat) / 2 - Shat * S + entropic + alpha * energetic
    d1, d2 = (sp.diff(logH(w), w, k).subs(w, u) for k in (1, 2))
    sech2 = 1 - sp.tanh(h) ** 2
    complexity = (-dqhat * dq / 2 - dqhat * (1 - q) / 2 + qhat * dq / 2
                  - E_trunc(AtMax(sp.log(1 - dqhat * sech2), f_s, v, sp.sqrt(dqhat)), z, 0) / 2
                  + alpha * E(AtMax(dq * u * d1 / (2 * (1 - q)) - sp.log(1 - dq * d2 / (1 - q)) / 2, f_e, v, 0), z0))
    return FreeEntropy(
        name="binary-perceptron-ld-inf",
        phi=phi,
        order=[*_replicas_at_infinity(sp.Interval.Ropen(0, 1)),
               Symbol(Shat, sp.S.Reals, "conjugate of S (the derivation holds for Shat >= 0)")],
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"),
                Symbol(kappa, sp.S.Reals, "margin of the replicas"),
                Symbol(S, sp.Interval.open(-1, 1), "overlap with the reference, S = 1 - 2d")],
        pairs={q: dqhat, dq: qhat},
        observables={"complexity": complexity, "upper_bound": binary_entropy(S)},
    )


Q, R, Qhat, Rhat, kappa_ref = sp.symbols("Q R Qhat Rhat kappa_ref")
zp, z0p, x = sp.symbols("zp z0p x")


def binary_perceptron_ld_solution():
    r"""Large-deviation free entropy with the reference constrained to be a solution of margin kappa_ref [physics
    notes §D.2, epsilon = 1]: F = lim (1/N) E ln sum_{W~} X_{kappa_ref}(W~) N_d(W~)^y. With it the references'
    overlap Q = W~^a.W~^b/N and a replica's overlap R = W^{ac}.W~^b/N with another reference keep their conjugates:

        F = extr [ G_S + alpha G_E ],
        G_S = -Qhat (1-Q)/2 - (y q1hat/2)(1 + (y-1) q1) + y^2 q0hat q0/2 - y Shat S + y Rhat R
              + int Dz Dz' ln sum_{W~=+-1} e^{sqrt(Qhat) z W~} int Dz1 [2cosh(h0 + sqrt(q1hat - q0hat) z1
                                                                          + (Shat - Rhat) W~)]^y,
              h0 = (Rhat/sqrt(Qhat)) z + sqrt(q0hat - Rhat^2/Qhat) z',
        G_E = int Dz0 Dz0' ln int Dx Theta(sqrt(Q) z0 + sqrt(1-Q) x - kappa_ref) int Dz1 H(u)^y,
              u = (kappa - (R/sqrt(Q)) z0 - sqrt(q0 - R^2/Q) z0' - (S-R)/sqrt(1-Q) x - sqrt(B) z1)/sqrt(1-q1),
              B = q1 - q0 - (S-R)^2/(1-Q),

    the x average truncated at the reference's threshold (ln of H(x~) times the conditioned average). The inner
    log-averages carry a shift c (ln E e^f = c + ln E e^{f-c}, exact for any c free of the averaged variables) near the
    exponent's largest value, as in :func:`binary_perceptron_ld`. As y -> 0, F -> s_RS(alpha, kappa_ref) and
    dF/dy -> the Franz-Parisi local entropy around typical references of margin kappa_ref (q0 -> R^2/Q,
    q0hat -> Rhat^2/Qhat; tested). Observables as in :func:`binary_perceptron_ld`.
    """
    h0 = Rhat / sp.sqrt(Qhat) * z + sp.sqrt(q0hat - Rhat**2 / Qhat) * zp

    def inner(sign):  # sign sqrt(Qhat) z + ln int Dz1 [2 cosh(...)]^y for the reference W~ = sign
        center = h0 + sign * (Shat - Rhat)
        h = center + sp.sqrt(q1hat - q0hat) * z1
        return (sign * sp.sqrt(Qhat) * z + y * log2cosh(center)
                + sp.log(E(sp.exp(y * (log2cosh(h) - log2cosh(center))), z1)))

    gs = (-Qhat * (1 - Q) / 2 - y * q1hat / 2 * (1 + (y - 1) * q1) + y**2 * q0hat * q0 / 2 - y * Shat * S
          + y * Rhat * R + E(E(logaddexp(inner(1), inner(-1)), zp), z))
    a = (kappa_ref - sp.sqrt(Q) * z0) / sp.sqrt(1 - Q)
    b = (S - R) / sp.sqrt(1 - Q)
    B = q1 - q0 - b**2
    mean = R / sp.sqrt(Q) * z0 + sp.sqrt(q0 - R**2 / Q) * z0p
    u = (kappa - mean - b * x - sp.sqrt(B) * z1) / sp.sqrt(1 - q1)
    # ~ max over x > a and z1 of y ln H(u) - z1^2/2, with x at its conditional mean
    shift = y * logH((kappa - mean - b * GH(a)) / sp.sqrt(1 - q1 + y * B))
    ge = E(E(logH(a) + shift + sp.log(E_trunc(E(sp.exp(y * logH(u) - shift), z1), x, a)), z0p), z0)
    return _large_deviation(
        "binary-perceptron-ld-solution", gs + alpha * ge,
        [Symbol(Q, sp.Interval.open(0, 1), "overlap of two references"),
         Symbol(R, sp.Interval.open(-1, 1), "overlap of a replica with another reference"),
         Symbol(Qhat, sp.Interval.open(0, sp.oo), "conjugate of Q"), Symbol(Rhat, sp.S.Reals, "conjugate of R")],
        [Symbol(kappa_ref, sp.S.Reals, "margin of the reference")])


dQ, Wh, dR, rhat, shat = sp.symbols("dQ W dR rhat shat")
t, zeta, eta, u = sp.symbols("t zeta eta u")


def binary_perceptron_ld_solution_inf():
    r"""The y -> infinity limit of the large-deviation free entropy with the reference constrained to be a solution of
    margin kappa_ref (derivation in docs/local_entropy.md): the local entropy of the densest references that are
    solutions, S_I = lim F/y.

    Scaling: q0 = q, q1 = q + dq/y, Q = 1 - dQ/y, R = S - dR/y; q0hat = qhat, q1hat = qhat + dqhat/y, Qhat = y^2 W,
    Rhat = y rhat, Shat = y rhat + shat. Rescaling the inner variables (x = sqrt(y) xi, z1 = sqrt(y) v), every average
    of an exponential in y becomes a maximum, and the reference's sign the larger of two:

        S_I = extr [ -W dQ/2 - rhat dR - shat S - qhat (1-q)/2 - (qhat dq + q dqhat)/2
                     + E_{z,z'} max_{s=+-1} ( sqrt(W) z s + M(h0 + shat s) )
                     + alpha E_{z0,z0'} max_{xi, v: z0 + sqrt(dQ) xi >= kappa_ref}
                         ( -xi^2/2 - v^2/2 + ln H((kappa - m - (dR/sqrt(dQ)) xi - b v)/sqrt(1-q)) ) ],

    M(h) = max_v [-v^2/2 + ln 2cosh(h + sqrt(dqhat) v)], h0 = (rhat/sqrt(W)) z + sqrt(qhat - rhat^2/W) z',
    m = S z0 + sqrt(q - S^2) z0', b^2 = dq - dR^2/dQ.

    Written for the compiler:
    - entropic: given h0 = sqrt(qhat) t, z is Gaussian (mean mu = rhat t/sqrt(W qhat), standard deviation
      s = sqrt(1 - rhat^2/(W qhat))) and the maximum over the sign is linear in z on either side of
      z* = (M_- - M_+)/(2 sqrt(W)): its z average is M_+ H(a) + M_- H(-a) + sqrt(W) (mu (H(a) - H(-a)) + 2 s G(a)),
      a = (z* - mu)/s. The result is even in t. M(h) = M(|h|) has a kink at h = 0 once dqhat > 1, so the t > 0 average
      is split at t_k = shat/sqrt(qhat) (where h0 - shat changes sign), and int_0^{t_k} Dt f is mapped onto a
      Gaussian average by t = t_k Phi(zeta). Each M is a smooth ascent from v = sqrt(dqhat), valid for h >= 0; the
      formula holds for shat >= 0 (shat < 0 continues it analytically).
    - energetic: the objective is jointly concave; its unconstrained maximum over (xi, v) is the epsilon = 0 one,
      M0(m) = max_t [-t^2/2 + ln H((kappa - m - sqrt(dq) t)/sqrt(1-q))], feasible when z0 >= k = kappa_ref -
      (dR/sqrt(dq)) t*(m); otherwise the maximum is on the boundary xi = (kappa_ref - z0)/sqrt(dQ). With m = sqrt(q)
      zeta and z0 = (S/sqrt(q)) zeta + sqrt(1 - S^2/q) eta the feasible part is M0 H(eta*), eta* the threshold in eta,
      and the boundary part a truncated average over eta < eta*.

    The complexity has no limit: a boundary maximum's Laplace prefactor gives F a term -(P/2) ln y, with P the
    probability that the reference's constraint binds, so Sigma = F - y dF/dy -> -infinity. Observables: ``slope``
    = dS_I/dd = -2 dS_I/dS (by the envelope theorem, the partial derivative at the saddle point) and ``upper_bound``
    = H2(d).
    """
    # entropic: even in t >= 0 (h0 = sqrt(qhat) t), split where h0 - shat changes sign
    def bracket(tt, minus_arg):
        h0 = sp.sqrt(qhat) * tt
        ascent = [Max(-v**2 / 2 + log2cosh(arg + sp.sqrt(dqhat) * v), v, sp.sqrt(dqhat)) for arg in (h0 + shat,
                                                                                                        minus_arg(h0))]
        m_plus, m_minus = ascent
        mu = rhat * tt / sp.sqrt(Wh * qhat)
        sd = sp.sqrt(1 - rhat**2 / (Wh * qhat))
        a = ((m_minus - m_plus) / (2 * sp.sqrt(Wh)) - mu) / sd
        return m_plus * H(a) + m_minus * H(-a) + sp.sqrt(Wh) * (mu * (H(a) - H(-a)) + 2 * sd * G(a))

    t_k = shat / sp.sqrt(qhat)
    tau = t_k * H(-zeta)  # maps the real line onto (0, t_k): int_0^{t_k} Dt f(t) = E_zeta[t_k G(tau) f(tau)]
    inside = E(t_k * G(tau) * bracket(tau, lambda h0: shat - h0), zeta)
    outside = H(t_k) * E_trunc(bracket(t, lambda h0: h0 - shat), t, t_k)
    entropic = 2 * (inside + outside)

    # energetic: m = sqrt(q) zeta, z0 = rho zeta + s0 eta
    m = sp.sqrt(q) * zeta
    f0 = -u**2 / 2 + logH((kappa - m - sp.sqrt(dq) * u) / sp.sqrt(1 - q))
    k_thr = kappa_ref - dR / sp.sqrt(dq) * AtMax(u, f0, u, 0)
    rho, s0 = S / sp.sqrt(q), sp.sqrt(1 - S**2 / q)
    # the constrained maximum meets the unconstrained one at eta*, in value and in every first derivative
    eta_star = Split((k_thr - rho * zeta) / s0)
    z0_ = rho * zeta + s0 * eta  # eta here is -eta, averaged over eta > -eta_star
    b = sp.sqrt(dq - dR**2 / dQ)
    boundary = -(kappa_ref - z0_)**2 / (2 * dQ) + Max(
        -v**2 / 2 + logH((kappa - m - dR / dQ * (kappa_ref - z0_) - b * v) / sp.sqrt(1 - q)), v, 0)
    energetic = E(Max(f0, u, 0) * H(eta_star) + H(-eta_star) * E_trunc(boundary.subs(eta, -eta), eta, -eta_star), zeta)
    phi = (-Wh * dQ / 2 - rhat * dR - shat * S - qhat * (1 - q) / 2 - (qhat * dq + q * dqhat) / 2
           + entropic + alpha * energetic)
    return FreeEntropy(
        name="binary-perceptron-ld-solution-inf",
        phi=phi,
        order=[*_replicas_at_infinity(sp.Interval.open(0, 1)),
               Symbol(dQ, sp.Interval.open(0, sp.oo), "y (1 - Q): the references' overlap gap, rescaled"),
               Symbol(Wh, sp.Interval.open(0, sp.oo), "Qhat / y^2"),
               Symbol(dR, sp.Interval.open(0, sp.oo), "y (S - R)"),
               Symbol(rhat, sp.S.Reals, "Rhat / y"),
               Symbol(shat, sp.S.Reals, "Shat - Rhat (the derivation holds for shat >= 0)")],
        params=[Symbol(alpha, sp.Interval(0, sp.oo), "load P/N"),
                Symbol(kappa, sp.S.Reals, "margin of the replicas"),
                Symbol(kappa_ref, sp.S.Reals, "margin of the reference (a solution)"),
                Symbol(S, sp.Interval.open(-1, 1), "overlap with the reference, S = 1 - 2d")],
        pairs={dQ: Wh, dR: rhat, q: dqhat, dq: qhat},
        observables={"slope": -2 * sp.diff(phi, S), "upper_bound": binary_entropy(S)},
    )
