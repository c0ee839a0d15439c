"""Two-layer tree machines: the committee machine (``committee``: ``K`` odd or ``inf``, ``activation`` sign or
relu (finite K: 1, 3, 5, with the output threshold's offset ``theta``), ``weights`` binary or spherical) and the
parity machine (``parity``: ``K`` >= 2, ``weights``), their storage capacities, the Franz–Parisi local entropy of the
K -> infinity committee (``committee-fp``) and of the K = 2 parity machine around typical references
(``parity-fp``). The free entropies live in ``replica.equations.committee``.

Capacities. Binary weights: where the RS entropy vanishes. Spherical weights: the RS q -> 1 limit, in closed form.
As q -> 1 the energetic term of a finite tree behaves as -M_K/(2(1-q)), M_K = E[sum of z_l^2 over the hidden units
that must be flipped, with the smallest |z_l|, to give the right output] (committee: the majority; parity: one unit,
when the parity is wrong), so alpha_c = 1/M_K (spherical) and the binary RS solution reaches q = 1 at
alpha_GD = (2/pi)/M_K (K = 1: 2 and 4/pi, the perceptron's). For K -> infinity, 1 - Q(q) ~ c (1-q) gives
alpha_c = c alpha_c^perceptron(kappa): finite for ReLU (c = pi/(pi-1)), infinite for sign units (1 - Q ~ sqrt(1-q)).
"""
import math
from functools import cache

import numpy as np
import sympy as sp
from scipy import special

from replica.equations import committee as eq
from replica.equations.model import Symbol
from replica.solvers.quadrature import Quadrature
from replica.solvers.status import Status

from .errors import ParameterError
from .local_entropy import binary_fp_spec, follow_fp
from .models import NO_SOLUTIONS, Family, ModelSpec, numeric, register
from .perceptron import alpha_c_spherical, max_margin_crossing
from .results import Threshold
from .thresholds import Refusal, number, replicon, zero_entropy

__all__ = ["flip_cost", "alpha_c_tree", "COMMITTEE", "PARITY", "COMMITTEE_FP", "PARITY_FP", "models"]

MAX_K = 7  # 2^(K-1) internal representations and N^K/K! quadrature nodes per evaluation


def _half_normal_order_moment(j, n):
    """E[X_(j)^2] for the j-th smallest of n i.i.d. half-normal |z|."""
    c = math.factorial(n) / (math.factorial(j - 1) * math.factorial(n - j))

    def f(x):
        F = special.erf(x / math.sqrt(2))
        return x * x * c * F ** (j - 1) * (1 - F) ** (n - j) * 2 * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    from scipy.integrate import quad  # imported where used: importing replica does not need it

    return quad(f, 0, np.inf, epsabs=1e-15, epsrel=1e-13)[0]


def _inverse(f, c):
    """The p in [0, 1] where the increasing f(p) = c."""
    from scipy.optimize import brentq  # imported where used: importing replica does not need it

    return brentq(lambda p: f(p) - c, 0.0, 1.0, xtol=1e-15, rtol=1e-15)


@cache
def flip_cost(machine, K):
    """M_K: the coefficient of -1/(2(1-q)) in the energetic term of a finite tree as q -> 1 (module docstring)."""
    if machine == "parity":
        return 0.5 * _half_normal_order_moment(1, K)
    half = (K - 1) // 2
    return sum(math.comb(K, n) / 2**K * sum(_half_normal_order_moment(j, n) for j in range(1, n - half + 1))
               for n in range(half + 1, K + 1))


def alpha_c_tree(machine, K, activation="sign", kappa=0.0):
    """The RS q -> 1 load of spherical weights (the spherical capacity; math.inf where it diverges)."""
    if K == math.inf:
        return math.inf if activation == "sign" else math.pi / (math.pi - 1) * alpha_c_spherical(kappa)
    return 1.0 / flip_cost(machine, K)


def _parse_K(machine):
    def parse(value):
        text = str(value).strip().lower()
        if machine == "committee" and text in ("inf", "infinity"):
            return math.inf
        try:
            K = int(text)
        except ValueError:
            K = None
        if machine == "committee" and (K is None or K < 1 or K % 2 == 0 or K > MAX_K):
            raise ParameterError(f"K={value}: the committee machine takes an odd K from 1 to {MAX_K}, or 'inf'")
        if machine == "parity" and (K is None or not 2 <= K <= MAX_K):
            raise ParameterError(f"K={value}: the parity machine takes K from 2 to {MAX_K}")
        return K
    return parse


def _choice(name, allowed):
    def parse(value):
        if value not in allowed:
            raise ParameterError(f"{name}={value!r}: allowed: {', '.join(allowed)}")
        return value
    return parse


def _q1_load(machine, K, activation, weights):
    """kappa -> the load where the RS solution reaches q = 1: the spherical capacity, or alpha_GD for binary
    weights (infinite for K = inf sign units)."""
    def load(kappa):
        ac = alpha_c_tree(machine, K, activation, kappa)
        return ac if weights == "spherical" else 2 / math.pi * ac
    return load


def _region(machine, K, activation, weights):
    if not math.isfinite(alpha_c_tree(machine, K, activation)):  # with a margin (K = inf) it scales likewise
        return None
    load = _q1_load(machine, K, activation, weights)

    def region(p):
        limit = load(p.get("kappa", 0.0))
        if p["alpha"] >= limit:
            what = "the RS capacity" if weights == "spherical" else "alpha_GD, where the RS solution reaches q = 1"
            return f"alpha={p['alpha']:g} is at or beyond {what} ({limit:.6g}); allowed: 0 <= alpha < {limit:.6g}"
        return None
    return region


def _start(p):
    return {"q": 0.3, "qhat": 0.3}


def _notes(weights, fixed_rule=None):
    def notes(params, order, obs):
        out = [] if fixed_rule is None else [fixed_rule]
        if weights == "binary" and obs["entropy"] < 0:
            out.append(f"{NO_SOLUTIONS}: beyond the capacity (zero entropy): no solutions exist; this RS saddle point "
                       "is unphysical")
        if obs.get("lambda_AT", 0) > 1:
            out.append(f"lambda_AT = {obs['lambda_AT']:.4g} > 1: beyond the dAT line, the RS saddle point is unstable "
                       "(replica symmetry breaking); its values are not the typical ones")
        elif weights == "spherical" and order["q"] > 0.9 and "lambda_AT" not in obs:
            out.append("q > 0.9 near the spherical capacity: RS is expected to break down there for tree machines "
                       "(literature); replica dat-line locates where it does")
        return out
    return notes


# the symmetric K-dimensional product rule costs N^K/K! (times 2^K internal representations): few nodes per K. The
# node-doubling check at the largest rule evaluates twice as many nodes per dimension, so the caps keep that check
# affordable: K = 5 at 48 nodes is checked at 96 (30 s a call), K = 6 at 64, K = 7 at 32; doubling once more would
# cost 32x (K = 5), 64x, 128x. Up to K = 3 the rule is the trapezoid: at the K = 3 dAT points lambda_AT converges to
# 4e-9 with 96 trapezoid nodes, where 192 Gauss-Hermite nodes leave 1e-8 (spherical, q = 0.60) and 96 leave 2e-6
# (binary, q = 0.53); with 24 or 16 nodes (K >= 4) Gauss-Hermite's nodes, denser near 0, do better.
_TREE_NODES = {1: 128, 2: 64, 3: 48, 4: 32, 5: 24, 6: 16, 7: 16}
_TREE_MAX = {1: 8192, 2: 512, 3: 192, 4: 128, 5: 48, 6: 32, 7: 16}
_TREE_RULE = {K: "trapezoid" if K <= 3 else "hermite" for K in _TREE_NODES}
# finite-K ReLU committees: ``gauss`` for the entropic term, ``nest`` for the K-dimensional outer average over the
# hidden fields' quenched means, ``trunc`` Gauss–Legendre nodes for each of the K - 1 nested interval levels inside
# the log: nest^K/K! (trunc + 1)^(K-1) points. The refinement's cost cap counts max(gauss, nest): with the outer cap
# at gauss = 128, K = 3 may refine nest up to 128 (3 s a call), not trunc; K = 5 does not refine at all, and its
# node-doubling estimate is taken level by level (a full doubling would cost 2^9 = 512 evaluations of the rule)
_RELU_QUAD = {1: Quadrature(gauss=128, trunc=8),
              3: Quadrature(gauss=128, nest=48, trunc=8),
              5: Quadrature(gauss=128, nest=12, trunc=6, rule="hermite")}
_RELU_MAX = {1: 8192, 3: 128, 5: 128}
_RELU_FIXED = ("K = 5 ReLU: not refined automatically (the model's rule: nest 12 Gauss-Hermite, 6 Legendre nodes per "
               "level); finer: --nest 16 --trunc 8 (CLI) or quadrature=Quadrature(gauss=128, nest=16, trunc=8, "
               "rule='hermite'), which converges to 7e-9 at alpha = 0.5 in 6 minutes")


@cache
def _member(machine, K, activation, weights, replicon_model=False):
    """The storage model (registered); with ``replicon_model`` (finite K) the same model reporting lambda_AT, for
    the dAT line."""
    if replicon_model and activation == "relu" and K != math.inf:
        raise ParameterError(f"K={K}: the dAT line of finite-K ReLU committees is not implemented; use K=inf")
    build = lambda: eq.tree_machine(machine, K, activation, weights, replicon_model)  # noqa: E731
    name = build().name  # sympy builds the expression in milliseconds; deriving is what the cache saves
    finite = K != math.inf
    relu = finite and activation == "relu"
    if relu:
        if K not in _RELU_QUAD:
            raise ParameterError(f"K={K}: finite-K ReLU committees are implemented for K = 1, 3, 5 (K = 7 is a "
                                 "14-dimensional average inside and outside a log); use K=inf for the limit")
        quad, max_nodes, defaults = _RELU_QUAD[K], _RELU_MAX[K], {"theta": 0.0}
    elif finite:
        quad, max_nodes, defaults = Quadrature(gauss=_TREE_NODES[K], rule=_TREE_RULE[K]), _TREE_MAX[K], {}
    else:
        quad, max_nodes, defaults = Quadrature(), 8192, {"kappa": 0.0}
    thresholds = {} if replicon_model else _thresholds(machine, K, activation, weights)
    return register(ModelSpec(
        name=name,
        summary=f"{machine} machine, K={K}, {activation if machine == 'committee' else 'sign'} units, {weights} "
                "weights: RS entropy, q",
        build=build, defaults=defaults, start=_start, region=None if relu else _region(machine, K, activation, weights),
        notes=_notes(weights, _RELU_FIXED if relu and K == 5 else None), hidden=True, quadrature=quad,
        max_nodes=max_nodes, refine=not (relu and K == 5), estimate_by_level=relu and K == 5, thresholds=thresholds,
    ))


def _no_margin(hook):
    """A finite tree's threshold: a margin is defined on the K = inf output field only (kappa = 0 is accepted)."""
    def finite(spec, quadrature=None, tol=None, kappa=None, **params):
        if kappa is not None and number("kappa", kappa) != 0:
            raise ParameterError("a margin kappa is defined on the K = inf output field only; finite trees: kappa = 0")
        return hook(spec, quadrature=quadrature, tol=tol, **params)
    finite.line = getattr(hook, "line", None)
    return finite


def _thresholds(machine, K, activation, weights):
    """The thresholds a tree declares: capacity (binary: zero RS entropy; spherical: the RS q -> 1 limit in closed
    form), dAT line (lambda_AT = 1, up to where the RS solution reaches q = 1), and for K = inf binary weights the
    maximal margin."""
    finite = K != math.inf
    relu = finite and activation == "relu"
    load = _q1_load(machine, K, activation, weights)
    fixed = {} if finite else {"kappa": 0.0}
    if relu:
        if weights == "spherical":
            capacity = _not_computed
        else:  # centred output (theta = 0); binary capacities are below 1 (the annealed bound)
            capacity = zero_entropy("alpha_c", "alpha", {"theta": 0.0}, scale=lambda p: 1.0,
                                    extra=lambda p: {"theta": p["theta"]})
        out = {"capacity": _no_margin(capacity),
               "dat-line": Refusal(f"K={K}: the dAT line of finite-K ReLU committees is not implemented; use K=inf")}
    else:
        if weights == "binary":
            gd = (lambda p: 2 / math.pi * alpha_c_tree(machine, K, activation, p.get("kappa", 0.0)))
            capacity = zero_entropy("alpha_c", "alpha", fixed, scale=lambda p: 1.0,
                                    extra=lambda p: {"alpha_GD": gd(p)})  # inf where q never reaches 1 (JSON: null)
        else:
            capacity = _closed_form(machine, K, activation)
        if K == math.inf:
            scale = lambda p: alpha_c_tree("committee", math.inf, "relu", p["kappa"])  # noqa: E731
            model = None
        else:
            scale = lambda p: 1 / flip_cost(machine, K)  # noqa: E731
            model = lambda: _member(machine, K, activation, weights, True)  # noqa: E731

        def extra(p):  # beside the dAT point: the capacity (binary weights: the zero-entropy load)
            if weights == "spherical":
                return {"alpha_c": alpha_c_tree(machine, K, activation, p.get("kappa", 0.0))}
            spec = _member(machine, K, activation, weights)
            return {"alpha_c": capacity(spec, **p).value}

        dat = replicon(fixed, scale=scale, end=lambda p: load(p.get("kappa", 0.0)), extra=extra, model=model)
        out = {"capacity": capacity if not finite else _no_margin(capacity),
               "dat-line": dat if not finite else _no_margin(dat)}
        if K == math.inf and weights == "binary":
            out["max-margin"] = max_margin_crossing(load)
    return out


def _not_computed(spec, quadrature=None, tol=None, **params):
    return Threshold("alpha_c", None, spec.name, {"theta": 0.0}, False, Status.NOT_COMPUTED,
                     "the RS q -> 1 limit of finite-K ReLU committees (a constrained least-squares cost averaged "
                     "over the K hidden fields) is not implemented", remedy="use --K inf, or binary weights; solve "
                     "and sweep work at finite loads")


def _closed_form(machine, K, activation):
    """The spherical capacity of a tree: the RS q -> 1 limit in closed form (or status ``diverges``)."""
    def capacity(spec, quadrature=None, tol=None, kappa=0.0):
        kappa = number("kappa", kappa)
        ac = alpha_c_tree(machine, K, activation, kappa)
        params = {"kappa": kappa} if K == math.inf else {}
        if not math.isfinite(ac):
            return Threshold("alpha_c", None, spec.name, params, False, Status.DIVERGES,
                             "the RS capacity of spherical weights diverges for K -> infinity sign units (1 - Q ~ "
                             "sqrt(1-q): the RS solution never reaches q = 1); at finite K it is 1/M_K (K = 3: 4.025, "
                             "K = 7: 7.31, growing like sqrt(K))",
                             remedy="use a finite K (--K 3, 5, 7) or activation relu")
        how = "(pi/(pi-1)) alpha_c^perceptron(kappa), from 1 - Q ~ pi(1-q)/(pi-1)" if K == math.inf else \
            "1/M_K, the RS q -> 1 limit (M_K by order statistics of half-normal fields)"
        m_k = None if K == math.inf else flip_cost(machine, K)
        return Threshold("alpha_c", ac, spec.name, params, True, Status.CONVERGED, "closed form: " + how,
                         extra={"alpha_GD_binary": 2 / math.pi * ac, "M_K": m_k,
                                "rs_note": "RS is unstable near the capacity of tree machines; this is the RS value"})
    return capacity


COMMITTEE = Family(
    name="committee",
    summary="tree committee machine: K hidden units (odd, or inf), sign or relu units (relu: K = 1, 3, 5 or inf), "
            "binary or spherical weights: RS entropy, q, capacity; parameters --alpha (and --kappa, the output margin, "
            "for K=inf; --theta, the offset of the output threshold from the centred one, for finite-K relu)",
    options={"K": (_parse_K("committee"), None, "odd number of hidden units, or inf"),
             "activation": (_choice("activation", ("sign", "relu")), "sign", "sign (default) or relu"),
             "weights": (_choice("weights", ("binary", "spherical")), "binary", "binary (default) or spherical")},
    make=lambda K, activation, weights: _member("committee", K, activation, weights),
)
PARITY = Family(
    name="parity",
    summary="tree parity machine: K >= 2 sign units, output their product, binary or spherical weights: RS entropy, "
            "q, capacity; parameter --alpha",
    options={"K": (_parse_K("parity"), None, f"number of hidden units, 2 to {MAX_K}"),
             "weights": (_choice("weights", ("binary", "spherical")), "binary", "binary (default) or spherical")},
    make=lambda K, weights: _member("parity", K, "sign", weights),
)


@cache
def _fp_member(K, activation):
    if K != math.inf:
        raise ParameterError(f"K={K}: the Franz-Parisi local entropy of committee machines is implemented for K=inf "
                             "(finite K needs 3K-dimensional averages)")
    storage = _member("committee", K, activation, "binary")
    x = sp.Symbol("x")
    Q = numeric(eq.kernel(activation, x), x)
    return register(binary_fp_spec(
        f"committee-Kinf-{activation}-binary-fp",
        f"Franz-Parisi local entropy of the K=inf {activation} committee machine (binary weights) at distance d "
        "from a reference of output margin ref_kappa",
        lambda: eq.committee_fp(activation), storage,
        overlap_of=lambda c: _inverse(Q, c),
        onset=ONSET[activation], hidden=True))


# onset brackets below the capacities (0.947 sign, 0.904 relu: near them the smallest distances stall); sign units:
# the dip opens at d ~ 0.0017, below the perceptron's default d_min (measured: the same onset from d_min = 1e-3 and
# 2e-4, 0.014 lower than from 4e-3)
ONSET = {"sign": {"alpha_range": (0.4, 0.65), "d_min": 1e-3}, "relu": {"alpha_range": (0.6, 0.8)}}


COMMITTEE_FP = Family(
    name="committee-fp",
    summary="Franz-Parisi local entropy of the K=inf tree committee machine, binary weights, sign or relu units, at "
            "distance d from a reference of output margin ref_kappa (a number or 'max'); parameters --alpha, --kappa, "
            "--ref-kappa, --d",
    options={"K": (_parse_K("committee"), "inf", "inf (the only K implemented)"),
             "activation": (_choice("activation", ("sign", "relu")), "sign", "sign (default) or relu")},
    make=lambda K, activation: _fp_member(K, activation),
)


def _parity_fp_start(inputs):
    """The alpha = 0 solution (q1 = p^2, phat = atanh p, q1hat = 0), moved into the domain q1 > p^2."""
    p = inputs["p"]
    return {"q1": p * p + 0.05 * (1 - p * p), "phat": math.atanh(p), "q1hat": 0.05}


def _parity_fp_inputs(params):
    return {"alpha": params["alpha"], "p": 1 - 2 * params["d"], "kappa_h": params["ref_kappa"]}


def parity_reference_entropy(alpha, kappa_h, K=2):
    """RS entropy (q~ = 0) of binary parity-machine solutions whose K hidden fields all have |x_l| > kappa_h:
    (1 - alpha) ln 2 + alpha K ln(2 H(kappa_h)) (the fields are independent standard Gaussians; the parity is right
    with probability 1/2)."""
    return (1 - alpha) * math.log(2) + alpha * K * math.log(2 * special.ndtr(-kappa_h))


def parity_max_hidden_margin(alpha, K=2):
    """The largest hidden margin with solutions at load alpha (zero reference entropy):
    2 H(kappa) = 2^(-(1 - alpha)/(alpha K))."""
    return float(special.ndtri(1 - 2.0 ** (-(1 - alpha) / (alpha * K)) / 2))


def _parity_reference_region(params, K):
    top = parity_max_hidden_margin(params["alpha"], K)
    if params["ref_kappa"] > top + 1e-12:
        return (f"ref_kappa={params['ref_kappa']:g} is above the largest hidden margin with solutions at "
                f"alpha={params['alpha']:g} ({top:.6g}); allowed: 0 <= ref_kappa <= that, or 'max'")
    return None


@cache
def _parity_fp_member(K):
    if K > 2:
        raise ParameterError(f"K={K}: the parity machine's Franz-Parisi term is a 2K-dimensional average; K = 2 is "
                             "implemented (K = 3, six nested averages, takes tens of minutes per point)")
    return register(ModelSpec(
        name=f"parity-K{K}-binary-fp",
        summary=f"Franz-Parisi local entropy of the K={K} parity machine (binary weights) around typical references "
                "or references with hidden margins",
        build=lambda: eq.parity_fp(K), start=_parity_fp_start, guess=follow_fp,
        path="p", path_start=0.4, hidden=True,
        user_params=[Symbol(sp.Symbol("alpha"), sp.Interval.open(0, 1), "load P/N, 0 < alpha < 1 (beyond alpha = 1 "
                                                                         "binary parity machines have no solutions)"),
                     Symbol(sp.Symbol("ref_kappa"), sp.Interval(0, sp.oo), "margin of the reference's hidden fields "
                            "|x_l| > ref_kappa (default 0: typical references), or 'max'"),
                     Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)),
                            "distance to the reference, d = (1-p)/2")],
        defaults={"ref_kappa": 0.0}, special={"ref_kappa": {"max": lambda p: parity_max_hidden_margin(p["alpha"], K)}},
        inputs=_parity_fp_inputs, region=lambda p: _parity_reference_region(p, K),
        quadrature=_PARITY_FP_QUAD[K], max_nodes=_PARITY_FP_QUAD[K].gauss * 2,
    ))


# every level of the 2K-dimensional average is nested (truncated x_l, then Gaussian z_l): the truncated and inner
# rules do the work (the outer Gaussian rule is only the entropic term's); node doubling doubles them all, once.
# The node-doubling estimate grows from 1e-8 at d = 0.45 to 1e-5 at d = 0.05 and 1e-3 at d = 0.01 (K = 2, alpha =
# 0.3): the counted configuration's hidden sign turns sharply at small reference fields x_l ~ sqrt(1-q1).
_PARITY_FP_QUAD = {2: Quadrature(gauss=64, trunc=24, inner=24, inner_rule="hermite")}


PARITY_FP = Family(
    name="parity-fp",
    summary="Franz-Parisi local entropy of the tree parity machine (binary weights) around typical references: the "
            "device without wide flat minima; parameters --alpha (below 1), --d",
    options={"K": (_parse_K("parity"), None, "number of hidden units: 2 (the only K implemented)")},
    make=lambda K: _parity_fp_member(K),
)


def models():
    """The tree machines' families (the ``replica.models`` entry point)."""
    return [COMMITTEE, PARITY, COMMITTEE_FP, PARITY_FP]
