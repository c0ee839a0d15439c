"""Sweeps: warm-started continuation, tidy rows, failed points kept, files written as rows come, resume."""
import numpy as np
import pandas as pd
import pytest

import replica
from replica.errors import ParameterError
from replica.models import get_model
from replica.sweep import parse_grid


def test_sweep_rows_and_columns():
    df = replica.sweep("binary-perceptron", alpha=np.linspace(0.05, 0.8, 16), kappa=0)
    assert len(df) == 16 and df.converged.all()
    for col in ["alpha", "kappa", "q", "qhat", "entropy", "lambda_AT", "status", "residual", "quad_error"]:
        assert col in df
    assert np.all(np.diff(df.q) > 0) and np.all(np.diff(df.entropy) < 0)
    single = replica.solve("binary-perceptron", alpha=0.8)
    assert df.q.iloc[-1] == pytest.approx(single.q, abs=1e-12)


def test_sweep_either_direction_and_product_grid():
    up = replica.sweep("spherical-perceptron", alpha=[0.5, 1.0, 1.5], kappa=0)
    down = replica.sweep("spherical-perceptron", alpha=[1.5, 1.0, 0.5], kappa=0)
    assert np.allclose(up.q.values, down.q.values[::-1], atol=1e-12)
    grid = replica.sweep("binary-perceptron", alpha=[0.2, 0.4], kappa=[0.0, 0.5])
    assert len(grid) == 4 and grid.converged.all() and grid.attrs["swept"] == ["alpha", "kappa"]


def test_failed_point_is_a_row():
    df = replica.sweep("binary-perceptron", alpha=[0.3, 0.4], method="fixed-point", max_iter=2)
    assert len(df) == 2 and not df.converged.any()
    assert set(df.status) == {"max_iter"} and df.q.isna().all() and df.remedy.str.contains("max_iter").all()


def test_until_failure_stops_at_the_first_failed_point():
    df = replica.sweep("binary-perceptron", alpha=[0.3, 0.4, 0.5], method="fixed-point", max_iter=2,
                       until_failure=True)
    assert len(df) == 1 and not df.converged.any()
    ok = replica.sweep("binary-perceptron", alpha=[0.3, 0.4, 0.5], until_failure=True)
    assert len(ok) == 3 and ok.converged.all()


def test_csv_written_as_it_goes_and_resumed(tmp_path, monkeypatch):
    out = tmp_path / "s.csv"
    replica.sweep("binary-perceptron", alpha=[0.1, 0.2, 0.3], out=out)
    assert len(pd.read_csv(out)) == 3
    spec = get_model("binary-perceptron")
    calls = []
    original = spec.system.solve

    def counting(*a, **k):
        calls.append(1)
        return original(*a, **k)

    monkeypatch.setattr(spec.system, "solve", counting)
    df = replica.sweep("binary-perceptron", alpha=[0.1, 0.2, 0.3, 0.4, 0.5], out=out)
    assert len(df) == 5 and len(pd.read_csv(out)) == 5
    n_new = len(calls)
    assert 0 < n_new <= 4  # only the two new points were solved (plus their node-doubling checks)
    assert df.q.iloc[:3].tolist() == pd.read_csv(out).q.iloc[:3].tolist()


def test_interrupted_sweep_keeps_rows(tmp_path, monkeypatch):
    sweep_module = __import__("importlib").import_module("replica.sweep")

    out = tmp_path / "s.csv"
    original = sweep_module._Walker.solve
    count = {"n": 0}

    def interrupt(self, params):
        count["n"] += 1
        if count["n"] == 3:
            raise KeyboardInterrupt
        return original(self, params)

    monkeypatch.setattr(sweep_module._Walker, "solve", interrupt)
    with pytest.raises(KeyboardInterrupt):
        replica.sweep("binary-perceptron", alpha=[0.1, 0.2, 0.3, 0.4], out=out)
    assert len(pd.read_csv(out)) == 2
    df = replica.sweep("binary-perceptron", alpha=[0.1, 0.2, 0.3, 0.4], out=out)
    assert len(df) == 4 and df.converged.all()


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    out = tmp_path / "s.parquet"
    replica.sweep("binary-perceptron", alpha=[0.1, 0.2], out=out)
    assert len(pd.read_parquet(out)) == 2 and not (tmp_path / "s.parquet.partial.csv").exists()


def test_points_without_a_saddle_point_are_rows():
    """Loads beyond the capacity are rows with status no_solution (the grid is never refused for them)."""
    df = replica.sweep("spherical-perceptron", alpha=np.linspace(0.5, 2.5, 5))
    assert list(df.status) == ["converged", "converged", "converged", "no_solution", "no_solution"]
    assert "beyond the RS capacity" in df.message[3] and "allowed: 0 <= alpha < 2" in df.remedy[3] + df.message[3]
    assert df.q[3:].isna().all() and df.converged.tolist() == [True, True, True, False, False]


def test_bad_grids_write_nothing(tmp_path):
    out = tmp_path / "s.csv"
    with pytest.raises(ParameterError, match="malformed"):
        replica.sweep("spherical-perceptron", alpha="0.1:0.5", out=out)
    with pytest.raises(ParameterError, match=r"\.csv or \.parquet"):
        replica.sweep("spherical-perceptron", alpha=[0.1], out=tmp_path / "s.txt")
    assert not out.exists()


def test_resume_refuses_another_models_file(tmp_path):
    out = tmp_path / "s.csv"
    replica.sweep("binary-perceptron", alpha=[0.1], out=out)
    with pytest.raises(ParameterError, match="holds another table"):
        replica.sweep("spherical-perceptron", alpha=[0.1], out=out)


@pytest.mark.parametrize("text, expected", [("0:1:3", [0, 0.5, 1]), ("1:0:3", [1, 0.5, 0]), ("0.2,0.1", [0.2, 0.1]),
                                            ("0.7", [0.7])])
def test_parse_grid(text, expected):
    assert np.allclose(parse_grid(text), expected)


@pytest.mark.parametrize("text", ["0:1", "0:1:1", "a:b:c", "", "1,,2", "nan", "0:inf:3", "0:1:2.5"])
def test_parse_grid_rejects(text):
    with pytest.raises(ParameterError):
        parse_grid(text)


def test_plot(tmp_path):
    from replica.plotting import plot_sweep

    df = replica.sweep("binary-perceptron", alpha=np.linspace(0.1, 0.9, 9))
    plot_sweep(df, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 10_000


def test_rows_record_their_rule_and_a_resume_carries_it(tmp_path, monkeypatch):
    """Around kappa_max references at alpha = 0.5 the base rule's node-doubling estimate fails below d ~ 0.03. A
    sweep records the rule of every row, hands the last point's rule to the next (its retry rule), a resumed sweep
    takes it from the last row, and points where the base rule suffices are solved on it."""
    sweep_module = __import__("importlib").import_module("replica.sweep")
    spec = get_model("binary-perceptron-fp")
    base = str(spec.quadrature)
    out = tmp_path / "fp.csv"
    d = [0.0157, 0.0208, 0.036, 0.041]
    df = replica.sweep("binary-perceptron-fp", alpha=0.5, ref_kappa="max", d=d[:2], out=out)
    assert df.converged.all() and (df.quadrature != base).all()
    started = []
    original = sweep_module._Walker._warm

    def recording(self, params, inputs):
        started.append(self.last.rule)
        return original(self, params, inputs)

    monkeypatch.setattr(sweep_module._Walker, "_warm", recording)
    df = replica.sweep("binary-perceptron-fp", alpha=0.5, ref_kappa="max", d=d, out=out)
    assert df.converged.all() and (df.quad_error <= 1e-8).all()
    assert str(started[0]) == df.quadrature.iloc[1]  # resumed with the last row's rule
    assert df.quadrature.iloc[-1] == base
    assert pd.read_csv(out).quadrature.tolist() == df.quadrature.tolist()


def test_a_branch_the_model_says_ends_is_reported_and_not_solved_past(monkeypatch):
    """Where the march towards a point stalls and the model names why its branch ends there (``branch_end``), the
    point's status is ``ended`` with that reason, no cold start is tried, and the points beyond it on the same line
    get the same status without a solve. Here the spherical perceptron past alpha_c = 2, where q -> 1 (the model's
    own check, which refuses such loads, is lifted)."""
    import dataclasses
    import sys

    spec = dataclasses.replace(get_model("spherical-perceptron"), name="spherical-perceptron-ending", region=None,
                               branch_end=lambda params, order: "q -> 1" if order["q"] > 0.99 else None)
    monkeypatch.setitem(sys.modules["replica.models"]._REGISTRY, spec.name, spec)
    df = replica.sweep(spec.name, alpha=[1.8, 1.9, 2.05, 2.2, 1.95], progress=False)
    assert list(df.status) == ["converged", "converged", "ended", "ended", "converged"]
    assert (df.message[2:4] == "q -> 1").all() and df.iterations[3] == 0 and df.q[2:4].isna().all()
    assert "branch" in df.remedy[2] and df.q[4] == pytest.approx(replica.solve("spherical-perceptron", alpha=1.95).q)


@pytest.mark.slow  # one failing Franz-Parisi march (about 30 s)
def test_a_cold_march_that_ends_is_not_marched_again_for_points_past_its_end():
    # around the maximal-margin reference at alpha = 0.8 the march from p -> 1 does not get past p ~ 0.998 on the
    # adaptive rule; the points further along d are reported with that end, not marched again one by one
    d = replica.sweep("binary-perceptron-fp", alpha=0.8, d=[0.3, 0.2, 0.1], ref_kappa="max")
    assert not d.converged.any()
    assert d.status.nunique() == 1
    assert "not marched again" not in d.message[0]
    assert all("not marched again" in m and m.startswith(d.message[0]) for m in d.message[1:])
