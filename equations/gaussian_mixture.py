r"""Two-cluster Gaussian mixture classified by a threshold-linear classifier (physics notes, gaussian_mixture §A–§C).

Data: x = y v/sqrt(N) + sqrt(Delta) z, with v, z ~ N(0, I_N), P(y = +1) = rho, alpha = P/N. Classifier:
sign(w.x/sqrt(N) + b). On a fresh point, w.x/sqrt(N) = y m + sqrt(Delta q) zeta with m = w.v/N and q = |w|^2/N,
so the generalization error of (w, b) is

    eps_g(m, q, b) = rho H((m + b)/sqrt(Delta q)) + (1 - rho) H((m - b)/sqrt(Delta q)).

Only free entropies (energies) and closed forms are written here; every derivative is taken by sympy.
"""
import sympy as sp

from .model import FreeEntropy, Symbol
from .vocabulary import AtMax, E, G, H, Max, logaddexp, logH

__all__ = ["gm_bayes", "gm_ridge", "gm_fixed_norm", "gm_logistic", "gm_hinge", "gm_flat", "gm_flat_distance",
           "gm_flat_inf", "gm_bo_local_entropy", "gm_ridge_local_entropy",
           "generalization_error", "bayes_bias"]

m, q, chi, mhat, qhat, chihat, A = sp.symbols("m q chi mhat qhat chihat A")
alpha, delta, rho, lam, norm = sp.symbols("alpha delta rho lam norm")

ALPHA = Symbol(alpha, sp.Interval.open(0, sp.oo), "samples per dimension P/N > 0")
DELTA = Symbol(delta, sp.Interval.open(0, sp.oo), "noise variance of each cluster, Delta > 0")
RHO = Symbol(rho, sp.Interval.open(0, 1), "fraction of labels y = +1, 0 < rho < 1")

# the square loss's optimal bias, and the bias part E_b = rho (1-m-b)^2 + (1-rho)(1-m+b)^2 of its averaged residual
# there: a shared bias enters only through E_b, so substituting its minimizer leaves the other equations unchanged
OPTIMAL_BIAS = (2 * rho - 1) * (1 - m)
E_B = 4 * rho * (1 - rho) * (1 - m) ** 2


def generalization_error(m_, q_, b_):
    """Test error of sign(w.x/sqrt N + b) with overlaps m = w.v/N and q = |w|^2/N (physics notes §A.2)."""
    s = sp.sqrt(delta * q_)
    return rho * H((m_ + b_) / s) + (1 - rho) * H((m_ - b_) / s)


def bayes_bias():
    """The Bayes-optimal bias b_BO = (Delta/2) ln(rho/(1-rho)) (physics notes §B.1)."""
    return delta / 2 * sp.log(rho / (1 - rho))


def bayes_error():
    """The Bayes-optimal test error eps_g(m, m, b_BO) at m = alpha/(alpha + Delta) (physics notes §B.1), in closed
    form: what an estimator's ``excess_error`` is measured from."""
    m_bo = alpha / (alpha + delta)
    return generalization_error(m_bo, m_bo, bayes_bias())


def gm_bayes():
    r"""Bayes-optimal classification (physics notes §B): the posterior of the cluster mean v given the labelled data,

        phi = extr_{q, qhat} [ -q qhat/2 + (qhat - ln(1 + qhat))/2 + alpha q/(2 Delta) ] ,

    a Gaussian prior channel psi(qhat) = (qhat - ln(1+qhat))/2 and a Gaussian output channel of signal-to-noise
    1/Delta per sample. Its state evolution is qhat = alpha/Delta, q = qhat/(1 + qhat) = alpha/(alpha + Delta): the
    posterior mean w has m = q (Nishimori). The Bayes-optimal classifier is threshold-linear with bias
    b_BO = (Delta/2) ln(rho/(1-rho)).

    Observables: ``error`` = eps_g(q, q, b_BO), ``bias`` = b_BO, ``oracle_error`` = eps_g at m = q = 1 (alpha ->
    infinity: v known), and ``phi``.
    """
    b = bayes_bias()
    phi = -q * qhat / 2 + (qhat - sp.log(1 + qhat)) / 2 + alpha * q / (2 * delta)
    return FreeEntropy(
        name="gm-bayes",
        phi=phi,
        phi_name="phi",
        order=[Symbol(q, sp.Interval.Ropen(0, 1), "overlap of the posterior mean with v (= its norm, Nishimori)"),
               Symbol(qhat, sp.Interval(0, sp.oo), "conjugate of q (signal-to-noise of the prior channel)")],
        params=[ALPHA, DELTA, RHO],
        pairs={q: qhat},
        observables={"error": generalization_error(q, q, b), "bias": b,
                     "oracle_error": generalization_error(1, 1, b)},
    )


def ridge_prior():
    """The prior term of zero-temperature ERM with the penalty (lam/2)|w|^2: the ridge proximal map averaged over
    mhat v + sqrt(qhat) xi, -chihat q/2 + qhat chi/2 + mhat m - (mhat^2 + qhat)/(2 (lam + chihat))."""
    return -chihat * q / 2 + qhat * chi / 2 + mhat * m - (mhat**2 + qhat) / (2 * (lam + chihat))


def gm_ridge():
    r"""Square-loss ERM with ridge penalty and a trained bias, zero temperature (physics notes §C.1):

        e = (1/N) min_{w, b} [ 1/2 sum_mu (y^mu - w.x^mu/sqrt(N) - b)^2 + (lam/2) |w|^2 ]
          = extr [ -chihat q/2 + qhat chi/2 + mhat m - (mhat^2 + qhat)/(2 (lam + chihat))
                   + alpha (4 rho (1-rho)(1-m)^2 + Delta q) / (2 (1 + Delta chi)) ] ,

    with m = w.v/N, q = |w|^2/N, chi the susceptibility. The prior term is the ridge proximal map averaged over
    mhat v + sqrt(qhat) xi; the output term is the Moreau envelope of the square loss at the field
    y m + b + sqrt(Delta q) xi with variance Delta chi, minimized over b at b = (2 rho - 1)(1 - m) (which turns
    rho (1-m-b)^2 + (1-rho)(1-m+b)^2 into 4 rho (1-rho)(1-m)^2; by the envelope theorem the other equations are
    unchanged). Stationarity reproduces the GaussMixtureProject equations (code conventions q_c = Delta q,
    V = Delta chi, Vhat = chihat/Delta).

    Observables: ``energy`` (e), ``b``, ``error`` = eps_g(m, q, b), ``excess_error`` = error - eps_BO,
    ``train_loss`` per sample (without the penalty), ``train_error`` (fraction of misclassified training points).
    """
    phi = ridge_prior() + alpha * _square_loss_output(q)
    return FreeEntropy(
        name="gm-ridge",
        phi=phi,
        phi_name="energy",
        order=[Symbol(m, sp.S.Reals, "overlap with the cluster mean, w.v/N"),
               Symbol(q, sp.Interval(0, sp.oo), "squared norm |w|^2/N"),
               Symbol(chi, sp.Interval.open(0, sp.oo), "susceptibility"),
               Symbol(mhat, sp.S.Reals, "conjugate of m"),
               Symbol(qhat, sp.Interval(0, sp.oo), "conjugate of chi"),
               Symbol(chihat, sp.Interval(0, sp.oo), "conjugate of q")],
        params=[ALPHA, DELTA, RHO, Symbol(lam, sp.Interval(0, sp.oo), "ridge penalty lambda >= 0")],
        pairs={m: mhat, q: chihat, chi: qhat},
        observables=_square_loss_observables(q),
    )


def _square_loss_output(q_):
    """The square loss's averaged Moreau envelope at norm q_, with the bias minimized: (E_b + Delta q)/(2(1 +
    Delta chi)), E_b = 4 rho (1-rho)(1-m)^2 (see :func:`gm_ridge`)."""
    return (E_B + delta * q_) / (2 * (1 + delta * chi))


def _square_loss_observables(q_):
    """The optimal bias, the test error, the training loss per sample and the training error of square-loss ERM at
    norm q_: a training point is misclassified when its proximal output has the wrong sign."""
    b = OPTIMAL_BIAS
    s = sp.sqrt(delta * q_)
    return {"b": b, "error": generalization_error(m, q_, b),
            "excess_error": generalization_error(m, q_, b) - bayes_error(),
            "train_loss": _square_loss_output(q_) / (1 + delta * chi),
            "train_error": rho * H((m + b + delta * chi) / s) + (1 - rho) * H((m - b + delta * chi) / s)}


def gm_fixed_norm():
    r"""Square-loss ERM with a trained bias on the sphere |w|^2 = N Q (``norm`` = Q), zero temperature:

        e = (1/N) min_{b, |w|^2 = N Q} 1/2 sum_mu (y^mu - w.x^mu/sqrt(N) - b)^2
          = extr [ -A Q/2 + qhat chi/2 + mhat m - (mhat^2 + qhat)/(2 A)
                   + alpha (4 rho (1-rho)(1-m)^2 + Delta Q) / (2 (1 + Delta chi)) ] .

    This is :func:`gm_ridge` with the penalty lam turned into the Lagrange multiplier of the norm: e = E_ridge(lam) -
    lam Q/2 at q = Q, where lam and chihat (the conjugate of q) enter only through their sum A = lam + chihat. The
    multiplier is the observable ``lam`` = A - alpha Delta/(1 + Delta chi) (chihat from the q equation of the
    ridge). It is negative for norms beyond the ridgeless minimizer's (alpha > 1), down to the edge of the
    spectrum -Delta (sqrt(alpha) - 1)^2 as Q -> infinity; for alpha < 1 the norms reach up to the min-norm
    interpolator's, beyond which zero-loss minimizers form a manifold. Observables as for :func:`gm_ridge`, plus
    ``lam``; the energy is alpha times the training loss (the penalty is not part of it).
    """
    phi = -A * norm / 2 + qhat * chi / 2 + mhat * m - (mhat**2 + qhat) / (2 * A) + alpha * _square_loss_output(norm)
    return FreeEntropy(
        name="gm-fixed-norm",
        phi=phi,
        phi_name="energy",
        order=[Symbol(m, sp.S.Reals, "overlap with the cluster mean, w.v/N"),
               Symbol(chi, sp.Interval.open(0, sp.oo), "susceptibility"),
               Symbol(mhat, sp.S.Reals, "conjugate of m"),
               Symbol(qhat, sp.Interval(0, sp.oo), "conjugate of chi"),
               Symbol(A, sp.Interval.open(0, sp.oo), "lam + chihat: the multiplier of the norm plus the conjugate "
                                                     "of q")],
        params=[ALPHA, DELTA, RHO, Symbol(norm, sp.Interval.open(0, sp.oo), "squared norm |w|^2/N > 0")],
        pairs={m: mhat, chi: qhat},
        observables={**_square_loss_observables(norm), "lam": A - alpha * delta / (1 + delta * chi)},
    )


def gm_logistic():
    r"""Logistic-loss ERM with ridge penalty and a trained bias, zero temperature (physics notes §C.1 with the square
    loss's Moreau envelope replaced by the logistic one; convex, so RS is exact):

        e = (1/N) min_{w, b} [ sum_mu l(y^mu (w.x^mu/sqrt(N) + b)) + (lam/2) |w|^2 ],   l(t) = ln(1 + e^{-t}),
          = extr [ -chihat q/2 + qhat chi/2 + mhat m - (mhat^2 + qhat)/(2 (lam + chihat))
                   + alpha sum_y rho_y int Dxi M_y(y m + b + sqrt(Delta q) xi) ],
        M_y(omega) = min_h [ (h - omega)^2 / (2 Delta chi) + l(y h) ]   (the Moreau envelope; ``Max`` compiles it),

    the prior term as in :func:`gm_ridge`, and b an order parameter (its equation dE/db = 0). Observables:
    ``energy`` (e), ``error`` = eps_g(m, q, b), ``train_loss`` per sample (the loss at the proximal point),
    ``train_error``: y h* < 0 exactly when y omega < -Delta chi / 2 (h* increases with omega and is 0 at
    omega = Delta chi y l'(0) = -y Delta chi/2), a Gaussian probability.
    """
    xi, h = sp.symbols("xi h")
    bias = _BIAS
    v = delta * chi
    output, train_loss = 0, 0
    for y, weight in ((1, rho), (-1, 1 - rho)):
        omega = y * m + bias + sp.sqrt(delta * q) * xi
        f = -(h - omega) ** 2 / (2 * v) - logaddexp(0, -y * h)  # -(the envelope's argument)
        output += weight * E(-Max(f, h, omega), xi)
        train_loss += weight * E(AtMax(logaddexp(0, -y * h), f, h, omega), xi)
    s = sp.sqrt(delta * q)
    return _convex_erm("gm-logistic", output, {
        "train_loss": train_loss,
        "train_error": rho * H((m + bias + v / 2) / s) + (1 - rho) * H((m - bias + v / 2) / s),
    })


def _convex_erm(name, output, observables):
    """Zero-temperature ERM with a convex loss, ridge penalty and a trained bias: the ridge prior term plus alpha
    times the loss's averaged Moreau envelope ``output``; the bias b is an order parameter. Observables: the test error
    and ``observables``."""
    return FreeEntropy(
        name=name,
        phi=ridge_prior() + alpha * output,
        phi_name="energy",
        order=[Symbol(m, sp.S.Reals, "overlap with the cluster mean, w.v/N"),
               Symbol(q, sp.Interval.open(0, sp.oo), "squared norm |w|^2/N"),
               Symbol(chi, sp.Interval.open(0, sp.oo), "susceptibility"),
               Symbol(mhat, sp.S.Reals, "conjugate of m"),
               Symbol(qhat, sp.Interval(0, sp.oo), "conjugate of chi"),
               Symbol(chihat, sp.Interval(0, sp.oo), "conjugate of q"),
               Symbol(_BIAS, sp.S.Reals, "trained bias")],
        params=[ALPHA, DELTA, RHO, Symbol(lam, sp.Interval.open(0, sp.oo), "ridge penalty lambda > 0")],
        pairs={m: mhat, q: chihat, chi: qhat},
        observables={"error": generalization_error(m, q, _BIAS),
                     "excess_error": generalization_error(m, q, _BIAS) - bayes_error(), **observables},
    )


_BIAS = sp.Symbol("b")


def gm_hinge():
    r"""Hinge-loss ERM (the soft-margin support vector machine) with ridge penalty and a trained bias, zero
    temperature; convex, so RS is exact:

        e = (1/N) min_{w, b} [ sum_mu max(0, 1 - y^mu (w.x^mu/sqrt(N) + b)) + (lam/2) |w|^2 ].

    As :func:`gm_logistic`, with the hinge's Moreau envelope at V = Delta chi in closed form: in the margin
    t = y omega, M(t) = min_s [(s - t)^2/(2V) + max(0, 1 - s)] is 0 for t >= 1, (1 - t)^2/(2V) for 1 - V <= t < 1
    and 1 - t - V/2 below. With t = mu + s xi, mu = m + y b, s = sqrt(Delta q), a = (1 - V - mu)/s, c = (1 - mu)/s:

        E M = (1 - mu - V/2)(1 - H(a)) + s G(a) + (s^2/(2V)) [(c^2 + 1)(H(a) - H(c)) + (a - 2c) G(a) + c G(c)].

    Observables: ``energy`` (e), ``error`` = eps_g(m, q, b), ``train_loss`` per sample (the hinge at the proximal
    point s* = t + V below 1 - V, else 0: (1 - mu - V)(1 - H(a)) + s G(a)), ``train_error`` (s* < 0, i.e.
    t < -V: H((mu + V)/s)) and ``support`` (the fraction of training points with y field <= 1 at the minimizer,
    t < 1: 1 - H(c)).
    """
    bias = _BIAS
    v = delta * chi
    s = sp.sqrt(delta * q)
    output, train_loss, train_error, support = 0, 0, 0, 0
    for y, weight in ((1, rho), (-1, 1 - rho)):
        mu = m + y * bias
        a, c = (1 - v - mu) / s, (1 - mu) / s
        linear = (1 - mu - v / 2) * (1 - H(a)) + s * G(a)
        quadratic = s**2 / (2 * v) * ((c**2 + 1) * (H(a) - H(c)) + (a - 2 * c) * G(a) + c * G(c))
        output += weight * (linear + quadratic)
        train_loss += weight * ((1 - mu - v) * (1 - H(a)) + s * G(a))
        train_error += weight * H((mu + v) / s)
        support += weight * (1 - H(c))
    return _convex_erm("gm-hinge", output, {"train_loss": train_loss, "train_error": train_error,
                                            "support": support})


def gm_flat():
    r"""The y-replica (robust-ensemble) version of square-loss ridge ERM, soft coupling [physics notes §C.2, D✓]:
    y replicas w^a at inverse temperature beta, each with the square loss and (lam/2)|w^a|^2, coupled by
    -(gamma/2) sum_a |w^a - w~|^2 to a centre w~ with a flat prior (integrating it out couples them to their centre
    of mass w_bar, as replicated SGD does). RS over copies of the whole system, per copy:

        phi = G_S + alpha G_E + (1/2) ln(2 pi/(y gamma)),
        G_S = (y/2) Qh Q - (y(y-1)/2) q1h q1 + (y^2/2) q0h q0 - y mh m + (y/2) ln 2pi - ((y-1)/2) ln A - (1/2) ln D
              + y (mh^2 + q0h)/(2 D),   A = Qh + q1h + beta lam + gamma,   D = Qh - (y-1) q1h + y q0h + beta lam,
        G_E = -((y-1)/2) ln u - (1/2) ln W - (y beta/2) F/W,   u = 1 + beta Delta (Q - q1),
              W = u + y beta Delta (q1 - q0),   F = rho (1-m-b)^2 + (1-rho)(1-m+b)^2 + Delta q0,

    with Q = |w^a|^2/N, q1 (same copy), q0 (different copies), m = w^a.v/N and a shared bias b, which minimizes F
    at b = (2 rho - 1)(1 - m) (substituted, as in :func:`gm_ridge`). Observables: the
    error of the centre of mass (|w_bar|^2/N = (Q + (y-1) q1)/y), of one replica, and the mean squared distance of
    the replicas to the centre d = (y-1)(Q-q1)/y + 1/(y gamma) = -(2/y) dphi/dgamma.
    """
    phi, order, params, pairs, observables = _flat()
    return FreeEntropy(name="gm-flat", phi=phi, phi_name="free_entropy", order=order,
                       params=params[:5] + [GAMMA] + params[5:], pairs=pairs, observables=observables)


def gm_flat_distance():
    r"""The y-replica square-loss ensemble of :func:`gm_flat` at a fixed replica-centre distance instead of a fixed
    coupling (physics notes §C.2, "fixed-distance ensemble"): the Legendre transform

        phi_d = extr_gamma [ phi(gamma) + y gamma d/2 ],

    whose gamma equation is d = -(2/y) dphi/dgamma: gamma becomes an order parameter (the multiplier of the distance
    constraint) and the distance ``d`` a parameter. Observables as in :func:`gm_flat`; phi_d is ``free_entropy``.
    """
    phi, order, params, pairs, observables = _flat()
    d = sp.Symbol("d")
    return FreeEntropy(
        name="gm-flat-distance", phi=phi + _y * GAMMA.symbol * d / 2, phi_name="free_entropy",
        order=order + [GAMMA], pairs=pairs, observables=observables,
        params=params + [Symbol(d, sp.Interval.open(0, sp.oo), "mean squared replica-centre distance per weight")])


_y = sp.Symbol("y")
GAMMA = Symbol(sp.Symbol("gamma"), sp.Interval.open(0, sp.oo), "coupling to the centre")


def _flat():
    """The free entropy of :func:`gm_flat` and its order parameters, parameters (without gamma), pairs and
    observables."""
    Q, q1, q0, Qh, q1h, q0h, mh, beta_ = sp.symbols("Q q1 q0 Qhat q1hat q0hat mhat beta")
    gamma_, y_ = GAMMA.symbol, _y
    A = Qh + q1h + beta_ * lam + gamma_
    D = Qh - (y_ - 1) * q1h + y_ * q0h + beta_ * lam
    gs = (y_ / 2 * Qh * Q - y_ * (y_ - 1) / 2 * q1h * q1 + y_**2 / 2 * q0h * q0 - y_ * mh * m
          + y_ / 2 * sp.log(2 * sp.pi) - (y_ - 1) / 2 * sp.log(A) - sp.log(D) / 2 + y_ * (mh**2 + q0h) / (2 * D))
    u = 1 + beta_ * delta * (Q - q1)
    W = u + y_ * beta_ * delta * (q1 - q0)
    bias = OPTIMAL_BIAS  # minimizes F over b, as in gm_ridge
    F = E_B + delta * q0
    ge = -(y_ - 1) / 2 * sp.log(u) - sp.log(W) / 2 - y_ * beta_ / 2 * F / W
    phi = gs + alpha * ge + sp.log(2 * sp.pi / (y_ * gamma_)) / 2
    order = [Symbol(Q, sp.Interval.open(0, sp.oo), "squared norm of a replica |w^a|^2/N"),
             Symbol(q1, sp.S.Reals, "overlap of two replicas of the same copy"),
             Symbol(q0, sp.S.Reals, "overlap of replicas of different copies"),
             Symbol(m, sp.S.Reals, "overlap with the cluster mean, w^a.v/N"),
             Symbol(Qh, sp.S.Reals, "conjugate of Q"), Symbol(q1h, sp.S.Reals, "conjugate of q1"),
             Symbol(q0h, sp.S.Reals, "conjugate of q0"), Symbol(mh, sp.S.Reals, "conjugate of m")]
    params = [ALPHA, DELTA, RHO, Symbol(lam, sp.Interval(0, sp.oo), "ridge penalty lambda >= 0"),
              Symbol(beta_, sp.Interval.open(0, sp.oo), "inverse temperature of the replicas"),
              Symbol(y_, sp.Interval.open(1, sp.oo), "number of replicas, > 1 (y = 1 is the Gibbs measure, where q1 "
                     "drops out; y = inf: gm-flat-inf, whose centre is the ridge minimizer)")]
    observables = {
        "error_center": generalization_error(m, (Q + (y_ - 1) * q1) / y_, bias),
        "error_replica": generalization_error(m, Q, bias),
        "distance": (y_ - 1) * (Q - q1) / y_ + 1 / (y_ * gamma_),
        "b": bias,
    }
    return phi, order, params, {Q: Qh, q1: q1h, q0: q0h, m: mh}, observables



def _square_lnz(mu, s2, beta_):
    """ln int Deps exp(-beta (1 - t)^2/2), t = mu + s eps: -ln(1 + beta s^2)/2 - beta (1-mu)^2/(2 (1 + beta s^2))."""
    return -sp.log(1 + beta_ * s2) / 2 - beta_ * (1 - mu) ** 2 / (2 * (1 + beta_ * s2))


def _hinge_lnz(mu, s2, beta_):
    """ln int Deps exp(-beta max(0, 1 - t)), t = mu + s eps: the part t >= 1 has weight H((1-mu)/s), the part t < 1
    exp(-beta (1-mu) + beta^2 s^2/2) H(beta s - (1-mu)/s) (completing the square), summed as a logaddexp of ln H's."""
    s = sp.sqrt(s2)
    return logaddexp(logH((1 - mu) / s), -beta_ * (1 - mu) + beta_**2 * s2 / 2 + logH(beta_ * s - (1 - mu) / s))


GIBBS_LNZ = {"square": _square_lnz, "hinge": _hinge_lnz}  # loss -> ln Z(mu, s^2, beta) of the margin's Gibbs weight


def gm_flat_inf(loss):
    r"""The y-replica ensemble of :func:`gm_flat` as y -> infinity (the robust ensemble's centre), for the ``loss``
    'square' or 'hinge': the centre maximizes the local free entropy ln int dw exp(-beta L(w) - (gamma/2)|w - w~|^2)
    (L the loss plus (lam/2)|w|^2), whose replicas keep q1 - q0 = dq/y and q1hat - q0hat = dqhat/y. Per replica:

        phi = Qh Q/2 + q0h q0/2 - (q0h dq + dqh q0)/2 - mh m + ln(2 pi)/2 - ln(A)/2 + (mh^2 + q0h)/(2 D)
              + alpha sum_y rho_y int Dzeta max_u [ ln Z(m + y b + sqrt(Delta) (sqrt(q0) zeta + sqrt(dq) u)) - u^2/2 ],
        A = Qh + q0h + beta lam + gamma,   D = A - gamma - dqh,
        Z(mu) = int Deps exp(-beta l(mu + sqrt(Delta (Q - q0)) eps))   (the margin's loss l, in closed form):
            square  l(t) = (1-t)^2/2:   ln Z = -ln(1 + beta s^2)/2 - beta (1-mu)^2/(2 (1 + beta s^2)),
            hinge   l(t) = max(0, 1-t): Z = H((1-mu)/s) + exp(-beta (1-mu) + beta^2 s^2/2) H(beta s - (1-mu)/s),
        s^2 = Delta (Q - q0).

    G_S is the y -> infinity limit of :func:`gm_flat`'s per copy divided by y (the centre's constant vanishes); the
    energetic term is its Laplace limit (physics notes §C.2, "Limits"). The bias b is shared and extremized. The
    centre has m = w~.v/N and |w~|^2/N = q0: ``error_center`` = eps_g(m, q0, b); one replica has |w|^2/N = Q:
    ``error_replica``; ``distance`` = Q - q0, the mean squared replica-centre distance per weight.

    For the square loss the centre is exactly the ridge minimizer at lam (its local free entropy is the ridge energy
    up to a constant): the check of this limit. For the hinge it is not, and beta, gamma move it.
    """
    Q, q0, dq, Qh, q0h, dqh, beta_ = sp.symbols("Q q0 dq Qhat q0hat dqhat beta")
    zeta, u, gamma_ = sp.Symbol("zeta"), sp.Symbol("u"), GAMMA.symbol
    A = Qh + q0h + beta_ * lam + gamma_
    D = A - gamma_ - dqh
    gs = (Qh * Q / 2 + q0h * q0 / 2 - (q0h * dq + dqh * q0) / 2 - mhat * m + sp.log(2 * sp.pi) / 2 - sp.log(A) / 2
          + (mhat**2 + q0h) / (2 * D))
    s2 = delta * (Q - q0)
    ge = 0
    for y, weight in ((1, rho), (-1, 1 - rho)):
        mu = m + y * _BIAS + sp.sqrt(delta) * (sp.sqrt(q0) * zeta + sp.sqrt(dq) * u)
        ge += weight * E(Max(GIBBS_LNZ[loss](mu, s2, beta_) - u**2 / 2, u, 0), zeta)
    name = {"square": "gm-flat-inf", "hinge": "gm-hinge-flat-inf"}[loss]
    return FreeEntropy(
        name=name, phi=gs + alpha * ge, phi_name="free_entropy",
        order=[Symbol(Q, sp.Interval.open(0, sp.oo), "squared norm of a replica |w^a|^2/N"),
               Symbol(q0, sp.Interval.open(0, sp.oo), "squared norm of the centre (the replicas' common overlap)"),
               Symbol(dq, sp.Interval.open(0, sp.oo), "y (q1 - q0): the replicas' spread around the centre, scaled"),
               Symbol(m, sp.S.Reals, "overlap with the cluster mean, w.v/N"),
               Symbol(Qh, sp.S.Reals, "conjugate of Q"), Symbol(q0h, sp.S.Reals, "conjugate of dq"),
               Symbol(dqh, sp.S.Reals, "y (q1hat - q0hat), conjugate of q0"),
               Symbol(mhat, sp.S.Reals, "conjugate of m"),
               Symbol(_BIAS, sp.S.Reals, "shared bias")],
        params=[ALPHA, DELTA, RHO,
                Symbol(lam, sp.Interval(0, sp.oo) if loss == "square" else sp.Interval.open(0, sp.oo),
                       "ridge penalty lambda" + (" >= 0" if loss == "square" else " > 0")),
                Symbol(beta_, sp.Interval.open(0, sp.oo), "inverse temperature of the replicas"), GAMMA],
        pairs={Q: Qh, q0: dqh, dq: q0h, m: mhat},
        observables={"error_center": generalization_error(m, q0, _BIAS),
                     "error_replica": generalization_error(m, Q, _BIAS), "distance": Q - q0},
    )


beta, b, p, r = sp.symbols("beta b p r")
m_ref, q_ref, chi_ref, b_ref = sp.symbols("m_ref q_ref chi_ref b_ref")
_zeta = sp.Symbol("zeta")


def _cap_entropy(projection):
    """The entropic term of spherical configurations (|w|^2 = N) with overlap q between replicas whose squared
    projection on the fixed vectors (the cluster mean, the reference) is ``projection``: 1/2 ln(1-q) +
    (q - projection)/(2(1-q)), the log-fraction of the sphere (the n -> 0 limit of 1/2 ln det of the overlaps
    conditioned on the fixed vectors)."""
    return sp.log(1 - q) / 2 + (q - projection) / (2 * (1 - q))


def _error_count(shift, variance):
    """sum_y rho_y int Dzeta ln( H(-X_y) + e^{-beta} H(X_y) ), X_y = (m + y b + shift(y) + sqrt(Delta variance)
    zeta)/sqrt(Delta (1-q)): the error-counting loss at inverse temperature beta averaged over a training field of
    mean m + y b + shift(y) (in the margin) and variance Delta variance common to the counted replicas.
    ln(H(-X) + e^{-beta} H(X)) is written as a logaddexp of ln H's: finite at beta = 0 (where it vanishes) and for
    any large beta."""
    out = 0
    for y, weight in ((1, rho), (-1, 1 - rho)):
        X = (m + y * b + shift(y) + sp.sqrt(delta * variance) * _zeta) / sp.sqrt(delta * (1 - q))
        out += weight * E(logaddexp(logH(-X), -beta + logH(X)), _zeta)
    return out


def _local_entropy(name, phi, reference, inputs=(), observables=None):
    """A Franz–Parisi local entropy of the error-counting loss on the sphere: order parameters q, m and the overlap
    constraint's response r, the reference's ``inputs`` after p; observables ``upper_bound`` (the cap
    1/2 ln(1-p^2)), ``train_error`` (-dPhi/dbeta/alpha), ``error`` (eps_g(m, 1, b) of one configuration) and
    ``observables``."""
    return FreeEntropy(
        name=name,
        phi=phi,
        order=[Symbol(q, sp.Interval.Ropen(0, 1), "overlap between two counted configurations"),
               Symbol(m, sp.Interval.open(-1, 1), "overlap with the cluster mean, w.v/N"),
               Symbol(r, sp.S.Reals, "response to the overlap constraint (p at beta = 0, 0 at the typical overlap)")],
        params=[ALPHA, DELTA, RHO, Symbol(beta, sp.Interval(0, sp.oo), "inverse temperature of the error count"),
                Symbol(b, sp.S.Reals, "bias of the classifier (fixed)"),
                Symbol(p, sp.Interval.open(-1, 1), f"overlap with the {reference}, p = 1 - 2d"), *inputs],
        observables={"upper_bound": sp.log(1 - p**2) / 2,
                     "train_error": -sp.diff(phi, beta) / alpha,
                     "error": generalization_error(m, 1, b), **(observables or {})},
    )


def _projection(direction):
    """The squared projection P of a counted configuration on the cluster mean and the reference (s -> 0 reference
    replicas), for a reference whose normalized overlap with the cluster mean is ``direction``:
    P = m^2 + 2 r (p - m direction) - r^2 (1 - direction^2). r is the constraint's response (r = p at beta = 0, r = 0
    at the typical overlap)."""
    return m**2 + 2 * r * (p - m * direction) - r**2 * (1 - direction**2)


def gm_bo_local_entropy():
    r"""Franz–Parisi local entropy of the error-counting loss around the Bayes-optimal direction (physics notes
    §C.3). Spherical weights |w|^2 = N, a fixed bias b, energy E(w) = number of misclassified training points at
    inverse temperature beta; the reference is the normalized Bayes-optimal (Hebbian) direction w^ = sqrt(N) h/|h|,
    h = sum_mu y^mu x^mu/sqrt(N), and p = w.w^/N. Because w.h is the sum of the training fields, the constraint on p
    exponentiates into a per-pattern tilt exp(tilt y w.x/sqrt N): no reference replicas are needed. RS, with the
    tilt's response r = tilt (1-q) sqrt(alpha(alpha+Delta)) as order parameter (finite as q -> 1, where the tilt
    diverges):

        Phi(p) = extr_{q, m, r} { 1/2 ln(1-q) + (q - P)/(2(1-q))
                                  + alpha sum_y rho_y int Dzeta ln( H(-X_y) + e^{-beta} H(X_y) ) },
        P = m^2 + 2 r (p - m c) - r^2 (1 - c^2),   c = sqrt(alpha/(alpha+Delta)),
        X_y = (m + y b + r Delta/sqrt(alpha(alpha+Delta)) + sqrt(Delta q) zeta)/sqrt(Delta (1-q)),

    rho_{+1} = rho, rho_{-1} = 1-rho; c is the Bayes-optimal direction's normalized overlap with the cluster mean.
    (In the tilt, -tilt p sqrt(alpha(alpha+Delta)) + alpha (tilt m + tilt^2 Delta (1-q)/2) collects into P.) Phi is
    the log-fraction of the sphere (0 for the whole sphere). At beta = 0, Phi(p) = 1/2 ln(1 - p^2) (the spherical
    cap: ``upper_bound``) with q = p^2, m = p c, r = p.

    Observables: ``upper_bound``; ``train_error``, the fraction of misclassified training points
    -dPhi/dbeta/alpha; ``error``, the test error eps_g(m, 1, b) of one configuration (|w|^2 = N); ``tilt``.
    """
    k = sp.sqrt(alpha * (alpha + delta))
    phi = _cap_entropy(_projection(alpha / k)) + alpha * _error_count(lambda y: r * delta / k, q)
    return _local_entropy("gm-bo-local-entropy", phi, "Bayes-optimal direction",
                          observables={"tilt": r / ((1 - q) * k)})


def gm_ridge_local_entropy():
    r"""Franz–Parisi local entropy of the error-counting loss around the square-loss ERM (ridge) minimizer w~ at
    penalty lam, with its trained bias b~ (docs/gaussian_mixture.md has the derivation). The counted configurations
    are as in :func:`gm_bo_local_entropy` (spherical, fixed bias b, inverse temperature beta), at normalized overlap
    p = w.w~/(N sqrt(q~)) with the reference. w~ is not linear in the data: two groups of replicas, s -> 0 of the
    reference at inverse temperature beta~ -> infinity (the minimizer is unique: q~ = Q~, beta~ (Q~ - q~) -> chi~)
    and n -> 0 counted ones. The counted replicas' overlap with the other reference replicas differs from p by
    r sqrt(q~) chi~/beta~: through it the counted fields follow the reference's proximal displacement
    D_y = g (1 - m~ - y b~ - sqrt(Delta q~) xi), g = V/(1+V), V = Delta chi~ (the minimizer's training field minus
    its cavity field, in the margin). RS:

        Phi(p) = extr_{q, m, r} { 1/2 ln(1-q) + (q - P)/(2(1-q)) + alpha sum_y rho_y int Dzeta ln( H(-X_y)
                                                                                    + e^{-beta} H(X_y) ) },
        P = m^2 + 2 r (p - m m~/sqrt(q~)) - r^2 (1 - m~^2/q~),
        X_y = (m + y b + r g (1 - m~ - y b~)/sqrt(q~) + sqrt(Delta (q - 2 r g p + r^2 g^2)) zeta)/sqrt(Delta (1-q)),

    with (m~, q~, chi~, b~) the ridge saddle point (m_ref, q_ref, chi_ref, b_ref). At beta = 0, Phi = 1/2 ln(1-p^2)
    with q = p^2, m = p m~/sqrt(q~), r = p. As lam -> infinity at rho = 1/2 the minimizer turns into the Hebbian
    direction (m~/sqrt(q~) -> sqrt(alpha/(alpha+Delta)), g -> 0 with g/sqrt(q~) -> Delta/sqrt(alpha(alpha+Delta)))
    and Phi into :func:`gm_bo_local_entropy`'s, with the same r.

    Observables as for :func:`gm_bo_local_entropy`, plus the reference's own ``ref_error`` (its test error
    eps_g(m~, q~, b~)).
    """
    g = delta * chi_ref / (1 + delta * chi_ref)
    norm = sp.sqrt(q_ref)
    shift = lambda y: r * g * (1 - m_ref - y * b_ref) / norm  # noqa: E731
    phi = _cap_entropy(_projection(m_ref / norm)) + alpha * _error_count(shift, q - 2 * r * g * p + r**2 * g**2)
    return _local_entropy("gm-ridge-local-entropy", phi, "ridge minimizer",
                          [Symbol(m_ref, sp.S.Reals, "the ridge minimizer's overlap with the cluster mean"),
                           Symbol(q_ref, sp.Interval.open(0, sp.oo), "the ridge minimizer's squared norm"),
                           Symbol(chi_ref, sp.Interval.open(0, sp.oo), "the ridge minimizer's susceptibility"),
                           Symbol(b_ref, sp.S.Reals, "the ridge minimizer's bias")],
                          {"ref_error": generalization_error(m_ref, q_ref, b_ref)})
