"""Cross-entropy references of the binary perceptron (physics notes §F; PNAS 2020): the Gibbs measure of the loss
f_gamma at inverse temperature beta, and the Franz–Parisi local entropy of the zero-error solutions around it. The
free entropies live in ``replica.equations.cross_entropy``.

User parameters: ``alpha``, ``gamma`` (steepness of the loss, > 0), ``beta`` (inverse temperature of the references,
> 0, or ``'min'``: the loss minimizers, see :func:`beta_min`); the local entropy also ``kappa`` (margin of the counted
solutions, default 0) and ``d`` (distance to the reference, in (0, 1/2)).
"""
from functools import lru_cache

import sympy as sp

from replica.equations import cross_entropy as eq
from replica.equations.model import Symbol
from replica.solvers.quadrature import Quadrature

from .errors import ConvergenceError, ParameterError
from .local_entropy import alpha0_start, follow_fp, fp_branch_end, fp_notes
from .models import ModelSpec
from .thresholds import zero_entropy

__all__ = ["BINARY_CE", "BINARY_CE_FP", "beta_min", "models"]


def _reference_params():
    return (Symbol(sp.Symbol("alpha"), sp.Interval.open(0, sp.oo), "load P/N > 0"),
            Symbol(sp.Symbol("gamma"), sp.Interval.open(0, sp.oo), "steepness of the cross-entropy loss"),
            Symbol(sp.Symbol("beta"), sp.Interval.open(0, sp.oo),
                   "inverse temperature of the references exp(-beta L), > 0 (at 0 they are uniform), or 'min' for "
                   "the loss minimizers (beta_min)"))


BETA_STEP = 8.0  # the march towards beta_min: the RS entropy falls by ~0.05 per step at alpha ~ 0.6


def beta_min(alpha, gamma, quadrature=None, tol=None):
    """The loss minimizers' inverse temperature: the beta where the RS entropy of the cross-entropy references
    vanishes. Beyond it the RS measure counts fewer than one reference (entropy < 0); for binary weights the
    measure freezes there onto its lowest-loss configurations (the scenario of the maximal-margin references, which
    also have zero entropy), whose mutual overlap is q~(beta_min). So ``beta='min'`` stands for the beta -> infinity
    limit: the references are the minimizers of the loss. Returns a Threshold named ``beta_min``."""
    return BETA_MIN(BINARY_CE, quadrature=quadrature, tol=tol, alpha=alpha, gamma=gamma)


@lru_cache(maxsize=64)
def _beta_min_cached(alpha, gamma):
    return beta_min(alpha, gamma)


def _beta_min_value(params):
    thr = _beta_min_cached(params["alpha"], params["gamma"])
    if not thr.converged:
        raise ConvergenceError(thr)
    return thr.value


SPECIAL = {"beta": {"min": _beta_min_value}}


def _notes_ce(params, order, obs):
    if obs["entropy"] < -1e-9:  # zero at beta_min, up to rounding
        return [f"entropy {obs['entropy']:.3g} < 0: the RS measure counts fewer than one reference (frozen, replica "
                "symmetry broken); lower beta"]
    return []


BETA_MIN = zero_entropy("beta_min", "beta", {"alpha": None, "gamma": None}, scale=lambda p: BETA_STEP / 0.05,
                        criterion="zero RS entropy of the references (frozen minimizers)")

BINARY_CE = ModelSpec(
    name="binary-perceptron-ce",
    summary="binary perceptron under the cross-entropy loss f_gamma at inverse temperature beta: RS free entropy, "
            "entropy, mean loss and training error of the references",
    build=eq.binary_perceptron_ce, start=lambda p: {"q": 0.05, "qhat": 0.05}, notes=_notes_ce,
    user_params=_reference_params(), path="beta", path_start=0.5, special=SPECIAL,
)


def _inputs(params):
    ref = BINARY_CE.solve({k: params[k] for k in ("alpha", "gamma", "beta")})
    if not ref.converged:
        raise ConvergenceError(ref)
    if not ref.order["q"] > 1e-9:
        raise ParameterError(f"beta={params['beta']:g}: the references are uniform (q~ = 0); allowed: beta > 0")
    return {"alpha": params["alpha"], "kappa": params["kappa"], "p": 1 - 2 * params["d"], "q_ref": ref.q,
            "qhat_ref": ref.qhat, "beta": params["beta"], "gamma": params["gamma"]}


BINARY_CE_FP = ModelSpec(
    name="binary-perceptron-ce-fp",
    summary="Franz-Parisi local entropy of the binary perceptron's solutions at distance d from references drawn "
            "from the cross-entropy Gibbs measure (beta, gamma)",
    build=eq.binary_perceptron_ce_fp, defaults={"kappa": 0.0}, start=alpha0_start, guess=follow_fp, notes=fp_notes,
    branch_end=fp_branch_end,
    user_params=(*_reference_params(),
                 Symbol(sp.Symbol("kappa"), sp.S.Reals, "margin of the counted solutions"),
                 Symbol(sp.Symbol("d"), sp.Interval.open(0, sp.Rational(1, 2)), "distance to the reference")),
    inputs=_inputs, report=("q_ref", "qhat_ref", "beta"), path="alpha", path_start=1e-3, direct=False,
    special=SPECIAL, quadrature=Quadrature(gauss=128, trunc=64, inner=12, inner_rule="hermite"), max_nodes=512,
)


def models():
    """The cross-entropy reference models (the ``replica.models`` entry point)."""
    return [BINARY_CE, BINARY_CE_FP]
