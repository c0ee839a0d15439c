"""Nothing lost, no traceback: torn and foreign output files, damaged and unusable compile caches, output paths,
limits, API types, and fuzzing of the command line and of replica.solve."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import replica
from replica.cli import main
from replica.errors import ParameterError

ALPHAS = [0.1, 0.2, 0.3, 0.4]


def _rows(path):
    return pd.read_csv(path)


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("damage", ["cut inside the last row", "cut inside its quadrature column",
                                    "two rows glued on one line", "garbage appended"])
def test_a_torn_sweep_file_is_cut_and_the_rows_recomputed(tmp_path, capsys, damage):
    out = tmp_path / "s.csv"
    full = replica.sweep("binary-perceptron", alpha=ALPHAS, out=out)
    capsys.readouterr()  # what the first sweep printed (a first compile's progress lines, on a cold cache)
    lines = out.read_text().splitlines(keepends=True)
    if damage == "cut inside the last row":
        text = "".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2]
    elif damage == "cut inside its quadrature column":
        text = "".join(lines[:-1]) + lines[-1][: lines[-1].rindex("trapezoid") + 2]
    elif damage == "two rows glued on one line":
        text = "".join(lines[:-2]) + lines[-2].rstrip("\n") + lines[-1]
    else:
        text = "".join(lines) + "\x00\x01garbage,"
    out.write_text(text)
    again = replica.sweep("binary-perceptron", alpha=ALPHAS, out=out)
    err = capsys.readouterr().err
    assert "torn or malformed" in err and err.count("\n") == 1
    on_disk = _rows(out)
    assert len(on_disk) == len(ALPHAS) and not on_disk.duplicated("alpha").any()
    assert on_disk.q.tolist() == full.q.tolist() == again.q.tolist()
    assert replica.sweep("binary-perceptron", alpha=ALPHAS, out=out).q.tolist() == full.q.tolist()


def test_a_file_of_another_command_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "other.csv"
    out.write_text("x,y\n1,2\n")
    code, _, err = _run(capsys, "sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--out", str(out))
    assert code == 2 and "holds another table" in err and err.count("\n") == 1
    assert out.read_text() == "x,y\n1,2\n"


def test_a_damaged_parquet_file_is_refused_in_one_line(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    out = tmp_path / "s.parquet"
    out.write_bytes(b"PAR1 not really")
    code, _, err = _run(capsys, "sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--out", str(out))
    assert code == 2 and "cannot be read as Parquet" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv, match", [
    (["sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--plot", "{tmp}/missing/p.png"], "does not exist"),
    (["sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--plot", "{tmp}/p.pdf"], "must end in .png"),
    (["sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--out", "{tmp}/missing/s.csv"], "does not exist"),
    (["sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--out", "/proc/s.csv"], "cannot write there"),
    (["sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--out", "{tmp}"], "is a directory"),
    (["figure", "binary-entropy", "--out", "{tmp}/file.txt/sub"], "not a directory"),
    (["solve", "binary-perceptron", "--alpha", "0.5", "--kappa", "1e308"], "at most 1e+12"),
    (["capacity", "binary-perceptron", "--kappa", "-1e200"], "at most 1e+12"),
    (["solve", "binary-perceptron", "--alpha", "0.5", "--nodes", "1000000000"], "at most 1048576"),
    (["solve", "binary-perceptron", "--alpha", "0.5", "--rule", "hermite", "--nodes", "100000"], "at most 4096"),
    (["solve", "binary-perceptron", "--alpha", "0.5", "--kappa", "0", "--kappa", "1"], "given twice"),
    (["sweep", "binary-perceptron", "--alpha", "0:1:100000000"], "at most 10000000"),
    (["dat-line", "committee", "--K", "3", "--activation", "relu"], "use K=inf"),
])
def test_bad_input_ends_in_one_line_before_any_work(capsys, tmp_path, argv, match):
    (tmp_path / "file.txt").write_text("")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and out == "" and match in err and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_plot_that_fails_loses_no_rows(tmp_path, capsys, monkeypatch):
    import replica.plotting

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(replica.plotting, "plot_sweep", broken)
    out = tmp_path / "s.csv"
    code, stdout, err = _run(capsys, "sweep", "binary-perceptron", "--alpha", "0.1:0.3:3", "--out", str(out),
                             "--plot", str(tmp_path / "p.png"))
    assert code == 2 and "the plot failed: disk full" in err and len(_rows(out)) == 3 and "0.3" in stdout


@pytest.mark.parametrize("call, match", [
    (lambda: replica.solve("binary-perceptron", alpha=0.5, method="bogus"), "method='bogus' is not a method"),
    (lambda: replica.solve("binary-perceptron", alpha=0.5, quadrature="x"), "quadrature must be"),
    (lambda: replica.solve("binary-perceptron", alpha=True), "alpha must be a number"),
    (lambda: replica.solve("binary-perceptron", alpha=0.5, max_iter=1.5), "max_iter must be a positive integer"),
    (lambda: replica.solve("binary-perceptron", alpha=0.5, tol=1e-9), "tol must be"),
    (lambda: replica.solve("binary-perceptron", alpha=0.5, x0=[0.1]), "x0 must be a dict"),
    (lambda: replica.sweep("binary-perceptron", alpha=[0.1, True]), "give a number or a 1-D sequence"),
    (lambda: replica.capacity("binary-perceptron", kappa=True), "kappa must be a number"),
    (lambda: replica.capacity("binary-perceptron", rsb=True), "rsb must be 0"),
    (lambda: replica.max_margin("binary-perceptron", alpha="x"), "alpha must be a number"),
    (lambda: replica.line("binary-perceptron", "bogus", kappa=[0, 1]), "unknown line kind"),
    (lambda: replica.line("binary-perceptron", "capacity", kappa=[0, 1, 0.5]), "strictly increasing or decreasing"),
    (lambda: replica.optimize("gm-ridge", "lam", bounds=(1, "x"), alpha=2, delta=0.5), "bounds must be a number"),
    (lambda: replica.solve(3, alpha=0.5), "unknown model"),
])
def test_api_types_are_parameter_errors_naming_what_is_allowed(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


# ----- the compile cache -----------------------------------------------------------------------------------------
def _solve_in(cache, *extra):
    env = {**os.environ, "REPLICA_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-m", "replica", "solve", "binary-perceptron", "--alpha", "0.5", "--json",
                           *extra], env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def compiled_cache(tmp_path_factory):
    """A cache directory holding the binary perceptron compiled (by a first solve)."""
    cache = tmp_path_factory.mktemp("cache")
    done = _solve_in(cache)
    assert done.returncode == 0, done.stderr
    return cache


@pytest.mark.parametrize("damage", ["module cut short", "numba index garbled", "numba data garbled"])
def test_a_damaged_cache_entry_is_moved_aside_and_rebuilt(tmp_path, compiled_cache, damage):
    cache = tmp_path / "cache"
    shutil.copytree(compiled_cache, cache)
    module = next(cache.glob("gen_*.py"))
    if damage == "module cut short":
        text = module.read_text()
        module.write_text(text[: len(text) // 2])
    else:
        pattern = "*.res_jac-*.nbi" if damage == "numba index garbled" else "*.res_jac-*.nbc"
        victim = next((cache / "__pycache__").glob(pattern))
        victim.write_bytes(os.urandom(64))
    done = _solve_in(cache)
    assert done.returncode == 0 and '"converged": true' in done.stdout and "Traceback" not in done.stderr
    assert "could not be loaded" in done.stderr and ("moved to" in done.stderr)
    again = _solve_in(cache)
    assert again.returncode == 0 and "could not be loaded" not in again.stderr


def test_a_cache_path_that_is_a_file_is_one_line(tmp_path):
    path = tmp_path / "cache"
    path.write_text("")
    done = _solve_in(path)
    assert done.returncode == 2 and "is a file, not a directory" in done.stderr
    assert done.stderr.count("\n") == 1


def test_an_unwritable_cache_falls_back_to_a_temporary_one(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("")  # a directory cannot be made under a file, whoever runs the test
    done = _solve_in(blocker / "cache")
    assert done.returncode == 0 and '"converged": true' in done.stdout
    assert "is not writable; compiling into" in done.stderr


def test_two_cold_processes_compile_the_same_model_without_a_race(tmp_path):
    env = {**os.environ, "REPLICA_CACHE_DIR": str(tmp_path / "shared")}
    argv = [sys.executable, "-m", "replica", "solve", "spherical-perceptron", "--alpha", "0.7", "--json"]
    procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs) and outs[0][0] == outs[1][0]


# ----- fuzzing ---------------------------------------------------------------------------------------------------
COMMANDS = ["solve", "sweep", "capacity", "max-margin", "dat-line", "equations", "line", "models"]
MODELS = ["binary-perceptron", "spherical-perceptron", "committee", "gm-ridge", "nope", ""]
OPTIONS = ["--alpha", "--kappa", "--d", "--K", "--nodes", "--rule", "--json", "--out", "--method", "--rsb", "--lam",
           "--bogus", "-x", "--"]
VALUES = ["0.3", "-1", "0", "1e308", "-1e308", "nan", "inf", "abc", "0.1:0.3:2", "1:0", "True", "", "hermite",
          "newton", "3", "2.5", "0:1:0", "-2:1:3", "1,2,,3"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(st.one_of(st.sampled_from(COMMANDS), st.sampled_from(MODELS), st.sampled_from(OPTIONS),
                               st.sampled_from(VALUES)), min_size=0, max_size=7))
def test_fuzzed_command_lines_end_in_0_1_or_2_without_a_traceback(capsys, tmp_path, argv):
    argv = [a if a != "--out" else "--out" for a in argv]
    if "--out" in argv:  # keep outputs inside the scratch directory
        i = argv.index("--out")
        argv = argv[: i + 1] + [str(tmp_path / "f.csv")] + argv[i + 2:]
    try:
        code = main(argv)
    except SystemExit as e:  # --help and --version exit through argparse
        code = e.code
    _, err = capsys.readouterr()
    assert code in (0, 1, 2) and "Traceback" not in err


@settings(max_examples=60, deadline=None)
@given(alpha=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=5),
                       st.none(), st.integers(-10, 10)),
       kappa=st.one_of(st.floats(-1e300, 1e300), st.sampled_from(["max", "0", None])))
def test_fuzzed_solves_return_or_raise_a_replica_error(alpha, kappa):
    try:
        sol = replica.solve("binary-perceptron", alpha=alpha, kappa=kappa, strict=False)
    except ParameterError:
        return
    assert sol.status in {s.value for s in replica.Status}
    assert sol.converged == (sol.status == "converged")


def test_the_readme_claims_a_measured_test_time():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "minutes" in readme and "python -m pytest" in readme
