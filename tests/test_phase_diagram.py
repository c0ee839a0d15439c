"""Phase diagrams: every point a row, lines on top, the same rows serially, in processes and on Dask, resume."""
import json

import numpy as np
import pandas as pd
import pytest

import replica
from replica.cli import main
from replica.errors import ParameterError

GRID = dict(alpha="0.1:1.4:8", kappa="0:1:4")


def test_every_point_is_a_row_and_the_lines_lie_on_the_grid():
    d = replica.phase_diagram("binary-perceptron", lines=["capacity", "alpha-gd", "dat-line", "zero:entropy"],
                              progress=False, **GRID)
    grid = d.grid
    assert len(grid) == 32 and list(grid.alpha.iloc[:8]) == list(np.linspace(0.1, 1.4, 8))  # x varies fastest
    beyond = grid.alpha >= replica.capacity("binary-perceptron", kappa=0).extra["alpha_GD"]
    assert (grid.status[beyond & (grid.kappa == 0)] == "no_solution").all()
    assert set(grid.status) <= {"converged", "no_solution"} and grid.q[grid.status == "converged"].notna().all()
    cap = d.lines["capacity"]
    assert list(cap.columns[:4]) == ["line", "alpha", "kappa", "status"] and (cap.status == "converged").all()
    # the traced capacity line against single capacities; the entropy's zero contour of the grid lies near it
    for k in (0.0, 1.0):
        row = cap[np.isclose(cap.kappa, k)]
        assert float(row.alpha.iloc[0]) == pytest.approx(replica.capacity("binary-perceptron", kappa=k).value,
                                                         abs=1e-9)
    zero = d.lines["zero:entropy"]
    assert len(zero) > 3 and zero.alpha.between(0.1, 1.4).all()
    assert (d.lines["alpha-gd"].alpha > cap.alpha.max() * 0).all()
    payload = d.as_json()
    assert len(payload["rows"]) == 32 and set(payload["lines"]) == {"capacity", "alpha-gd", "dat-line",
                                                                    "zero:entropy"}
    json.dumps(payload, allow_nan=False)


def test_a_line_that_exists_for_negative_margins_only_keeps_every_point_of_an_axis_across_zero():
    """The spherical perceptron's dAT line exists for kappa < 0 only: across kappa = 0 it is traced below and each
    kappa >= 0 is a no_solution row (the figure recipe's axis runs from -1 to 1); a range of kappa >= 0 alone is
    refused."""
    d = replica.phase_diagram("spherical-perceptron", lines=["dat-line"], kappa="-1:1:5", alpha="0.5:6:3",
                              line_points=5, progress=False)
    dat = d.lines["dat-line"]
    assert list(dat.kappa) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert list(dat.status) == ["converged"] * 2 + ["no_solution"] * 3 and dat.alpha.iloc[2:].isna().all()
    assert dat.alpha.iloc[0] == pytest.approx(replica.dat_line("spherical-perceptron", kappa=-1.0).value, abs=1e-9)
    with pytest.raises(ParameterError, match="kappa < 0"):
        replica.line("spherical-perceptron", "dat-line", kappa=[0.0, 0.5])


def test_negative_entropy_is_shaded_where_it_means_no_solutions_only():
    """Binary weights: a negative RS entropy means no solutions (the model notes it, the picture shades it). The
    spherical perceptron's entropy is a log-volume, negative everywhere: no note, no shading."""
    def legend(diagram):
        fig = diagram.plot()
        return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]

    binary = replica.phase_diagram("binary-perceptron", progress=False, **GRID)
    spherical = replica.phase_diagram("spherical-perceptron", alpha="0.5:1.5:3", kappa="0:0.5:2", progress=False)
    assert (spherical.grid.entropy.dropna() < 0).all() and not spherical.grid.notes.str.contains("entropy < 0").any()
    assert "negative entropy: no solutions" in legend(binary)
    assert "negative entropy: no solutions" not in legend(spherical)


def test_processes_and_dask_give_the_rows_of_a_serial_run():
    serial = replica.phase_diagram("binary-perceptron", progress=False, **GRID).grid
    pooled = replica.phase_diagram("binary-perceptron", workers=2, progress=False, **GRID).grid
    pytest.importorskip("distributed")
    dask = replica.phase_diagram("binary-perceptron", scheduler="local", workers=2, progress=False, **GRID).grid
    for other in (pooled, dask):
        assert list(other.status) == list(serial.status)
        ok = serial.status == "converged"
        for col in ("q", "qhat", "entropy", "lambda_AT"):
            assert np.allclose(other[col][ok], serial[col][ok], rtol=0, atol=1e-12)


def test_a_killed_diagram_resumes_with_every_row_once(tmp_path):
    out = tmp_path / "d.csv"
    full = replica.phase_diagram("binary-perceptron", out=out, progress=False, **GRID)
    text = out.read_text().splitlines(keepends=True)
    out.write_text("".join(text[:13]) + text[13][:17])  # killed: 12 rows, the 13th torn
    again = replica.phase_diagram("binary-perceptron", out=out, progress=False, **GRID)
    on_disk = pd.read_csv(out)
    assert len(on_disk) == 32 and not on_disk.duplicated(["alpha", "kappa"]).any()
    assert np.allclose(again.grid.q.fillna(-1), full.grid.q.fillna(-1), atol=1e-12)
    assert (tmp_path / "d.lines.csv").exists() and (tmp_path / "d.meta.json").exists()
    with pytest.raises(ParameterError, match="records another diagram"):
        replica.phase_diagram("binary-perceptron", out=out, progress=False, alpha="0.1:1.4:9", kappa="0:1:4")
    with pytest.raises(ParameterError, match="holds another table|records another diagram"):
        replica.phase_diagram("spherical-perceptron", out=out, progress=False, **GRID)


def test_bad_input_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(ParameterError, match="two parameters given as ranges"):
        replica.phase_diagram("binary-perceptron", alpha="0.1:1:3", kappa=0)
    with pytest.raises(ParameterError, match="not defined for binary-perceptron"):
        replica.phase_diagram("binary-perceptron", lines=["capacity-2rsb"], **GRID)
    with pytest.raises(ParameterError, match="observables"):
        replica.phase_diagram("binary-perceptron", color="nope", **GRID)
    with pytest.raises(ParameterError, match="alpha=-1"):
        replica.phase_diagram("binary-perceptron", alpha="-1:1:3", kappa="0:1:3")
    assert not list(tmp_path.iterdir())


def test_cli_json_and_picture(capsys, tmp_path):
    plot = tmp_path / "d.png"
    code = main(["phase-diagram", "binary-perceptron", "--alpha", "0.1:1.4:8", "--kappa", "0:1:4", "--lines",
                 "capacity,alpha-gd", "--plot", str(plot), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["rows"]) == 32 and set(out["lines"]) == {"capacity", "alpha-gd"}
    assert plot.stat().st_size > 20_000
    code = main(["phase-diagram", "binary-perceptron", "--alpha", "0.1:1.4:8", "--kappa", "0:1:4",
                 "--plot", str(tmp_path / "missing" / "d.png")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


def test_to_xarray():
    pytest.importorskip("xarray")
    d = replica.phase_diagram("binary-perceptron", progress=False, **GRID)
    ds = d.to_xarray()
    assert ds.q.shape == (4, 8) and float(ds.q.sel(alpha=0.1, kappa=0.0)) == pytest.approx(
        replica.solve("binary-perceptron", alpha=0.1).q, abs=1e-12)


def test_a_two_parameter_sweep_is_drawn_as_a_map(tmp_path):
    from replica.plotting import plot_sweep

    df = replica.sweep("binary-perceptron", alpha=np.linspace(0.1, 1.0, 6), kappa=[0.0, 0.5, 1.0])
    fig = plot_sweep(df, tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 10_000 and fig.axes[0].get_xlabel() == r"$\kappa$"


def test_gaussian_mixture_diagram_with_the_optimal_penalty():
    """gm-ridge in (alpha, lam), coloured by the excess error over Bayes-optimal, with the traced optimal lam: the
    line agrees with replica.optimize, and the excess error is positive (unbalanced clusters)."""
    d = replica.phase_diagram("gm-ridge", alpha="1:3:3", lam="0.1:2:3", delta=0.5, rho=0.2, color="excess_error",
                              lines=["optimum:lam"], line_points=5, progress=False)
    assert (d.grid.status == "converged").all() and (d.grid.excess_error > 0).all()
    line = d.lines["optimum:lam"]
    assert list(line.columns[:4]) == ["line", "alpha", "lam", "status"] and (line.status == "converged").all()
    best = replica.optimize("gm-ridge", "lam", alpha=2.0, delta=0.5, rho=0.2)
    assert float(line.lam[np.isclose(line.alpha, 2.0)].iloc[0]) == pytest.approx(best.value, rel=1e-4)


def test_infinite_committee_diagram():
    d = replica.phase_diagram("committee", K="inf", alpha="0.2:1.2:4", kappa="0:0.6:3", lines=["capacity"],
                              line_points=4, progress=False)
    assert len(d.grid) == 12 and d.lines["capacity"].status.eq("converged").all()
    k0 = d.lines["capacity"][np.isclose(d.lines["capacity"].kappa, 0.0)]
    assert float(k0.alpha.iloc[0]) == pytest.approx(0.946952, abs=1e-6)


@pytest.mark.slow
def test_local_entropy_diagrams():
    """Franz-Parisi around kappa_max references and y -> infinity large deviations in (alpha, d), strips along d."""
    fp = replica.phase_diagram("binary-perceptron-fp", alpha="0.5:0.7:3", d="0.2:0.01:4", ref_kappa="max",
                               along="d", lines=["zero:entropy"], progress=False)
    assert (fp.grid.status == "converged").all() and (fp.grid.entropy > 0).all()
    ld = replica.phase_diagram("binary-perceptron-ld", y="inf", alpha="0.5:0.7:3", d="0.12:0.02:4", along="d",
                               progress=False)
    assert ld.grid.status.isin(["converged", "unvouched"]).all()
