"""Theory against experiment on the binary perceptron: exact enumeration and the learning algorithms."""
import itertools
import json
import math

import numpy as np
import pytest

import replica
from replica import algorithms
from replica import enumeration as en
from replica.cli import main
from replica.errors import ParameterError


def brute_force(patterns, kappa):
    n = patterns.shape[1]
    ws = np.array(list(itertools.product([1, -1], repeat=n)))[:, ::-1]
    ok = np.all(ws @ patterns.T / math.sqrt(n) >= kappa - 1e-12, axis=1)
    return ws[ok]


@pytest.mark.parametrize("n, alpha, kappa", [(9, 0.5, 0.0), (10, 0.3, 0.0), (11, 0.4, 0.3)])
def test_enumeration_counts_every_solution_once(n, alpha, kappa):
    instance = en.random_instance(n, alpha, kappa, rng=n)
    expected = brute_force(instance.patterns.astype(float), kappa)
    sols = en.solutions(instance)
    assert len(sols) == len(expected) == en.count_solutions(instance)
    assert {tuple(w) for w in instance.weights(sols)} == {tuple(w) for w in expected}
    best, margin = en.max_margin(instance, sols)
    stab = expected @ instance.patterns.T.astype(float) / math.sqrt(n)
    assert margin == pytest.approx(stab.min(axis=1).max(), abs=1e-12)


def test_local_entropy_counts_add_up_to_the_solutions():
    instance = en.random_instance(15, 0.4, rng=3)
    sols = en.solutions(instance)
    table = en.local_entropy(instance, sols[:3], sols)
    assert all(table[table.reference == r]["count"].sum() == sols.size for r in range(3))
    assert (table[table.d == 0]["count"] == 1).all()
    d, prob = en.distance_distribution(instance, sols, pairs=sols.size ** 2)  # every pair: exact
    assert prob.sum() == pytest.approx(1) and prob[0] == pytest.approx(1 / sols.size)


def test_enumerated_entropy_extrapolates_to_the_rs_entropy():
    """alpha = 1/3 at N = 9, 15, 21 (alpha N an integer): the fit in 1/N meets the RS entropy within its error."""
    ns = (9, 15, 21)
    found = [en.entropy(n, 1 / 3, samples=300, seed=n) for n in ns]
    s, err = en.extrapolate(ns, [r["entropy"] for r in found], [r["entropy_err"] for r in found])
    rs = replica.solve("binary-perceptron", alpha=1 / 3).entropy
    assert err < 0.01 and abs(s - rs) < 3 * err
    assert all(r["solvable_fraction"] > 0.95 for r in found)


def test_enumeration_refuses_what_it_cannot_do():
    with pytest.raises(ParameterError, match="N <= 30"):
        en.random_instance(40, 0.5)
    with pytest.raises(ParameterError, match="load"):
        en.random_instance(10, -1)
    with pytest.raises(ParameterError, match="three sizes"):
        en.extrapolate([9, 15], [0.4, 0.41], [0.01, 0.01])


@pytest.mark.parametrize("name", list(algorithms.ALGORITHMS))
def test_each_algorithm_solves_an_easy_instance_reproducibly(name):
    rng = np.random.default_rng(0)
    xi = rng.choice([-1, 1], size=(60, 201))  # alpha = 0.3
    run = algorithms.ALGORITHMS[name](xi, seed=4)
    again = algorithms.ALGORITHMS[name](xi, seed=4)
    assert run.solved and algorithms.solves(xi, run.weights)
    assert np.array_equal(run.weights, again.weights) and run.epochs == again.epochs


def test_sbpi_reaches_alpha_one_half_at_n_1001():
    rng = np.random.default_rng(0)
    xi = rng.choice([-1, 1], size=(500, 1001))
    assert algorithms.sbpi(xi, seed=1).solved


def test_local_energy_and_flips_of_a_solution():
    rng = np.random.default_rng(2)
    xi = rng.choice([-1, 1], size=(60, 201))
    w = algorithms.sbpi(xi, seed=0).weights
    mean, err = algorithms.flip_energy(xi, w, 0.0)
    assert mean == 0 and err == 0
    small, _ = algorithms.flip_energy(xi, w, 0.02, draws=200)
    large, _ = algorithms.flip_energy(xi, w, 0.2, draws=200)
    assert 0 <= small < large


def test_simulate_counts_around_found_solutions():
    df = algorithms.simulate("sbpi", 21, 0.4, seeds=4, local_entropy=[0.1], local_energy=[0.2])
    assert df.solved.all()
    # around a solution the count at distance k is at most C(N, k), and at least... the solution's neighbours found
    assert (df["local_entropy[0.1]"] <= math.log(math.comb(21, 2)) / 21 + 1e-12).all()
    assert (df["local_energy[0.2]"] > 0).all()
    with pytest.raises(ParameterError, match="N <= 25"):
        algorithms.simulate("sbpi", 101, 0.4, local_entropy=[0.1])
    with pytest.raises(ParameterError, match="no hyperparameter"):
        algorithms.simulate("sbpi", 21, 0.4, lr=0.1)


def test_cli_enumerate_and_simulate(capsys):
    assert main(["enumerate", "binary-perceptron", "--n", "15", "--alpha", "0.4", "--samples", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"entropy", "entropy_err", "solvable_fraction"} <= set(out) and out["alpha"] == 6 / 15
    assert main(["simulate", "binary-perceptron", "--algorithm", "rsgd", "--n", "21", "--alpha", "0.3", "--seeds",
                 "3", "--y", "2", "--local-entropy", "0.1", "--local-energy", "0.1,0.3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["success"] == 1 and set(out["local_energy"]) == {"0.1", "0.3"} and "0.1" in out["local_entropy"]


@pytest.mark.parametrize("argv, message", [
    (["enumerate", "binary-perceptron", "--n", "40", "--alpha", "0.4"], "N <= 30"),
    (["enumerate", "spherical-perceptron", "--n", "15", "--alpha", "0.4"], "only binary-perceptron"),
    (["simulate", "binary-perceptron", "--alpha", "0.3"], "needs --algorithm"),
    (["simulate", "binary-perceptron", "--algorithm", "sbpi", "--alpha", "-1"], "alpha"),
    (["simulate", "binary-perceptron", "--algorithm", "sbpi", "--alpha", "0.3", "--lr", "1"], "unknown parameter"),
    (["simulate", "binary-perceptron", "--algorithm", "nope", "--alpha", "0.3"], "unknown algorithm"),
    (["simulate", "gm-ridge", "--algorithm", "sbpi", "--alpha", "1"], "apply to binary-perceptron and"),
])
def test_cli_refuses_bad_experiments(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow  # about 10 s
def test_focusing_bp_solves_alpha_0_6_at_n_1001():
    rng = np.random.default_rng(0)
    xi = rng.choice([-1, 1], size=(600, 1001))
    assert algorithms.fbp(xi, seed=0).solved


def test_teacher_student_rows_and_correlation():
    df = algorithms.teacher_student(["sbpi", "fbp"], n=201, alpha=0.5, seeds=3)
    assert len(df) == 6 and df.solved.all()
    assert np.allclose(df.test_error, np.arccos(df.overlap) / np.pi) and (df.test_error < 0.5).all()
    r, err = algorithms.correlation([0, 1, 2, 3, 4], [0, 2, 4, 6, 8.5])
    assert r == pytest.approx(np.corrcoef([0, 1, 2, 3, 4], [0, 2, 4, 6, 8.5])[0, 1]) and err < 0.05
    with pytest.raises(ParameterError, match="odd N"):
        algorithms.teacher_student(n=200)


@pytest.mark.parametrize("n, k, alpha", [(9, 3, 0.5), (15, 3, 0.4), (15, 5, 0.4)])
def test_committee_enumeration_finds_exactly_the_configurations_that_classify_every_pattern(n, k, alpha):
    instance = en.random_instance(n, alpha, rng=n + k, k=k)
    every = np.array(list(itertools.product([1, -1], repeat=n)), dtype=np.int8)
    solving = {tuple(w) for w in every if algorithms.committee_solves(instance.patterns, w, k)}
    found = en.solutions(instance)
    assert len(found) == len(solving) > 0 and {tuple(w) for w in instance.weights(found)} == solving
    with pytest.raises(ParameterError, match="N/K odd"):
        en.Instance(instance.patterns, k=2)
    with pytest.raises(ParameterError, match="perceptron"):
        en.max_margin(instance, found)


def test_simulate_counts_the_committee_solutions_around_what_it_finds():
    data = algorithms.simulate("least-action", n=15, alpha=0.3, seeds=4, k=3, local_entropy=[1 / 15])
    solved = data[data.solved]
    assert len(solved) >= 2 and (solved["local_entropy[0.0666667]"] > 0).all()
    assert data.loc[~data.solved, "local_entropy[0.0666667]"].isna().all()


def test_correlation_within_groups_removes_what_moves_a_whole_group():
    """Within each group y = x exactly, while the groups' offsets run the other way: the raw correlation is
    negative, the within-group one is 1."""
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    y = np.array([10.0, 11.0, 12.0, 0.0, 1.0, 2.0])
    groups = [0, 0, 0, 1, 1, 1]
    assert algorithms.correlation(x, y)[0] < -0.9
    r, err = algorithms.correlation(x, y, groups=groups)
    assert r == pytest.approx(1.0) and err == pytest.approx(0.0, abs=1e-12)


def test_digits_two_classes_as_pm1_patterns_with_a_bias():
    pytest.importorskip("sklearn")
    X, y = algorithms.digits((4, 9))
    assert X.shape == (361, 65) and set(np.unique(X)) == {-1, 1} and (X[:, -1] == 1).all()
    assert (y == 1).sum() == 181 and (y == -1).sum() == 180  # scikit-learn's 181 fours and 180 nines
    with pytest.raises(ParameterError, match="two different digits"):
        algorithms.digits((4, 4))


def test_data_study_on_digits_is_reproducible_and_measures_each_solution():
    pytest.importorskip("sklearn")
    X, y = algorithms.digits((4, 9))
    run = dict(train=100, algorithms=["sbpi", "ce-sgd"], splits=2, runs=2, seed=3)
    data = algorithms.data_study(X, y, **run)
    assert len(data) == 8 and data.equals(algorithms.data_study(X, y, **run))
    solved = data[data.solved]
    assert len(solved) >= 4 and (solved.train_error == 0).all() and (solved.local_energy > 0).all()
    assert data.test_error.between(0, 0.2).all()  # separable-looking classes: every solution generalizes
    with pytest.raises(ParameterError, match="training examples"):
        algorithms.data_study(X, y, train=len(y))


def test_bp_local_entropy_without_patterns_is_the_binary_entropy():
    ref = np.random.default_rng(0).choice([-1, 1], size=101)
    table = algorithms.bp_local_entropy(np.zeros((0, 101)), ref, [0.3, 1.0, 2.5])
    d = table.d.to_numpy(float)
    assert table.converged.all()
    assert np.allclose(table.local_entropy, -d * np.log(d) - (1 - d) * np.log(1 - d), rtol=0, atol=1e-14)
    assert np.allclose(d, (1 - np.tanh(table.lam)) / 2, rtol=0, atol=1e-14)


def test_bp_local_entropy_follows_the_dense_curve_around_a_found_solution():
    """Around SBPI's solution (N = 1001, alpha = 0.4) BP's local entropy sits on the Franz-Parisi curve around
    maximal-margin references, far above the one around typical references (the seeds' claim)."""
    rng = np.random.default_rng(2)
    xi = rng.choice([-1, 1], size=(400, 1001))
    run = algorithms.sbpi(xi, seed=1)
    table = algorithms.bp_local_entropy(xi, run.weights, [2.0, 1.0])
    assert run.solved and table.converged.all()
    d, s = float(table.d[1]), float(table.local_entropy[1])
    dense = replica.solve("binary-perceptron-fp", alpha=0.4, ref_kappa="max", d=d).entropy
    typical = replica.solve("binary-perceptron-fp", alpha=0.4, ref_kappa=0.0, d=d).entropy
    assert abs(s - dense) < 0.015 and s - typical > 0.04


@pytest.mark.slow  # about 7 s
def test_bp_entropy_at_zero_coupling_is_the_rs_entropy_on_average():
    rng = np.random.default_rng(5)
    s = [algorithms.bp_local_entropy(rng.choice([-1, 1], size=(500, 1001)), np.ones(1001), [0.0]).local_entropy[0]
         for _ in range(8)]
    rs = replica.solve("binary-perceptron", alpha=500 / 1001).entropy
    assert abs(np.mean(s) - rs) < 4 * np.std(s, ddof=1) / np.sqrt(len(s))


def test_ce_hessian_against_the_dense_matrix():
    rng = np.random.default_rng(3)
    xi = rng.choice([-1, 1], size=(30, 41))
    w = rng.choice([-1, 1], size=41)
    top, trace = algorithms.ce_hessian(xi, w, gamma=0.7)
    x = 1.4 * (xi @ w / np.sqrt(41))
    curv = 1.4 / (1 + np.exp(x)) / (1 + np.exp(-x))
    dense = (xi.T * curv) @ xi / 41
    assert top == pytest.approx(np.linalg.eigvalsh(dense)[-1], rel=1e-12)
    assert trace == pytest.approx(np.trace(dense), rel=1e-12)


@pytest.mark.parametrize("name", list(algorithms.COMMITTEE_ALGORITHMS))
def test_committee_algorithms_solve_an_easy_instance(name):
    xi = np.random.default_rng(1).choice([-1, 1], size=(40, 201))  # K = 3, N/K = 67, alpha = 0.2
    run = algorithms.COMMITTEE_ALGORITHMS[name](xi, seed=2)
    assert run.solved and algorithms.committee_solves(xi, run.weights)


def test_committee_local_energy_against_monte_carlo():
    rng = np.random.default_rng(4)
    xi = rng.choice([-1, 1], size=(40, 201))
    w = algorithms.committee_least_action(xi, seed=0).weights
    exact = algorithms.committee_local_energy(xi, w, 0.3)
    noisy = [np.mean(~np.array([algorithms.committee_solves(x[None, :], w * (1 + 0.3 * rng.standard_normal(201)))
                                for x in xi])) for _ in range(400)]
    assert exact > 0 and abs(np.mean(noisy) - exact) < 4 * np.std(noisy) / np.sqrt(len(noisy))


def test_cli_simulates_the_committee(capsys):
    assert main(["simulate", "committee", "--K", "3", "--algorithm", "least-action", "--n", "201", "--alpha", "0.2",
                 "--seeds", "2", "--local-energy", "0.2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["success"] == 1 and out["model"] == "committee-K3-sign-binary" and "0.2" in out["local_energy"]
    assert main(["simulate", "committee", "--K", "3", "--algorithm", "sbpi", "--alpha", "0.2"]) == 2
    assert "least-action" in capsys.readouterr().err
