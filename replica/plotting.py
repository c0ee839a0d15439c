"""Plots of sweeps and phase diagrams (matplotlib, no display needed), in physics notation: alpha, kappa, d, lambda
as Greek letters, entropies in nats per weight, the reference lines a reader looks for (zero entropy, lambda_AT = 1).
"""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .models import NO_SOLUTIONS  # noqa: E402

__all__ = ["plot_sweep", "plot_phase_diagram", "label"]

_SKIP = {"model", "converged", "status", "message", "remedy", "iterations", "residual", "quad_error", "method",
         "notes", "quadrature"}
LABELS = {
    "alpha": r"$\alpha = P/N$", "kappa": r"$\kappa$", "ref_kappa": r"$\tilde\kappa$", "d": r"distance $d$",
    "lam": r"$\lambda$", "beta": r"$\beta$", "gamma": r"$\gamma$", "y": r"$y$", "delta": r"$\Delta$",
    "rho": r"$\rho$", "theta": r"$\theta$", "norm": r"$|w|^2/N$", "q": r"$q$", "qhat": r"$\hat q$",
    "q1": r"$q_1$", "q0": r"$q_0$", "t": r"$t$", "p": r"$p$", "m": r"$m$", "R": r"$R$",
    "entropy": "entropy (nats per weight)", "free_entropy": "free entropy (nats per weight)",
    "energy": "energy per weight", "phi": r"$\phi$", "lambda_AT": r"replicon $\lambda_{AT}$",
    "complexity": r"complexity $\Sigma$", "upper_bound": "upper bound (nats per weight)",
    "error": r"test error $\epsilon_g$", "excess_error": r"$\epsilon_g - \epsilon_{BO}$",
    "train_error": "training error", "train_loss": "training loss", "Q": r"$Q$",
}
LINE_LABELS = {
    "capacity": r"capacity $\alpha_c$", "max-margin": r"maximal margin $\kappa_{max}$", "dat-line": "dAT line",
    "capacity-1rsb": "1RSB SAT/UNSAT", "alpha-gd": r"$\alpha_{GD}$ ($q \to 1$)", "onset": "onset",
}


def label(name):
    """The axis label of a parameter or an observable, in physics notation."""
    if name in LABELS:
        return LABELS[name]
    if name.startswith("zero:"):
        return f"{name[5:]} = 0"
    if name.startswith("optimum:"):
        return f"optimal {label(name[8:])}"
    return LINE_LABELS.get(name, name.replace("_", " "))


def _symbol(name):
    """The bare symbol of a parameter (alpha, not 'alpha = P/N'), for 'symbol = value' texts."""
    return {"alpha": r"$\alpha$", "d": r"$d$"}.get(name, label(name))


def _fixed(df, exclude):
    """'kappa = 0, ...' for the columns held fixed in a table, in physics notation."""
    parts = []
    for c in df.columns:
        if c in _SKIP or c in exclude or df[c].dtype.kind != "f" or df[c].nunique() != 1:
            continue
        if c in ("alpha", "kappa", "ref_kappa", "d", "lam", "beta", "gamma", "y", "delta", "rho", "theta", "norm"):
            parts.append(f"{LABELS[c].split(' ')[-1]} = {df[c].iloc[0]:g}")
    return ", ".join(parts)


def plot_sweep(df, path, x=None, quantities=None, title=None):
    """A sweep: one panel per quantity against the swept parameter ``x`` (failed points left out and counted in the
    title), with the zero-entropy and lambda_AT = 1 reference lines. A sweep over two parameters is drawn as a heat
    map of the entropy (:func:`plot_phase_diagram`), never as lines across the grid. Returns the Figure (also saved
    to ``path``)."""
    swept = df.attrs.get("swept") or []
    if len(swept) == 2 and x is None:
        names = [c for c in df.columns if c not in _SKIP and df[c].dtype.kind == "f"]
        color = "entropy" if "entropy" in df else next(c for c in names if c not in swept)
        grid = SimpleNamespace(model=df["model"].iloc[0], x=swept[1], y=swept[0], color=color, grid=df, lines={})
        return plot_phase_diagram(grid, path, title=title)
    if len(swept) > 2:
        raise ValueError("a sweep over more than two parameters has no single picture: plot slices of it")
    x = x or (swept[-1] if swept else None)
    if x is None:
        raise ValueError("nothing is swept: give a parameter as a range to plot against")
    numeric = [c for c in df.columns if c not in _SKIP and c != x and c not in swept and df[c].dtype.kind == "f"]
    quantities = quantities or sorted(
        (c for c in numeric if df[c].notna().any() and df[c].nunique() > 1 and c != "upper_bound"),
        key=lambda c: c != "entropy")  # the entropy panel first
    ok = df[df["converged"].astype(bool)]
    fig, axes = plt.subplots(len(quantities), 1, figsize=(6, 2.2 * len(quantities) + 0.7), sharex=True,
                             squeeze=False)
    for ax, name in zip(axes[:, 0], quantities):
        ax.plot(ok[x], ok[name], ".-", ms=3)
        ax.set_ylabel(label(name), fontsize=9)
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.grid(alpha=0.3)
        if name in ("entropy", "free_entropy", "complexity"):
            ax.axhline(0, color="k", lw=0.6)
            if name == "entropy" and "upper_bound" in ok:  # local entropies: the log-number of configurations at d
                ax.plot(ok[x], ok["upper_bound"], "--", color="gray", lw=1, label="upper bound")
                ax.legend(fontsize=8)
        if name == "lambda_AT":
            ax.axhline(1, color="C3", lw=0.8, ls="--", label=r"$\lambda_{AT} = 1$ (RS unstable above)")
            ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel(label(x))
    failed = len(df) - len(ok)
    fixed = _fixed(df, set(quantities) | {x})
    head = title or f"{df['model'].iloc[0]}" + (f"  ({fixed})" if fixed else "")
    axes[0, 0].set_title(head + (f"  [{failed} points without a converged solution not shown]" if failed else ""),
                         fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


def _noted(rows, text, shape):
    """Where a row's notes (the model's physics remarks) contain ``text``."""
    if "notes" not in rows:
        return np.zeros(shape, dtype=bool)
    return rows["notes"].fillna("").astype(str).str.contains(text, regex=False).to_numpy().reshape(shape)


def plot_phase_diagram(diagram, path=None, title=None, levels=8):
    """A phase diagram (a :class:`~replica.phase_diagram.PhaseDiagram`, or anything with its attributes ``model``,
    ``x``, ``y``, ``color``, ``grid``, ``lines``): a heat map of ``diagram.color`` with a colour bar and contour
    lines, the regions shaded by status (no solution: grey; RS unstable, lambda_AT > 1: hatched; a negative entropy
    that the model notes as meaning no solutions, as for binary weights: cross-hatched; points that failed: red
    crosses), the threshold lines overlaid and labelled. Returns the Figure (saved to ``path`` when given). A
    negative entropy of continuous weights (a log-volume) is not shaded: the model carries no such note."""
    grid, x, y = diagram.grid, diagram.x, diagram.y
    xs = np.unique(grid[x].to_numpy(float))
    ys = np.unique(grid[y].to_numpy(float))
    shape = (len(ys), len(xs))
    ordered = grid.sort_values([y, x])

    def field(name):
        return ordered[name].to_numpy(dtype=float).reshape(shape) if name in ordered else np.full(shape, np.nan)

    z = field(diagram.color)
    status = ordered["status"].astype(str).to_numpy().reshape(shape)
    fig, ax = plt.subplots(figsize=(7.2, 5.2))
    finite = np.isfinite(z)
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(z), shading="nearest", cmap="viridis")
    bar = fig.colorbar(mesh, ax=ax)
    bar.set_label(label(diagram.color))
    if finite.sum() > 4 and np.nanmax(z) > np.nanmin(z) and min(shape) > 1:
        ax.contour(xs, ys, np.ma.masked_invalid(z), levels=levels, colors="k", linewidths=0.4, alpha=0.5)
    handles = []
    regions = [(status == "no_solution", "0.82", None, "no RS solution"),
               (field("lambda_AT") > 1, "none", "///", r"RS unstable ($\lambda_{AT} > 1$)"),
               (_noted(ordered, NO_SOLUTIONS, shape), "none", "\\\\\\\\", "negative entropy: no solutions")]
    for mask, face, hatch, text in regions:
        if mask.any() and min(shape) > 1:
            if face != "none":
                ax.contourf(xs, ys, mask.astype(float), levels=[0.5, 1.5], colors=[face])
            else:
                ax.contourf(xs, ys, mask.astype(float), levels=[0.5, 1.5], colors="none", hatches=[hatch])
            handles.append(Patch(facecolor=face if face != "none" else "white", hatch=hatch, edgecolor="0.3",
                                 label=text))
    bad = ~np.isin(status, ["converged", "no_solution", "unvouched"])
    if bad.any():
        gy, gx = np.nonzero(bad)
        handles.append(ax.scatter(xs[gx], ys[gy], marker="x", s=12, color="C3", lw=0.8,
                                  label="no converged solution (see status)"))
    for k, (kind, df) in enumerate(diagram.lines.items()):
        if not len(df) or x not in df or y not in df:
            continue
        ok = df[df["status"].astype(str) == "converged"]
        style = dict(color=f"C{(k + 1) % 10}", lw=1.6)
        if "segment" in ok:
            for i, (_, seg) in enumerate(ok.groupby("segment")):
                ax.plot(seg[x], seg[y], **style, label=label(kind) if i == 0 else None)
        elif len(ok) == 1:
            ax.axvline(ok[x].iloc[0], ls="--", **style, label=f"{label(kind)} ({_symbol(x)} = {ok[x].iloc[0]:.4g})")
        else:
            ax.plot(ok[x], ok[y], **style, label=label(kind))
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.xaxis.set_major_locator(MaxNLocator(7))
    ax.yaxis.set_major_locator(MaxNLocator(7))
    line_handles, _ = ax.get_legend_handles_labels()
    if handles or line_handles:
        ax.legend(handles=line_handles + [h for h in handles if h not in line_handles], fontsize=7, loc="best",
                  framealpha=0.85)
    fixed = _fixed(grid, {x, y, diagram.color})
    ax.set_title(title or f"{diagram.model}" + (f"  ({fixed})" if fixed else ""), fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=130)
    plt.close(fig)
    return fig
