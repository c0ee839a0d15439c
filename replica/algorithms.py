"""Learning algorithms for the binary perceptron at finite N, to measure what they find against the replica curves.

An instance is P = round(alpha N) patterns xi^mu in {-1, +1}^N (labels absorbed, physics notes perceptron §0.1);
W in {-1, +1}^N solves it with margin kappa iff every stability Delta^mu = W.xi^mu / sqrt(N) >= kappa. Each
algorithm takes the patterns and returns a :class:`Run`: the binary weights it ends on, whether they solve the
instance, and the epochs it took. Every hyperparameter is a keyword argument; a seed makes a run reproducible.

* :func:`sbpi` — stochastic belief-propagation-inspired learning (Baldassi, Braunstein, Brunel, Zecchina, PNAS 2007):
  hidden integer states, the clipped-perceptron update on errors plus, with probability ``p_s``, a reinforcement of
  the agreeing states on barely learned patterns. The plain baseline (``p_s = 0``: the clipped perceptron).
* :func:`ce_sgd` — SGD on the cross-entropy loss f_gamma(Delta - kappa) = ln(1 + e^{-2 gamma (Delta - kappa)}) /
  (2 gamma) (perceptron §F.2) with the binary weights sign(v) of continuous hidden weights v in [-1, 1] (the
  gradient with respect to W applied to v, BinaryConnect), and gamma raised geometrically from ``gamma0`` to
  ``gamma_max`` over the epochs: for continuous weights gamma is the weights' norm, so this is the "slow growth of
  the norm" schedule of PNAS 2020, under which the loss stays smooth long enough to find wide minima.
* :func:`rsgd` — Replicated-SGD (Pittorino et al., ICLR 2021; gaussian_mixture §E.2): ``y`` copies of :func:`ce_sgd`,
  each pulled towards the (detached) centre of mass with strength g growing geometrically from g0 (by default the
  ratio of loss to distance at the start, "balanced") by a factor ``g_max``; the estimator is the centre's sign.
* :func:`esgd` — Entropy-SGD (gaussian_mixture §E.3): ``inner`` Langevin steps on a copy coupled to the weights with
  strength g, their exponential average mu, and an outer step along w - mu scaled by g; g grows geometrically.
* :func:`fbp` — focusing belief propagation (Baldassi et al., PNAS 2016): belief propagation with a growing
  coupling to a reference shared by a growing number y of replicas.

For the tree committee machine: :func:`committee_least_action` and :func:`committee_ce_sgd`. Around what they find:
:func:`simulate` (random instances), :func:`teacher_student` and :func:`data_study` (a real data set, e.g.
:func:`digits`) measure the local energy, the Hessian, local entropies and the test error.
"""
import inspect
import math

import numpy as np
import pandas as pd
from scipy.special import erfc, expit, log_ndtr

from .enumeration import check_committee_shape
from .errors import ParameterError

__all__ = ["Run", "sbpi", "ce_sgd", "rsgd", "esgd", "fbp", "ALGORITHMS", "stabilities", "solves", "flip_energy",
           "check_patterns", "hyperparameters", "ce_hessian", "simulate", "teacher_student", "digits", "data_study",
           "correlation",
           "bp_local_entropy", "COMMITTEE_ALGORITHMS", "committee_least_action", "committee_ce_sgd",
           "committee_solves", "committee_local_energy"]


class Run:
    """What an algorithm ended on: ``weights`` (+-1, int8), ``solved`` (every stability >= kappa), ``epochs``."""

    def __init__(self, weights, solved, epochs):
        self.weights, self.solved, self.epochs = np.asarray(weights, dtype=np.int8), bool(solved), int(epochs)

    def __repr__(self):
        return f"Run(solved={self.solved}, epochs={self.epochs}, N={self.weights.size})"


def check_patterns(patterns):
    """``patterns`` as a P x N array, checked to be +-1 entries (a ParameterError otherwise)."""
    patterns = np.asarray(patterns)
    if patterns.ndim != 2 or patterns.shape[0] < 1 or not np.all(np.abs(patterns) == 1):
        raise ParameterError("patterns must be a P x N array of +-1 entries (P >= 1)")
    return patterns.astype(float)


def stabilities(patterns, w):
    """Delta^mu = w.xi^mu / sqrt(N) for each pattern."""
    return patterns @ np.asarray(w, dtype=float) / math.sqrt(patterns.shape[1])


def solves(patterns, w, kappa=0.0):
    """Whether the weights ``w`` give every pattern a stability >= ``kappa`` (to 1e-12)."""
    return bool(np.all(stabilities(patterns, w) >= kappa - 1e-12))


def _sign(v):
    return np.where(v >= 0, 1, -1).astype(np.int8)


def _positive(name, value, integer=False, allow_zero=False):
    ok = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
    if isinstance(value, bool) or not ok or not (value >= 0 if allow_zero else value > 0) or not math.isfinite(value):
        kind = "an integer" if integer else "a number"
        raise ParameterError(f"{name}={value!r}: must be {kind} {'>= 0' if allow_zero else '> 0'}")


def sbpi(patterns, kappa=0.0, theta_m=1.0, p_s=0.3, max_epochs=1000, seed=0):
    """SBPI: hidden odd integers h (W = sign h), patterns presented in a random order each epoch. With
    Delta = W.xi / sqrt(N): if Delta < kappa, h += 2 xi (the clipped perceptron); if 0 <= W.xi - kappa sqrt(N) <=
    theta_m (barely learned; W.xi is an integer), with probability ``p_s``, h += 2 xi only where xi h >= 1 (the
    agreeing states grow). Stops at the first epoch without an error."""
    xi = check_patterns(patterns)
    _positive("theta_m", theta_m, allow_zero=True)
    _positive("max_epochs", max_epochs, integer=True)
    if not 0 <= p_s <= 1:
        raise ParameterError(f"p_s={p_s!r}: a probability in [0, 1]")
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    h = rng.choice(np.array([-1.0, 1.0]), size=n)
    low = kappa * math.sqrt(n)
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for mu in rng.permutation(p):
            x = xi[mu]
            delta = x @ np.where(h > 0, 1.0, -1.0)
            if delta < low:
                h += 2 * x
                errors += 1
            elif delta <= low + theta_m and rng.random() < p_s:
                h += 2 * x * (x * h >= 1)
        if errors == 0 and solves(xi, _sign(h), kappa):
            return Run(_sign(h), True, epoch)
    w = _sign(h)
    return Run(w, solves(xi, w, kappa), max_epochs)


def _ce_gradient(xi, w, kappa, gamma):
    """Gradient with respect to w of sum_mu f_gamma(Delta^mu - kappa)."""
    n = xi.shape[1]
    delta = xi @ w / math.sqrt(n)
    return -(expit(-2 * gamma * (delta - kappa)) @ xi) / math.sqrt(n)


def _ce_loss(xi, w, kappa, gamma):
    delta = xi @ w / math.sqrt(xi.shape[1])
    return float(np.sum(np.logaddexp(0, -2 * gamma * (delta - kappa))) / (2 * gamma))


def _batches(p, batch, rng):
    order = rng.permutation(p)
    return [order[i:i + batch] for i in range(0, p, batch)]


def _geometric(start, factor, t, steps):
    return start * factor ** (t / max(steps - 1, 1))


def _check_sgd(lr, epochs, batch, gamma0, gamma_max):
    _positive("lr", lr)
    _positive("epochs", epochs, integer=True)
    if batch is not None:
        _positive("batch", batch, integer=True)
    _positive("gamma0", gamma0)
    _positive("gamma_max", gamma_max)


def ce_sgd(patterns, kappa=0.0, lr=0.1, epochs=1000, batch=None, gamma0=0.5, gamma_max=50.0, seed=0):
    """SGD on the cross-entropy loss with binary weights W = sign(v), v in [-1, 1]; gamma grows geometrically from
    ``gamma0`` to ``gamma_max`` over ``epochs``; minibatches of ``batch`` patterns (default: all). Stops at the first
    epoch whose W solves the instance."""
    xi = check_patterns(patterns)
    _check_sgd(lr, epochs, batch, gamma0, gamma_max)
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    v = rng.uniform(-1, 1, n)
    for t in range(epochs):
        gamma = _geometric(gamma0, gamma_max / gamma0, t, epochs)
        for b in _batches(p, batch or p, rng):
            v = np.clip(v - lr * _ce_gradient(xi[b], _sign(v).astype(float), kappa, gamma), -1, 1)
        if solves(xi, _sign(v), kappa):
            return Run(_sign(v), True, t + 1)
    return Run(_sign(v), False, epochs)


def rsgd(patterns, kappa=0.0, y=3, lr=0.1, epochs=1000, batch=None, gamma0=0.5, gamma_max=50.0, g0=None,
         g_max=1e4, seed=0):
    """Replicated-SGD: ``y`` replicas of :func:`ce_sgd`, each on its own minibatches, with the update
    v^a -= lr [grad L(W^a) + 2 g (v^a - v_bar)] (v_bar the replicas' centre of mass, not differentiated); g grows
    geometrically from ``g0`` (default: the replicas' mean loss over their mean squared distance to the centre at
    the start) by a factor ``g_max`` over ``epochs``. The estimator is W = sign(v_bar); stops at the first epoch
    where it solves the instance."""
    xi = check_patterns(patterns)
    _check_sgd(lr, epochs, batch, gamma0, gamma_max)
    _positive("y", y, integer=True)
    _positive("g_max", g_max)
    if g0 is not None:
        _positive("g0", g0)
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    v = rng.uniform(-1, 1, (y, n))
    if g0 is None:
        loss = np.mean([_ce_loss(xi, _sign(va).astype(float), kappa, gamma0) for va in v])
        dist = np.mean(np.sum((v - v.mean(axis=0)) ** 2, axis=1))
        g0 = loss / dist if dist > 0 else 1.0
    for t in range(epochs):
        gamma = _geometric(gamma0, gamma_max / gamma0, t, epochs)
        g = _geometric(g0, g_max, t, epochs)
        for batches in zip(*(_batches(p, batch or p, rng) for _ in range(y))):
            centre = v.mean(axis=0)
            for a, b in enumerate(batches):
                grad = _ce_gradient(xi[b], _sign(v[a]).astype(float), kappa, gamma) + 2 * g * (v[a] - centre)
                v[a] = np.clip(v[a] - lr * grad, -1, 1)
        w = _sign(v.mean(axis=0))
        if solves(xi, w, kappa):
            return Run(w, True, t + 1)
    return Run(_sign(v.mean(axis=0)), False, epochs)


def esgd(patterns, kappa=0.0, lr=0.1, epochs=300, batch=None, gamma0=0.5, gamma_max=50.0, inner=5, sgld_lr=0.1,
         eps=1e-4, average=0.75, g0=0.1, g_max=1e3, seed=0):
    """Entropy-SGD with binary weights W = sign(v): each outer step runs ``inner`` Langevin steps on a copy v',
    v' -= sgld_lr [grad L(W') - g (v - v')] + sgld_lr (eps / sqrt(sgld_lr / 2)) xi, keeps their exponential average
    mu (weight ``average`` on the old value), then v -= lr g (v - mu); g grows geometrically from ``g0`` by
    ``g_max`` over ``epochs`` (outer steps per epoch: one per minibatch). Stops at the first epoch whose W solves."""
    xi = check_patterns(patterns)
    _check_sgd(lr, epochs, batch, gamma0, gamma_max)
    for name, value in (("inner", inner),):
        _positive(name, value, integer=True)
    for name, value in (("sgld_lr", sgld_lr), ("g0", g0), ("g_max", g_max)):
        _positive(name, value)
    _positive("eps", eps, allow_zero=True)
    if not 0 <= average < 1:
        raise ParameterError(f"average={average!r}: the averaging weight must lie in [0, 1)")
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    v = rng.uniform(-1, 1, n)
    noise = eps / math.sqrt(sgld_lr / 2)
    for t in range(epochs):
        gamma = _geometric(gamma0, gamma_max / gamma0, t, epochs)
        g = _geometric(g0, g_max, t, epochs)
        for b in _batches(p, batch or p, rng):
            vp, mu = v.copy(), v.copy()
            for _ in range(inner):
                grad = _ce_gradient(xi[b], _sign(vp).astype(float), kappa, gamma) - g * (v - vp)
                vp = np.clip(vp - sgld_lr * (grad + noise * rng.standard_normal(n)), -1, 1)
                mu = average * mu + (1 - average) * vp
            v = np.clip(v - lr * g * (v - mu), -1, 1)
        if solves(xi, _sign(v), kappa):
            return Run(_sign(v), True, t + 1)
    return Run(_sign(v), False, epochs)


def _bp_messages(xi, u, field, theta):
    """One sweep of the perceptron's belief propagation: from the pattern -> weight messages ``u`` (P x N, half
    log-likelihood ratios) and each weight's total ``field``, the weight -> pattern magnetizations tanh(field - u)
    and, with each pattern's cavity field Gaussian (the mean and variance of the other weights' messages), the new
    pattern -> weight messages for the constraint W.xi >= theta."""
    m = np.tanh(field[None, :] - u)
    mean = (xi * m).sum(axis=1, keepdims=True) - xi * m
    sd = np.sqrt(np.maximum((1 - m ** 2).sum(axis=1, keepdims=True) - (1 - m ** 2), 1e-12))
    return 0.5 * (log_ndtr((mean + xi - theta) / sd) - log_ndtr((mean - xi - theta) / sd))


def _check_damping(damping):
    if not 0 <= damping < 1:
        raise ParameterError(f"damping={damping!r}: the weight of the old messages must lie in [0, 1)")


def fbp(patterns, kappa=0.0, y0=0.0, y_rate=0.1, gamma0=0.1, gamma_rate=0.01, damping=0.5, max_iter=1000, seed=0):
    """Focusing belief propagation (Baldassi et al., PNAS 2016): belief propagation on the perceptron's factor graph
    (the P x N messages; each pattern's cavity field Gaussian with the mean and variance of the other weights'
    messages), every weight coupled with strength gamma to a reference shared by y replicas, which adds the field
    atanh(tanh(gamma) tanh((y - 1) atanh(tanh(gamma) tanh(h)))) to its data field h. y = y0 + y_rate t and
    gamma = gamma0 + gamma_rate t grow with the iteration t (the focusing: towards the densest region), the new
    messages mixed with weight 1 - ``damping``. Stops at the first iteration whose sign of the total fields solves;
    ``Run.epochs`` counts iterations."""
    xi = check_patterns(patterns)
    for name, value in (("y_rate", y_rate), ("gamma_rate", gamma_rate), ("y0", y0), ("gamma0", gamma0)):
        _positive(name, value, allow_zero=True)
    _positive("max_iter", max_iter, integer=True)
    _check_damping(damping)
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    theta = kappa * math.sqrt(n)
    u = rng.normal(0.0, 0.01, (p, n))  # pattern -> weight messages (half log-likelihood ratios)
    for t in range(1, max_iter + 1):
        data = u.sum(axis=0)
        y, tg = y0 + y_rate * (t - 1), math.tanh(gamma0 + gamma_rate * (t - 1))
        focus = np.arctanh(tg * np.tanh((y - 1) * np.arctanh(tg * np.tanh(data)))) if y > 1 else 0.0
        field = data + focus
        u = damping * u + (1 - damping) * _bp_messages(xi, u, field, theta)
        w = _sign(field)
        if solves(xi, w, kappa):
            return Run(w, True, t)
    return Run(w, False, max_iter)


#: The binary-perceptron learning algorithms by their command-line name.
ALGORITHMS = {"sbpi": sbpi, "ce-sgd": ce_sgd, "rsgd": rsgd, "esgd": esgd, "fbp": fbp}


def hyperparameters(name, committee=False):
    """The keyword arguments of algorithm ``name`` (of the perceptron's, or with ``committee`` the tree committee's)
    and their defaults (what the CLI accepts as --NAME VALUE)."""
    table = COMMITTEE_ALGORITHMS if committee else ALGORITHMS
    if name not in table:
        raise ParameterError(f"unknown algorithm {name!r}; allowed: {', '.join(table)}")
    return {k: p.default for k, p in inspect.signature(table[name]).parameters.items()
            if k not in ("patterns", "kappa", "seed", "k")}


def ce_hessian(patterns, w, kappa=0.0, gamma=1.0):
    """The largest eigenvalue and the trace of the Hessian of the cross-entropy loss sum_mu f_gamma(Delta^mu - kappa)
    at the weights ``w`` (with respect to w, |w|^2 = N for +-1 weights): H = sum_mu f''(Delta^mu - kappa)
    xi^mu xi^mu^T / N with f''(x) = 2 gamma expit(2 gamma x) expit(-2 gamma x); its nonzero spectrum is that of the
    P x P matrix D^{1/2} Xi Xi^T D^{1/2} / N. Returns (largest eigenvalue, trace)."""
    xi = check_patterns(patterns)
    _positive("gamma", gamma)
    x = 2 * gamma * (stabilities(xi, w) - kappa)
    curv = 2 * gamma * expit(x) * expit(-x)
    root = np.sqrt(curv)
    gram = (root[:, None] * xi) @ (xi.T * root[None, :]) / xi.shape[1]
    return float(np.linalg.eigvalsh(gram)[-1]), float(curv.sum())


def flip_energy(patterns, w, d, kappa=0.0, draws=100, seed=0):
    """The local energy of binary weights at Hamming distance d: the mean fraction of patterns with Delta < kappa
    over ``draws`` configurations with round(d N) weights of ``w`` flipped at random, minus that fraction at ``w``
    (the binary analogue of the additive-noise local energy, gaussian_mixture §E.4). Returns (mean, standard error)."""
    xi = check_patterns(patterns)
    if not 0 <= d <= 1:
        raise ParameterError(f"d={d!r}: a distance in [0, 1]")
    _positive("draws", draws, integer=True)
    rng = np.random.default_rng(seed)
    w = np.asarray(w, dtype=float)
    n = w.size
    k = round(d * n)
    base = np.mean(stabilities(xi, w) < kappa - 1e-12)
    errors = np.empty(draws)
    for i in range(draws):
        u = w.copy()
        u[rng.choice(n, size=k, replace=False)] *= -1
        errors[i] = np.mean(stabilities(xi, u) < kappa - 1e-12) - base
    return float(errors.mean()), float(errors.std(ddof=1) / math.sqrt(draws)) if draws > 1 else 0.0


def simulate(algorithm, n, alpha, kappa=0.0, seeds=10, seed=0, local_entropy=(), local_energy=(), k=None, **hyper):
    """Run ``algorithm`` on ``seeds`` random instances (N, alpha, kappa) and measure around what it finds; with
    ``k``, a tree committee of K hidden sign units (:data:`COMMITTEE_ALGORITHMS`, kappa = 0, no Hessian; the local
    energy is :func:`committee_local_energy` and the local entropy is counted by enumerating the committee).

    Returns a DataFrame, one row per instance: ``solved``, ``epochs``; for each distance d in ``local_entropy``,
    ``local_entropy[d]`` = ln(#solutions at Hamming distance round(d N) from the found weights) / N, counted exactly
    by enumeration (N <= 25; None where the count is zero or the run did not solve); for each sigma in
    ``local_energy``, ``local_energy[sigma]``: the rise of the training error under multiplicative Gaussian noise of
    size sigma (exact for +-1 patterns: each stability moves by N(0, sigma^2)); ``hessian_max`` and ``hessian_trace``
    of the cross-entropy loss at gamma = 1 (:func:`ce_hessian`). ``hyper`` goes to the algorithm."""
    from .enumeration import Instance, solutions
    from .enumeration import local_entropy as count_around
    from .landscape import perceptron_local_energy

    allowed = hyperparameters(algorithm, committee=k is not None)
    unknown = sorted(set(hyper) - set(allowed))
    if unknown:
        raise ParameterError(f"{algorithm} has no hyperparameter {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    _positive("n", n, integer=True)
    _positive("seeds", seeds, integer=True)
    if not (isinstance(alpha, (int, float)) and not isinstance(alpha, bool) and alpha > 0):
        raise ParameterError(f"alpha={alpha!r}: the load must be a number > 0")
    local_entropy, local_energy = list(local_entropy), list(local_energy)
    if local_entropy and n > 25:
        raise ParameterError(f"local entropies are counted by exact enumeration, which needs N <= 25 (got N = {n}); "
                             "at larger N use replica.algorithms.bp_local_entropy")
    if any(not 0 <= d <= 1 for d in local_entropy):
        raise ParameterError("local-entropy distances must lie in [0, 1]")
    if any(not s > 0 for s in local_energy):
        raise ParameterError("local-energy noise sizes must be > 0")
    if k is not None and kappa != 0:
        raise ParameterError("the committee's algorithms learn at kappa = 0")
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(seeds):
        xi = rng.choice(np.array([-1, 1], dtype=np.int8), size=(max(1, round(alpha * n)), n))
        if k is not None:
            run = COMMITTEE_ALGORITHMS[algorithm](xi, k=k, seed=int(rng.integers(2**31)), **hyper)
            row = {"solved": run.solved, "epochs": run.epochs}
            energies = [committee_local_energy(xi, run.weights, s, k) for s in local_energy]
        else:
            run = ALGORITHMS[algorithm](xi, kappa=kappa, seed=int(rng.integers(2**31)), **hyper)
            row = {"solved": run.solved, "epochs": run.epochs}
            row["hessian_max"], row["hessian_trace"] = ce_hessian(xi, run.weights, kappa)
            energies = [perceptron_local_energy(run.weights, xi, np.ones(len(xi)), s) for s in local_energy]
        if local_entropy:
            instance = Instance(xi, kappa, k or 1)
            counts = count_around(instance, run.weights[None, :], solutions(instance)) if run.solved else None
            for d in local_entropy:
                count = 0 if counts is None else int(counts["count"][round(d * n)])
                row[f"local_entropy[{d:g}]"] = math.log(count) / n if count else None
        row.update({f"local_energy[{s:g}]": e for s, e in zip(local_energy, energies)})
        rows.append(row)
    return pd.DataFrame(rows)


def teacher_student(algorithms=None, n=1001, alpha=1.0, seeds=10, seed=0, sigma=0.3, **hyper):
    """Flatness against generalization: ``seeds`` teacher-student instances (a random binary teacher T, patterns
    +-1, labels sign(T.xi)), each learnt by every algorithm in ``algorithms`` (default: all). Returns a DataFrame,
    one row per (instance, algorithm): ``solved``, ``local_energy`` (multiplicative noise of size ``sigma``),
    ``overlap`` R = W.T / N and ``test_error`` = arccos(R) / pi (the error on Gaussian inputs; on +-1 inputs in the
    large-N limit). ``hyper``: {algorithm: {name: value}} for each algorithm's own hyperparameters."""
    names = _algorithm_names(algorithms)
    if n % 2 == 0:
        raise ParameterError(f"n={n}: the teacher's labels sign(T.xi) need an odd N")
    rng = np.random.default_rng(seed)
    rows = []
    for instance in range(seeds):
        teacher = rng.choice(np.array([-1, 1]), size=n)
        xi = rng.choice(np.array([-1, 1], dtype=np.int8), size=(max(1, round(alpha * n)), n))
        patterns = xi * np.sign(xi @ teacher)[:, None]
        for name in names:
            run, measured = _learn(name, patterns, rng, sigma, hyper)
            r = float(run.weights @ teacher) / n
            rows.append({"instance": instance, "algorithm": name, **measured, "overlap": r,
                         "test_error": math.acos(min(1.0, r)) / math.pi})
    return pd.DataFrame(rows)


def digits(classes=(4, 9), threshold=7):
    """Two classes of scikit-learn's 8 x 8 handwritten digits (1797 images, about 180 per class) as +-1 patterns for
    a binary perceptron: each of the 64 pixels (grey levels 0-16) is +1 above ``threshold`` and -1 otherwise, and a
    constant +1 input is appended (a bias; it also makes N = 65 odd, so no field W.x is 0). Returns (X, y): X a
    P x 65 int8 array, y = +1 for the first class and -1 for the second. Needs scikit-learn (the ``digits`` extra:
    ``pip install -e '.[digits]'``), whose copy of the data ships with it."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ParameterError("the digits data set needs scikit-learn: pip install -e '.[digits]'") from None
    classes = tuple(classes)
    if len(classes) != 2 or len(set(classes)) != 2 or not all(c in range(10) for c in classes):
        raise ParameterError(f"classes={classes!r}: two different digits among 0 ... 9")
    data = load_digits()
    keep = np.isin(data.target, classes)
    pixels = np.where(data.data[keep] > threshold, 1, -1).astype(np.int8)
    X = np.hstack([pixels, np.ones((len(pixels), 1), dtype=np.int8)])
    return X, np.where(data.target[keep] == classes[0], 1, -1).astype(np.int8)


def data_study(X, y, train, algorithms=None, splits=10, runs=3, sigma=0.3, seed=0, **hyper):
    """Flatness against generalization on a data set (X: P x N entries +-1, y: labels +-1): ``splits`` random
    training sets of ``train`` examples, the rest of the data each split's test set, each learnt ``runs`` times by
    every algorithm in ``algorithms`` (default: all). Returns a DataFrame, one row per run: ``split``,
    ``algorithm``, ``solved``, ``local_energy`` (multiplicative noise of size ``sigma`` on the training set, exact
    for +-1 inputs), ``train_error`` and ``test_error`` (the fraction of examples with y W.x <= 0). ``hyper``:
    {algorithm: {name: value}}. Compare solutions within a split (``correlation(..., groups=split)``): the split's
    own difficulty moves every solution's test error together."""
    names = _algorithm_names(algorithms)
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],) or not np.all(np.abs(X) == 1) or not np.all(np.abs(y) == 1):
        raise ParameterError("X must be a P x N array of +-1 entries and y P labels +-1")
    if not (isinstance(train, int) and 0 < train < len(y)):
        raise ParameterError(f"train={train!r}: the number of training examples, between 1 and {len(y) - 1}")
    _positive("splits", splits, integer=True)
    _positive("runs", runs, integer=True)
    patterns = X * y[:, None]
    rng = np.random.default_rng(seed)
    rows = []
    for split in range(splits):
        order = rng.permutation(len(y))
        learn, test = patterns[order[:train]], patterns[order[train:]]
        for name in names:
            for _ in range(runs):
                run, measured = _learn(name, learn, rng, sigma, hyper)
                rows.append({"split": split, "algorithm": name, **measured,
                             "train_error": float(np.mean(learn @ run.weights <= 0)),
                             "test_error": float(np.mean(test @ run.weights <= 0))})
    return pd.DataFrame(rows)


def _algorithm_names(algorithms):
    names = list(ALGORITHMS) if algorithms is None else list(algorithms)
    for name in names:
        hyperparameters(name)
    return names


def _learn(name, patterns, rng, sigma, hyper):
    """One run of algorithm ``name`` on ``patterns`` (its seed drawn from ``rng``), with its local energy."""
    from .landscape import perceptron_local_energy

    run = ALGORITHMS[name](patterns, seed=int(rng.integers(2**31)), **hyper.get(name, {}))
    energy = perceptron_local_energy(run.weights, patterns, np.ones(len(patterns)), sigma)
    return run, {"solved": run.solved, "local_energy": energy}


def correlation(x, y, groups=None, resamples=2000, seed=0):
    """Pearson's correlation of x and y with a bootstrap standard error: (r, err). With ``groups`` (a label per
    point), each variable is first centred on its group's mean: the correlation within groups (e.g. between the
    solutions of one training set), free of what moves a whole group."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if groups is not None:
        frame = pd.DataFrame({"x": x, "y": y, "g": np.asarray(groups)})
        centred = frame[["x", "y"]] - frame.groupby("g")[["x", "y"]].transform("mean")
        x, y = centred["x"].to_numpy(), centred["y"].to_numpy()
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        raise ParameterError("a correlation needs at least three points and spread in both variables")
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(resamples):
        i = rng.integers(x.size, size=x.size)
        if np.std(x[i]) > 0 and np.std(y[i]) > 0:
            boot.append(np.corrcoef(x[i], y[i])[0, 1])
    return float(np.corrcoef(x, y)[0, 1]), float(np.std(boot, ddof=1))


def bp_local_entropy(patterns, reference, lambdas, kappa=0.0, damping=0.5, tol=1e-6, max_iter=500, seed=0):
    """The local entropy around ``reference`` (+-1 weights) at finite N by belief propagation on the constrained
    measure X(W) e^{lambda W.reference}: for each coupling lambda (in the order given, each warm-started from the
    last), BP is run to a fixed point (the messages moving by less than ``tol``) and its Bethe free entropy

        F = sum_mu ln H((kappa sqrt N - M_mu) / sqrt V_mu) + sum_i ln 2cosh h_i
            + sum_{mu,i} [ln 2cosh(h_i - u_{mu i}) - ln 2cosh h_i]

    (M_mu, V_mu: mean and variance of pattern mu's field under the weights' messages, h_i the total field) is
    Legendre-transformed: p = sum_i reference_i tanh(h_i) / N, d = (1 - p) / 2 and the local entropy
    S(d) = F / N - lambda p, the finite-N Franz-Parisi entropy (perceptron §C). Without patterns S = H2(d) exactly.
    Returns a DataFrame: ``lam``, ``d``, ``local_entropy``, ``converged``, ``iterations``; a coupling at which BP
    did not converge is a row with converged False and no values."""
    xi = np.asarray(patterns, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if xi.ndim != 2 or not np.all(np.abs(xi) == 1) or not np.all(np.abs(ref) == 1) or ref.size != xi.shape[1]:
        raise ParameterError("patterns must be a P x N array and the reference N entries, all +-1")
    _check_damping(damping)
    p, n = xi.shape
    theta = kappa * math.sqrt(n)
    u = np.random.default_rng(seed).normal(0.0, 0.01, (p, n))
    rows = []
    for lam in lambdas:
        for it in range(1, max_iter + 1):
            new = _bp_messages(xi, u, u.sum(axis=0) + lam * ref, theta)
            change = float(np.max(np.abs(new - u))) if p else 0.0
            u = damping * u + (1 - damping) * new
            if change < tol:
                break
        if not (change < tol and np.all(np.isfinite(u))):
            rows.append({"lam": lam, "d": None, "local_entropy": None, "converged": False, "iterations": it})
            continue
        field = u.sum(axis=0) + lam * ref
        m = np.tanh(field[None, :] - u)
        big_m = (xi * m).sum(axis=1)
        big_v = (1 - m ** 2).sum(axis=1)
        log2cosh = lambda x: np.logaddexp(x, -x)  # noqa: E731
        f = (np.sum(log_ndtr((big_m - theta) / np.sqrt(np.maximum(big_v, 1e-300)))) + np.sum(log2cosh(field))
             + np.sum(log2cosh(field[None, :] - u) - log2cosh(field)[None, :]))
        overlap = float(ref @ np.tanh(field)) / n
        rows.append({"lam": lam, "d": (1 - overlap) / 2, "local_entropy": float(f) / n - lam * overlap,
                     "converged": True, "iterations": it})
    return pd.DataFrame(rows)


# ----- the K = 3 tree committee machine -------------------------------------------------------------------------------
# K hidden sign units, unit l seeing its own N/K inputs (physics notes perceptron §E.1): lambda_l = sqrt(K/N) W_l.xi_l,
# output sign(sum_l sign(lambda_l)); labels absorbed into the patterns (the output must be +1). N/K odd avoids ties.


def _committee_fields(xi, w, k):
    """lambda (P x K): the hidden units' preactivations."""
    p, n = xi.shape
    return (xi * w).reshape(p, k, n // k).sum(axis=2) / math.sqrt(n / k)


def committee_solves(patterns, w, k=3):
    """Whether the K = ``k`` tree committee with weights ``w`` classifies every pattern correctly."""
    return bool(np.all(np.sign(np.sign(_committee_fields(np.asarray(patterns, dtype=float), w, k)).sum(axis=1)) > 0))


def _check_committee(patterns, k):
    xi = check_patterns(patterns)
    check_committee_shape(xi.shape[1], k)
    return xi


def committee_least_action(patterns, k=3, max_epochs=1000, seed=0):
    """The clipped least-action rule: hidden odd integers h (W = sign h); on a misclassified pattern, the wrong
    hidden unit with the smallest |lambda_l| takes a clipped-perceptron step h_l += 2 xi_l (the smallest change
    that can fix the output). The plain baseline; stops at the first epoch without an error."""
    xi = _check_committee(patterns, k)
    _positive("max_epochs", max_epochs, integer=True)
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    size = n // k
    h = rng.choice(np.array([-1.0, 1.0]), size=n)
    for epoch in range(1, max_epochs + 1):
        errors = 0
        for mu in rng.permutation(p):
            x = xi[mu].reshape(k, size)
            lam = (x * np.where(h > 0, 1.0, -1.0).reshape(k, size)).sum(axis=1)
            if np.sum(np.sign(lam)) > 0:
                continue
            errors += 1
            wrong = np.flatnonzero(lam < 0)
            unit = wrong[np.argmin(-lam[wrong])]
            h[unit * size:(unit + 1) * size] += 2 * x[unit]
        if errors == 0:
            return Run(_sign(h), True, epoch)
    w = _sign(h)
    return Run(w, committee_solves(xi, w, k), max_epochs)


def committee_ce_sgd(patterns, k=3, lr=0.1, epochs=1000, batch=10, beta=1.0, gamma0=0.5, gamma_max=50.0, seed=0):
    """SGD on the cross-entropy of a smoothed committee output, z = (1/K) sum_l tanh(beta lambda_l), loss
    f_gamma(z) (as :func:`ce_sgd`), with binary weights W = sign(v) of hidden weights v in [-1, 1] (the gradient
    with respect to W applied to v) and gamma raised geometrically from ``gamma0`` to ``gamma_max``. Stops at the
    first epoch whose W solves the instance (with the sign output)."""
    xi = _check_committee(patterns, k)
    _check_sgd(lr, epochs, batch, gamma0, gamma_max)
    _positive("beta", beta)
    rng = np.random.default_rng(seed)
    p, n = xi.shape
    size = n // k
    v = rng.uniform(-1, 1, n)
    for t in range(epochs):
        gamma = _geometric(gamma0, gamma_max / gamma0, t, epochs)
        for b in _batches(p, batch or p, rng):
            x = xi[b]
            th = np.tanh(beta * _committee_fields(x, _sign(v).astype(float), k))
            z = th.mean(axis=1)
            dz = -expit(-2 * gamma * z)  # f'_gamma(z)
            dlam = (dz[:, None] * beta * (1 - th ** 2) / k)  # (batch, K)
            grad = (x.reshape(len(b), k, size) * dlam[:, :, None]).sum(axis=0).reshape(n) / math.sqrt(size)
            v = np.clip(v - lr * grad, -1, 1)
        if committee_solves(xi, _sign(v), k):
            return Run(_sign(v), True, t + 1)
    return Run(_sign(v), False, epochs)


def committee_local_energy(patterns, w, sigma, k=3):
    """The exact local energy of a tree committee with +-1 patterns under multiplicative noise of size sigma: each
    lambda_l moves by an independent N(0, sigma^2), unit l is positive with probability p_l = H(-lambda_l / sigma),
    and the output errs when at most (K - 1) / 2 units are: the mean of that probability minus the training error."""
    xi = _check_committee(patterns, k)
    if not sigma > 0:
        raise ParameterError(f"sigma={sigma!r}: the noise size must be positive")
    lam = _committee_fields(xi, np.asarray(w, dtype=float), k)
    pos = 0.5 * erfc(-lam / (sigma * math.sqrt(2)))
    dist = np.zeros((len(xi), k + 1))  # distribution of the number of positive units, built unit by unit
    dist[:, 0] = 1
    for unit in range(k):
        dist[:, 1:] = dist[:, 1:] * (1 - pos[:, unit:unit + 1]) + dist[:, :-1] * pos[:, unit:unit + 1]
        dist[:, 0] *= 1 - pos[:, unit]
    wrong = dist[:, : (k + 1) // 2].sum(axis=1)
    return float(wrong.mean() - np.mean(np.sign(np.sign(lam).sum(axis=1)) < 0))


#: The tree-committee learning algorithms by their command-line name.
COMMITTEE_ALGORITHMS = {"least-action": committee_least_action, "ce-sgd": committee_ce_sgd}
