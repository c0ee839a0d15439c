"""Phase diagrams drawn with ``replica.phase_diagram``: the spherical and binary perceptrons in (alpha, kappa) and the
Franz–Parisi local entropy around maximal-margin references in (alpha, d)."""
import numpy as np
import pandas as pd

import replica

from .storage import Recipe


def _diagram(model, lines, title, **grid):
    diagram = replica.phase_diagram(model, lines=lines, progress=False, **grid)
    fig = diagram.plot(title=title)
    tables = [diagram.grid.assign(table="grid")] + [df.assign(table=f"line {k}") for k, df in diagram.lines.items()]
    return pd.concat(tables, ignore_index=True), fig


def _spherical():
    return _diagram("spherical-perceptron", ["capacity", "dat-line", "capacity-1rsb"],
                    "Spherical perceptron: RS entropy, capacity, dAT and 1RSB lines",
                    kappa=np.linspace(-1.0, 1.0, 41), alpha=np.linspace(0.05, 14.0, 40))


SPHERICAL = Recipe(
    NAME="spherical-phase-diagram",
    reconstructs="the (kappa, alpha) phase diagram of the spherical perceptron: the RS entropy on the plane, Gardner's "
                 "RS capacity, the dAT line (RS unstable above it) and the 1RSB SAT/UNSAT line for negative margins "
                 "(as in Franz–Parisi 2016, qualitatively)",
    caveats="the full-RSB SAT/UNSAT line (the exact one for kappa < 0) is not computed; the entropy diverges to -inf "
            "at the capacity, so the colour scale is dominated by the points next to it",
    make=_spherical,
)


def _binary():
    return _diagram("binary-perceptron", ["capacity", "alpha-gd", "dat-line"],
                    "Binary perceptron: RS entropy, α_KM (capacity), α_GD (q → 1), dAT line",
                    alpha=np.linspace(0.05, 1.5, 59), kappa=np.linspace(0.0, 1.5, 31))


BINARY = Recipe(
    NAME="binary-phase-diagram",
    reconstructs="the (alpha, kappa) phase diagram of the binary perceptron (Gardner–Derrida 1988, Krauth–Mézard "
                 "1989): the RS entropy, the capacity alpha_KM(kappa) where it vanishes (equivalently "
                 "kappa_max(alpha)), "
                 "the RS q -> 1 line alpha_GD and the dAT line, beyond which RS is unstable",
    caveats="between alpha_KM and alpha_GD the RS saddle point exists with negative entropy (shaded): unphysical; "
            "beyond alpha_GD there is no RS solution",
    make=_binary,
)


def _franz_parisi():
    return _diagram("binary-perceptron-fp", ["onset", "zero:entropy"],
                    "Franz–Parisi local entropy around κ_max references (κ = 0 solutions)",
                    alpha=np.linspace(0.4, 0.76, 19), d=np.geomspace(0.3, 0.004, 25), ref_kappa="max", along="d")


FRANZ_PARISI = Recipe(
    NAME="fp-phase-diagram",
    reconstructs="the (alpha, d) plane of the Franz–Parisi local entropy around maximal-margin references (PRL 2021): "
                 "where the local entropy is positive (dense regions) and the onset load alpha_onset = 0.7289 above "
                 "which the curves dip at small d",
    caveats="17 x 25 points (each a Franz–Parisi saddle point around the reference of its load); the dip above the "
            "onset is visible as the phi_FP = 0 contour closing in at small d",
    make=_franz_parisi,
)
