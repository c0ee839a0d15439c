"""Franz–Parisi local entropy: public anchor, identities, limits, bounds, bad input."""
import math

import numpy as np
import pytest
from replica.solvers.quadrature import Quadrature

import replica
from replica.errors import ParameterError
from replica.models import get_model


def h2(d):
    return -d * math.log(d) - (1 - d) * math.log(1 - d)


def test_binary_anchor_perceptron_jl():
    """kappa_ref = kappa = 0, alpha = 0.6, p = 0.9: 0.053944 in Perceptron.jl's stored data (six digits)."""
    sol = replica.solve("binary-perceptron-fp", alpha=0.6, kappa=0, ref_kappa=0, d=0.05)
    assert abs(sol.entropy - 0.053944) <= 5e-7
    assert sol.entropy < sol.upper_bound == pytest.approx(h2(0.05), abs=1e-15)
    assert sol.q_ref == pytest.approx(0.3910495, abs=1e-7)


@pytest.mark.parametrize("model, storage", [("binary-perceptron-fp", "binary-perceptron"),
                                            ("spherical-perceptron-fp", "spherical-perceptron")])
def test_typical_point_is_the_equilibrium_entropy(model, storage):
    """kappa = kappa_ref and p = q_ref: t = q1 = q_ref (conjugates = qhat_ref) is stationary and phi_FP = s_RS."""
    ref = replica.solve(storage, alpha=0.5, kappa=0.2)
    spec = get_model(model)
    system = spec.system
    inputs = {"alpha": 0.5, "kappa": 0.2, "kappa_ref": 0.2, "p": ref.q, "q_ref": ref.q}
    order = {"t": ref.q, "q1": ref.q}
    if model.startswith("binary"):
        inputs["qhat_ref"] = ref.qhat
        order.update(phat=ref.qhat, that=ref.qhat, q1hat=ref.qhat)
    v = system.vector(order, inputs)
    quad = Quadrature(gauss=96, trunc=48)
    assert system.call("phi", v, quad)[0] == pytest.approx(ref.entropy, abs=1e-9)
    assert np.max(np.abs(system.call("res", v, quad))) <= 1e-7


def test_curve_peaks_at_the_typical_distance():
    ref = replica.solve("binary-perceptron", alpha=0.5)
    d_typ = (1 - ref.q) / 2
    values = [replica.solve("binary-perceptron-fp", alpha=0.5, d=d).entropy for d in (d_typ - 0.02, d_typ + 0.02)]
    assert max(values) < ref.entropy


@pytest.mark.parametrize("model, bound", [("binary-perceptron-fp", lambda d: h2(d)),
                                          ("spherical-perceptron-fp", lambda d: 0.5 * math.log(1 - (1 - 2 * d) ** 2))])
def test_small_alpha_gives_the_upper_bound(model, bound):
    for d in (0.1, 0.3):
        sol = replica.solve(model, alpha=1e-7, d=d)
        assert sol.entropy == pytest.approx(bound(d), abs=1e-5)
        assert sol.upper_bound == pytest.approx(bound(d), abs=1e-14)


def test_only_binary_weights_read_a_negative_local_entropy_as_isolation():
    """For spherical weights the local entropy is the log of a volume fraction, negative at every d like its bound;
    the 'no solutions at this distance' note belongs to binary weights, where it counts configurations."""
    spherical = replica.solve("spherical-perceptron-fp", alpha=0.5, d=0.1)
    assert spherical.entropy < spherical.upper_bound < 0 and not spherical.notes
    binary = replica.solve("binary-perceptron-fp", alpha=0.6, d=0.01)
    assert binary.entropy < 0 and any(note.startswith("entropy < 0") for note in binary.notes)


def test_below_the_upper_bound():
    for d in (0.2, 0.05):
        sol = replica.solve("binary-perceptron-fp", alpha=0.6, d=d)
        assert sol.converged and sol.entropy < sol.upper_bound


def test_typical_references_above_alpha_068():
    """Around typical references at alpha = 0.7 the path's starting guess is outside Newton's basin: the solve goes
    through the alpha homotopy and lands on the branch a sweep down from the typical distance (0.269) follows."""
    cold = replica.solve("binary-perceptron-fp", alpha=0.7, d=0.2)
    swept = replica.sweep("binary-perceptron-fp", alpha=0.7, d=[0.26, 0.23, 0.2], progress=False)
    assert cold.converged and swept.converged.all()
    assert cold.entropy == pytest.approx(swept.entropy.iloc[-1], abs=1e-9)
    assert cold.entropy < replica.solve("binary-perceptron", alpha=0.7).entropy
    assert cold.entropy < cold.upper_bound


@pytest.mark.slow
def test_typical_solutions_are_isolated():
    """Huang-Kabashima: around typical references the local entropy turns negative at small d (about a minute)."""
    sol = replica.solve("binary-perceptron-fp", alpha=0.6, d=0.01)
    assert sol.converged and sol.entropy < 0


@pytest.mark.slow
def test_typical_curve_towards_the_freezing_distance():
    """Near q1 -> 1 the energetic integrand is a boundary layer (declared to the truncated rule) and the entropic inner
    level sharpens (refined on its own, apart from the energetic one under the truncated average): a sweep from d_typ
    converges every point down to d = 0.0011 (it stopped at 0.0022 without the layer, at 0.0017 with one inner level
    for both terms), where (1 - q1)/d falls towards 0; past the freezing distance (d ~ 0.00106) the points say the
    RS branch ends there (status ``ended``), the second one without a solve. The point at d = 0.0017 agrees with a
    fixed rule finer in every level. About 5 minutes."""
    d = list(np.geomspace(0.19, 0.0017, 26)) + [0.0015, 0.0013, 0.0011, 0.0009, 0.0008]
    df = replica.sweep("binary-perceptron-fp", alpha=0.6, d=d, progress=False)
    solved, past = df.iloc[:-2], df.iloc[-2:]
    assert solved.converged.all() and (solved.quad_error <= 1e-8).all()
    ratio = ((1 - solved.q1) / solved.d).to_numpy()[-8:]
    assert np.all(np.diff(ratio) < 0) and ratio[-1] < 0.3
    assert (past.status == "ended").all() and past.message.str.contains("freezes").all()
    assert past.iterations.iloc[-1] == 0
    stop = float(past.message.iloc[0].split("stops at d = ")[1].split(",")[0])
    assert 0.0009 < stop < 0.0011
    last = df.iloc[25]
    order = {n: last[n] for n in get_model("binary-perceptron-fp").system.order_names}
    fine = replica.solve("binary-perceptron-fp", alpha=0.6, d=last.d, x0=order, strict=False,
                         quadrature=Quadrature(gauss=256, nest=96, trunc=64, inner=384, inner_rule="trapezoid",
                                               trunc_inner=96, trunc_inner_rule="trapezoid"))
    assert fine.residual <= 1e-10 and fine.entropy == pytest.approx(last.entropy, abs=1e-9)
    assert fine.q1 == pytest.approx(last.q1, abs=1e-8)


@pytest.mark.parametrize("params, match", [
    (dict(alpha=0.6, kappa=0.5, ref_kappa=0.0, d=0.1), "exceeds ref_kappa"),
    (dict(alpha=0.6, ref_kappa=2.0, d=0.1), "above the maximal margin"),
    (dict(alpha=0.6, d=0.6), "outside the allowed range"),
    (dict(alpha=0.6, d=0.0), "outside the allowed range"),
    (dict(alpha=0.0, d=0.1), "outside the allowed range"),
    (dict(alpha=0.6, ref_kappa="biggest", d=0.1), "must be a number or 'max'"),
])
def test_bad_input(params, match):
    with pytest.raises(replica.ParameterError, match=match):
        replica.solve("binary-perceptron-fp", **params)


def test_max_margin_reference():
    sol = replica.solve("binary-perceptron-fp", alpha=0.5, ref_kappa="max", d=0.05)
    assert sol.converged and sol.entropy < sol.upper_bound
    assert sol.params["ref_kappa"] == pytest.approx(replica.max_margin("binary-perceptron", alpha=0.5).value)


def test_curve_converges_where_the_conjugates_are_exponentially_small():
    """Around kappa_max references at small d the conjugates that, q1hat are exponentially small and the variance
    q1hat - that^2/qhat~ under a square root nears 0: there the residual can be finite and the Jacobian not. Newton
    keeps only iterates where both are finite, so every point converges and passes the node-doubling check (two
    points of this sweep used to come back not_finite)."""
    df = replica.sweep("binary-perceptron-fp", alpha=0.3, ref_kappa="max", d=np.geomspace(0.3, 0.002, 25),
                       progress=False)
    assert df["converged"].all() and (df["quad_error"] <= 1e-8).all()
    assert (df["q1hat"].iloc[-5:] < 1e-12).all()  # the edge was reached
    assert np.all(df["entropy"] <= df["upper_bound"] + 1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"model": "binary-perceptron"}, "onset is not defined for binary-perceptron"),
    ({"alpha_range": (0.8, 0.5)}, "0 < low < high"),
])
def test_onset_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        replica.onset(**kwargs)


def test_onset_at_the_search_edge_is_not_vouched_for(monkeypatch):
    """A dip found at d_min itself may open further down: the onset is reported as unvouched, with the remedy. (The
    curve is stubbed: a smallest slope 0.6 - alpha, always at d_min.)"""
    from replica.onset import Onset

    monkeypatch.setattr(Onset, "dip", lambda self, spec, alpha, fixed, d_min, points: (0.6 - alpha, d_min))
    thr = replica.onset("binary-perceptron-fp", alpha_range=(0.5, 0.7), d_min=0.01)
    assert thr.value == pytest.approx(0.6, abs=1e-3) and thr.extra["d_dip"] == 0.01
    assert thr.status == "unvouched" and not thr.converged and "lower d_min" in thr.remedy
    monkeypatch.setattr(Onset, "dip", lambda self, spec, alpha, fixed, d_min, points: (0.6 - alpha, 2 * d_min))
    assert replica.onset("binary-perceptron-fp", alpha_range=(0.5, 0.7), d_min=0.01).status == "converged"


def test_onset_lowers_a_failing_top_of_the_bracket(monkeypatch):
    """Curves that do not converge at the top of the bracket (near the capacity) lower the top by quarters of the
    bracket, and the onset is found below it. (Stubbed curve: fails above alpha = 0.8, smallest slope 0.6 - alpha.)"""
    from replica.onset import CurveFailed, Onset

    def dip(self, spec, alpha, fixed, d_min, points):
        if alpha > 0.8:
            raise CurveFailed(f"no convergence at alpha={alpha:g}")
        return 0.6 - alpha, 2 * d_min

    monkeypatch.setattr(Onset, "dip", dip)
    thr = replica.onset("binary-perceptron-fp", alpha_range=(0.4, 0.9), d_min=0.01)
    assert thr.converged and thr.value == pytest.approx(0.6, abs=1e-3)
    assert "at alpha=0.9 did not converge: bracket top lowered to 0.7828" in thr.message


@pytest.mark.slow
def test_kappa_max_curves_dip_only_at_larger_alpha():
    """The smallest slope of phi_FP(d) below the peak, around kappa_max references: positive at alpha = 0.55 (the
    curve rises monotonically), negative at alpha = 0.75 (a dip; phi_FP < 0 near d = 0.012)."""
    spec = get_model("binary-perceptron-fp")
    fixed = {"ref_kappa": "max", "kappa": 0.0}
    low, _ = spec.threshold("onset").dip(spec, 0.55, fixed, 4e-3, 8)
    high, _ = spec.threshold("onset").dip(spec, 0.75, fixed, 4e-3, 8)
    assert low > 0.1 and high < -0.1


@pytest.mark.parametrize("model, params", [
    ("binary-perceptron-fp", dict(alpha=0.5, ref_kappa="max", d=0.1)),  # truncation points of both signs
    pytest.param("binary-perceptron-fp", dict(alpha=0.6, ref_kappa=0.15, kappa=0.05, d=0.02), marks=pytest.mark.slow),
    pytest.param("spherical-perceptron-fp", dict(alpha=1.0, ref_kappa=0.2, d=0.1), marks=pytest.mark.slow),
    pytest.param("binary-perceptron-ce-fp", dict(alpha=0.6, gamma=2.0, beta=10.0, d=0.05), marks=pytest.mark.slow),
])
def test_phi_and_stationarity_against_mpmath(model, params):
    """The compiled phi and residuals against mpmath at 25 digits on the same rule (three nested averages are beyond
    tanh-sinh's budget): what differs is rounding, the float special functions and code generation (node doubling
    bounds the rule's own error). At a solved point the mpmath residuals vanish too."""
    from replica import highprec

    sol = replica.solve(model, **params)
    assert sol.converged
    spec = get_model(model)
    system, fe = spec.system, spec.build()
    v = system.vector(sol.order, spec.inputs_of(spec.validate(params)))
    quad = Quadrature(gauss=16, trunc=6, inner=4, inner_rule="hermite")
    env = dict(zip(fe.symbols, v))
    assert float(highprec.evaluate(fe.phi, env, dps=25, quadrature=quad)) == pytest.approx(
        system.call("phi", v, quad)[0], abs=1e-14)
    residuals = fe.stationarity()[0]
    compiled = system.call("res", v, quad)
    for k, r in enumerate(residuals):
        assert float(highprec.evaluate(r, env, dps=25, quadrature=quad)) == pytest.approx(compiled[k], abs=1e-12)


def test_a_note_says_when_the_constrained_solutions_freeze():
    """Around typical references the RS curve ends where q1 reaches 1 at a finite d (docs/local_entropy.md): points
    with 1 - q1 < d say so; points with the overlap of independent flips (1 - q1 ~ 4d) do not."""
    from replica.local_entropy import fp_notes

    obs = {"entropy": 0.005, "upper_bound": 0.008}
    assert any("freezing" in n for n in fp_notes({"d": 0.0012}, {"q1": 0.99949}, obs))
    assert not any("freezing" in n for n in fp_notes({"d": 0.0012}, {"q1": 1 - 4 * 0.0012}, obs))
