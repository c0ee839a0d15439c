"""Storage figures of the perceptron: the binary RS entropy curves, and the spherical perceptron's phase diagram."""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import replica  # noqa: E402
from replica.perceptron import alpha_c_spherical, alpha_gd_binary  # noqa: E402


@dataclass(frozen=True)
class Recipe:
    NAME: str
    reconstructs: str
    caveats: str
    make: Callable

    def __call__(self, out_dir):
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        data, fig = self.make()
        data.to_csv(out / f"{self.NAME}.csv", index=False)
        fig.savefig(out / f"{self.NAME}.png", dpi=130)
        plt.close(fig)
        return out / f"{self.NAME}.png"


def _entropy():
    frames = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for kappa in (0.0, 0.25, 0.5):
        top = 0.97 * alpha_gd_binary(kappa)
        df = replica.sweep("binary-perceptron", alpha=np.linspace(0.0, top, 60), kappa=kappa, progress=False)
        cap = replica.capacity("binary-perceptron", kappa=kappa)
        ok = df[df.converged]
        (line,) = ax.plot(ok.alpha, ok.entropy, label=f"κ = {kappa:g}")
        ax.plot([cap.value], [0], "o", color=line.get_color())
        ax.axvline(cap.extra["alpha_GD"], color=line.get_color(), ls=":", lw=0.8)
        frames.append(df.assign(alpha_KM=cap.value, alpha_GD=cap.extra["alpha_GD"]))
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel="α", ylabel="RS entropy s (nats)",
           title="Binary perceptron: s = 0 at α_KM (dots), q → 1 at α_GD (dotted)")
    ax.title.set_fontsize(10)
    ax.legend()
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


def _phase_diagram():
    kappas = np.linspace(-2.0, 1.0, 31)
    rows = []
    for k in kappas:
        row = {"kappa": k, "alpha_c_rs": alpha_c_spherical(k)}
        if k < 0:
            row["alpha_dAT"] = replica.dat_line("spherical-perceptron", kappa=k).value
            row["alpha_c_1rsb"] = replica.capacity("spherical-perceptron", kappa=k, rsb=1).value
        rows.append(row)
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(df.kappa, df.alpha_c_rs, label="RS capacity α_c (Gardner)")
    neg = df[df.kappa < 0]
    ax.semilogy(neg.kappa, neg.alpha_c_1rsb, "--", label="1RSB SAT/UNSAT")
    ax.semilogy(neg.kappa, neg.alpha_dAT, ":", label="dAT line (RS unstable above)")
    ax.set(xlabel="κ", ylabel="α", title="Spherical perceptron with margin κ")
    ax.legend()
    fig.tight_layout()
    return df, fig


ENTROPY = Recipe(
    NAME="binary-entropy",
    reconstructs="the classic RS entropy curves of the binary perceptron (Gardner–Derrida 1988; Krauth–Mézard "
                 "1989), with the capacity alpha_KM where s = 0 and the RS q -> 1 point alpha_GD",
    caveats="none: every point is a converged RS solution; beyond alpha_KM the RS entropy is negative and unphysical",
    make=_entropy,
)
PHASE_DIAGRAM = Recipe(
    NAME="spherical-phase-diagram",
    reconstructs="the (kappa, alpha) phase diagram of the spherical perceptron: Gardner's RS capacity, the dAT line "
                 "and the 1RSB SAT/UNSAT line for negative margins (as in Franz–Parisi 2016, qualitatively)",
    caveats="the full-RSB SAT/UNSAT line (the exact one for kappa < 0) is not computed",
    make=_phase_diagram,
)
