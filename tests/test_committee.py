"""Tree committee and parity machines: reductions to the perceptron, alpha = 0 limits, kernels against Monte Carlo,
the parity machine's q = 0 solution and capacity, the q -> 1 coefficient M_K, the approach to K = inf, and the K = inf
committee's Franz-Parisi local entropy."""
import json
import math

import numpy as np
import pytest
import sympy as sp
from replica.equations import committee as eq
from replica.equations.model import FreeEntropy
from replica.equations.vocabulary import E, IidAverage
from replica.solvers.quadrature import Quadrature
from replica.solvers.system import System

import replica
from replica.cli import main
from replica.committee import alpha_c_tree, flip_cost
from replica.errors import ParameterError
from replica.models import resolve

LN2 = math.log(2)


def test_symmetric_rule_equals_the_full_product_rule():
    """The multiset rule (N^K/K! nodes) gives what the full N^K product gives, for phi, residuals and Jacobian."""
    fe = eq.tree_machine("committee", 3, "sign", "binary")

    def nested(a):
        f = a.integrand
        for z in reversed(a.variables):
            f = E(f, z)
        return f

    full = FreeEntropy(name="committee-K3-full-product", phi=fe.phi.replace(lambda e: isinstance(e, IidAverage),
                                                                            nested),
                       order=fe.order, params=fe.params, pairs=fe.pairs)
    quad = Quadrature(gauss=20, rule="hermite")
    a, b = System(fe), System(full)
    v = a.vector({"q": 0.4, "qhat": 0.7}, {"alpha": 0.3})
    for bundle in ("phi", "res", "res_jac", "res_dpar"):
        assert np.max(np.abs(a.call(bundle, v, quad) - b.call(bundle, v, quad))) < 1e-14


@pytest.mark.parametrize("weights", ["binary", "spherical"])
def test_one_hidden_unit_is_the_perceptron(weights):
    tree = replica.solve("committee", K=1, weights=weights, alpha=0.5)
    perceptron = replica.solve(f"{weights}-perceptron", alpha=0.5)
    assert tree.q == pytest.approx(perceptron.q, abs=1e-12)
    assert tree.entropy == pytest.approx(perceptron.entropy, abs=1e-12)


@pytest.mark.parametrize("options", [dict(K=3), dict(K="inf"), dict(K="inf", activation="relu"),
                                     pytest.param(dict(K=3, activation="relu"), marks=pytest.mark.slow)])  # 31 s cold
@pytest.mark.parametrize("weights, s0", [("binary", LN2), ("spherical", 0.0)])
def test_alpha_zero(options, weights, s0):
    sol = replica.solve("committee", weights=weights, alpha=0.0, **options)
    assert sol.q == pytest.approx(0.0, abs=1e-9)
    assert sol.entropy == pytest.approx(s0, abs=1e-12)


@pytest.mark.parametrize("activation", ["sign", "relu"])
@pytest.mark.parametrize("x", [0.3, 0.8])
def test_kernels_against_monte_carlo(activation, x):
    """Q(x) = corr of the centred activations of unit Gaussians with correlation x; balanced read-out weights
    c_l = +-1 (no centring) give the same output correlation."""
    rng = np.random.default_rng(1)
    n = 2_000_000
    u = rng.standard_normal(n)
    v = x * u + math.sqrt(1 - x * x) * rng.standard_normal(n)
    g = np.sign if activation == "sign" else (lambda y: np.maximum(y, 0.0))
    gu, gv = g(u), g(v)
    centred = (gu - gu.mean()) * (gv - gv.mean()) / (gu.var() ** 0.5 * gv.var() ** 0.5)
    Q = float(eq.kernel(activation, sp.Float(x)))
    assert abs(centred.mean() - Q) < 5 * centred.std() / math.sqrt(n)
    # balanced read-out, K hidden units: cov of K^{-1/2} sum_l c_l g(lambda_l) across two replicas / its variance
    K, m = 8, 200_000
    c = np.array([1, -1] * (K // 2))
    U = rng.standard_normal((m, K))
    V = x * U + math.sqrt(1 - x * x) * rng.standard_normal((m, K))
    hu, hv = g(U) @ c / math.sqrt(K), g(V) @ c / math.sqrt(K)
    r = np.corrcoef(hu, hv)[0, 1]
    assert abs(r - Q) < 5 * (1 - Q * Q) / math.sqrt(m)


@pytest.mark.parametrize("K", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_parity_machine_stays_at_q_zero(K):
    """The parity output is odd in every hidden field: q = 0 solves the equations, s = (1 - alpha) ln 2, and the
    binary capacity is 1 (every pattern halves the volume)."""
    sol = replica.solve("parity", K=K, alpha=0.6)
    assert sol.q == pytest.approx(0.0, abs=1e-9)
    assert sol.entropy == pytest.approx(0.4 * LN2, abs=1e-12)
    assert replica.capacity("parity", K=K).value == pytest.approx(1.0, abs=1e-9)


def test_flip_cost_closed_forms():
    """K = 1: M = E[z^2; z < 0] = 1/2 (alpha_c = 2); parity K = 2: (1/2) E[min(|z1|, |z2|)^2] by direct quadrature."""
    from scipy import integrate

    assert flip_cost("committee", 1) == pytest.approx(0.5, rel=1e-12)
    # P(min(|z1|,|z2|) > t) = (2 H(t))^2 = erfc(t/sqrt 2)^2, E[min^2] = int 2 t P(min > t) dt
    from scipy.special import erfc
    m2 = integrate.quad(lambda t: 2 * t * erfc(t / math.sqrt(2)) ** 2, 0, np.inf)[0]
    assert flip_cost("parity", 2) == pytest.approx(0.5 * m2, rel=1e-10)
    # literature (RS, spherical weights): committee K = 3: 4.02; parity K = 2: 5.50
    assert alpha_c_tree("committee", 3) == pytest.approx(4.025, abs=1e-3)
    assert alpha_c_tree("parity", 2) == pytest.approx(5.504, abs=1e-3)


@pytest.mark.parametrize("machine, K", [("committee", 3), ("parity", 2)])
def test_energetic_term_approaches_minus_M_over_two_eps(machine, K):
    """-2 (1-q) G_E(q) -> M_K as q -> 1 (the spherical capacity 1/M_K rests on it): the compiled energetic term at
    q = 1 - eps approaches M_K, the gap shrinking at least five-fold per decade of eps."""
    spec, _ = resolve(machine, {"K": K, "weights": "spherical"})
    system = spec.system
    quad = Quadrature(gauss=256)
    gaps = []
    for eps in (1e-2, 1e-3, 1e-4):
        ge = [system.call("phi", system.vector({"q": 1 - eps, "qhat": 1.0}, {"alpha": a}), quad)[0] for a in (0, 1)]
        gaps.append(-2 * eps * (ge[1] - ge[0]) - flip_cost(machine, K))
    assert all(g > 0 for g in gaps)
    assert gaps[1] < gaps[0] / 5 and gaps[2] < gaps[1] / 5
    assert gaps[2] < 5e-3 * flip_cost(machine, K)


def test_finite_K_approaches_K_infinity():
    """Entropy and overlap at alpha = 0.5 move monotonically from K = 1 towards K = inf (K = 5: slow test)."""
    s = [replica.solve("committee", K=K, alpha=0.5).entropy for K in (1, 3, "inf")]
    assert s[0] < s[1] < s[2]
    assert s[2] - s[1] < (s[1] - s[0]) / 2


@pytest.mark.slow
def test_K5_lies_between_K3_and_K_infinity():
    s = {K: replica.solve("committee", K=K, alpha=0.5).entropy for K in (3, 5, "inf")}
    assert s[3] < s[5] < s["inf"]
    assert s["inf"] - s[5] < s["inf"] - s[3]


def test_binary_capacities():
    assert replica.capacity("committee", K=1).value == pytest.approx(0.8330786, abs=1e-7)
    sign = replica.capacity("committee", K="inf").value
    relu = replica.capacity("committee", K="inf", activation="relu").value
    three = replica.capacity("committee", K=3).value
    assert 0.8330786 < three < sign < 1 and relu < sign
    assert replica.solve("committee", K="inf", alpha=sign).entropy == pytest.approx(0.0, abs=1e-9)


def test_spherical_capacities():
    relu = replica.capacity("committee", K="inf", activation="relu", weights="spherical")
    assert relu.value == pytest.approx(2 * math.pi / (math.pi - 1), rel=1e-12)
    sign = replica.capacity("committee", K="inf", weights="spherical")
    assert sign.value is None and sign.status == "diverges" and not sign.converged


def test_committee_fp_typical_point_and_bound():
    """K = inf committee FP: p = q~, kappa = kappa_ref is the storage entropy (stationary there); phi <= H2(d)."""
    from replica.models import get_model

    ref = replica.solve("committee", K="inf", alpha=0.5, kappa=0.2)
    spec, _ = resolve("committee-fp", {"activation": "sign"})
    system = spec.system
    inputs = {"alpha": 0.5, "kappa": 0.2, "kappa_ref": 0.2, "p": ref.q, "q_ref": ref.q, "qhat_ref": ref.qhat}
    v = system.vector({"t": ref.q, "q1": ref.q, "phat": ref.qhat, "that": ref.qhat, "q1hat": ref.qhat}, inputs)
    quad = Quadrature(gauss=96, trunc=48, inner=12, inner_rule="hermite")
    assert system.call("phi", v, quad)[0] == pytest.approx(ref.entropy, abs=1e-9)
    assert np.max(np.abs(system.call("res", v, quad))) <= 1e-7
    assert get_model(spec.name) is spec
    sol = replica.solve("committee-fp", alpha=0.5, ref_kappa="max", d=0.05)
    assert sol.converged and 0 < sol.entropy < sol.upper_bound


def test_committee_fp_starts_in_the_stabilities_distance():
    """Around kappa_max references the curve starts where the counted solutions' constraints are inactive: for a
    K = inf machine that is a small distance between the *stabilities*, 1 - Q(p), far smaller in d (sign units:
    1 - Q ~ sqrt(d)). At alpha = 0.75 a start placed by d alone failed at every d."""
    sol = replica.solve("committee-fp", alpha=0.75, ref_kappa="max", d=0.2)
    assert sol.converged and 0 < sol.entropy < sol.upper_bound


def test_relu_dense_regions_are_denser_than_sign():
    """Around maximal-margin references at alpha = 0.5 and d = 0.02 the ReLU committee's local entropy is closer to
    the upper bound H2(d) than the sign committee's (the ReLU paper's claim); around typical references the sign
    committee's is negative (isolated solutions)."""
    relu = replica.solve("committee-fp", activation="relu", alpha=0.5, ref_kappa="max", d=0.02)
    sign = replica.solve("committee-fp", activation="sign", alpha=0.5, ref_kappa="max", d=0.02)
    assert sign.entropy < relu.entropy < relu.upper_bound
    assert relu.entropy > 0.9 * relu.upper_bound > 2 * sign.entropy
    typical = replica.solve("committee-fp", activation="sign", alpha=0.5, d=0.02)
    assert typical.converged and typical.entropy < 0


def test_sign_committee_curves_dip_from_alpha_056():
    """Around maximal-margin references the sign committee's curve rises monotonically at alpha = 0.5 and dips at
    alpha = 0.6 (phi_FP < 0 near d = 0.007), well below the ReLU committee's onset 0.772 and the perceptron's 0.729."""
    from replica.models import resolve

    spec = resolve("committee-fp", {"activation": "sign"})[0]
    fixed = {"ref_kappa": "max", "kappa": 0.0}
    assert spec.threshold("onset").dip(spec, 0.5, fixed, 1e-3, 12)[0] > 0
    assert spec.threshold("onset").dip(spec, 0.6, fixed, 1e-3, 12)[0] < 0
    assert replica.solve("committee-fp", activation="sign", alpha=0.6, ref_kappa="max", d=0.0065).entropy < 0


@pytest.mark.slow
def test_sign_committee_onset():
    """replica onset committee-fp (sign units, the model's bracket 0.4:0.65 and d_min = 1e-3): 0.5578, the dip opening
    at d ~ 0.0017, inside the searched range (the same from d_min = 2e-4; from the perceptron's 4e-3 the dip would sit
    at the edge). About 4 minutes."""
    thr = replica.onset("committee-fp", activation="sign")
    assert thr.converged and thr.value == pytest.approx(0.5578, abs=2e-3)
    assert 1.2e-3 < thr.extra["d_dip"] < 3e-3


def test_cli(capsys):
    assert main(["solve", "committee", "--K", "3", "--activation", "sign", "--weights", "binary", "--alpha", "0.5",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "committee-K3-sign-binary" and out["converged"]
    assert main(["capacity", "committee", "--K", "inf", "--activation", "sign", "--weights", "binary", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alpha_c"] == pytest.approx(0.94695, abs=1e-5) and out["alpha_GD"] is None  # infinite: JSON null
    assert main(["capacity", "committee", "--K", "inf", "--activation", "sign", "--weights", "binary"]) == 0
    assert "alpha_GD = inf" in capsys.readouterr().out  # the RS solution never reaches q = 1 for sign units
    assert main(["capacity", "committee", "--K", "inf", "--weights", "spherical"]) == 1
    capsys.readouterr()
    assert main(["dat-line", "committee", "--K", "inf", "--activation", "relu", "--weights", "spherical",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alpha_dAT"] == pytest.approx(1.72120, abs=1e-4) and out["alpha_c"] == pytest.approx(2.93388, abs=1e-5)


@pytest.mark.parametrize("argv, match", [
    (["solve", "committee", "--K", "4", "--alpha", "0.5"], "odd K"),
    (["solve", "committee", "--K", "7", "--activation", "relu", "--alpha", "0.5"], "K = 1, 3, 5"),
    (["dat-line", "committee", "--K", "3", "--activation", "relu"], "use K=inf"),
    (["solve", "committee", "--K", "inf", "--activation", "relu", "--theta", "0.5", "--alpha", "0.5"], "theta"),
    (["solve", "committee", "--K", "3", "--activation", "tanh", "--alpha", "0.5"], "allowed: sign, relu"),
    (["solve", "committee", "--alpha", "0.5"], "needs the option K"),
    (["solve", "committee", "--K", "3", "--weights", "spherical", "--alpha", "5"], "RS capacity"),
    (["solve", "committee", "--K", "3", "--alpha", "-1"], "outside the allowed range"),
    (["solve", "parity", "--K", "1", "--alpha", "0.5"], "K from 2"),
    (["capacity", "committee", "--K", "3", "--kappa", "0.5"], "margin kappa is defined on the K = inf"),
    (["solve", "committee-fp", "--K", "3", "--alpha", "0.5", "--d", "0.1"], "implemented for K=inf"),
    (["dat-line", "committee", "--K", "3", "--kappa", "0.5"], "finite trees: kappa = 0"),
    (["dat-line", "spherical-perceptron"], "needs --kappa"),
])
def test_bad_input(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_parity_fp_alpha_zero_is_the_upper_bound():
    """At alpha = 0 the Franz-Parisi potential at q1 = p^2, phat = atanh p, q1hat = 0 is H2(d), and it is stationary
    there (the energetic term is multiplied by alpha)."""
    spec, _ = resolve("parity-fp", {"K": 2})
    system = spec.system
    d = 0.1
    p = 1 - 2 * d
    v = system.vector({"q1": p * p + 1e-12, "phat": math.atanh(p), "q1hat": 0.0},
                      {"alpha": 0.0, "p": p, "kappa_h": 0.0})
    h2 = -d * math.log(d) - (1 - d) * math.log(1 - d)
    assert system.call("phi", v, spec.quadrature)[0] == pytest.approx(h2, abs=1e-9)
    assert system.call("obs", v, spec.quadrature)[1] == pytest.approx(h2, abs=1e-15)


def test_parity_fp_curve_lies_between_the_bounds():
    """At alpha = 0.3: below H2(d), above its K -> inf limit H2(d) - alpha ln 2, and decreasing towards small d."""
    values = []
    for d in (0.2, 0.05):
        sol = replica.solve("parity-fp", K=2, alpha=0.3, d=d, quad_tol=1e-5)
        assert sol.converged
        assert sol.upper_bound - 0.3 * LN2 < sol.entropy < sol.upper_bound
        values.append(sol.entropy)
    assert values[1] < values[0]



def test_parity_fp_at_zero_overlap_is_the_storage_entropy_for_any_hidden_margin():
    """At p = 0 the counted configurations are independent of the reference: q1 = phat = q1hat = 0 is stationary and
    phi_FP = (1 - alpha) ln 2, whatever the reference's hidden margin."""
    spec, _ = resolve("parity-fp", {"K": 2})
    system = spec.system
    for kappa_h in (0.0, 0.7):
        v = system.vector({"q1": 1e-12, "phat": 0.0, "q1hat": 0.0}, {"alpha": 0.3, "p": 0.0, "kappa_h": kappa_h})
        assert system.call("phi", v, spec.quadrature)[0] == pytest.approx(0.7 * LN2, abs=1e-10)
        assert np.max(np.abs(system.call("phi_res", v, spec.quadrature)[1:])) < 1e-9


def test_parity_references_with_hidden_margins():
    """The references' RS entropy (1 - alpha) ln 2 + alpha K ln(2 H(kappa_h)) vanishes at the largest hidden margin,
    'max' selects it, and a larger margin is refused."""
    from replica.committee import parity_max_hidden_margin, parity_reference_entropy

    top = parity_max_hidden_margin(0.3)
    assert parity_reference_entropy(0.3, top) == pytest.approx(0.0, abs=1e-14)
    assert parity_reference_entropy(0.3, 0.0) == pytest.approx(0.7 * LN2, abs=1e-14)
    spec, rest = resolve("parity-fp", {"K": 2, "alpha": 0.3, "ref_kappa": "max", "d": 0.1})
    assert spec.validate(rest)["ref_kappa"] == pytest.approx(top, abs=1e-14)
    with pytest.raises(ParameterError, match="largest hidden margin"):
        spec.check({**rest, "ref_kappa": top + 0.01})


def test_parity_fp_around_max_hidden_margin_references_is_dense():
    """Around references with the largest hidden margin the K = 2 parity machine has a wide flat minimum: at
    alpha = 0.3, d = 0.05 phi_FP is within 1e-2 of H2(d) (0.1903 against 0.1985), where around typical references it
    is 0.106 (docs/committee.md)."""
    sol = replica.solve("parity-fp", K=2, alpha=0.3, ref_kappa="max", d=0.05, quad_tol=1e-5)
    assert sol.converged
    assert sol.upper_bound - 1e-2 < sol.entropy < sol.upper_bound



def _finite_K_replicon(K, q, samples, rng, nodes=96):
    """sum_{l,m} E[(d_l d_m ln Z)^2] for the sign committee with K hidden units (Z = P(majority = +1) given the means
    omega_l = sqrt(q) z_l of the units' fields, variance 1 - q), computed independently of the toolkit: by symmetry
    K M_11 + K(K-1) M_12, with z_1, z_2 on a Gauss-Hermite grid and the other K - 2 units by Monte Carlo, the
    distribution of their sum by dynamic programming. With R the others' sum, Z = sum_{a,b} pi_1(a) pi_2(b)
    P(R + a + b > 0), multilinear in the units' probabilities P_l = H(-omega_l/sqrt(1-q)), which gives d_l Z and
    d_l d_m Z. K = 1 is the perceptron: Z = P_1. Returns (mean, standard error)."""
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import ndtr

    s = math.sqrt(1 - q)
    z, w = hermegauss(nodes)
    w = w / w.sum()
    x = math.sqrt(q) * z / s
    P, dP = ndtr(x), np.exp(-x * x / 2) / math.sqrt(2 * math.pi) / s  # P_l and dP_l/domega_l
    d2P = -(x / s) * dP
    if K == 1:
        return float(np.sum(w * (d2P / P - (dP / P) ** 2) ** 2)), 0.0
    n = K - 2
    count = np.zeros((samples, n + 1))
    count[:, 0] = 1
    for p in ndtr(math.sqrt(q) * rng.standard_normal((samples, n)) / s).T:  # number of +1 among the others
        count[:, 1:] = count[:, 1:] * (1 - p[:, None]) + count[:, :-1] * p[:, None]
        count[:, 0] *= 1 - p
    R = 2 * np.arange(n + 1) - n

    def prob(mask):
        return (count * mask).sum(1)[:, None, None]

    p1, p2 = P[None, :, None], P[None, None, :]
    Z = p1 * p2 * prob(R >= -1) + (p1 + p2 - 2 * p1 * p2) * prob(R >= 1) + (1 - p1) * (1 - p2) * prob(R >= 3)
    t1 = p2 * prob(R == -1) + (1 - p2) * prob(R == 1)  # dZ/dP_1: the others of unit 1 tie
    t2 = p1 * prob(R == -1) + (1 - p1) * prob(R == 1)
    d1, d2 = dP[None, :, None] * t1 / Z, dP[None, None, :] * t2 / Z
    h11 = d2P[None, :, None] * t1 / Z - d1**2
    h12 = dP[None, :, None] * dP[None, None, :] * (prob(R == -1) - prob(R == 1)) / Z - d1 * d2
    W = (w[:, None] * w[None, :])[None]
    total = K * (h11**2 * W).sum((1, 2)) + K * (K - 1) * (h12**2 * W).sum((1, 2))
    return float(total.mean()), float(total.std() / math.sqrt(samples))


def _energetic_replicon(model, q, **options):
    """lambda_AT/(alpha (1-q)^2) of a spherical-weight model at overlap q: its energetic replicon factor."""
    spec, _ = resolve(model, {**options, "weights": "spherical"} if options else {})
    system = spec.system
    inputs = {"alpha": 1.0, "kappa": 0.0}
    v = system.vector({"q": q, "qhat": 1.0}, {k: inputs[k] for k in system.param_names})
    return system.observables(v, spec.quadrature)["lambda_AT"] / (1 - q) ** 2


@pytest.mark.parametrize("q", [0.2, 0.5])
def test_replicon_of_the_kernel_is_the_large_K_limit(q):
    """lambda_AT of the K = inf committee is the chain rule through the kernel, Q'^2 E[(ln H)''^2] + Q'' E[(ln H)'^2].
    An independent finite-K count (above; at K = 1 it is the perceptron's lambda_AT exactly) approaches it as K grows,
    and misses it without the Q'' term."""
    from scipy.special import ndtr

    assert _finite_K_replicon(1, q, 0, None)[0] == pytest.approx(_energetic_replicon("spherical-perceptron", q),
                                                                 rel=1e-10)
    limit = _energetic_replicon("committee", q, K="inf")
    Q = 2 / math.pi * math.asin(q)
    z, w = np.polynomial.hermite_e.hermegauss(150)
    x = -math.sqrt(Q / (1 - Q)) * z
    first = np.sum(w / w.sum() * (np.exp(-x * x / 2) / math.sqrt(2 * math.pi) / ndtr(-x)) ** 2) / (1 - Q)
    without = limit - 2 / math.pi * q / (1 - q * q) ** 1.5 * first  # the Q''(q) E[(ln H)'^2] term removed
    rng = np.random.default_rng(7)
    (m25, e25), (m201, e201) = (_finite_K_replicon(K, q, 2000, rng) for K in (25, 201))
    assert abs(m201 - limit) < abs(m25 - limit) + 4 * (e25 + e201)  # closer as K grows
    assert abs(m201 - limit) < 4 * e201 + 0.01 * limit  # the 1/K bias left at K = 201 is about 0.5 %
    assert abs(m201 - without) > 0.2 * limit  # measured: 0.33 against 0.22 (q = 0.2), 1.15 against 0.48 (q = 0.5)


@pytest.mark.slow  # 15 s cold: four K = inf dAT lines
def test_dat_lines_of_the_infinite_committee():
    """replica dat-line committee --K inf: lambda_AT = 1 at the returned load, converged; with spherical weights RS
    breaks down well below the ReLU machine's RS capacity, with binary weights only beyond the capacities (RS is
    stable up to them)."""
    found = {}
    for activation in ("sign", "relu"):
        for weights in ("binary", "spherical"):
            thr = replica.dat_line("committee", K="inf", activation=activation, weights=weights)
            assert thr.converged and thr.solution.observables["lambda_AT"] == pytest.approx(1.0, abs=1e-9)
            found[activation, weights] = thr.value, thr.extra["alpha_c"]
    alpha_dat, alpha_c = found["relu", "spherical"]
    assert alpha_dat == pytest.approx(1.72120, abs=1e-4) and alpha_dat < 0.6 * alpha_c
    assert found["sign", "spherical"][0] == pytest.approx(2.98782, abs=1e-4)
    for activation in ("sign", "relu"):
        alpha_dat, alpha_c = found[activation, "binary"]
        assert alpha_dat > alpha_c


@pytest.mark.slow  # 20 s cold: compiles the finite trees' replicon models
@pytest.mark.parametrize("q", [0.3, 0.6])
def test_finite_tree_replicon_against_an_independent_count(q):
    """lambda_AT of a finite sign committee, alpha e E||Hessian of ln P in the hidden fields||^2, compiled from the
    symbolic derivatives: at K = 1 the perceptron's exactly; at K = 3 the independent count above (the third unit by
    Monte Carlo) within its error."""
    assert _energetic_replicon_finite("committee", 1, q) == pytest.approx(
        _energetic_replicon("spherical-perceptron", q), rel=1e-10)
    mc, err = _finite_K_replicon(3, q, 4000, np.random.default_rng(11))
    assert _energetic_replicon_finite("committee", 3, q) == pytest.approx(mc, abs=4 * err + 1e-9)




def test_a_tree_stable_up_to_its_capacity_has_no_dat_point():
    """Committee K = 1, spherical weights (the perceptron at kappa = 0): lambda_AT stays below 1 up to where the RS
    solution ends (q -> 1 at alpha_c = 2), so there is no dAT point: status 'ended', saying so."""
    thr = replica.dat_line("committee", K=1, weights="spherical")
    assert thr.value is None and thr.status == "ended" and "no dAT point" in thr.message
    last = float(thr.message.split("lambda_AT = ")[1].split(" ")[0])
    assert 0.5 < last < 1 and thr.extra["alpha_c"] == 2.0


@pytest.mark.slow
def test_the_three_unit_parity_machine_is_replica_symmetric_stable():
    """Parity K = 3: P(+ | h) = (1 + m1 m2 m3)/2 with m_k = 1 - 2 H(h_k/sigma), and at the RS solution q = 0 every
    field is 0, so each second derivative of ln P keeps a factor m = 0: lambda_AT = 0 at every load (K = 2 keeps
    m1' m2' = 2/pi and breaks at pi^2/8). No dAT point, for either weights (about a minute: two compilations)."""
    for weights in ("spherical", "binary"):
        thr = replica.dat_line("parity", K=3, weights=weights)
        assert thr.value is None and thr.status == "ended"
        assert abs(float(thr.message.split("lambda_AT = ")[1].split(" ")[0])) < 1e-9

@pytest.mark.slow
def test_spherical_dat_point_of_the_three_unit_committee():
    """Committee K = 3, spherical weights: RS breaks down at alpha_dAT = 1.72991 (q = 0.600), well below its RS
    capacity 1/M_3 = 4.025. The point converges on the trapezoid rule (96 nodes per dimension; 192 Gauss-Hermite
    nodes left an estimate of 8e-7), and lambda_AT there is 1 on a fixed rule twice as fine (about 30 s)."""
    from replica.committee import _member

    thr = replica.dat_line("committee", K=3, weights="spherical")
    assert thr.converged and thr.solution.quad_error <= 1e-8
    assert thr.value == pytest.approx(1.72991, abs=1e-5) and thr.value < 0.5 * thr.extra["alpha_c"]
    spec = _member("committee", 3, "sign", "spherical", True)
    fine = Quadrature(gauss=192)
    sol = spec.solve(spec.validate({"alpha": thr.value}), quadrature=fine, strict=False)
    assert sol.converged and sol.observables["lambda_AT"] == pytest.approx(1.0, abs=1e-8)

def _energetic_replicon_finite(machine, K, q):
    from replica.committee import _member

    spec = _member(machine, K, "sign", "spherical", True)
    system = spec.system
    v = system.vector({"q": q, "qhat": 1.0}, {"alpha": 1.0})
    return system.observables(v, spec.quadrature)["lambda_AT"] / (1 - q) ** 2


@pytest.mark.slow  # 36 s cold: the finite trees' replicon models compile for it alone
def test_dat_lines_of_finite_trees():
    """replica dat-line for finite trees: lambda_AT = 1 at the returned load. Parity K = 2, spherical: the RS solution
    is q = 0, where the Hessian of ln P has only the off-diagonal 2/pi, so alpha_dAT = pi^2/8 exactly (far below the
    RS capacity 5.50). Committee K = 1, binary: the binary perceptron's dAT point (lambda_AT of binary-perceptron is 1
    there, beyond its capacity); K = 3, binary: beyond the capacity too (RS is locally stable wherever solutions
    exist)."""
    parity = replica.dat_line("parity", K=2, weights="spherical")
    assert parity.converged and parity.value == pytest.approx(math.pi**2 / 8, abs=1e-9)
    for K in (1, 3):
        thr = replica.dat_line("committee", K=K, weights="binary")
        assert thr.converged and thr.solution.observables["lambda_AT"] == pytest.approx(1.0, abs=1e-9)
        assert thr.value > thr.extra["alpha_c"]
    perceptron = replica.solve("binary-perceptron", alpha=replica.dat_line("committee", K=1, weights="binary").value)
    assert perceptron.observables["lambda_AT"] == pytest.approx(1.0, abs=1e-8)
    with pytest.raises(replica.ParameterError, match="kappa = 0"):
        replica.dat_line("committee", K=3, kappa=0.5)


# ----- finite-K ReLU committees --------------------------------------------------------------------------------------

@pytest.mark.parametrize("omegas, sigma, s", [([0.3, -0.5, 1.1], 0.7, 1.2), ([-1.5, -2.0, 0.4, 0.2], 0.8, 2.0),
                                              ([1.0, -0.2], 0.4, 0.9)])
def test_relu_sum_probabilities_against_monte_carlo(omegas, sigma, s):
    """P(sum_l relu(omega_l + sigma x_l) <= s) and > s from the nested interval recursion (evaluated in mpmath on
    10 Gauss–Legendre nodes per level) sum to 1 and agree with a Monte-Carlo count (4e6 samples, five standard
    errors)."""
    from replica.highprec import evaluate

    below, above = eq.relu_sum_probabilities([sp.Float(w) for w in omegas], sp.Float(sigma), sp.Float(s))
    p_below, p_above = (float(evaluate(e, {}, dps=20, quadrature=Quadrature(trunc=10))) for e in (below, above))
    assert p_below + p_above == pytest.approx(1.0, abs=1e-12)
    x = np.random.default_rng(7).standard_normal((4_000_000, len(omegas)))
    count = (np.maximum(np.array(omegas) + sigma * x, 0).sum(axis=1) <= s).mean()
    assert abs(count - p_below) < 5 * math.sqrt(count * (1 - count) / len(x))


def test_one_relu_unit_is_a_perceptron_with_a_threshold():
    """K = 1: the output sign(relu(lambda) - T), T = 1/sqrt(2 pi) + theta sd, is a perceptron whose label +1 needs
    lambda > T and label -1 lambda <= T: G_E = [G_E^perceptron(q, kappa=T) + G_E^perceptron(q, kappa=-T)]/2 (the second
    by z -> -z). phi, equations and Jacobian agree to rounding."""
    from replica.equations.perceptron import energetic, entropic_binary, q, qhat

    theta = 0.3
    T = float(1 / math.sqrt(2 * math.pi) + theta * math.sqrt((math.pi - 1) / (2 * math.pi)))
    fe = eq.tree_machine("committee", 1, "relu", "binary")
    alpha = fe.params[0].symbol
    ref = FreeEntropy(name="relu-K1-as-perceptron",
                      phi=entropic_binary(q, qhat) + alpha * (energetic(q, T) + energetic(q, -T)) / 2,
                      order=fe.order, params=fe.params[:1], pairs=fe.pairs)
    quad = Quadrature(gauss=128)
    a, b = System(fe), System(ref)
    for point in ({"q": 0.3, "qhat": 0.6}, {"q": 0.7, "qhat": 2.0}):
        va, vb = a.vector(point, {"alpha": 0.4, "theta": theta}), b.vector(point, {"alpha": 0.4})
        for bundle in ("phi", "res", "res_jac"):
            assert np.max(np.abs(a.call(bundle, va, quad) - b.call(bundle, vb, quad))) < 1e-12


def test_relu_committee_equations_are_the_gradient_of_phi():
    """K = 3: sympy's gradient of phi (through the nested interval levels) equals central differences of the compiled
    phi, and at the solved point central differences of phi vanish."""
    from conftest import fd_gradient

    spec = resolve("committee", {"K": 3, "activation": "relu"})[0]
    system, quad = spec.system, Quadrature(gauss=64, nest=16, trunc=6)
    k = system.observable_names.index("entropy")
    v = system.vector({"q": 0.45, "qhat": 1.1}, {"alpha": 0.6, "theta": 0.2})
    fd = fd_gradient(lambda w: system.call("phi", w, quad)[0], v, [0, 1, 2, 3])
    assert np.max(np.abs(system.call(f"obs_grad_{k}", v, quad)[1:] - fd)) < 1e-8
    sol = replica.solve(spec.name, alpha=0.6, theta=0.2, quadrature=quad)
    w, used = system.vector(sol.order, sol.params), Quadrature(**sol.settings["quadrature"])  # as refined
    assert np.max(np.abs(fd_gradient(lambda x: system.call("phi", x, used)[0], w, [0, 1]))) < 1e-8


def test_relu_committee_rule_converges():
    """K = 3 at q = 0.5: doubling the interval levels' Gauss–Legendre nodes from 8 changes the equations by < 1e-10;
    the outer rule's doubling from 48 by < 1e-7 (what the node-doubling estimate then refines)."""
    system = resolve("committee", {"K": 3, "activation": "relu"})[0].system
    v = system.vector({"q": 0.5, "qhat": 1.0}, {"alpha": 0.5, "theta": 0.0})
    base = Quadrature(gauss=128, nest=48, trunc=8)
    r = system.call("fp", v, base)
    assert np.max(np.abs(system.call("fp", v, Quadrature(gauss=128, nest=48, trunc=16)) - r)) < 1e-10
    assert np.max(np.abs(system.call("fp", v, Quadrature(gauss=128, nest=96, trunc=8)) - r)) < 1e-7


def test_relu_committee_on_its_rule_in_mpmath():
    """The compiled phi of the K = 3 ReLU committee equals its own rule re-evaluated in mpmath (the product rule over
    the outer nodes, the nested Gauss–Legendre levels, ln of the sums of positive terms): code generation adds
    nothing but rounding."""
    from replica.highprec import evaluate

    fe = eq.tree_machine("committee", 3, "relu", "binary")
    system = System(fe)
    quad = Quadrature(gauss=16, nest=5, trunc=3, rule="hermite")
    point = {"q": 0.4, "qhat": 0.9, "alpha": 0.5, "theta": 0.1}
    v = system.vector({k: point[k] for k in ("q", "qhat")}, {k: point[k] for k in ("alpha", "theta")})
    exact = evaluate(fe.phi, {s: point[s.name] for s in fe.symbols}, dps=25, quadrature=quad)
    assert system.call("phi", v, quad)[0] == pytest.approx(float(exact), abs=1e-13)


def test_one_relu_unit_capacity():
    """K = 1 (a perceptron with threshold 1/sqrt(2 pi)): zero RS entropy at 0.757749, below the K = inf value."""
    one = replica.capacity("committee", K=1, activation="relu")
    assert one.converged and one.value == pytest.approx(0.757749, abs=2e-6)
    assert replica.solve("committee", K=1, activation="relu", alpha=one.value).entropy == pytest.approx(0, abs=1e-9)
    assert one.value < replica.capacity("committee", K="inf", activation="relu").value


@pytest.mark.slow
def test_relu_committees_approach_K_infinity():
    """Binary capacities (zero RS entropy, centred output) rise with K towards the K = inf ReLU value:
    K = 1 < K = 3 < K = inf, and the step from K = 3 to inf is a small fraction of the step from 1 to 3."""
    one = replica.capacity("committee", K=1, activation="relu")
    three = replica.capacity("committee", K=3, activation="relu")
    inf = replica.capacity("committee", K="inf", activation="relu")
    assert one.converged and three.converged
    assert three.value == pytest.approx(0.883419, abs=2e-6)
    assert one.value < three.value < inf.value
    assert inf.value - three.value < (three.value - one.value) / 4


def test_finite_relu_spherical_capacity_is_not_claimed():
    thr = replica.capacity("committee", K=3, activation="relu", weights="spherical")
    assert thr.value is None and thr.status == "not computed" and not thr.converged


@pytest.mark.slow
def test_relu_K5_lies_between_K3_and_K_infinity():
    """At alpha = 0.5 the RS entropy of the centred ReLU committee rises with K: 0.32333 (K = 3) < 0.32605 (K = 5) <
    0.33007 (K = inf). K = 5 is on its fixed rule, whose level-by-level node-doubling estimate (about 2.5e-7) is far
    below the gaps (derivation 5 min on first use, 40 s a solve)."""
    s = {K: replica.solve("committee", K=K, activation="relu", alpha=0.5, strict=False) for K in (3, 5, "inf")}
    assert s[5].quad_error < 1e-6 and s[3].converged and s["inf"].converged
    assert s[3].entropy + 1e-3 < s[5].entropy < s["inf"].entropy - 1e-3
