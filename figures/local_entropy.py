"""Local-entropy figures of the binary perceptron: Franz–Parisi curves around typical and maximal-margin references,
nested margins, and large-deviation curves."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import replica
from replica.large_deviation import plateau

from .storage import Recipe


def _fp_curves():
    frames = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)  # one decade-labelled d axis
    d = np.geomspace(0.3, 0.002, 40)
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
    caveats="loads below the onset only: above it (alpha = 0.8) the maximal-margin curve takes minutes per point "
            "where the dip opens, so it is left out; the paper's exact alpha values and axis ranges were not read; "
            "d stops at 0.002 around maximal-margin "
            "references and at 0.02 around typical ones (below, each point needs a refined rule, 30-60 s; the curve "
            "converges down to d = 0.0022 at alpha = 0.6); points that do not converge are left out of the plot and "
            "kept in the CSV",
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
    d = np.geomspace(0.3, 0.01, 30)
    for y in (1.5, 3.0, 6.0):
        df = replica.sweep("binary-perceptron-ld", alpha=0.5, y=y, d=d, progress=False)
        ok = df[df.converged]
        ax.plot(ok.d, ok.entropy, label=f"y = {y:g}")
        frames.append(df)
    d_star = (1 - plateau(0.5)["S_star"]) / 2
    df = replica.sweep("binary-perceptron-ld", alpha=0.5, y="inf", d=d[d < d_star], progress=False)
    df["y"] = np.inf
    ok = df[df.converged]
    ax.plot(ok.d, ok.entropy, "k", label="y → ∞ (densest references)")
    ax.plot([d_star, d.max()], [plateau(0.5)["entropy"]] * 2, "k:", lw=1, label="y → ∞ plateau s_RS (d ≥ d*)")
    frames.append(df)
    ax.plot(d, frames[0].upper_bound, "k--", lw=0.8, label="upper bound H2(d)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="d", ylabel="local entropy (nats)")
    ax.legend(fontsize=8)
    ax.set_xscale("log")
    ax.set_title("Large-deviation local entropy S_I = ∂F/∂y, α = 0.5, unconstrained reference", fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


LD_CURVES = Recipe(
    NAME="ld-curves",
    reconstructs="PNAS 2020 / PRL 2015-style large-deviation local entropy of the binary perceptron, "
                 "unconstrained reference: larger y selects denser regions, up to the y -> infinity limit (the "
                 "densest references), which meets the storage entropy at d* and stays there",
    caveats="the reference is unconstrained: the papers' curves around references constrained to be solutions are not "
            "computed; the y -> infinity curve has negative complexity (the physical curve is at the finite y* "
            "where it vanishes); y < 1 curves at alpha = 0.5 end at a turning point near d = 0.03 and are left out",
    make=_ld_curves,
)


def _ce_curves():
    alpha = 0.6
    frames = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    d = np.geomspace(0.3, 0.005, 10)
    for k, gamma in enumerate((2.0, 5.0)):
        df = replica.sweep("binary-perceptron-ce-fp", alpha=alpha, gamma=gamma, beta="min", d=d, progress=False)
        df["reference"] = f"cross-entropy minimizers, gamma = {gamma:g}"
        ok = df[df.converged]
        beta = df.beta.dropna().iloc[0] if df.beta.notna().any() else float("nan")
        ax.plot(ok.d, ok.entropy, color=f"C{k}", label=f"CE minimizers, γ = {gamma:g} (β_min = {beta:.1f})")
        frames.append(df)
    for ref, style, label in [("max", "k-", "κ_max references"), (0.0, "k-.", "typical solutions (κ̃ = 0)")]:
        grid = d if ref == "max" else d[d >= 0.02]
        df = replica.sweep("binary-perceptron-fp", alpha=alpha, ref_kappa=ref, d=grid, progress=False)
        df["reference"] = f"ref_kappa = {ref}"
        ok = df[df.converged]
        ax.plot(ok.d, ok.entropy, style, lw=1, label=label)
        frames.append(df)
    ax.plot(d, frames[-2].upper_bound, "k--", lw=0.8, label="upper bound H2(d)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="d", ylabel="Franz–Parisi local entropy (nats)", xscale="log", ylim=(-0.1, 0.5))
    ax.legend(fontsize=8)
    ax.set_title(f"Zero-error solutions around cross-entropy minimizers, binary perceptron, α = {alpha:g}",
                 fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


CE_CURVES = Recipe(
    NAME="ce-curves",
    reconstructs="PNAS 2020 (arXiv 1905.07833): the minimizers of the cross-entropy loss overlap with the wide flat "
                 "minima of the error loss. Local entropy of the zero-error solutions around the minimizers of "
                 "f_gamma (beta = beta_min, the references' zero-entropy point) for several gamma, against the "
                 "maximal-margin and typical references",
    caveats="the paper's loss parametrization, gamma values and figure were not read (f_gamma of physics notes F.2 "
            "is used); 'minimizers' are the frozen references at the RS zero-entropy beta, not a beta -> infinity "
            "RS limit (which has negative entropy); gamma = 1 is left out: its minimizers misclassify 1.4 % of the "
            "patterns, the curve stalls below d ~ 0.3 (no zero-error solutions close to them) and each failed point "
            "costs minutes; gamma = 2 minimizers misclassify 6e-4 and bend below the maximal-margin curve at the "
            "smallest d",
    make=_ce_curves,
)


def _onsets():
    from replica.models import get_model

    ld, fp = get_model("binary-perceptron-ld-inf"), get_model("binary-perceptron-fp")
    rows = []
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    d = np.geomspace(0.15, 0.01, 40)
    for k, alpha in enumerate((0.7, 0.7553, 0.78)):
        df = replica.sweep("binary-perceptron-ld", y="inf", alpha=alpha, d=d, progress=False)
        ok = df[df.status.isin(["converged", "unvouched"])]
        left.plot(ok.d, ok.entropy.where(ok.Shat >= 0), color=f"C{k}", label=f"α = {alpha:g}")
        left.plot(ok.d, ok.entropy.where(ok.Shat < 0), ":", color=f"C{k}")
        rows.append(df.assign(figure="curve"))
    left.set(xlabel="d", ylabel="S_I (nats)", xscale="log",
             title="y → ∞ large deviations (dotted: Ŝ < 0, outside the limit)")
    left.title.set_fontsize(10)
    left.legend(fontsize=8)
    for model, spec, fixed, d_min, alphas, style in [
            ("binary-perceptron-ld --y inf", ld, {"kappa": 0.0}, 0.01, np.linspace(0.70, 0.80, 11), "o-"),
            ("binary-perceptron-fp, κ_max references", fp, {"ref_kappa": "max", "kappa": 0.0}, 4e-3,
             (0.65, 0.70, 0.72, 0.73, 0.74, 0.75), "s-")]:
        slopes = [spec.threshold("onset").dip(spec, a, fixed, d_min, 12) for a in alphas]
        right.plot(alphas, [s for s, _ in slopes], style, label=model)
        rows.append(pd.DataFrame({"figure": "smallest slope", "model": spec.name, "alpha": alphas,
                                  "smallest_slope": [s for s, _ in slopes], "d_at": [x for _, x in slopes]}))
    thr = replica.onset("binary-perceptron-ld", y="inf", alpha_range=(0.7, 0.8))
    right.axvline(thr.value, color="C0", lw=0.8, ls="--", label=f"α_onset = {thr.value:.4f} (replica onset)")
    right.axhline(0, color="k", lw=0.5)
    right.set(xlabel="α", ylabel="smallest slope of the curve at small d", title="onset: the slope's sign change")
    right.title.set_fontsize(10)
    right.legend(fontsize=8)
    fig.tight_layout()
    return pd.concat(rows, ignore_index=True), fig


ONSETS = Recipe(
    NAME="onsets",
    reconstructs="the onset of non-monotonic local-entropy curves (PRL 2021 for Franz-Parisi around maximal-margin "
                 "references, alpha_onset = 0.7288; PNAS 2016/2020 for large deviations, alpha_U): the smallest "
                 "slope at small d against alpha, and y -> infinity curves around the large-deviation onset 0.7553",
    caveats="the large-deviation reference is unconstrained (the literature's alpha_U ~ 0.77 is for references "
            "constrained to be solutions, not computed); beyond its onset the y -> infinity formula leaves its "
            "derivation (Shat < 0, drawn dotted); six Franz-Parisi loads only (each costs a curve; its onset, "
            "0.7288, is `replica onset binary-perceptron-fp`, about 500 s)",
    make=_onsets,
)
