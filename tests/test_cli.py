"""The command line: answers, JSON keys, and bad input (one line, non-zero exit, no traceback, nothing written)."""
import json
import math
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replica.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_models(capsys):
    code, out, _ = run(capsys, "models", "--json")
    data = json.loads(out)
    assert code == 0 and {"spherical-perceptron", "binary-perceptron"} <= set(data)


def test_solve_json(capsys):
    code, out, _ = run(capsys, "solve", "binary-perceptron", "--alpha", "0.6", "--kappa", "0", "--json")
    d = json.loads(out)
    assert code == 0 and d["converged"] and abs(d["q"] - 0.3910495) < 1e-7
    assert {"q", "qhat", "entropy", "lambda_AT", "converged", "status", "quad_error"} <= set(d)


def test_capacity_and_friends(capsys):
    code, out, _ = run(capsys, "capacity", "spherical-perceptron", "--kappa", "0", "--json")
    assert code == 0 and json.loads(out)["alpha_c"] == 2.0
    code, out, _ = run(capsys, "capacity", "binary-perceptron", "--json")
    d = json.loads(out)
    assert abs(d["alpha_c"] - 0.833) < 1e-3 and abs(d["alpha_GD"] - 4 / math.pi) < 1e-14
    code, out, _ = run(capsys, "max-margin", "binary-perceptron", "--alpha", "0.5", "--json")
    assert code == 0 and json.loads(out)["kappa_max"] > 0
    code, out, _ = run(capsys, "dat-line", "spherical-perceptron", "--kappa", "-1", "--json")
    d = json.loads(out)
    assert code == 0 and 0 < d["alpha_dAT"] < d["alpha_c"]
    code, out, _ = run(capsys, "capacity", "spherical-perceptron", "--kappa", "-1", "--rsb", "1", "--json")
    d = json.loads(out)
    assert code == 0 and d["alpha_c"] < d["alpha_c_rs"]


def test_sweep_cli(capsys, tmp_path):
    out = tmp_path / "s.csv"
    png = tmp_path / "s.png"
    code, stdout, err = run(capsys, "sweep", "binary-perceptron", "--alpha", "0.05:0.8:16", "--kappa", "0",
                            "--out", str(out), "--plot", str(png), "--json")
    rows = json.loads(stdout)
    assert code == 0 and len(rows) == 16 and all(r["converged"] for r in rows)
    assert out.exists() and png.exists()
    code, stdout, _ = run(capsys, "sweep", "binary-perceptron", "--alpha", "0.2,0.4", "--until-failure", "--json")
    assert code == 0 and len(json.loads(stdout)) == 2  # every point converges: none is skipped


def test_large_deviations_at_y_inf(capsys, tmp_path):
    """--y inf selects the y -> infinity model in solve, sweep and onset (also as --y=inf)."""
    code, out, _ = run(capsys, "solve", "binary-perceptron-ld", "--y", "inf", "--alpha", "0.6", "--d", "0.05", "--json")
    d = json.loads(out)
    assert code == 0 and d["model"] == "binary-perceptron-ld-inf" and {"entropy", "complexity", "Shat"} <= set(d)
    out = tmp_path / "ld.csv"
    code, stdout, _ = run(capsys, "sweep", "binary-perceptron-ld", "--y=inf", "--alpha", "0.6", "--d", "0.05:0.2:4",
                          "--out", str(out), "--json")
    rows = json.loads(stdout)
    assert code == 0 and len(rows) == 4 and all(r["converged"] for r in rows)
    entropies = [r["entropy"] for r in rows]
    assert entropies == sorted(entropies)
    code, out, _ = run(capsys, "onset", "binary-perceptron-ld", "--y", "inf", "--alpha-range", "0.7:0.8", "--json")
    d = json.loads(out)
    assert code == 0 and abs(d["alpha_onset"] - 0.7553) < 2e-3


def test_warm_compiles_each_model_with_a_line_each(capsys):
    """replica warm MODEL ...: a progress line per model, in processes of their own with --workers; a family option
    applies to every family given (and is no error for the models that do not take it)."""
    code, out, err = run(capsys, "warm", "binary-perceptron", "spherical-perceptron", "--workers", "2")
    assert code == 0 and out == ""
    assert sorted(line.split()[1] for line in err.splitlines()) == ["binary-perceptron", "spherical-perceptron"]
    code, _, err = run(capsys, "warm", "binary-perceptron", "committee", "--K", "3")
    names = [line.split()[1] for line in err.splitlines()]
    assert code == 0 and names == ["binary-perceptron", "committee-K3-sign-binary"]


def test_equations(capsys):
    code, out, _ = run(capsys, "equations", "binary-perceptron")
    assert code == 0 and r"\hat{q} =" in out and "q =" in out


BAD = [
    ("solve", "binary-perceptron", "--alpha", "-1"),
    ("solve", "hopfield", "--alpha", "0.5"),
    ("solve", "binary-perceptron", "--alpha", "0.5", "--beta", "2"),
    ("solve", "binary-perceptron", "--alpha", "abc"),
    ("solve", "binary-perceptron", "--alpha"),
    ("solve", "spherical-perceptron", "--alpha", "2.5"),
    ("solve", "binary-perceptron", "--alpha", "1.5"),
    ("solve", "binary-perceptron"),
    ("sweep", "binary-perceptron", "--alpha", "0.05:0.8"),
    ("sweep", "binary-perceptron", "--alpha", "0.1:0.5:3", "--plot", "x.pdf"),
    ("capacity", "binary-perceptron", "--kappa", "x"),
    ("capacity", "binary-perceptron", "--rsb", "1"),
    ("capacity", "spherical-perceptron", "--kappa", "1", "--rsb", "1"),
    ("max-margin", "binary-perceptron", "--alpha", "0"),
    ("max-margin", "spherical-perceptron", "--alpha", "0.5"),
    ("dat-line", "spherical-perceptron", "--kappa", "0.5"),
    ("frobnicate",),
    ("solve", "binary-perceptron", "--alpha", "0.5", "--nodes", "1"),
    ("solve", "binary-perceptron", "--alpha", "0.5", "--nodes", "0"),
    ("solve", "binary-perceptron-fp", "--alpha", "0.5", "--d", "0.1", "--nest", "0"),
    ("solve", "binary-perceptron-fp", "--alpha", "0.5", "--d", "0.1", "--trunc", "1"),
    ("solve", "binary-perceptron-ld", "--y", "inf", "--alpha", "0.6", "--d", "0.3"),
    ("onset", "binary-perceptron-ld", "--y", "inf", "--ref-kappa", "max"),
    ("onset", "binary-perceptron", "--alpha-range", "0.5:0.6"),
    ("warm", "binary-perceptron", "--K", "3"),
    ("warm", "committee", "nope"),
    ("warm", "binary-perceptron", "--workers", "0"),
]


@pytest.mark.parametrize("args", BAD)
def test_bad_input_one_line(capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("replica: error: ") and "Traceback" not in err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alpha=st.one_of(st.floats(max_value=-1e-12, allow_nan=False), st.text(min_size=1, max_size=8)
                       .filter(lambda s: not _is_number(s) and not s.startswith("-"))))
def test_bad_alpha_property(capsys, alpha):
    code, out, err = run(capsys, "solve", "binary-perceptron", "--alpha", str(alpha))
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grid=st.text(alphabet="0123456789.:,-e", min_size=1, max_size=10))
def test_malformed_ranges_property(capsys, tmp_path, grid):
    out_file = tmp_path / "never.csv"
    try:
        from replica.sweep import parse_grid

        values = parse_grid(grid)
        ok = all(v >= 0 for v in values)  # a valid grid (points beyond alpha_GD are rows: no_solution)
    except Exception:
        ok = False
    if ok:
        return
    code, out, err = run(capsys, "sweep", "binary-perceptron", "--alpha", grid, "--out", str(out_file))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not out_file.exists()


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def test_console_script_runs():
    res = subprocess.run([sys.executable, "-m", "replica", "solve", "spherical-perceptron", "--alpha", "1",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and abs(json.loads(res.stdout)["q"] - 0.585311851) < 1e-8


def test_figure_list_and_unknown(capsys):
    code, out, _ = run(capsys, "figure", "list")
    assert code == 0 and "binary-entropy" in out and "spherical-phase-diagram" in out and "caveats" in out
    code, out, err = run(capsys, "figure", "nope")
    assert code == 2 and err.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["binary-entropy", "spherical-phase-diagram", "fp-curves", "fp-nested-margins",
                                  "ld-curves", "ce-curves", "onsets", "gm-errors", "gm-error-vs-lambda",
                                  "gm-bo-local-entropy", "tree-wfm", "tree-stability", "tree-storage",
                                  "enumeration-entropy", "fp-experiment", "flatness-generalization", "fp-bp"])
def test_figure_recipes(capsys, tmp_path, name):
    import pandas as pd

    code, _, _ = run(capsys, "figure", name, "--out", str(tmp_path))
    assert code == 0 and (tmp_path / f"{name}.png").stat().st_size > 20_000
    data = pd.read_csv(tmp_path / f"{name}.csv")
    assert len(data) > 20


def test_nodes_keep_the_models_inner_and_truncated_rules():
    """--nodes sets the outer Gaussian nodes; a model's own inner, truncated and nest rules stay (FP: 6 Gauss-Hermite
    inner nodes, 32 truncated, 48 outer nodes for the nest with the truncated level), and an inner or nest rule tied
    to the outer one (the default) follows it. --nest and --trunc set those levels (a K = 5 ReLU committee's outer
    fields and interval levels), the others kept."""
    import argparse

    from replica.cli import _quadrature
    from replica.models import get_model, resolve

    fp = get_model("binary-perceptron-fp")
    quad = _quadrature(argparse.Namespace(nodes=256, rule=None), fp)
    assert (quad.gauss, quad.inner, quad.inner_rule, quad.trunc, quad.nest) == (256, 6, "hermite", 32, 48)
    quad = _quadrature(argparse.Namespace(nodes=256, rule="hermite"), get_model("binary-perceptron-ld"))
    assert (quad.gauss, quad.inner, quad.rule, quad.inner_rule, quad.nest) == (256, 256, "hermite", "hermite", 256)
    assert _quadrature(argparse.Namespace(nodes=None, rule=None), fp) is None
    relu5 = resolve("committee", {"K": 5, "activation": "relu"})[0]  # declared, not compiled
    quad = _quadrature(argparse.Namespace(nodes=None, rule=None, nest=16, trunc=8), relu5)
    assert (quad.gauss, quad.nest, quad.trunc, quad.rule) == (128, 16, 8, "hermite")
    assert _quadrature(argparse.Namespace(nodes=64, rule=None, nest=None, trunc=None), fp).trunc == fp.quadrature.trunc


def test_a_closed_pipe_ends_quietly():
    """`replica sweep ... | head -1` with more output than a pipe holds: the reader leaves early; no traceback, exit
    141 like other command-line tools."""
    proc = subprocess.Popen([sys.executable, "-m", "replica", "sweep", "binary-perceptron", "--alpha", "0.1:0.8:2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "Error" not in err, err
