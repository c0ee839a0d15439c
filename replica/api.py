"""The public entry points: solve, sweep, line, phase_diagram, capacity, max_margin, dat_line, onset, optimize,
simulate, models."""
from .lines import line
from .models import QUAD_TOL, families, get_model, resolve
from .models import models as _model_names
from .onset import onset
from .optimize import optimize
from .phase_diagram import phase_diagram
from .simulate import simulate
from .sweep import sweep
from .thresholds import capacity, dat_line, max_margin

__all__ = ["solve", "sweep", "line", "phase_diagram", "capacity", "max_margin", "dat_line", "onset", "optimize",
           "simulate", "models"]


def models():
    """The available models: name -> one-line summary.

    Examples
    --------
    >>> import replica
    >>> "binary-perceptron" in replica.models()
    True
    """
    fams = families()
    return {name: fams[name].summary if name in fams else get_model(name).summary for name in _model_names()}


def solve(model, *, method="auto", quadrature=None, x0=None, tol=None, max_iter=2000, quad_tol=QUAD_TOL, strict=True,
          **params):
    """Solve the replica-symmetric saddle point of ``model`` at the given control parameters.

    Parameters
    ----------
    model : str
        A name from :func:`replica.models`. A model family (``committee``, ``parity``) takes its options among the
        keywords (``K=3, activation="sign", weights="binary"``).
    method : {'auto', 'fixed-point', 'newton'}
        'auto' iterates the damped fixed point (adaptive damping) until the residual is below 0.1, then Newton
        with the sympy-derived Jacobian finishes.
    quadrature : replica.Quadrature, optional
        Nodes of the Gaussian averages. Default: adaptive, starting from the model's rule and refining the levels
        that carry the error (up to the model's cap) until the node-doubling error estimate is below ``quad_tol``.
        A given quadrature is used as it is.
    x0 : dict, optional
        Starting order parameters; by default a model-specific guess, with continuation along the model's path as
        fallback.
    tol : replica.Tolerance, optional
        Convergence test |r_i| <= atol + rtol |x_i| on the stationarity residuals (default 1e-12, 1e-12).
    max_iter : int
        Fixed-point iterations at most.
    quad_tol : float
        A solution whose node-doubling error estimate exceeds this has status 'inaccurate'.
    strict : bool
        Raise :class:`replica.ConvergenceError` when the solve fails (default); otherwise return the failed
        :class:`replica.Solution` with its status and remedy.
    **params
        Control parameters, e.g. ``alpha=0.6, kappa=0``.

    Returns
    -------
    replica.Solution

    Raises
    ------
    replica.ParameterError
        Bad input: an unknown model, parameter or option, a value outside its range, a point where the model has no
        saddle point (beyond the capacity).

    Examples
    --------
    >>> import replica
    >>> sol = replica.solve("binary-perceptron", alpha=0.6, kappa=0)
    >>> round(sol.q, 6), round(sol.entropy, 6)
    (0.39105, 0.227785)
    """
    spec, params = resolve(model, params)
    return spec.solve(spec.validate(params), method=method, quadrature=quadrature, x0=x0, tol=tol,
                      max_iter=max_iter, quad_tol=quad_tol, strict=strict)
