"""The one status enumeration of the toolkit: what happened to a solve, a branch or a threshold.

Each member is a ``str`` (its value is what JSON output and sweep tables carry) with a one-line meaning. The solvers
return the first six; the rest are set by the layers above (a quadrature check, a model's derivation, a branch that
ends, a threshold search). What to do about each is the caller's business (``replica.results.REMEDIES``).
"""
from enum import Enum

__all__ = ["Status"]


class Status(str, Enum):
    """Outcome of a solve, a branch or a threshold; compares equal to its string value."""

    def __new__(cls, value, meaning):
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    def __str__(self):
        return self.value

    # returned by the compiled solvers (in this order: their codes are the indices)
    CONVERGED = "converged", "the residual is below tolerance"
    MAX_ITER = "max_iter", "the iteration limit was reached before the residual fell below tolerance"
    LEFT_DOMAIN = "left_domain", "every step, however damped, left the domain of the order parameters"
    STALLED = "stalled", "no damped step reduced the residual"
    SINGULAR = "singular", "the Jacobian is singular at the iterate"
    NOT_FINITE = "not_finite", "the equations are not finite at the starting point"
    # set above the solvers
    INACCURATE = "inaccurate", "the node-doubling error estimate exceeds the quadrature tolerance"
    UNVOUCHED = "unvouched", "the equations hold here but the model's derivation does not"
    ENDED = "ended", "the solution branch followed here ends before this point"
    FOLD = "fold", "the solution branch turns back at a fold (spinodal) before this point"
    NO_SOLUTION = "no_solution", "no replica-symmetric solution exists at these parameters"
    NOT_CONVERGED = "not_converged", "a solve that this result depends on did not converge"
    WRONG_BRANCH = "wrong_branch", "the solver reached a different solution branch from the one sought"
    NOT_BRACKETED = "not_bracketed", "the quantity sought does not change sign within the given bracket"
    AT_BOUND = "at_bound", "the optimum lies at an end of the search interval"
    DIVERGES = "diverges", "the quantity is infinite in this limit"
    NOT_COMPUTED = "not computed", "this quantity is not implemented for this model"

    @classmethod
    def solver_codes(cls):
        """The statuses in the order of the compiled solvers' return codes."""
        return [cls.CONVERGED, cls.MAX_ITER, cls.LEFT_DOMAIN, cls.STALLED, cls.SINGULAR, cls.NOT_FINITE]
