"""The physics, symbolic: one module per model family (sympy only)."""
from .model import FreeEntropy, Symbol
from .vocabulary import GH, AtMax, Average, E, E_trunc, G, H, Max, expit, log2cosh, logaddexp, logH

__all__ = ["FreeEntropy", "Symbol", "E", "E_trunc", "Average", "G", "H", "GH", "logH", "log2cosh", "logaddexp",
           "expit", "Max", "AtMax"]
