"""Large-deviation local entropy of the binary perceptron: identities and limits (physics notes §D)."""
import math

import numpy as np
import pytest
from scipy.special import log_ndtr, roots_hermitenorm

import replica
from replica.errors import ParameterError


def h2(d):
    return -d * math.log(d) - (1 - d) * math.log(1 - d)


def ld(**params):
    return replica.solve("binary-perceptron-ld", **params)


def test_small_alpha_gives_ln2_plus_y_times_the_upper_bound():
    """alpha -> 0: F = ln 2 + y H2(d) (every configuration at distance d counts), local entropy H2(d)."""
    for y, d in [(3.0, 0.1), (0.5, 0.02)]:
        sol = ld(alpha=1e-7, y=y, d=d)
        assert sol.converged, sol.message
        assert abs(sol.free_entropy - (math.log(2) + y * h2(d))) <= 1e-6
        assert abs(sol.entropy - h2(d)) <= 1e-6


def test_y_equal_one_counts_pairs_of_solution_and_reference():
    """y = 1: F = s_RS(alpha, kappa) + H2(d) (pairs solution / reference at overlap S). At y = 1 the overlap q1 drops
    out (its equation degenerates), so F(1) is read as the mean of F(1 +- eps), exact up to O(eps^2)."""
    eps = 1e-3
    for alpha, kappa, d in [(0.3, 0.0, 0.1), (0.5, 0.2, 0.05)]:
        up, down = (ld(alpha=alpha, kappa=kappa, y=1 + s * eps, d=d) for s in (1, -1))
        s_rs = replica.solve("binary-perceptron", alpha=alpha, kappa=kappa).entropy
        assert abs((up.free_entropy + down.free_entropy) / 2 - (s_rs + h2(d))) <= 2e-7
        # and the local entropy is dF/dy
        assert abs((up.free_entropy - down.free_entropy) / (2 * eps) - (up.entropy + down.entropy) / 2) <= 1e-6


def test_entropy_is_the_y_derivative_and_complexity_the_legendre_transform():
    y, h = 3.0, 1e-4
    sol, up, down = (ld(alpha=0.5, y=y + s, d=0.05) for s in (0.0, h, -h))
    assert abs((up.free_entropy - down.free_entropy) / (2 * h) - sol.entropy) <= 1e-7
    assert abs(sol.complexity - (sol.free_entropy - y * sol.entropy)) <= 1e-14
    assert sol.entropy < sol.upper_bound


def test_phi_matches_an_independent_numpy_evaluation():
    """The compiled F against the formula of physics notes §D.2 written out in numpy with 200 Gauss-Hermite nodes
    per level (scipy's log_ndtr for ln H): checks derivation and code generation on the nested log-averages."""
    sol = ld(alpha=0.5, y=2.0, d=0.05)
    o, y, s = sol.order, 2.0, 1 - 2 * 0.05
    z, w = roots_hermitenorm(200)
    w = w / w.sum()
    zz, z1 = np.meshgrid(z, z, indexing="ij")

    def inner(sign):
        h = np.sqrt(o["q0hat"]) * zz + np.sqrt(o["q1hat"] - o["q0hat"]) * z1 + sign * o["Shat"]
        return np.log(np.exp(y * np.logaddexp(h, -h)) @ w)

    gs = (-y * o["q1hat"] / 2 * (1 + (y - 1) * o["q1"]) + y**2 * o["q0hat"] * o["q0"] / 2 - y * o["Shat"] * s
          + np.logaddexp(inner(1), inner(-1)) @ w)
    u = (-np.sqrt(o["q0"]) * zz - np.sqrt(o["q1"] - o["q0"]) * z1) / np.sqrt(1 - o["q1"])
    ge = np.log(np.exp(y * log_ndtr(-u)) @ w) @ w
    assert abs(gs + 0.5 * ge - sol.free_entropy) <= 1e-10


def test_larger_y_selects_denser_references():
    """The local entropy of the dominant references grows with y (dS_I/dy = Var >= 0 in the LD measure)."""
    values = [ld(alpha=0.5, y=y, d=0.05).entropy for y in (0.5, 1.5, 3.0, 6.0)]
    assert values == sorted(values)


@pytest.mark.parametrize("params, match", [
    ({"alpha": 0.5, "y": -1, "d": 0.1}, "y=-1"),
    ({"alpha": 0.5, "y": 2, "d": 0.6}, "d=0.6"),
    ({"alpha": 0.0, "y": 2, "d": 0.1}, "alpha=0"),
])
def test_bad_input(params, match):
    with pytest.raises(ParameterError, match=match):
        ld(**params)
