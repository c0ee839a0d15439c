"""The physics, symbolic: one module per model family (sympy only)."""
from .model import FreeEntropy, Symbol
from .vocabulary import (
    GH,
    AtMax,
    Average,
    E,
    E_iid,
    E_trunc,
    G,
    H,
    IidAverage,
    Max,
    expit,
    log2cosh,
    logaddexp,
    logH,
    logsumexp,
)

__all__ = ["FreeEntropy", "Symbol", "E", "E_trunc", "E_iid", "Average", "IidAverage", "G", "H", "GH", "logH",
           "log2cosh", "logaddexp", "logsumexp", "expit", "Max", "AtMax"]
