"""Errors raised by the public API. Each message is one line saying what is wrong and what is allowed."""

__all__ = ["ReplicaError", "ParameterError", "ConvergenceError"]


class ReplicaError(Exception):
    """Base class of the toolkit's errors."""


class ParameterError(ReplicaError, ValueError):
    """Bad input: unknown model or parameter, value out of range, malformed grid, point beyond capacity."""


class ConvergenceError(ReplicaError):
    """A single solve did not converge (or could not vouch for its accuracy); ``.result`` holds the diagnostics."""

    def __init__(self, result):
        self.result = result
        super().__init__(f"{result.model} at {result.params_text()}: {result.status}: {result.message}. "
                         f"Remedy: {result.remedy}")
