"""Special-function kernels for compiled code, accurate on the whole real line.

numba cannot call scipy.special, so the Gaussian tail and its logarithm are built here from the C library's ``erfc``
with two corrections that keep relative accuracy in the far tails:

* the argument x/sqrt(2) is rounded; the rounding error is carried as a double-double and folded back to first order
  (the sensitivity of log H is GH(x), about x, so an uncorrected rounding costs ~x^2 ulp);
* exp(-x^2/2) is computed from x^2 split exactly into two doubles (Dekker), again avoiding an x^2-ulp error;
* beyond x = 30, H and G/H come from Laplace's continued fraction G(x)/H(x) = x + 1/(x + 2/(x + 3/(x + ...))).

Kernels are tested against mpmath on a dense grid over [-50, 50] and at +-1e3 (tests/test_special.py).
"""
import math

import numba

__all__ = ["G", "H", "GH", "logH", "log2cosh", "expit", "logaddexp", "logsumexp", "tanh", "tail_inverse"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
GAUSS_EDGE = 10.0  # Gaussian averages ignore |z| > 10 (mass 1.5e-23)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_C_HI = 0.7071067811865476  # 1/sqrt(2) rounded
_C_LO = -4.833646656726457e-17  # 1/sqrt(2) - _C_HI
_SPLIT = 134217729.0  # 2**27 + 1, Dekker's splitter
_CF_FROM = 30.0

jit = numba.njit(cache=True, fastmath=False, error_model="numpy")


@jit
def _two_prod(a, b):
    """a*b = p + e exactly (Dekker's algorithm, no fma needed)."""
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


@jit
def _exp_mhalf_sq(x):
    """exp(-x^2/2) to about one ulp, also for large |x|."""
    p, e = _two_prod(x, x)
    return math.exp(-0.5 * p) * (1.0 - 0.5 * e)


@jit
def G(x):
    """Standard Gaussian density."""
    return _exp_mhalf_sq(x) / _SQRT_2PI


@jit
def _mills_cf(x):
    """G(x)/H(x) by Laplace's continued fraction, for x >= 30."""
    t = x
    for k in range(24, 0, -1):
        t = x + k / t
    return t


@jit
def _upper_tail(y):
    """H(y) for y >= 0 with full relative accuracy (0 once it underflows)."""
    if y >= _CF_FROM:
        return G(y) / _mills_cf(y)
    zh, ze = _two_prod(y, _C_HI)
    dz = ze + y * _C_LO  # y/sqrt(2) = zh + dz
    ec = math.erfc(zh)
    # d log erfc(z)/dz = -(2/sqrt(pi)) exp(-z^2)/erfc(z)
    return 0.5 * ec * (1.0 - _TWO_OVER_SQRT_PI * math.exp(-zh * zh) / ec * dz)


@jit
def H(x):
    """Gaussian tail H(x) = erfc(x/sqrt 2)/2."""
    if x >= 0.0:
        return _upper_tail(x)
    return 1.0 - _upper_tail(-x)


@jit
def logH(x):
    """log H(x) on the whole real line (asymptotic -x^2/2 - log(x sqrt(2 pi)) branch for large x)."""
    if x >= _CF_FROM:
        return -0.5 * x * x - _LOG_SQRT_2PI - math.log(_mills_cf(x))
    if x >= 0.0:
        return math.log(_upper_tail(x))
    return math.log1p(-_upper_tail(-x))


@jit
def GH(x):
    """Inverse Mills ratio G(x)/H(x) (about x for large x, exp(-x^2/2)/sqrt(2 pi) for very negative x)."""
    if x >= _CF_FROM:
        return _mills_cf(x)
    return G(x) / H(x)


@jit
def log2cosh(x):
    """log(2 cosh x) without overflow."""
    a = abs(x)
    return a + math.log1p(math.exp(-2.0 * a))


@jit
def expit(x):
    """Logistic function 1/(1 + exp(-x))."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@jit
def logaddexp(a, b):
    """log(exp(a) + exp(b))."""
    m = max(a, b)
    if m == -math.inf:
        return -math.inf
    return m + math.log1p(math.exp(-abs(a - b)))


@jit
def logsumexp(xs):
    """log(sum(exp(x) for x in xs)) for a tuple of floats."""
    m = -math.inf
    for x in xs:
        m = max(m, x)
    if m == -math.inf:
        return -math.inf
    s = 0.0
    for x in xs:
        s += math.exp(x - m)
    return m + math.log(s)


@jit
def tanh(x):
    return math.tanh(x)


@jit
def _logH_GH(y):
    """(log H(y), G(y)/H(y)) for y >= 0, sharing one evaluation of H."""
    if y >= _CF_FROM:
        m = _mills_cf(y)
        return -0.5 * y * y - _LOG_SQRT_2PI - math.log(m), m
    h = _upper_tail(y)
    return math.log(h), G(y) / h


@jit
def _solve_logH(L):
    """y >= 0 with log H(y) = L, for L <= log(1/2).

    Start: the rational approximation of Abramowitz & Stegun 26.2.23 in t = sqrt(-2 L) (absolute error below
    4.5e-4, and usable for any L: it never forms H itself, which underflows below L = -745). Then Halley's iteration
    on f(y) = log H(y) - L, with f' = -m and f'' = -m (m - y), m = G/H: it converges cubically, so a step below
    1e-6 leaves an error of order 1e-18 and ends it; two steps are the rule."""
    t = math.sqrt(-2.0 * L)
    y = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)))
    y = max(0.0, y)
    for _ in range(50):
        lh, m = _logH_GH(y)
        f = lh - L
        step = 2.0 * f / (2.0 * m + f * (m - y))
        y = max(0.0, y + step)
        if abs(step) <= 1e-6 * (1.0 + y):
            break
    return y


@jit
def tail_inverse(a, y):
    """The x >= a with H(x) = H(a) exp(-y), y >= 0: the inverse-CDF map of the Gaussian conditioned on x > a, in the
    variable y = -log(1 - t) of the conditional mass t above which x lies (y is exponentially distributed)."""
    log_target = logH(a) - y
    if log_target <= -math.log(2.0):
        return _solve_logH(log_target)
    # the root is negative: solve on the mirrored side, H(-x) = H(-a) + t H(a), which is < 1/2 without cancellation
    t = -math.expm1(-y)
    s = _upper_tail(-a) + t * H(a)  # here a < 0
    if s <= 0.0:  # H(-a) underflows and t = 0: the map starts at a
        return a
    return max(a, -_solve_logH(math.log(s)))
