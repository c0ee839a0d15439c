"""Storage figures of the perceptron: the binary RS entropy curves (the phase diagrams: ``figures.diagrams``)."""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import replica  # noqa: E402
from replica.perceptron import alpha_gd_binary  # noqa: E402


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


ENTROPY = Recipe(
    NAME="binary-entropy",
    reconstructs="the classic RS entropy curves of the binary perceptron (Gardner–Derrida 1988; Krauth–Mézard "
                 "1989), with the capacity alpha_KM where s = 0 and the RS q -> 1 point alpha_GD",
    caveats="none: every point is a converged RS solution; beyond alpha_KM the RS entropy is negative and unphysical",
    make=_entropy,
)
