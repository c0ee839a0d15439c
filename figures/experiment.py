"""Theory against experiment on the binary perceptron: exactly enumerated entropies beside the RS curve, and the
local entropy counted around the solutions that algorithms find beside the Franz–Parisi curves."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import gammaln

import replica
from replica import algorithms
from replica import enumeration as en

from .storage import Recipe

EXTRAPOLATED = {1 / 3: (9, 15, 21, 27), 2 / 3: (9, 15, 21, 27)}  # loads at which alpha N is an integer for each N


def _enumeration():
    rows = []
    for n in (15, 21):
        for p in range(1, round(0.9 * n) + 1):
            rows.append({**en.entropy(n, p / n, samples=200, seed=p), "kind": f"N = {n}"})
    for alpha, ns in EXTRAPOLATED.items():
        found = [en.entropy(n, alpha, samples=200 if n < 27 else 50, seed=n) for n in ns]
        s, err = en.extrapolate(ns, [r["entropy"] for r in found], [r["entropy_err"] for r in found])
        rows.append({"n": np.inf, "alpha": alpha, "entropy": s, "entropy_err": err, "kind": "N → ∞ (fit in 1/N)"})
    data = pd.DataFrame(rows)
    rs = replica.sweep("binary-perceptron", alpha=np.linspace(0.01, 0.95, 60), kappa=0.0, progress=False)
    alpha_km = replica.capacity("binary-perceptron", kappa=0.0).value
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    ok = rs[rs.converged]
    ax.plot(ok.alpha, ok.entropy, "k-", label="RS (N → ∞)")
    for k, (kind, group) in enumerate(data.groupby("kind", sort=False)):
        ax.errorbar(group.alpha, group.entropy, group.entropy_err, fmt="os^"[k], ms=4, capsize=2, label=kind)
    ax.axvline(alpha_km, color="k", ls=":", lw=0.8, label=f"α_KM = {alpha_km:.4f}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="α", ylabel="entropy per weight (nats)",
           title="Exact enumeration (solvable instances) vs RS, κ = 0")
    ax.legend(fontsize=8)
    for n, group in data[np.isfinite(data.n)].groupby("n"):
        bx.errorbar(group.alpha, group.solvable_fraction, group.solvable_fraction_err, fmt="o-", ms=3,
                    label=f"N = {n:g}")
    bx.axvline(alpha_km, color="k", ls=":", lw=0.8)
    bx.set(xlabel="α", ylabel="fraction of solvable instances", title="Solvability: the SAT/UNSAT transition")
    bx.legend(fontsize=8)
    fig.tight_layout()
    rs_at = np.interp(data.alpha, ok.alpha, ok.entropy)
    return data.assign(rs_entropy=rs_at), fig


def _fp_theory(ax, alpha, d, model="binary-perceptron-fp", label="", **options):
    """Draw the Franz–Parisi curves of ``model`` around maximal-margin and typical references (the latter from
    d = 0.02 on, where it stays positive and cheap) and H2(d) on ``ax``; return their rows."""
    frames = []
    for ref, name, style in (("max", "FP around κ_max(α)", "k-"), (0.0, "FP around typical", "k--")):
        df = replica.sweep(model, alpha=alpha, ref_kappa=ref, d=d if ref == "max" else d[d >= 0.02], progress=False,
                           **options)
        ok = df[df.converged]
        ax.plot(ok.d, ok.entropy, style, label=f"{name} (RS, N → ∞{label})")
        frames.append(df[["d", "entropy", "status", "upper_bound"]].assign(alpha=alpha, reference=name))
    bound = frames[0].dropna(subset=["upper_bound"]).sort_values("d")  # the kappa_max grid reaches the smallest d
    ax.plot(bound.d, bound.upper_bound, ":", color="0.5", label="H2(d): every configuration")
    return pd.concat(frames, ignore_index=True)


def _counted_around(n, alpha, instances, rng, k=1):
    """Exact counts around each kind of reference on ``instances`` random instances (a tree committee of ``k``
    hidden units if k > 1): per kind and distance, the mean of ln(count)/N over the instances with a nonzero count
    there. The kinds: the maximal-margin solution (perceptron), one drawn uniformly, and each algorithm's."""
    table = algorithms.ALGORITHMS if k == 1 else algorithms.COMMITTEE_ALGORITHMS
    kinds = (["maximal margin"] if k == 1 else []) + ["uniform (typical)", *table]
    counts = {kind: [] for kind in kinds}
    for _ in range(instances):
        instance = en.random_instance(n, alpha, rng=rng, k=k)
        sols = en.solutions(instance)
        if sols.size == 0:
            continue
        refs = {"maximal margin": en.max_margin(instance, sols)[0]} if k == 1 else {}
        refs["uniform (typical)"] = sols[rng.integers(sols.size)]
        for name, algorithm in table.items():
            run = algorithm(instance.patterns, seed=int(rng.integers(2**31)), **({} if k == 1 else {"k": k}))
            if run.solved:
                refs[name] = instance.bits_of(run.weights)[0]
        for name, ref in refs.items():
            counts[name].append(en.local_entropy(instance, np.array([ref], dtype=np.uint64), sols)["count"])
    rows = []
    for name, found in counts.items():
        found = np.array(found, dtype=float).reshape(-1, n + 1)
        for j in range(1, n // 2 + 1):
            c = found[:, j]
            s = np.log(c[c > 0]) / n
            rows.append({"reference": name, "d": j / n, "local_entropy": s.mean() if s.size else np.nan,
                         "local_entropy_err": s.std(ddof=1) / np.sqrt(s.size) if s.size > 1 else 0.0,
                         "instances": int(found.shape[0]), "nonzero": int(s.size)})
    return pd.DataFrame(rows)


def _draw_counts(ax, data, n, title):
    j = np.arange(1, n // 2 + 1)
    ax.plot(j / n, (gammaln(n + 1) - gammaln(j + 1) - gammaln(n - j + 1)) / n, "x", color="0.5", ms=4,
            label=f"ln C(N, k) / N: every configuration at N = {n}")
    for j, (name, group) in enumerate(data.groupby("reference", sort=False)):
        ax.errorbar(group.d + 0.002 * (j - 2), group.local_entropy, group.local_entropy_err, fmt="o", ms=3.5,
                    capsize=2, label=f"N = {n}: around {name}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="d (fraction of flipped weights)", ylabel="local entropy (nats per weight)", xlim=(0, 0.5),
           title=title)
    ax.title.set_fontsize(10)
    ax.legend(fontsize=7, ncol=2, loc="upper left")
    ax.set_ylim(0, 0.85)


def _fp_experiment(alpha=0.4, n=25, instances=30):
    data = _counted_around(n, alpha, instances, np.random.default_rng(1))
    fig, ax = plt.subplots(figsize=(7, 4.6))
    theory = _fp_theory(ax, alpha, np.geomspace(0.45, 0.004, 30))
    _draw_counts(ax, data, n, f"Binary perceptron, α = {alpha:g}: solutions counted around what algorithms find")
    fig.tight_layout()
    return pd.concat([data, theory], ignore_index=True), fig


def _committee_experiment(alpha=0.3, n=21, instances=30, k=3):
    data = _counted_around(n, alpha, instances, np.random.default_rng(3), k=k)
    fig, ax = plt.subplots(figsize=(7, 4.6))
    theory = _fp_theory(ax, alpha, np.geomspace(0.45, 0.004, 30), model="committee-fp", label=", K = ∞",
                        activation="sign")
    _draw_counts(ax, data, n, f"Tree committee, K = {k} sign units, α = {alpha:g}: solutions counted around "
                              "what algorithms find")
    fig.tight_layout()
    return pd.concat([data, theory], ignore_index=True), fig


def _fp_bp(loads=(0.4, 0.55, 0.7), n=1001, instances=2):
    """Belief-propagation local entropies around the solutions found at N = 1001, beside the Franz–Parisi curves,
    one panel per load."""
    rng = np.random.default_rng(2)
    lambdas = [4.0, 3.0, 2.5, 2.0, 1.6, 1.3, 1.0, 0.8, 0.6, 0.45, 0.3]
    frames = []
    fig, axes = plt.subplots(1, len(loads), figsize=(5 * len(loads), 4.4), sharey=True)
    for ax, alpha in zip(axes, loads):
        curves = {name: [] for name in algorithms.ALGORITHMS}  # the BP curve of each solved instance
        for instance in range(instances):
            xi = rng.choice(np.array([-1, 1]), size=(round(alpha * n), n))
            for name, algorithm in algorithms.ALGORITHMS.items():
                run = algorithm(xi, seed=int(rng.integers(2**31)))
                at = dict(alpha=alpha, instance=instance, reference=name, solved=run.solved)
                if run.solved:
                    curves[name].append(algorithms.bp_local_entropy(xi, run.weights, lambdas).assign(**at))
                else:  # a row that says so
                    frames.append(pd.DataFrame({"converged": [False]}).assign(**at))
        frames.append(_fp_theory(ax, alpha, np.geomspace(0.3, 0.0005, 40)))
        for k, (name, found) in enumerate(curves.items()):
            frames.extend(found)
            for j, one in enumerate(found):
                one = one[one.converged]
                ax.plot(one.d, one.local_entropy, "o-", color=f"C{k}", ms=3, lw=0.8, alpha=0.8,
                        label=f"BP around {name} ({len(found)}/{instances} solved)" if j == 0 else None)
        ax.set(xlabel="d", xscale="log", xlim=(5e-4, 0.3), ylim=(0, 0.45), title=f"α = {alpha:g}, N = {n}")
        ax.legend(fontsize=6.5, loc="upper left")
    axes[0].set_ylabel("local entropy (nats per weight)")
    fig.suptitle("Binary perceptron: belief propagation around the solutions algorithms find", fontsize=10)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


def _flatness_generalization(n=501, alpha=0.4, seeds=10, sigma=0.3):
    data = algorithms.teacher_student(n=n, alpha=alpha, seeds=seeds, sigma=sigma)
    ok = data[data.solved]
    r, err = algorithms.correlation(ok.local_energy, ok.test_error)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for name, group in ok.groupby("algorithm", sort=False):
        ax.plot(group.local_energy, group.test_error, "o", ms=4, alpha=0.6, label=name)
        ax.errorbar(group.local_energy.mean(), group.test_error.mean(), group.test_error.sem(),
                    group.local_energy.sem(), fmt="s", ms=7, mec="k", color=ax.lines[-1].get_color(), capsize=2)
    ax.set(xlabel=f"local energy δE_train(σ = {sigma:g}), multiplicative noise", ylabel="test error arccos(R)/π",
           title=f"Teacher–student binary perceptron, N = {n}, α = {alpha:g}: Pearson r = {r:.2f} ± {err:.2f}")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return data.assign(pearson_r=r, pearson_r_err=err), fig


def _flatness_digits(pairs=((4, 9), (3, 5), (7, 9)), train=100, splits=10, runs=3, sigma=0.3):
    frames = []
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.2 * len(pairs), 4), sharey=True)
    for ax, pair in zip(axes, pairs):
        X, y = algorithms.digits(pair)
        data = algorithms.data_study(X, y, train, splits=splits, runs=runs, sigma=sigma, seed=pair[0] * 10 + pair[1])
        ok = data[data.solved]
        measured = ["local_energy", "test_error"]
        centred = ok[measured] - ok.groupby("split")[measured].transform("mean")  # within each split
        r, err = algorithms.correlation(centred.local_energy, centred.test_error)
        for k, name in enumerate(algorithms.ALGORITHMS):  # one colour per algorithm in every panel
            mine = centred[ok.algorithm == name]
            ax.plot(mine.local_energy, mine.test_error, "o", ms=4, alpha=0.7, color=f"C{k}", label=name)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.axvline(0, color="0.7", lw=0.6)
        success = ", ".join(f"{k} {v:.0%}" for k, v in data.groupby("algorithm", sort=False).solved.mean().items())
        ax.set(xlabel=f"local energy δE_train(σ = {sigma:g}) − split mean",
               title=f"digits {pair[0]} vs {pair[1]}, P = {train}: r = {r:.2f} ± {err:.2f}\nsolved: {success}")
        ax.title.set_fontsize(8)
        frames.append(data.assign(classes=f"{pair[0]}-{pair[1]}", pearson_r=r, pearson_r_err=err))
    axes[0].set_ylabel("test error − split mean")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return pd.concat(frames, ignore_index=True), fig


ENUMERATION = Recipe(
    NAME="enumeration-entropy",
    reconstructs="the binary perceptron's entropy by exact enumeration (N = 15, 21; 200 random +-1 instances per "
                 "load) beside the RS curve and alpha_KM, with fits in 1/N at alpha = 1/3 and 2/3",
    caveats="the entropy averages ln(#solutions)/N over solvable instances only (beside the solvable fraction); "
            "near alpha_KM small-N instances are often unsolvable and the conditioned average lies above RS",
    make=_enumeration,
)
FP_EXPERIMENT = Recipe(
    NAME="fp-experiment",
    reconstructs="PNAS 2020 / PRL 2021's overlay: the local entropy counted exactly (N = 25, alpha = 0.4, 30 "
                 "instances) around the maximal-margin solution, a uniformly drawn solution and the solutions of "
                 "SBPI, CE-SGD, Replicated-SGD, Entropy-SGD and focusing BP, beside the Franz-Parisi curves",
    caveats="N = 25 is far from the N -> infinity curves (counts are integers: the smallest nonzero local entropy "
            "is 0); averages are over instances with a nonzero count",
    make=_fp_experiment,
)
FLATNESS_GENERALIZATION = Recipe(
    NAME="flatness-generalization",
    reconstructs="ICLR 2021's flatness-generalization correlation on a teacher-student binary perceptron: the local "
                 "energy of the solutions of every algorithm (10 instances, N = 501, alpha = 0.4) against their "
                 "test error, with Pearson's r and a bootstrap error (squares: each algorithm's mean)",
    caveats="the test error is arccos(R)/pi, exact for Gaussian inputs and the large-N limit for +-1 inputs; the "
            "real-data version is flatness-digits",
    make=_flatness_generalization,
)
FLATNESS_DIGITS = Recipe(
    NAME="flatness-digits",
    reconstructs="ICLR 2021's flatness-generalization correlation on real data: scikit-learn's handwritten digits, "
                 "two classes at a time as +-1 pixels with a bias (N = 65), 100 training examples per split, 10 "
                 "splits x 3 runs of every algorithm; the local energy of each solution against its test error, "
                 "both relative to the mean of the solutions of the same split, with Pearson's r and a bootstrap "
                 "error",
    caveats="needs scikit-learn (the digits extra); the pixels are binarized at grey level 7 so that the local "
            "energy under multiplicative noise is exact; focusing BP and Replicated-SGD with default settings rarely "
            "solve these correlated patterns (their success is in each title); across splits the correlation is "
            "weaker, because a split's own difficulty moves every solution's test error together",
    make=_flatness_digits,
)
COMMITTEE_EXPERIMENT = Recipe(
    NAME="committee-experiment",
    reconstructs="the seeds' overlay for the tree committee machine: the local entropy counted exactly (K = 3 sign "
                 "units, binary weights, N = 21, alpha = 0.3, 30 instances) around a uniformly drawn solution and "
                 "the solutions of least action and CE-SGD, beside the K = inf Franz-Parisi curves around typical "
                 "and maximal-margin references",
    caveats="the theory curves are K = inf (the finite-K Franz-Parisi entropy is not computed) and N = 21 is far "
            "from N -> infinity, so this compares orderings, not values; no maximal-margin solution is defined "
            "for the committee here; averages are over instances with a nonzero count",
    make=_committee_experiment,
)
FP_BP = Recipe(
    NAME="fp-bp",
    reconstructs="the seeds' overlay at N = 1001: the local entropy around the solutions of every algorithm "
                 "(alpha = 0.4, 0.55, 0.7; 2 instances each), measured by belief propagation on the measure tilted "
                 "towards the solution, beside the Franz-Parisi curves around typical and maximal-margin references",
    caveats="the Bethe free entropy is exact only as N -> infinity on tree-like (RS) measures; an algorithm that "
            "solved no instance at a load has no curve (CE-SGD, rSGD and Entropy-SGD with default settings fail from "
            "alpha ~ 0.5); at 0.55 and 0.7 the N = 1001 curves lie slightly above the kappa_max one at large d",
    make=_fp_bp,
)
