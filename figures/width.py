"""Width scaling (Tensor Programs IV) and landscape figures: finite networks beside the abc classifier's exponents
and the infinite-width kernels, and a loss slice with the barrier between two minima."""
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from replica import infinite_width as iw  # noqa: E402
from replica import landscape as ls  # noqa: E402
from replica import width  # noqa: E402
from replica.parametrization import preset  # noqa: E402

from .storage import Recipe  # noqa: E402

CASES = [("sp", 1, 1), ("sp", 2, 1), ("ntp", 2, None), ("mup", 1, None), ("mup", 2, None)]


def _width_ticks(ax, widths):
    ax.set_xticks(list(widths), [str(n) for n in widths], fontsize=8)
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def _coord_check():
    frames, rows = [], []
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    for name, layers, c in CASES:
        p = preset(name, layers, c=c)
        table, slopes = width.coord_check(p, widths=(256, 512, 1024, 2048, 4096))
        label = f"{name.upper() if name != 'mup' else 'μP'} L={layers}"
        (line,) = ax.loglog(table.width, table.delta_x_rms, "o-", label=f"{label}: fit {slopes['delta_x']:+.2f}")
        n = table.width.to_numpy(float)
        ax.loglog(n, table.delta_x_rms.iloc[0] * (n / n[0]) ** (-float(p.r)), ":", color=line.get_color())
        rows.append({"case": label, "predicted": -float(p.r), "fitted": slopes["delta_x"]})
        frames.append(table.assign(case=label, predicted_slope=-float(p.r), fitted_slope=slopes["delta_x"]))
    _width_ticks(ax, table.width)
    ax.set(xlabel="width n", ylabel="rms Δx^L after 5 SGD steps", title="Coord check (dotted: n^{-r})")
    ax.legend(fontsize=8)
    summary = pd.DataFrame(rows)
    x = np.arange(len(summary))
    bx.bar(x - 0.2, summary.predicted, 0.4, label="classifier: −r")
    bx.bar(x + 0.2, summary.fitted, 0.4, label="fitted slope")
    bx.set_xticks(x, summary.case, rotation=20, fontsize=8)
    bx.set(ylabel="width exponent of Δx^L", title="Exponents: prediction vs finite width")
    bx.axhline(0, color="k", lw=0.6)
    bx.legend(fontsize=8)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


def _max_learning_rate():
    frames = []
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, c in (("sp", 0), ("mup", None)):
        p = preset(name, 2, c=c)
        table, slope = width.max_stable_learning_rate(p, widths=(128, 256, 512, 1024, 2048))
        ax.loglog(table.width, table.eta_max, "o-",
                  label=f"{'SP' if name == 'sp' else 'μP'}: slope {slope:+.2f} (limit {0.0 - float(p.c_min):+g})")
        frames.append(table.assign(parametrization=name, slope=slope, predicted=-float(p.c_min)))
    _width_ticks(ax, table.width)
    ax.set(xlabel="width n", ylabel="largest stable η (20 SGD steps)",
           title="Max stable learning rate: 2-hidden-layer ReLU MLP")
    ax.legend()
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


def _ntk_convergence():
    rows = []
    X = np.random.default_rng(2).standard_normal((4, 4))
    widths = (64, 128, 256, 512, 1024, 2048, 4096)
    fig, ax = plt.subplots(figsize=(6, 4))
    for activation, layers in (("relu", 1), ("relu", 3), ("erf", 2)):
        K = iw.ntk(X, layers, activation)
        for n in widths:
            for seed in range(8):
                net = width.MLP(preset("ntp", layers), n, 4, activation, np.random.default_rng([seed, n]))
                err = np.linalg.norm(iw.empirical_ntk(net, X) - K) / np.linalg.norm(K)
                rows.append({"activation": activation, "layers": layers, "width": n, "seed": seed,
                             "relative_error": err})
    data = pd.DataFrame(rows)
    for (activation, layers), df in data.groupby(["activation", "layers"], sort=False):
        rms = df.groupby("width").relative_error.apply(lambda e: np.sqrt(np.mean(e ** 2)))
        ax.loglog(rms.index, rms.values, "o-",
                  label=f"{activation}, L={layers}: slope {width.fitted_slope(rms.index, rms.values):+.2f}")
    n = np.array(widths, float)
    ax.loglog(n, 2 * n ** -0.5, "k:", label="n^{-1/2}")
    _width_ticks(ax, widths)
    ax.set(xlabel="width n", ylabel="rms ‖K_n − Θ‖ / ‖Θ‖ (8 seeds)",
           title="Empirical NTK → closed-form NTK (NTK parametrization)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return data, fig


def _landscape():
    loss = ls.teacher_student(10, 10)
    minima = [ls.minimize_loss(loss, loss.random_point(np.random.default_rng(s))) for s in range(12)]
    values = np.array([loss.value(t) for t in minima])
    good, bad = minima[int(np.argmin(values))], minima[int(np.argmax(values))]
    ts = np.linspace(-0.25, 1.25, 121)
    path = ls.interpolate(loss, good, bad, ts)
    height = ls.barrier(loss, good, bad, points=201)
    low, high = ls.extreme_eigenvalues(loss, bad)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(ts, path)
    ax.axvline(0, color="k", lw=0.5)
    ax.axvline(1, color="k", lw=0.5)
    ax.set(xlabel="t: (1 − t) θ_global + t θ_spurious", ylabel="population loss F",
           title=f"ReLU teacher–student k = n = 10: barrier {height:.3g}")
    ax.annotate(f"F = {values.max():.4f}\nλ_min(H) = {low:.3g} > 0", (1, values.max()), textcoords="offset points",
                xytext=(-80, 30), fontsize=8, arrowprops={"arrowstyle": "->"})
    delta = ls.direction(loss, bad, np.random.default_rng(1), "filter")
    eta = ls.direction(loss, bad, np.random.default_rng(2), "filter")
    grid = np.linspace(-0.3, 0.3, 41)
    plane = ls.slice_2d(loss, bad, delta, eta, grid, grid)
    cs = bx.contourf(grid, grid, np.log10(plane.T), levels=20)
    fig.colorbar(cs, ax=bx, label="log10 F")
    bx.plot([0], [0], "r*")
    bx.set(xlabel="filter-normalized δ", ylabel="filter-normalized η", title="Slice around the spurious minimum")
    fig.tight_layout()
    data = pd.DataFrame({"t": ts, "loss": path}).assign(barrier=height, spurious_loss=values.max(),
                                                         lambda_min=low, lambda_max=high)
    return data, fig


COORD_CHECK = Recipe(
    NAME="coord-check",
    reconstructs="the mup package's coord check turned into exponents: rms of the feature update against width for "
                 "SP, NTP and muP (tanh, 5 SGD steps, 4 seeds), beside the abc classifier's -r",
    caveats="finite widths (256-4096): fitted slopes sit within 0.2 of the limits (SP L=2 about -0.6 for -0.5)",
    make=_coord_check,
)
MAX_LEARNING_RATE = Recipe(
    NAME="max-learning-rate",
    reconstructs="TP4's max-learning-rate figure on a synthetic task: SP's largest stable eta falls like 1/width, "
                 "muP's stays constant (2-hidden-layer ReLU MLP, squared loss, 20 steps)",
    caveats="one seed per width and a blow-up threshold (loss > 1e3 x its start): SP's slope approaches -1 "
            "slowly; TP4's CIFAR-10 runs are not reproduced",
    make=_max_learning_rate,
)
NTK_CONVERGENCE = Recipe(
    NAME="ntk-convergence",
    reconstructs="the empirical NTK of finite NTK-parametrized MLPs converging to the closed-form recursion "
                 "(ReLU and erf dual activations) at the n^{-1/2} rate",
    caveats="four fixed inputs in d = 4; the error is the kernel matrix's relative Frobenius norm",
    make=_ntk_convergence,
)
LANDSCAPE = Recipe(
    NAME="landscape-barrier",
    reconstructs="a Safran-Shamir spurious minimum (ReLU teacher-student, k = n = 10, population loss in closed "
                 "form): the straight path to a global minimum with its barrier, and a filter-normalized 2-D slice",
    caveats="12 L-BFGS starts from Gaussian weights: which minima appear depends on the initialization; if no start "
            "ends at a spurious minimum the path joins two global ones",
    make=_landscape,
)
