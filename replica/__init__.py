"""replica: replica-symmetric saddle points of the statistical physics of learning.

A model's free entropy is declared once, symbolically (``replica.equations``); sympy derives the saddle-point
equations and their Jacobian, numba compiles them (``replica.solvers``), and the API below solves, sweeps, draws
phase diagrams, traces threshold lines and locates thresholds.

>>> import replica
>>> replica.solve("spherical-perceptron", alpha=1.0, kappa=0.0).q  # doctest: +ELLIPSIS
0.5853...
"""
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance
from replica.solvers.status import Status

from .api import (
    capacity,
    dat_line,
    line,
    max_margin,
    models,
    onset,
    optimize,
    phase_diagram,
    simulate,
    solve,
    sweep,
)
from .errors import ConvergenceError, ModelError, ParameterError, ReplicaError
from .models import Family, Homotopy, ModelSpec, register, register_family
from .results import Solution, Threshold

__version__ = "0.1.0"
__all__ = ["solve", "sweep", "line", "phase_diagram", "capacity", "max_margin", "dat_line", "onset", "optimize",
           "simulate", "models", "Quadrature", "Tolerance", "Status", "ModelSpec", "Family", "Homotopy", "register",
           "register_family", "Solution", "Threshold", "ReplicaError", "ParameterError", "ConvergenceError",
           "ModelError"]
