r"""abc-parametrizations of wide MLPs (Tensor Programs IV, Yang & Hu 2021): which are stable, learn features, stay in
the kernel regime, or are trivial as the width n goes to infinity, in exact rational arithmetic.

An L-hidden-layer MLP h^1 = W^1 xi, h^{l+1} = W^{l+1} phi(h^l), f = W^{L+1} phi(h^L), with W^l = n^{-a_l} w^l,
w^l_{ij} ~ N(0, n^{-2 b_l}) and SGD at learning rate eta n^{-c} (per layer n^{-c_l}), is described by the invariants

    alpha_l = a_l + b_l    (the entries of W^l at initialization are of size n^{-alpha_l}),
    beta_l  = 2 a_l + c_l  (W^l <- W^l - eta n^{-beta_l} grad_{W^l} L),

unchanged by the symmetry a -> a + theta, b -> b - theta, c -> c - 2 theta (TP4 eq. 5). With

    r_l = min(alpha_{L+1}, beta_{L+1}) - 1 + beta_l + [l = 1],   r = min_{l <= L} r_l     (TP4 Def. 3.2, Prop. 5.3)

the parametrization is stable iff alpha_1 = 0, alpha_l = 1/2 (2 <= l <= L), alpha_{L+1} >= 1/2, r >= 0,
beta_{L+1} >= 1 and alpha_{L+1} + r >= 1 (Thm 3.3); a stable one is nontrivial iff alpha_{L+1} + r = 1 or
beta_{L+1} = 1; a nontrivial stable one learns features iff r = 0 and is in the kernel regime iff r > 0 (Thms 3.6,
3.8; never both). Layer l <= L is updated maximally iff r_l = 0, the readout iff beta_{L+1} = 1, and it is
initialized maximally iff alpha_{L+1} + r = 1 (Def. 5.2–5.4). For fixed (a, b), stability in a uniform shift c of
every beta is an interval [c_min, inf), and nontrivial iff c = c_min.

The limit is width -> infinity with the input dimension and the number of steps fixed, not the replica regime
(N, P -> infinity at fixed alpha = P/N). The theorems assume a nonlinear activation (TP4 Assumption 3.1): with a
linear one the dichotomy fails, and the result carries a warning.
"""
import math
from dataclasses import dataclass, field
from fractions import Fraction

from .errors import ParameterError

__all__ = ["Parametrization", "classify", "preset", "PRESETS", "exact"]

INF = math.inf
#: The named abc-parametrizations :func:`preset` knows.
PRESETS = ("sp", "ntp", "mf", "mup", "mup-sgd")


def exact(value, name="value"):
    """A number as a Fraction (decimal text is exact: '0.5' is 1/2; 'inf' is +infinity, for a zero-initialized
    readout); ParameterError otherwise."""
    if isinstance(value, bool):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        if value == INF:
            return INF
        if not math.isfinite(value):
            raise ParameterError(f"{name}={value}: a finite number (or +inf) is needed")
        return Fraction(str(value))
    text = str(value).strip().lower()
    if text in ("inf", "+inf", "infinity"):
        return INF
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ParameterError(f"{name}={value!r} is not a number (give e.g. 1/2, 0.5, -1 or inf)") from None


def _text(x):
    return "inf" if x == INF else str(x)


def _float(x):
    return math.inf if x == INF else float(x)


@dataclass(frozen=True)
class Parametrization:
    """An abc-parametrization in invariant form: ``alpha`` and ``beta``, one entry per layer 1..L+1 (the readout
    last), exact (Fractions; alpha_{L+1} may be +inf for a zero-initialized readout). ``linear``: the activation is
    the identity (outside the theorems' assumptions). ``name`` is a label: two parametrizations with the same
    exponents compare equal whatever they are called."""

    alpha: tuple
    beta: tuple
    linear: bool = False
    name: str = field(default="", compare=False)
    warnings: tuple = field(default=(), compare=False)

    @classmethod
    def from_abc(cls, a, b, c, linear=False, name=""):
        """From per-layer a_l, b_l and a learning-rate exponent c (a number, or one per layer)."""
        a = [exact(x, "a") for x in a]
        b = [exact(x, "b") for x in b]
        if len(a) != len(b) or len(a) < 2:
            raise ParameterError(f"a and b need one entry per layer, L + 1 >= 2 of them (the readout last); got "
                                 f"{len(a)} and {len(b)}")
        c = [exact(x, "c") for x in c] if isinstance(c, (list, tuple)) else [exact(c, "c")] * len(a)
        if len(c) != len(a):
            raise ParameterError(f"c takes one number, or one per layer ({len(a)}); got {len(c)}")
        if any(x == INF for x in a + c) or any(x == INF for x in b[:-1]):
            raise ParameterError("only the readout's b may be inf (a zero-initialized readout)")
        return cls(tuple(x + y for x, y in zip(a, b)), tuple(2 * x + y for x, y in zip(a, c)), linear, name)

    @property
    def L(self):
        return len(self.alpha) - 1

    # ----- the theorems --------------------------------------------------------------------------------------
    @property
    def r_layers(self):
        """r_l for l = 1..L (TP4 Prop. 5.3)."""
        head = min(self.alpha[-1], self.beta[-1]) - 1
        return tuple(head + self.beta[k] + (1 if k == 0 else 0) for k in range(self.L))

    @property
    def r(self):
        return min(self.r_layers)

    @property
    def initialization_ok(self):
        """alpha_1 = 0, alpha_l = 1/2 for 2 <= l <= L, alpha_{L+1} >= 1/2: (pre)activations Theta(1), f_0 = O(1)."""
        return self.alpha[0] == 0 and all(x == Fraction(1, 2) for x in self.alpha[1:-1]) and \
            self.alpha[-1] >= Fraction(1, 2)

    @property
    def stable(self):
        r = self.r
        return self.initialization_ok and r >= 0 and self.beta[-1] >= 1 and self.alpha[-1] + r >= 1

    @property
    def nontrivial(self):
        return self.stable and (self.alpha[-1] + self.r == 1 or self.beta[-1] == 1)

    @property
    def trivial(self):
        return self.stable and not self.nontrivial

    @property
    def feature_learning(self):
        return self.nontrivial and self.r == 0

    @property
    def kernel(self):
        return self.nontrivial and self.r > 0

    @property
    def updated_maximally(self):
        """Per layer 1..L+1: W^l updated maximally (r_l = 0; the readout: beta_{L+1} = 1)."""
        return tuple(x == 0 for x in self.r_layers) + (self.beta[-1] == 1,)

    @property
    def readout_initialized_maximally(self):
        return self.alpha[-1] + self.r == 1

    def shifted(self, c):
        """The same (a, b) with every beta shifted by c (a uniform change of the learning-rate exponent)."""
        return Parametrization(self.alpha, tuple(x + c for x in self.beta), self.linear, self.name)

    @property
    def c_min(self):
        """The smallest uniform shift c of the learning-rate exponents that is stable (the largest stable learning
        rate is eta n^{-c_min} relative to this one); None where the initialization cannot be stable. Every
        condition is increasing in c, so the stable set is [c_min, inf)."""
        if not self.initialization_ok:
            return None
        A, B = self.alpha[-1], self.beta[-1]
        m = min(self.beta[k] + (1 if k == 0 else 0) for k in range(self.L))  # r(c) = min(A, B + c) - 1 + m + c
        bounds = [1 - B,                      # beta_{L+1} + c >= 1
                  (1 - B - m) / 2]            # r >= 0 through B + c
        if A != INF:
            bounds += [1 - A - m,             # r >= 0 through A
                       2 - 2 * A - m,         # A + r >= 1 through A
                       (2 - A - B - m) / 2]   # A + r >= 1 through B + c
        return max(bounds)

    def exponents(self):
        """Predicted width exponents p (a quantity ~ n^p): the feature update Delta x^L, each layer's
        Delta W^l x^{l-1}, f_0, the readout's update Delta W^{L+1} x^L and W_0^{L+1} Delta x^L."""
        r, A, B = self.r, self.alpha[-1], self.beta[-1]
        out = {"delta_x_L": -r, "f_0": Fraction(1, 2) - A if A != INF else -INF,
               "delta_W_readout_x": 1 - B, "W0_readout_delta_x": 1 - A - r if A != INF else -INF}
        out.update({f"delta_W{k + 1}_x": -x for k, x in enumerate(self.r_layers)})
        return out

    # ----- output ------------------------------------------------------------------------------------------
    def as_dict(self):
        """A JSON-ready summary: floats, and the exact values as text under ``exact``."""
        warnings = list(self.warnings)
        if self.linear:
            warnings.append("a linear activation is outside TP4's assumptions (Assumption 3.1): a linear net can "
                            "both learn features and be in the kernel regime; the labels below assume a "
                            "nonlinear one")
        c_min = self.c_min
        return {
            "name": self.name, "L": self.L,
            "alpha": [_float(x) for x in self.alpha], "beta": [_float(x) for x in self.beta],
            "r": _float(self.r), "r_l": [_float(x) for x in self.r_layers],
            "stable": self.stable, "nontrivial": self.nontrivial, "trivial": self.trivial,
            "feature_learning": self.feature_learning, "kernel": self.kernel,
            "updated_maximally": list(self.updated_maximally),
            "readout_initialized_maximally": self.readout_initialized_maximally,
            "c_min": None if c_min is None else _float(c_min),
            "exponents": {k: _float(v) for k, v in self.exponents().items()},
            "exact": {"alpha": [_text(x) for x in self.alpha], "beta": [_text(x) for x in self.beta],
                      "r": _text(self.r), "r_l": [_text(x) for x in self.r_layers],
                      "c_min": None if c_min is None else _text(c_min)},
            "warnings": warnings,
        }

    def verdict(self):
        if not self.initialization_ok:
            return "unstable at initialization (need alpha_1 = 0, alpha_l = 1/2 inside, alpha_{L+1} >= 1/2)"
        if not self.stable:
            return "unstable (features or logits blow up during training)"
        if self.trivial:
            return "stable, trivial (f_t = f_0 in the limit)"
        return "stable, nontrivial, " + ("feature learning" if self.feature_learning else "kernel regime")

    def __str__(self):
        d = self.as_dict()
        lines = [f"{self.name or 'abc-parametrization'}  (L = {self.L} hidden layers)",
                 f"  alpha = ({', '.join(d['exact']['alpha'])}),  beta = ({', '.join(d['exact']['beta'])})",
                 f"  r = {d['exact']['r']},  r_l = ({', '.join(d['exact']['r_l'])}),  c_min = {d['exact']['c_min']}",
                 f"  verdict: {self.verdict()}",
                 "  updated maximally: " + ", ".join(f"W{k + 1}" for k, m in enumerate(self.updated_maximally) if m)
                 + ("" if any(self.updated_maximally) else "none"),
                 "  width exponents: " + ", ".join(f"{k} ~ n^{_text(v)}" for k, v in self.exponents().items())]
        lines += [f"  warning: {w}" for w in d["warnings"]]
        return "\n".join(lines)


def classify(a=None, b=None, c=0, alpha=None, beta=None, linear=False):
    """Classify an abc-parametrization given by per-layer ``a``, ``b`` and ``c`` (a number or one per layer), or
    by its invariants ``alpha`` and ``beta``. Numbers are exact: fractions, decimals as text or floats, 'inf' for a
    zero-initialized readout's b. Returns a :class:`Parametrization`.

    Examples
    --------
    >>> from replica.parametrization import classify
    >>> p = classify(a=["-1/2", 0, "1/2"], b=["1/2"] * 3, c=0)   # muP, L = 2
    >>> p.r, p.stable, p.feature_learning, p.kernel, p.c_min
    (Fraction(0, 1), True, True, False, Fraction(0, 1))
    """
    if alpha is not None or beta is not None:
        if a is not None or b is not None:
            raise ParameterError("give either a, b, c or the invariants alpha, beta, not both")
        if alpha is None or beta is None or len(alpha) != len(beta) or len(alpha) < 2:
            raise ParameterError("alpha and beta need one entry per layer, L + 1 >= 2 of them (the readout last)")
        return Parametrization(tuple(exact(x, "alpha") for x in alpha), tuple(exact(x, "beta") for x in beta),
                               linear)
    if a is None or b is None:
        raise ParameterError("give a, b (one per layer, the readout last) and c, or alpha and beta")
    return Parametrization.from_abc(a, b, c, linear)


def preset(name, layers, c=None, linear=False):
    """A named parametrization with ``layers`` hidden layers (TP4 Table 1, Def. 5.1): ``sp`` (standard: a = 0,
    b = 0 then 1/2; c = 1 by default, the largest stable learning rate), ``ntp`` (a = 0 then 1/2, b = 0; c = 0),
    ``mf`` (mean field, one hidden layer: a = (0, 1), b = 0, c = -1), ``mup`` (a = (-1/2, 0, ..., 1/2), b = 1/2,
    c = 0) and ``mup-sgd`` (the ``mup`` package's SGD table: input variance 1/fan_in and learning rate x n, hidden
    1/n and x 1, readout 1/n^2 and x 1/n, as invariants). ``c`` shifts the learning-rate exponent.

    Examples
    --------
    >>> from replica.parametrization import preset
    >>> preset("ntp", 2).verdict()
    'stable, nontrivial, kernel regime'
    """
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ParameterError(f"layers must be a positive integer (hidden layers), got {layers!r}")
    half, L = Fraction(1, 2), layers
    if name == "sp":
        a, b, c0 = [0] * (L + 1), [0] + [half] * L, 1
    elif name == "ntp":
        a, b, c0 = [0] + [half] * L, [0] * (L + 1), 0
    elif name == "mf":
        if L != 1:
            raise ParameterError("the mean-field parametrization is defined for one hidden layer (--layers 1); "
                                 "for deeper nets use mup")
        a, b, c0 = [0, 1], [0, 0], -1
    elif name == "mup":
        a, b, c0 = [-half] + [0] * (L - 1) + [half], [half] * (L + 1), 0
    elif name == "mup-sgd":
        p = Parametrization((Fraction(0),) + (half,) * (L - 1) + (Fraction(1),),
                            (Fraction(-1),) + (Fraction(0),) * (L - 1) + (Fraction(1),), linear, "mup-sgd")
        return p if c is None else p.shifted(exact(c, "c"))
    else:
        raise ParameterError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")
    p = Parametrization.from_abc(a, b, c0, linear, name)
    return p if c is None else p.shifted(exact(c, "c") - c0)
