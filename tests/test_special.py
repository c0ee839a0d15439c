"""Special-function kernels against mpmath, and the symbolic derivative rules against finite differences."""
import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from replica.equations import vocabulary as V
from replica.solvers import special as K


@pytest.fixture(autouse=True)
def _forty_digits():
    """References at 40 digits, restored after each test (no global state leaks into other files)."""
    with mp.workdps(40):
        yield


def H(x):
    return mp.erfc(mp.mpf(x) / mp.sqrt(2)) / 2


def logH(x):
    x = mp.mpf(x)
    return mp.log(H(x)) if x >= 0 else mp.log1p(-H(-x))


REFERENCE = {
    "logH": (K.logH, logH, 1e-13),
    "GH": (K.GH, lambda x: mp.npdf(mp.mpf(x)) / H(x), 1e-12),
    "H": (K.H, H, 1e-13),
    "G": (K.G, lambda x: mp.npdf(mp.mpf(x)), 1e-13),
    "log2cosh": (K.log2cosh, lambda x: mp.log(2 * mp.cosh(mp.mpf(x))), 1e-14),
}
GRID = np.concatenate([np.linspace(-50, 50, 8001), [-1e3, 1e3, 29.99999, 30.0, 30.00001, -1e-300, 0.0, 1e-300]])


def rel_err(value, ref):
    """Relative error, or 0 when both are below the smallest normal double (representable only as 0/denormal)."""
    if abs(ref) < 1e-300:
        return 0.0 if abs(value) < 1e-300 else np.inf
    return float(abs((value - ref) / ref))


@pytest.mark.parametrize("name", list(REFERENCE))
def test_kernel_against_mpmath(name):
    kernel, ref, tol = REFERENCE[name]
    worst = max((rel_err(kernel(float(x)), ref(float(x))), float(x)) for x in GRID)
    assert worst[0] <= tol, f"{name}: relative error {worst[0]:.2e} at x={worst[1]}"


def test_expit_logaddexp_extremes():
    for x in [-800.0, -30.0, 0.0, 30.0, 800.0]:
        assert rel_err(K.expit(x), 1 / (1 + mp.exp(-x))) <= 1e-15
    for a, b in [(-1000.0, -1001.0), (700.0, 700.0), (0.0, -800.0), (-np.inf, 3.0)]:
        ref = mp.log(mp.exp(a) + mp.exp(b))
        assert abs(K.logaddexp(a, b) - ref) <= 1e-14 * max(1, abs(ref))


@pytest.mark.parametrize("a", [-40.0, -8.0, -1.0, 0.0, 0.7, 5.0, 37.0, 200.0])
@pytest.mark.parametrize("y", [0.0, 1e-12, 0.25, 0.7, 3.0, 30.0, 600.0])
def test_tail_inverse(a, y):
    """x(a, y) solves H(x) = H(a) exp(-y), x >= a."""
    x = K.tail_inverse(a, y)
    assert x >= a
    target = logH(a) - y
    if target <= -mp.log(2):
        assert abs(logH(x) - target) <= 1e-13 * max(1, abs(target))
    elif y == 0:
        assert x == a
    else:  # x < 0: check the mass below x, H(-x) = H(-a) + (1 - e^-y) H(a), which has no cancellation
        below = H(-a) - mp.expm1(-y) * H(a)
        assert abs(logH(-x) - mp.log(below)) <= 1e-13 * max(1, abs(mp.log(below)))


@pytest.mark.parametrize("fn", [V.G, V.H, V.GH, V.logH, V.log2cosh, V.expit])
@pytest.mark.parametrize("x0", [-7.0, -0.3, 0.0, 1.1, 12.0])
def test_derivative_rules(fn, x0):
    """fdiff of each sympy function (printed to the kernels) equals the kernel's finite difference."""
    x = sp.Symbol("x")
    table = {f.__name__: getattr(K, f.__name__) for f in V.SPECIAL_FUNCTIONS}
    d = sp.lambdify(x, sp.diff(fn(x), x), modules=[table, "math"])
    f = getattr(K, fn.__name__)
    h = 1e-5 * max(1, abs(x0))
    fd = (f(x0 + h) - f(x0 - h)) / (2 * h)
    assert abs(d(x0) - fd) <= 1e-7 * max(1, abs(fd))


def test_logaddexp_partials():
    a, b = sp.symbols("a b")
    assert sp.diff(V.logaddexp(a, b), a) == V.expit(a - b)
    assert sp.diff(V.logaddexp(a, b), b) == V.expit(b - a)
