"""Plots of sweep tables (matplotlib, no display needed)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plot_sweep"]

_SKIP = {"model", "converged", "status", "message", "remedy", "iterations", "residual", "quad_error", "method",
         "notes"}


def plot_sweep(df, path, x=None, quantities=None, title=None):
    """One panel per quantity against the swept parameter ``x``; failed points are left out and counted in the
    title. Returns the matplotlib Figure (also saved to ``path``)."""
    swept = df.attrs.get("swept") or []
    x = x or (swept[-1] if swept else None)
    if x is None:
        raise ValueError("nothing is swept: give a parameter as a range to plot against")
    numeric = [c for c in df.columns if c not in _SKIP and c != x and c not in swept and df[c].dtype.kind == "f"]
    quantities = quantities or sorted(
        (c for c in numeric if df[c].notna().any() and df[c].nunique() > 1 and c != "upper_bound"),
        key=lambda c: c != "entropy")  # the entropy panel first
    ok = df[df["converged"].astype(bool)]
    fig, axes = plt.subplots(len(quantities), 1, figsize=(6, 2.2 * len(quantities) + 0.6), sharex=True,
                             squeeze=False)
    for ax, name in zip(axes[:, 0], quantities):
        ax.plot(ok[x], ok[name], ".-", ms=3)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if name == "entropy":
            ax.axhline(0, color="k", lw=0.6)
            if "upper_bound" in ok:  # local-entropy models: the log-number of configurations at that distance
                ax.plot(ok[x], ok["upper_bound"], "--", color="gray", lw=1, label="upper bound")
                ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel(x)
    failed = len(df) - len(ok)
    fixed = ", ".join(f"{c}={df[c].iloc[0]:g}" for c in df.columns
                      if c not in _SKIP and c not in quantities and c != x and df[c].dtype.kind == "f"
                      and df[c].nunique() == 1)
    head = title or f"{df['model'].iloc[0]}  ({fixed})"
    axes[0, 0].set_title(head + (f"  [{failed} failed points not shown]" if failed else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig
