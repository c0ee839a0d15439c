"""Two-layer tree machines: which devices have wide flat minima (committee machines with sign and ReLU units against
the parity machine)."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import replica

from .storage import Recipe

ALPHA = 0.5


def _tree_wfm():
    frames = []
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    d = np.geomspace(0.3, 0.005, 20)
    curves = [("committee-fp", dict(activation="sign", ref_kappa="max"), "C0", "-", "committee sign, κ_max refs"),
              ("committee-fp", dict(activation="relu", ref_kappa="max"), "C3", "-", "committee ReLU, κ_max refs"),
              ("committee-fp", dict(activation="sign", ref_kappa=0.0), "C0", ":", "committee sign, typical refs"),
              ("committee-fp", dict(activation="relu", ref_kappa=0.0), "C3", ":", "committee ReLU, typical refs"),
              ("parity-fp", dict(K=2, quad_tol=1e-5), "C2", "-.", "parity K=2, typical refs"),
              ("parity-fp", dict(K=2, ref_kappa="max", quad_tol=1e-5), "C2", "-",
               "parity K=2, max hidden-margin refs")]
    for model, options, color, style, label in curves:
        # around typical references the curves go negative and their averages sharpen: stop at d = 0.01
        grid = d if options.get("ref_kappa") == "max" and model == "committee-fp" else d[d >= 0.01]
        df = replica.sweep(model, alpha=ALPHA, d=grid, progress=False, **options)
        df["curve"] = label
        ok = df[df.converged]
        ax.plot(ok.d, ok.entropy, color=color, ls=style, label=label)
        frames.append(df)
    h2 = frames[0].upper_bound
    ax.plot(d, h2, "k--", lw=0.8, label="upper bound H2(d)")
    ax.plot(d, h2 - ALPHA * np.log(2), color="C2", lw=0.8, ls="--", label="parity K→∞: H2(d) − α ln 2")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="d", ylabel="local entropy (nats)", xscale="log", ylim=(-0.25, 0.65))
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(f"Franz–Parisi local entropy of tree machines, binary weights, α = {ALPHA}", fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


TREE_WFM = Recipe(
    NAME="tree-wfm",
    reconstructs="the PNAS 2020 / ReLU-paper comparison of devices: around maximal-margin references the K = inf "
                 "committee machine has wide flat minima, denser with ReLU than with sign units; around typical "
                 "references the solutions are isolated; the parity machine (typical references, K = 2, and its "
                 "K -> inf limit H2(d) - alpha ln 2) shows no dense neighbourhood, but its rare references with the "
                 "largest margin on the hidden fields do (K = 2)",
    caveats="the parity curve stops at d = 0.01 and is accurate to 1e-5 (quad_tol), not 1e-8: its 4-dimensional "
            "average sharpens at small d; committee curves are K = inf (finite-K Franz-Parisi not computed); the "
            "parity references with hidden margins are the RS q~ = 0 ones (stability not checked), at K = 2 only "
            "(their margin shrinks like 1/K); the papers' exact curves and alpha were not read",
    make=_tree_wfm,
)


def _tree_stability():
    frames = []
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharey=True)
    for ax, weights in zip(axes, ("binary", "spherical")):
        for activation, color in (("sign", "C0"), ("relu", "C3")):
            options = dict(K="inf", activation=activation, weights=weights)
            cap = replica.capacity("committee", **options)
            dat = replica.dat_line("committee", **options)
            # up to the RS capacity (spherical ReLU: q -> 1 there), else a third beyond the dAT load
            top = 0.97 * cap.value if cap.value is not None and weights == "spherical" else 1.3 * dat.value
            df = replica.sweep("committee", alpha=np.linspace(0.05, top, 30), progress=False, **options)
            df["curve"] = f"{activation}, {weights}"
            frames.append(df)
            ok = df[df.converged]
            ax.plot(ok.alpha, ok.lambda_AT, color=color, label=f"{activation}: λ_AT")
            ax.axvline(dat.value, color=color, ls=":", lw=0.9, label=f"{activation}: α_dAT = {dat.value:.4f}")
            if cap.value is not None:
                ax.axvline(cap.value, color=color, ls="--", lw=0.9, label=f"{activation}: α_c = {cap.value:.4f}")
        ax.axhline(1, color="k", lw=0.5)
        ax.set(xlabel="α", title=f"K = ∞ committee, {weights} weights")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("replicon eigenvalue λ_AT (RS unstable above 1)")
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


TREE_STABILITY = Recipe(
    NAME="tree-stability",
    reconstructs="where the RS solution of the K = inf tree committee machine can be trusted: the replicon eigenvalue "
                 "along the RS solution for sign and ReLU units, with the dAT loads and the RS capacities "
                 "(docs/committee.md: with spherical weights RS breaks down well below the ReLU machine's RS "
                 "capacity, as the RSB literature on tree committees found; with binary weights it is stable up to "
                 "the capacities)",
    caveats="K = inf curves only (the finite-K dAT points are in replica dat-line --K 3, docs/committee.md); "
            "kappa = 0; the RSB capacities that replace the spherical RS ones are not computed",
    make=_tree_stability,
)


def _tree_storage():
    frames = []
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10.0, 4.2))
    curves = [(dict(K=1), "k", "-", "perceptron (K = 1)"),
              (dict(K=3), "C0", "--", "sign, K = 3"), (dict(K="inf"), "C0", "-", "sign, K = ∞"),
              (dict(K=1, activation="relu"), "C3", ":", "ReLU, K = 1"),
              (dict(K=3, activation="relu"), "C3", "--", "ReLU, K = 3"),
              (dict(K="inf", activation="relu"), "C3", "-", "ReLU, K = ∞")]
    for options, color, style, label in curves:
        cap = replica.capacity("committee", **options)
        df = replica.sweep("committee", alpha=np.linspace(0.05, cap.value, 12), progress=False, **options)
        df["curve"], df["alpha_c"] = label, cap.value
        ok = df[df.converged]
        ax.plot(ok.alpha, ok.entropy, color=color, ls=style, label=f"{label}: α_c = {cap.value:.4f}")
        frames.append(df)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="α", ylabel="RS entropy (nats)", title="binary weights, centred outputs")
    ax.legend(fontsize=7)
    thetas = np.linspace(-1.0, 0.8, 10)
    for K, color in ((1, "C3"), (3, "C1")):
        df = replica.sweep("committee", K=K, activation="relu", alpha=0.6, theta=thetas, progress=False)
        df["curve"] = f"ReLU K = {K}, alpha = 0.6"
        ok = df[df.converged]
        bx.plot(ok.theta, ok.entropy, color=color, marker="o", ms=3, label=f"ReLU, K = {K}")
        frames.append(df)
    for K, theta in ((1, -0.6833), (3, -0.17297)):
        bx.axvline(theta, color="C3" if K == 1 else "C1", ls=":", lw=0.9, label=f"K = {K}: median threshold")
    bx.axvline(0, color="k", lw=0.5)
    bx.set(xlabel="θ (threshold offset from the mean, in sd of the output field)",
           ylabel="RS entropy at α = 0.6", title="finite-K ReLU: dependence on the centring")
    bx.legend(fontsize=7)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


TREE_STORAGE = Recipe(
    NAME="tree-storage",
    reconstructs="the storage problem of tree committee machines with binary weights: RS entropy against the load "
                 "for sign and ReLU units at K = 1, 3 and infinity (the capacity rises with K, and the ReLU machine "
                 "stores less than the sign one, as the ReLU paper's large-K analysis finds); and how a finite-K "
                 "ReLU machine depends on where its output threshold sits (docs/committee.md)",
    caveats="RS entropies (binary weights: locally RS-stable up to the capacities, docs/committee.md); K = 5 ReLU "
            "is left out (40 s a point); the centring panel is at alpha = 0.6 only",
    make=_tree_storage,
)
