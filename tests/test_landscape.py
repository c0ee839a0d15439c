"""Landscape tools against known answers: benchmark landscapes with an oracle, exact invariances, closed forms and
Monte Carlo with tolerances of 4 standard errors (tp4_landscape.md, section B)."""
import numpy as np
import pytest

from replica import landscape as ls
from replica.errors import ParameterError, ReplicaError


def _data(N, d, outputs=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, d))
    return X, rng.standard_normal((N, outputs) if outputs else N)


def _minima(loss, starts, **kw):
    return [ls.minimize_loss(loss, loss.random_point(np.random.default_rng(s)), **kw) for s in range(starts)]


# ----- gradients -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [ls.mlp(*_data(30, 5), [4], "relu"), ls.mlp(*_data(30, 5, 2), [4, 3], "tanh"),
                                  ls.quadratic_network(*_data(30, 5), np.array([1.0, 1.0, -1.0, 2.0])),
                                  ls.teacher_student(4, 5)], ids=["relu", "tanh-2-layers", "quadratic", "teacher"])
def test_gradients_match_finite_differences(loss):
    theta = loss.random_point(np.random.default_rng(1))
    eps = 1e-6
    numeric = [(loss.value(theta + eps * e) - loss.value(theta - eps * e)) / (2 * eps) for e in np.eye(loss.size)]
    assert np.allclose(loss.gradient(theta), numeric, rtol=1e-6, atol=1e-8)


def test_teacher_student_closed_form_against_monte_carlo():
    loss = ls.teacher_student(3, 4)
    W = loss.random_point(np.random.default_rng(2)).reshape(4, 3)
    x = np.random.default_rng(3).standard_normal((1_000_000, 3))
    samples = 0.5 * (np.maximum(x @ W.T, 0).sum(1) - np.maximum(x, 0).sum(1)) ** 2
    assert abs(loss.value(W.ravel()) - samples.mean()) <= 4 * samples.std() / 1000


# ----- benchmark landscapes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", [[5, 5], [2, 6]], ids=["wide", "rank-2 bottleneck"])
def test_every_minimum_of_a_deep_linear_net_is_global(hidden):
    X, Y = _data(50, 6, 4)
    loss = ls.deep_linear(X, Y, hidden)
    optimum = ls.deep_linear_optimum(X, Y, hidden)
    for theta in _minima(loss, 5):
        assert loss.value(theta) == pytest.approx(optimum, rel=1e-12)


def test_quadratic_activation_reaches_the_convex_oracle_and_a_narrow_one_does_not():
    """2d output weights of both signs: every run ends at the convex oracle; two neurons (rank <= 2): above it."""
    d = 6
    X, y = _data(40, d, seed=4)
    optimum = ls.quadratic_network_optimum(X, y)
    wide = ls.quadratic_network(X, y, np.r_[np.ones(d), -np.ones(d)])
    assert [wide.value(t) for t in _minima(wide, 6)] == pytest.approx([optimum] * 6, rel=1e-12)
    narrow = ls.quadratic_network(X, y, np.array([1.0, -1.0]))
    assert min(narrow.value(t) for t in _minima(narrow, 4)) > optimum + 0.01


def test_relu_teacher_student_has_strict_spurious_minima_that_extra_students_remove():
    """k = n = 10 (Safran & Shamir 2018): some runs end at loss ~ 0.019 with a positive-definite Hessian (here, as
    in the notes, eigenvalues in [3.2e-2, 3.1]); the rest at the teacher (F = 0). With n = 12 students every run
    ends at F < 1e-3."""
    loss = ls.teacher_student(10, 10)
    spurious = [t for t in _minima(loss, 20) if loss.value(t) > 1e-3]
    assert 0 < len(spurious) < 20
    for theta in spurious[:2]:
        low, high = np.linalg.eigvalsh(ls.hessian(loss, theta))[[0, -1]]
        assert 1e-2 < low and high < 10
    over = ls.teacher_student(10, 12)
    assert max(over.value(t) for t in _minima(over, 20, gtol=1e-5)) < 1e-3


# ----- slices and paths ------------------------------------------------------------------------------------------
def _rescaled(loss, theta, neuron, a):
    W1, W2 = (w.copy() for w in loss.split(theta))
    W1[neuron] *= a
    W2[:, neuron] /= a
    return loss.join([W1, W2])


def test_filter_normalized_slices_ignore_a_neuron_rescaling():
    """(a w_j, v_j / a) with the readout's direction zeroed: the filter-normalized curve is the same function."""
    loss = ls.mlp(*_data(30, 4), [5], "relu")
    theta = loss.random_point(np.random.default_rng(5))
    scaled = _rescaled(loss, theta, 2, 10.0)
    assert loss.value(scaled) == pytest.approx(loss.value(theta), rel=1e-14)
    ts = np.linspace(-1, 1, 11)

    def curve(t, normalization):
        return ls.slice_1d(loss, t, ls.direction(loss, t, np.random.default_rng(6), normalization, ignore=[-1]), ts)

    assert np.allclose(curve(scaled, "filter"), curve(theta, "filter"), rtol=1e-12)
    assert not np.allclose(curve(scaled, "none"), curve(theta, "none"), rtol=1e-3)
    assert np.array_equal(curve(theta, "layer"), curve(theta, "layer"))  # reproducible from a seed


def test_a_slice_of_a_quadratic_loss_is_its_curvature():
    """Linear regression at its minimum: l(t) = l(0) + t^2 delta^T H delta / 2 exactly, with H = X^T X / N."""
    X, y = _data(40, 5)
    loss = ls.mlp(X, y, [], "linear")
    theta = np.linalg.lstsq(X, y, rcond=None)[0]
    H = ls.hessian(loss, theta)
    assert np.allclose(H, X.T @ X / len(X), rtol=1e-8, atol=1e-10)
    delta = ls.direction(loss, theta, np.random.default_rng(7), "layer")
    ts = np.linspace(-2, 2, 9)
    assert np.allclose(ls.slice_1d(loss, theta, delta, ts), loss.value(theta) + 0.5 * ts ** 2 * (delta @ H @ delta),
                       rtol=1e-12)
    eta = ls.direction(loss, theta, np.random.default_rng(8), "weight")
    plane = ls.slice_2d(loss, theta, delta, eta, ts, ts)
    assert plane.shape == (9, 9) and plane[4, 4] == pytest.approx(loss.value(theta), rel=1e-14)


def test_a_permuted_network_has_no_barrier_after_alignment():
    loss = ls.mlp(*_data(40, 3), [6], "tanh")
    a = _minima(loss, 1, gtol=1e-3)[0]  # near a minimum is enough: its permutation is as low
    W1, W2 = loss.split(a)
    perm = np.random.default_rng(10).permutation(6)
    b = loss.join([W1[perm], W2[:, perm]])
    assert loss.value(b) == pytest.approx(loss.value(a), rel=1e-14)
    assert ls.barrier(loss, a, b) > 0.01
    assert np.allclose(ls.align(loss, a, b), a) and ls.barrier(loss, a, ls.align(loss, a, b)) <= 1e-14


def test_a_convex_loss_has_no_barrier():
    X, y = _data(40, 5)
    loss = ls.mlp(X, y, [], "linear")
    rng = np.random.default_rng(11)
    assert ls.barrier(loss, rng.standard_normal(5), rng.standard_normal(5)) <= 0.0


# ----- curvature -------------------------------------------------------------------------------------------------
def test_rescaling_symmetries_are_hessian_zero_modes_and_flatness_is_not_invariant():
    """A quadratic-activation net (homogeneous of degree 2, smooth, unlike ReLU whose minima sit at kinks): at a
    minimum each neuron's (w_j, -2 v_j) is a null vector of H; rescaling one neuron leaves the loss and moves tr H
    (Dinh et al. 2017)."""
    loss = ls.mlp(*_data(40, 3), [4], "quadratic")
    theta = _minima(loss, 1)[0]
    H = ls.hessian(loss, theta)
    W1, W2 = loss.split(theta)
    for j in range(4):
        mask = np.arange(4) == j
        mode = loss.join([W1 * mask[:, None], -2 * W2 * mask[None, :]])
        assert np.linalg.norm(H @ mode) <= 1e-6 * np.linalg.norm(mode) * np.abs(np.linalg.eigvalsh(H)).max()
    W1[0] *= 5
    W2[0, 0] /= 25
    moved = loss.join([W1, W2])
    assert loss.value(moved) == pytest.approx(loss.value(theta), rel=1e-13)
    assert abs(np.trace(ls.hessian(loss, moved)) - np.trace(H)) > 0.5 * np.trace(H)


def test_lanczos_and_hutchinson_against_the_exact_hessian():
    loss = ls.teacher_student(5, 6)
    theta = loss.random_point(np.random.default_rng(12))
    eig = np.linalg.eigvalsh(ls.hessian(loss, theta))
    low, high = ls.extreme_eigenvalues(loss, theta)
    assert low == pytest.approx(eig[0], abs=1e-6) and high == pytest.approx(eig[-1], rel=1e-7)
    estimate, error = ls.hutchinson_trace(loss, theta, 400, np.random.default_rng(13))
    assert abs(estimate - eig.sum()) <= 4 * error and error < 0.2 * abs(eig.sum())


# ----- local energy ----------------------------------------------------------------------------------------------
def _perceptron(N=200, P=300, seed=14):
    rng = np.random.default_rng(seed)
    patterns = rng.choice([-1.0, 1.0], size=(P, N))
    w = rng.standard_normal(N)
    return w, patterns, np.sign(patterns @ w)  # w a solution: every stability positive


@pytest.mark.parametrize("sigma", [0.1, 0.3, 0.6])
def test_perceptron_local_energy_against_monte_carlo(sigma):
    w, patterns, labels = _perceptron()

    def error(v):
        return np.mean(labels * (patterns @ v) < 0)

    exact = ls.perceptron_local_energy(w, patterns, labels, sigma)
    estimate, se = ls.local_energy(error, w, sigma, 2000, np.random.default_rng(15))
    assert abs(exact - estimate) <= 4 * se and exact > 0  # noise can only make errors on a solution


def test_multiplicative_local_energy_ignores_a_rescaling():
    loss = ls.mlp(*_data(30, 4), [5], "relu")
    theta = loss.random_point(np.random.default_rng(16))
    scaled = _rescaled(loss, theta, 1, 7.0)
    first = ls.local_energy(loss.value, theta, 0.2, 50, np.random.default_rng(17))
    again = ls.local_energy(loss.value, scaled, 0.2, 50, np.random.default_rng(17))
    assert first == pytest.approx(again, rel=1e-10)
    assert ls.local_energy(loss.value, scaled, 0.2, 50, np.random.default_rng(17), multiplicative=False)[0] != \
        pytest.approx(ls.local_energy(loss.value, theta, 0.2, 50, np.random.default_rng(17),
                                      multiplicative=False)[0], rel=1e-3)


def test_bad_landscape_arguments_are_refused():
    loss = ls.mlp(*_data(10, 3), [2], "relu")
    theta = loss.random_point(np.random.default_rng(0))
    with pytest.raises(ParameterError, match="normalization"):
        ls.direction(loss, theta, np.random.default_rng(0), "batch")
    with pytest.raises(ParameterError, match="sigma"):
        ls.local_energy(loss.value, theta, 0.0, 10, np.random.default_rng(0))
    with pytest.raises(ParameterError, match="activation"):
        ls.mlp(*_data(10, 3), [2], "swish")
    with pytest.raises(ParameterError, match="patterns"):
        ls.perceptron_local_energy(np.ones(3), np.full((2, 3), 0.5), np.ones(2), 0.1)
    with pytest.raises(ReplicaError, match="no minimum"):
        ls.minimize_loss(loss, theta, max_iter=1)
