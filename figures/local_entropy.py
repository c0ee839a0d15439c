"""Local-entropy figures of the binary perceptron: Franz–Parisi curves around typical and maximal-margin references,
nested margins, and large-deviation curves."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import replica

from .storage import Recipe


def _fp_curves():
    frames = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    d = np.geomspace(0.3, 0.002, 20)
    for ax, ref, title in [(axes[0], "max", "maximal-margin references (κ̃ = κ_max(α))"),
                           (axes[1], 0.0, "typical references (κ̃ = 0)")]:
        for k, alpha in enumerate((0.4, 0.55, 0.7)):
            grid = d if ref == "max" else d[d >= 0.02]  # typical references: negative, and costly, below
            df = replica.sweep("binary-perceptron-fp", alpha=alpha, ref_kappa=ref, d=grid, progress=False)
            df["reference"] = "kappa_max" if ref == "max" else "typical"
            ok = df[df.converged]
            ax.plot(ok.d, ok.entropy, color=f"C{k}", label=f"α = {alpha:g}")
            frames.append(df)
        drawn = pd.concat(frames[-3:]).dropna(subset=["upper_bound"]).drop_duplicates("d").sort_values("d")
        ax.plot(drawn.d, drawn.upper_bound, "k--", lw=0.8, label="upper bound H2(d)")
        ax.axhline(0, color="k", lw=0.5)
        ax.set(xlabel="d", xscale="log", title=title)
        ax.title.set_fontsize(10)
    axes[0].set(ylabel="Franz–Parisi local entropy (nats)", ylim=(-0.1, 0.45))
    axes[0].legend(fontsize=8)
    fig.suptitle("Binary perceptron, κ = 0 solutions at distance d from a reference", fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


FP_CURVES = Recipe(
    NAME="fp-curves",
    reconstructs="PRL 2021 (arXiv 2107.01163)-style Franz-Parisi curves of the binary perceptron: around "
                 "maximal-margin references the local entropy follows H2(d) at small d (wide flat minima) up to "
                 "alpha_onset = 0.729 (replica onset), above which a dip opens; around typical references it turns "
                 "negative at small d (isolated solutions, Huang-Kabashima)",
    caveats="around typical references at alpha = 0.7 the continuation stalls below d = 0.3 (one point drawn); "
            "loads below the onset only: above it (alpha = 0.8) the maximal-margin curve takes minutes per point "
            "where the dip opens, so it is left out; the paper's exact alpha values and axis ranges were not read; "
            "d stops at 0.002 around maximal-margin "
            "references and at 0.02 around typical ones (smaller d needs more quadrature nodes); points that do not "
            "converge are left out of the plot and kept in the CSV",
    make=_fp_curves,
)


def _nested_margins():
    alpha = 0.5
    kmax = replica.max_margin("binary-perceptron", alpha=alpha).value
    frames = []
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    d = np.geomspace(0.3, 0.002, 30)
    for k, frac in enumerate((0.0, 0.25, 0.5, 0.75)):
        df = replica.sweep("binary-perceptron-fp", alpha=alpha, ref_kappa="max", kappa=frac * kmax, d=d,
                           progress=False)
        ok = df[df.converged]
        ax.plot(ok.d, ok.entropy, color=f"C{k}", label=f"κ = {frac:g} κ_max")
        frames.append(df)
    ax.plot(d, frames[-1].upper_bound, "k--", lw=0.8, label="upper bound H2(d)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="d", ylabel="Franz–Parisi local entropy (nats)", xscale="log")
    ax.legend(fontsize=8)
    ax.set_title(f"Solutions of margin κ around κ_max references (κ_max = {kmax:.4f}), α = {alpha:g}", fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


NESTED_MARGINS = Recipe(
    NAME="fp-nested-margins",
    reconstructs="PRL 2021-style nested margins: the local entropy of solutions with margin kappa between 0 and "
                 "kappa_max around maximal-margin references; the higher the counted margin, the thinner the dense "
                 "region around the reference",
    caveats="one load (alpha = 0.5); the paper's exact kappa values were not read",
    make=_nested_margins,
)


def _ld_curves():
    frames = []
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for y in (1.5, 3.0, 6.0):
        df = replica.sweep("binary-perceptron-ld", alpha=0.5, y=y, d=np.geomspace(0.3, 0.01, 30), progress=False)
        ok = df[df.converged]
        ax.plot(ok.d, ok.entropy, label=f"y = {y:g}")
        frames.append(df)
    ax.plot(df.d, df.upper_bound, "k--", lw=0.8, label="upper bound H2(d)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="d", ylabel="local entropy (nats)")
    ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.set_title("Large-deviation local entropy S_I = ∂F/∂y, α = 0.5, unconstrained reference", fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


LD_CURVES = Recipe(
    NAME="ld-curves",
    reconstructs="PNAS 2020 / PRL 2015-style large-deviation local entropy of the binary perceptron at finite y, "
                 "unconstrained reference: larger y selects denser regions",
    caveats="the y -> infinity curve (the one the papers show) is not computed yet, nor the reference constrained to "
            "be a solution; y < 1 curves at alpha = 0.5 end at a turning point near d = 0.03 and are left out",
    make=_ld_curves,
)
