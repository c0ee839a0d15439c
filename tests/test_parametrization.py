"""The exact abc classifier (Tensor Programs IV): every row of the notes' table, the symmetry, property tests, the
presets, the CLI."""
import json
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replica.cli import main
from replica.errors import ParameterError
from replica.parametrization import INF, Parametrization, classify, preset

h = Fraction(1, 2)


def sp(L, c):
    return classify(a=[0] * (L + 1), b=[0] + [h] * L, c=c)


def ntp(L, c=0):
    return classify(a=[0] + [h] * L, b=[0] * (L + 1), c=c)


def mup(L, c=0, b_readout=h):
    return classify(a=[-h] + [0] * (L - 1) + [h], b=[h] * L + [b_readout], c=c)


# (parametrization, r, r_l, beta_{L+1}, alpha_{L+1} + r, verdict) for every row of the notes' table (A.3)
TABLE = [
    ("SP, LR 1/n, L = 2", sp(2, 1), h, (Fraction(3, 2), h), 1, 1, "kernel"),
    ("SP, LR 1/n, L = 3", sp(3, 1), h, (Fraction(3, 2), h, h), 1, 1, "kernel"),
    ("NTP, L = 2", ntp(2), h, (h, h), 1, 1, "kernel"),
    ("MFP, L = 1", classify(a=[0, 1], b=[0, 0], c=-1), 0, (0,), 1, 1, "feature"),
    ("muP, L = 2", mup(2), 0, (0, 0), 1, 1, "feature"),
    ("muP, L = 3", mup(3), 0, (0, 0, 0), 1, 1, "feature"),
    ("SP, L = 1, LR 1/n", sp(1, 1), Fraction(3, 2), (Fraction(3, 2),), 1, 2, "kernel"),
    ("SP, LR 1 (L = 2)", sp(2, 0), -1, None, 0, None, "unstable"),
    ("SP, LR 1 (L = 1)", sp(1, 0), 0, None, 0, None, "unstable"),
    ("SP, LR n^-1/2", sp(2, h), 0, (1, 0), h, None, "unstable"),
    ("NTP, LR n^1/2", ntp(2, -h), 0, None, h, None, "unstable"),
    ("muP, LR 1/n", mup(2, 1), 1, (1, 1), 2, 2, "trivial"),
    ("muP, LR n^0.1", mup(2, Fraction(-1, 10)), Fraction(-1, 5), None, None, None, "unstable"),
    ("muP, zero readout", mup(2, 0, INF), 0, (0, 0), 1, INF, "feature"),
]


@pytest.mark.parametrize("name, p, r, r_l, beta_out, alpha_r, verdict", TABLE, ids=[row[0] for row in TABLE])
def test_every_row_of_the_table(name, p, r, r_l, beta_out, alpha_r, verdict):
    assert p.r == r
    if r_l is not None:
        assert p.r_layers == tuple(Fraction(x) for x in r_l)
    if beta_out is not None:
        assert p.beta[-1] == beta_out
    if alpha_r is not None:
        assert p.alpha[-1] + p.r == alpha_r
    assert {"kernel": p.kernel, "feature": p.feature_learning, "trivial": p.trivial,
            "unstable": not p.stable}[verdict]
    assert not (p.kernel and p.feature_learning)


def test_smallest_stable_learning_rate_exponents():
    """SP -> 1 for every L, NTP -> 0, muP -> 0, MFP -> -1; the regime at c_min is the table's, c_min + 1/2 trivial."""
    for L in (1, 2, 3):
        assert sp(L, 0).c_min == 1 and ntp(L).c_min == 0 and mup(L).c_min == 0
        for p in (sp(L, 0), ntp(L), mup(L)):  # c = 0 here: the shift by c_min is c = c_min
            assert p.shifted(p.c_min).stable and not p.shifted(p.c_min - Fraction(1, 10)).stable
    assert classify(a=[0, 1], b=[0, 0], c=0).c_min == -1
    for p, at_min in ((sp(2, 1), "kernel"), (ntp(2), "kernel"), (mup(2), "feature")):
        assert p.nontrivial and getattr(p, "kernel" if at_min == "kernel" else "feature_learning")
        assert p.shifted(h).trivial


def test_mup_is_every_layer_updated_maximally():
    p = mup(3)
    assert p.updated_maximally == (True, True, True, True) and p.readout_initialized_maximally
    assert not any(ntp(3).updated_maximally[:-1])


def test_presets_and_the_mup_sgd_table():
    assert preset("mup", 2) == mup(2) and preset("mup-sgd", 2).alpha == mup(2).alpha
    assert preset("mup-sgd", 2).beta == mup(2).beta  # the mup package's SGD table is muP
    assert preset("sp", 2) == sp(2, 1) and preset("sp", 2, c=0).r == -1 and preset("ntp", 3) == ntp(3)
    assert preset("mf", 1) == classify(a=[0, 1], b=[0, 0], c=-1)
    with pytest.raises(ParameterError, match="one hidden layer"):
        preset("mf", 2)
    with pytest.raises(ParameterError, match="unknown preset"):
        preset("xp", 2)


def test_a_linear_activation_is_flagged():
    p = classify(a=[-h, h], b=[h, h], c=0, linear=True)
    assert any("linear activation" in w for w in p.as_dict()["warnings"])


def _random_abc(rng, L):
    grid = [Fraction(k, 4) for k in range(-6, 7)]
    return ([rng.choice(grid) for _ in range(L + 1)], [rng.choice(grid) for _ in range(L + 1)], rng.choice(grid))


def _labels(p):
    return (p.stable, p.nontrivial, p.feature_learning, p.kernel, p.trivial, p.updated_maximally,
            p.readout_initialized_maximally, p.r, p.c_min)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), L=st.integers(1, 4))
def test_the_symmetry_leaves_every_label_unchanged(seed, L):
    """(a_l, b_l, c) -> (a_l + t_l, b_l - t_l, c_l - 2 t_l), per layer."""
    rng = random.Random(seed)
    a, b, c = _random_abc(rng, L)
    theta = [Fraction(rng.randint(-8, 8), 8) for _ in range(L + 1)]
    p = classify(a=a, b=b, c=[c] * (L + 1))
    q = classify(a=[x + t for x, t in zip(a, theta)], b=[x - t for x, t in zip(b, theta)],
                 c=[c - 2 * t for t in theta])
    assert _labels(p) == _labels(q)


def _valid_initialization(rng, L):
    """Random (alpha, beta) with a valid initialization (alpha_1 = 0, inner 1/2, readout >= 1/2)."""
    grid = [Fraction(k, 4) for k in range(-6, 9)]
    alpha = (Fraction(0),) + (h,) * (L - 1) + (rng.choice([x for x in grid if x >= h] + [INF]),)
    beta = tuple(rng.choice(grid) for _ in range(L + 1))
    return Parametrization(alpha, beta)


@settings(max_examples=500, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), L=st.integers(1, 4))
def test_properties_of_random_parametrizations(seed, L):
    """Feature learning and kernel never both; feature learning => alpha_{L+1} >= 1 (f_0 -> 0); stability in a
    uniform shift of c is [c_min, inf); nontrivial only at c = c_min, and there whenever alpha_{L+1} <= 1 (the
    output's initial scale n^{1/2 - alpha_{L+1}} allows a Theta(1) change); with alpha_{L+1} > 1 only if the
    readout's own update is Theta(1) there (beta_{L+1} + c_min = 1)."""
    p = _valid_initialization(random.Random(seed), L)
    assert not (p.feature_learning and p.kernel)
    if p.feature_learning:
        assert p.alpha[-1] >= 1
    c = p.c_min
    assert p.shifted(c).stable and not p.shifted(c - Fraction(1, 8)).stable and p.shifted(c + 3).stable
    assert not p.shifted(c + Fraction(1, 8)).nontrivial
    assert p.shifted(c).nontrivial == (p.alpha[-1] <= 1 or p.beta[-1] + c == 1)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), L=st.integers(1, 4))
def test_mup_is_the_only_point_with_every_layer_maximal(seed, L):
    """Up to the symmetry, muP is the only stable parametrization with every r_l = 0, beta_{L+1} = 1 and
    alpha_{L+1} + r = 1 (Thm 5.6)."""
    p = _valid_initialization(random.Random(seed), L)
    maximal = p.stable and all(x == 0 for x in p.r_layers) and p.beta[-1] == 1 and p.readout_initialized_maximally
    assert maximal == (p.alpha == mup(L).alpha and p.beta == mup(L).beta)
    assert mup(L).stable and all(x == 0 for x in mup(L).r_layers)


def test_cli_classify_and_preset(capsys):
    assert main(["abc", "preset", "mup", "--layers", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["r"] == 0 and out["r_l"] == [0, 0] and out["stable"] and out["feature_learning"]
    assert not out["kernel"] and out["nontrivial"] and out["c_min"] == 0 and out["exact"]["alpha"] == ["0", "1/2", "1"]
    assert main(["abc", "classify", "--a", "0,1/2,1/2", "--b", "0,0,0", "--c", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["r"] == 0.5 and out["kernel"] and not out["feature_learning"]
    assert main(["abc", "classify", "--a", "-1/2,0,1/2", "--b", "1/2,1/2,inf", "--c", "0"]) == 0
    assert "feature learning" in capsys.readouterr().out
    assert main(["abc", "classify", "--a", "0,x", "--b", "0,0", "--c", "0"]) == 2
    assert "not a number" in capsys.readouterr().err
    assert main(["abc", "preset", "sp", "--layers", "0"]) == 2
    assert main(["abc", "classify", "--a", "0,0", "--b", "0", "--c", "1"]) == 2
