"""Cross-entropy references of the binary perceptron and the Franz–Parisi local entropy around them (physics notes
§F): limits, identities, and an independent numpy evaluation."""
import json
import math

import numpy as np
import pytest
from scipy.special import roots_hermitenorm

import replica
from replica.errors import ParameterError


def f_gamma(u, gamma):
    return np.logaddexp(0.0, -2 * gamma * u) / (2 * gamma)


def h2(d):
    return -d * math.log(d) - (1 - d) * math.log(1 - d)


def numpy_reference(o, alpha, beta, gamma):
    """phi, mean loss and training error of the references written out in numpy: dense trapezoids over z in
    [-12, 12] (ln 2cosh(sqrt(qhat) z) has poles at distance pi/(2 sqrt(qhat)) from the real axis, which Gauss-Hermite
    converges slowly on) and over x in [-40, 40] (the tilted mass moves out to x ~ beta sqrt(1-q))."""
    z = np.linspace(-12, 12, 2401)
    w = np.exp(-z * z / 2)
    w = w / w.sum()
    x = np.linspace(-40, 40, 16001)
    gx = np.exp(-x * x / 2) / math.sqrt(2 * math.pi) * (x[1] - x[0])
    u = math.sqrt(o["q"]) * z[:, None] + math.sqrt(1 - o["q"]) * x[None, :]
    logw = -beta * f_gamma(u, gamma)
    top = logw.max(axis=1, keepdims=True)
    tilt = np.exp(logw - top) * gx
    mass = tilt.sum(axis=1)
    phi = (-o["qhat"] * (1 - o["q"]) / 2 + w @ np.logaddexp(math.sqrt(o["qhat"]) * z, -math.sqrt(o["qhat"]) * z)
           + alpha * (w @ (top[:, 0] + np.log(mass))))
    loss = w @ ((tilt * f_gamma(u, gamma)).sum(axis=1) / mass)
    error = w @ ((tilt * (u < 0)).sum(axis=1) / mass)
    return phi, loss, error


@pytest.mark.parametrize("beta, gamma", [(4.0, 2.0), (24.0, 1.0)])
def test_reference_against_numpy(beta, gamma):
    """The compiled free entropy (the tilt split at u = 0 into two truncated averages) against a brute-force
    evaluation; the loss is -dphi/dbeta / alpha, the error the tilted probability of u < 0."""
    sol = replica.solve("binary-perceptron-ce", alpha=0.6, beta=beta, gamma=gamma)
    phi, loss, error = numpy_reference(sol.order, 0.6, beta, gamma)
    assert abs(phi - sol.free_entropy) <= 1e-9
    assert abs(loss - sol.loss) <= 1e-7
    assert abs(error - sol.train_error) <= 2e-4  # the step u < 0 on the x grid


def test_reference_thermodynamics():
    """entropy = phi + beta alpha loss, loss = -(1/alpha) dphi/dbeta (centred difference), and the entropy falls with
    beta (d entropy / d beta = -beta Var(L)/N <= 0)."""
    h = 1e-4
    sol, up, down = (replica.solve("binary-perceptron-ce", alpha=0.6, gamma=2.0, beta=8.0 + s) for s in (0, h, -h))
    assert abs(-(up.free_entropy - down.free_entropy) / (2 * h) / 0.6 - sol.loss) <= 1e-7
    assert abs(sol.entropy - (sol.free_entropy + 8.0 * 0.6 * sol.loss)) <= 1e-12
    assert up.entropy < sol.entropy < down.entropy


def test_reference_at_high_temperature():
    """beta -> 0: uniform references (q -> 0, entropy ln 2), mean loss E_u f(u) over u ~ N(0, 1), error 1/2; the
    corrections are O(beta) (loss, error) and O(beta^2) (entropy)."""
    beta = 1e-5
    sol = replica.solve("binary-perceptron-ce", alpha=0.6, gamma=2.0, beta=beta)
    z, w = roots_hermitenorm(200)
    assert sol.q <= 1e-8 and abs(sol.entropy - math.log(2)) <= 1e-9
    assert abs(sol.loss - (w / w.sum()) @ f_gamma(z, 2.0)) <= 10 * beta
    assert abs(sol.train_error - 0.5) <= 10 * beta


def test_local_entropy_limits_and_bound():
    """alpha -> 0: the upper bound H2(d); and below the bound at a finite load."""
    small = replica.solve("binary-perceptron-ce-fp", alpha=1e-6, gamma=2.0, beta=4.0, d=0.1)
    assert abs(small.entropy - h2(0.1)) <= 1e-5
    sol = replica.solve("binary-perceptron-ce-fp", alpha=0.6, gamma=2.0, beta=4.0, d=0.1)
    assert sol.entropy < sol.upper_bound


@pytest.mark.slow
def test_local_entropy_peaks_at_the_storage_entropy():
    """Summed over all distances the solutions around any reference are all the solutions: max_d phi_FP(d) equals
    the storage entropy s_RS(alpha, kappa) (there phat = 0: the distance constraint is slack)."""
    from scipy.optimize import minimize_scalar

    best = minimize_scalar(lambda d: -replica.solve("binary-perceptron-ce-fp", alpha=0.6, gamma=2.0, beta=4.0,
                                                    d=d).entropy,
                           bounds=(0.2, 0.45), method="bounded", options={"xatol": 1e-6})
    s_rs = replica.solve("binary-perceptron", alpha=0.6).entropy
    assert abs(-best.fun - s_rs) <= 1e-8


@pytest.mark.parametrize("params, match", [
    ({"alpha": 0.6, "gamma": 2.0, "beta": -1.0}, "beta=-1"),
    ({"alpha": 0.6, "gamma": 2.0, "beta": 0.0}, "beta=0"),
    ({"alpha": 0.6, "gamma": 0.0, "beta": 4.0}, "gamma=0"),
    ({"alpha": 0.6, "gamma": 2.0, "beta": "max"}, "beta must be a number or 'min'"),
])
def test_bad_input(params, match):
    with pytest.raises(ParameterError, match=match):
        replica.solve("binary-perceptron-ce", **params)


@pytest.mark.slow
def test_beta_min_is_the_zero_entropy_point():
    """beta='min': the references' RS entropy vanishes there (and changes sign across it)."""
    from replica.cross_entropy import beta_min

    thr = beta_min(0.6, 2.0)
    assert thr.converged, thr.message
    assert abs(thr.solution.observables["entropy"]) <= 1e-10 and 55 < thr.value < 57
    below, above = (replica.solve("binary-perceptron-ce", alpha=0.6, gamma=2.0, beta=thr.value * s)
                    for s in (0.99, 1.01))
    assert below.entropy > 0 > above.entropy
    sol = replica.solve("binary-perceptron-ce", alpha=0.6, gamma=2.0, beta="min")
    assert sol.params["beta"] == pytest.approx(thr.value, rel=1e-12)


def test_cli(capsys):
    from replica.cli import main

    code = main(["solve", "binary-perceptron-ce", "--alpha", "0.6", "--gamma", "2", "--beta", "4", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 0 and d["converged"] and {"loss", "entropy", "train_error", "free_entropy"} <= set(d)
