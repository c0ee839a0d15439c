"""replica: replica-symmetric saddle points of the statistical physics of learning.

A model's free entropy is declared once, symbolically (``replica.equations``); sympy derives the saddle-point
equations and their Jacobian, numba compiles them (``replica.solvers``), and the API below solves, sweeps and locates
thresholds.

>>> import replica
>>> replica.solve("spherical-perceptron", alpha=1.0, kappa=0.0).q  # doctest: +ELLIPSIS
0.5853...
"""
from replica.solvers.quadrature import Quadrature
from replica.solvers.root import Tolerance

from .api import capacity, dat_line, max_margin, models, onset, optimize, simulate, solve
from .errors import ConvergenceError, ParameterError, ReplicaError
from .results import Solution, Threshold
from .sweep import sweep

__version__ = "0.1.0"
__all__ = ["solve", "sweep", "capacity", "max_margin", "dat_line", "onset", "optimize", "simulate", "models",
           "Quadrature", "Tolerance",
           "Solution", "Threshold", "ReplicaError", "ParameterError", "ConvergenceError"]
