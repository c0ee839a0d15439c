"""Errors raised by the public API. Each message is one line saying what is wrong and what is allowed.

``ParameterError`` is for what the user typed (exit status 2 on the command line); a computation that does not
converge is a status on its result, and ``ConvergenceError`` carries that result where a single call was asked to be
strict (exit status 1).
"""

__all__ = ["ReplicaError", "ParameterError", "ConvergenceError", "ModelError"]


class ReplicaError(Exception):
    """Base class of the toolkit's errors."""


class ParameterError(ReplicaError, ValueError):
    """Bad input: unknown model or parameter, value out of range, malformed grid, point beyond capacity."""


class ModelError(ReplicaError, TypeError):
    """A model declaration that breaks the model contract (docs/models.md): a missing or malformed hook, a name
    already registered."""


class ConvergenceError(ReplicaError):
    """A computation did not converge (or could not vouch for its accuracy); ``.result`` holds its
    :class:`~replica.results.Solution` or :class:`~replica.results.Threshold`, with status, message and remedy."""

    def __init__(self, result):
        self.result = result
        super().__init__(f"{result.model} at {result.params_text()}: {result.status}: {result.message}. "
                         f"Remedy: {result.remedy}")
