"""Local-entropy figures of the binary perceptron: large-deviation curves."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import replica

from .storage import Recipe


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
