"""A compiled saddle-point system: the generated functions of a free-entropy declaration, with its domain, and the
plumbing to solve it with any choice of unknowns.

The input vector ``v`` holds every symbol, order parameters first, then control parameters. By default the order
parameters are the unknowns and the stationarity residuals the equations; any control parameter can be exchanged with
an order parameter (fix q, solve for alpha), and "observable = value" can be added as an equation (thresholds: phi = 0,
lambda_AT = 1), because the Jacobian and the gradients of the observables are compiled with respect to every symbol.
"""
import math

import numpy as np

from . import root
from .codegen import compile_module
from .quadrature import Quadrature
from .root import STATUS_CODES, SolverResult, Tolerance

__all__ = ["System", "interval_bounds", "in_interval", "interval_text"]


def interval_bounds(interval):
    """(lo, hi, lo_open, hi_open) of a sympy Interval, as floats and bools."""
    lo, hi = interval.inf, interval.sup
    return (float(lo) if lo.is_finite else -math.inf, float(hi) if hi.is_finite else math.inf,
            bool(interval.left_open), bool(interval.right_open))


def in_interval(x, bounds):
    """Whether ``x`` lies in ``bounds`` = (lo, hi, lo_open, hi_open), from :func:`interval_bounds`."""
    lo, hi, lo_open, hi_open = bounds
    return (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi)


class System:
    """Compiled functions of a :class:`~replica.equations.model.FreeEntropy` (derived and compiled once, cached)."""

    def __init__(self, free_entropy, verbose=True):
        fe = free_entropy
        self.free_entropy = fe
        self.name = fe.name
        self.module = compile_module(fe.key(), fe.symbols, fe.bundles, label=fe.name, verbose=verbose)
        self.names = [s.name for s in fe.symbols]
        self.order_names = [s.name for s in fe.order]
        self.param_names = [s.name for s in fe.params]
        self.observable_names = list(fe.observables)
        self.n_order = len(fe.order)
        self.bounds = [interval_bounds(s.domain) for s in fe.order + fe.params]
        lo, hi, lo_open, hi_open = zip(*self.bounds)
        self._bound_arrays = (np.array(lo, dtype=float), np.array(hi, dtype=float), np.array(lo_open, dtype=bool),
                              np.array(hi_open, dtype=bool))
        self.has_fixed_point = hasattr(self.module, "fp")
        self.estimate_by_level = False  # the node-doubling estimate level by level (see _doubling)
        self._here_key = self._here = None  # what _at remembers
        self._addresses = {}
        n = self.n_order
        self._parts = {"phi": slice(0, 1), "res": slice(1, n + 1), "phi_res": slice(0, n + 1),
                       "obs": np.r_[0, n + 1:n + len(self.observable_names)]}

    # ----- evaluation --------------------------------------------------------------------------------------------
    def vector(self, order, params):
        """The input vector from dicts (or sequences) of order-parameter and parameter values."""
        o = [order[n] for n in self.order_names] if isinstance(order, dict) else list(order)
        p = [params[n] for n in self.param_names] if isinstance(params, dict) else list(params)
        return np.array(o + p, dtype=float)

    def call(self, fname, v, quad):
        """The compiled function ``fname`` at ``v`` on the rules of ``quad``. ``phi``, ``res``, ``phi_res`` and
        ``obs`` (the observables, phi first) are read off ``values``, which computes them all in one pass."""
        part = self._parts.get(fname)
        function = getattr(self.module, fname if part is None else "values")
        out = function(np.ascontiguousarray(v, dtype=float), quad.arrays())
        return out if part is None else out[part]

    def address(self, fname):
        """The address of the compiled function ``fname``, as the solvers take it (compiled on first use)."""
        if fname not in self._addresses:
            self._addresses[fname] = root.address(getattr(self.module, fname))
        return self._addresses[fname]

    def jacobian(self, v, quad, columns=None):
        """d(residuals)/d(inputs) at ``v``, shape (n_order, len(v)), or only the ``columns`` given (indices): the
        parameter columns are evaluated only when asked for."""
        n, nall = self.n_order, len(v)
        cols = np.arange(nall) if columns is None else np.asarray(columns)
        J = np.empty((n, nall))
        J[:, :n] = self.call("res_jac", v, quad)[n:].reshape(n, n)
        if np.any(cols >= n):
            J[:, n:] = self.call("res_dpar", v, quad).reshape(n, nall - n)
        return J[:, cols]

    def equations_jacobian(self, v, quad, columns, target=None):
        """The Jacobian of the equations (the stationarity residuals, then ``observable - value`` for a ``target``)
        with respect to the inputs ``columns`` (indices), at ``v``."""
        J = self.jacobian(v, quad, columns)
        if target is None:
            return J
        g = self.call(f"obs_grad_{self._target(target)[0]}", v, quad)
        return np.vstack([J, g[1:][np.asarray(columns)]])

    def tangent(self, v, quad, name, unknowns=None, target=None):
        """How the unknowns move with the input ``name`` along the solutions through ``v``: d v[unknowns]/d v[name]
        from J_u t = -J_name (the implicit-function theorem on the sympy Jacobian). None where J_u is singular or
        not finite (a fold, the edge of the equations' domain)."""
        idx = self.unknown_indices(unknowns, target)
        J = self.equations_jacobian(v, quad, np.append(idx, self.index(name)), target)
        try:
            t = np.linalg.solve(J[:, :-1], -J[:, -1])
        except np.linalg.LinAlgError:
            return None
        return t if np.all(np.isfinite(t)) else None

    def in_domain(self, v, indices=None):
        idx = slice(None) if indices is None else indices
        lo, hi, lo_open, hi_open = (a[idx] for a in self._bound_arrays)
        x = np.asarray(v)
        return bool(np.all(np.where(lo_open, x > lo, x >= lo) & np.where(hi_open, x < hi, x <= hi)))

    def index(self, name):
        return self.names.index(name)

    # ----- solving -----------------------------------------------------------------------------------------------
    def unknown_indices(self, unknowns=None, target=None, linear=None):
        """The indices of ``unknowns`` (names or indices; default: the order parameters), checked against the number
        of equations: the stationarity residuals, plus one for a ``target`` and one for a ``linear`` equation."""
        idx = np.arange(self.n_order) if unknowns is None else np.array(
            [self.index(u) if isinstance(u, str) else u for u in unknowns], dtype=np.int64)
        n_eq = self.n_order + (target is not None) + (linear is not None)
        if n_eq != len(idx):
            raise ValueError(f"{self.name}: {len(idx)} unknowns for {n_eq} equations")
        return idx

    def _target(self, target):
        """(observable index, value) for ``target=(name, value)``; (-1, 0) for none."""
        if target is None:
            return -1, 0.0
        name, value = target
        if name not in self.observable_names:
            raise ValueError(f"{self.name}: no observable {name!r}; observables: {', '.join(self.observable_names)}")
        return self.observable_names.index(name), float(value)

    def solve(self, v0, quad=Quadrature(), method="auto", tol=Tolerance(), unknowns=None, target=None, linear=None,
              damping=1.0, max_iter=2000, handover=0.1, newton_iter=50):
        """Solve for ``unknowns`` (names or indices; default: the order parameters) from the full vector ``v0``.

        ``method``: ``"fixed-point"`` (needs a fixed-point form and the default unknowns), ``"newton"``, or ``"auto"``
        (damped fixed point until max|r| < ``handover``, then Newton; Newton alone where there is no fixed-point
        form). With ``target=(observable, value)`` the equation observable = value is added, and one more input is
        an unknown: a threshold (``("entropy", 0)`` for a capacity). With ``linear=(a, b)`` the equation
        a . v[unknowns] = b is added, and one more input is an unknown (a pseudo-arclength step).
        ``max_iter`` bounds the fixed-point iterations, ``newton_iter`` the Newton ones.
        Returns ``(SolverResult, v)`` with ``v`` the full vector at the last iterate.
        """
        idx = self.unknown_indices(unknowns, target, linear)
        target_k, target_value = self._target(target)
        lin, lin_b = (np.empty(0), 0.0) if linear is None else (np.ascontiguousarray(linear[0], dtype=float),
                                                                 float(linear[1]))
        standard = target is None and linear is None and np.array_equal(idx, np.arange(self.n_order))
        use_fp = standard and self.has_fixed_point
        if method not in ("auto", "fixed-point", "newton"):
            raise ValueError(f"unknown method {method!r}; allowed: 'auto', 'fixed-point', 'newton'")
        if method == "fixed-point" and not use_fp:
            raise ValueError(f"{self.name}: no fixed-point form for these unknowns; use method='newton' or 'auto'")
        arrays = quad.arrays()
        v = np.array(v0, dtype=float)
        domain = self._bound_arrays
        history = []
        iterations = 0
        if use_fp and method in ("auto", "fixed-point"):
            stop = 0.0 if method == "fixed-point" else handover
            v, code, it, nr = root.fixed_point(self.address("fp"), v, domain, (tol.atol, tol.rtol), damping, max_iter,
                                               stop, arrays)
            fp_result = SolverResult(v, code == 0, STATUS_CODES[code], it, nr, "fixed-point")
            iterations += it
            if method == "fixed-point" or code == 0:
                return fp_result, v
            history.append(fp_result)
            if not np.all(np.isfinite(v)):
                v = np.array(v0, dtype=float)
        # the functions a solve calls: res_jac always, res_dpar where a parameter is an unknown, an observable's
        # gradient where observable = target is added (each compiled on first use)
        res_dpar = self.address("res_dpar") if np.any(idx >= self.n_order) else 0
        obs_grad = 0 if target is None else self.address(f"obs_grad_{target_k}")
        added = (target_k, target_value, lin, lin_b)
        v, code, it, nr = root.newton(self.address("res_jac"), res_dpar, obs_grad, v, idx, self.n_order, added,
                                      domain, (tol.atol, tol.rtol), newton_iter, arrays)
        name = "fixed-point+newton" if history else "newton"
        return SolverResult(v[idx], code == 0, STATUS_CODES[code], iterations + it, nr, name, history), v

    def warm(self, quad=Quadrature()):
        """Compile every generated function now (each is otherwise compiled on its first use) and load the solvers
        (compiled once per machine); from numba's cache where it is warm."""
        names = ["values", "res_jac", "res_dpar"] + [f"obs_grad_{k}" for k in range(len(self.observable_names))]
        for name in names + (["fp"] if self.has_fixed_point else []):
            self.address(name)
        self.solve(np.full(len(self.names), 0.5), quad, max_iter=1, newton_iter=1)

    def phi_change(self, v, quad):
        """|phi on the doubled rules - phi on ``quad``| at ``v``: whether more nodes would change anything there."""
        return abs(self.call("phi_res", v, quad.doubled())[0] - self.call("phi_res", v, quad)[0])

    def quadrature_error(self, v, quad, unknowns=None, target=None):
        """Node-doubling estimate at a solved point: the largest of |change of phi| and |shift of the unknowns|
        (relative to the unknown where it exceeds 1) when the rules are doubled (the first-order shift of the root:
        the change of the residual against the Jacobian on the solved rules, whose own change is second order).
        Infinite when the equations on the doubled rules are not finite or the Jacobian is singular."""
        return self._doubling(v, quad, unknowns, target)[0]

    def _doubling(self, v, quad, unknowns=None, target=None, levels=None):
        """(the node-doubling estimate, the vector moved by the first-order shift of the root, or None), with the
        ``levels`` of the rule doubled (all by default). With ``estimate_by_level`` the default is the sum of the
        estimates (and of the shifts) of each level doubled on its own: the errors of a product rule's levels add up
        to first order, and where the rule's levels are K-dimensional (an average over K i.i.d. variables, an
        interval level nested K - 1 deep) doubling them all at once costs 2^(2K-1) times the rule, doubling each
        2^K or 2^(K-1) times."""
        if levels is None and self.estimate_by_level:
            parts = [self._doubling(v, quad, unknowns, target, (level,)) for level in quad.LEVELS]
            if any(moved is None for _, moved in parts):
                return math.inf, None
            return sum(e for e, _ in parts), v + sum(moved - v for _, moved in parts)
        idx = self.unknown_indices(unknowns, target)
        J, phi_here, r_here = self._at(v, quad, idx, target)
        fine = quad.doubled(levels)
        phi_fine, r_fine = self._equations(v, fine, target)
        try:  # the root on the doubled rules, by one Newton step; its shift is the change of the residual (the
            # solver's own remaining residual taken out: a near-singular J amplifies rounding)
            step, shift = np.linalg.solve(J, np.column_stack([-r_fine, r_here - r_fine])).T
        except np.linalg.LinAlgError:
            return math.inf, None
        # an unknown's shift relative to its size where it is large (a conjugate of 1e5 near q -> 1), as the solver's
        # convergence test measures it
        err = max(abs(phi_fine - phi_here), float(np.max(np.abs(shift) / np.maximum(1.0, np.abs(v[idx])))))
        if not math.isfinite(err):
            return math.inf, None
        moved = np.array(v, dtype=float)
        moved[idx] += step
        return err, moved

    def _at(self, v, quad, idx, target):
        """(Jacobian of the equations, phi, residuals) at ``v`` on ``quad``, remembered for the last point: the
        node-doubling estimates of each level (:meth:`finer`) share them."""
        key = (np.asarray(v, dtype=float).tobytes(), quad, tuple(idx), repr(target))
        if self._here_key != key:
            self._here_key, self._here = key, (self.equations_jacobian(v, quad, idx, target),
                                               *self._equations(v, quad, target))
        return self._here

    def _equations(self, v, quad, target):
        """(phi, the residuals of the equations: the stationarity ones, then observable - value for a ``target``)
        at ``v`` on ``quad``, from one evaluation of ``values``."""
        out = self.call("values", v, quad)
        r = out[self._parts["res"]]
        if target is not None:
            k, value = self._target(target)
            r = np.append(r, out[self._parts["obs"]][k] - value)
        return out[0], r

    def finer(self, v, quad, quad_tol, unknowns=None, target=None, max_nodes=math.inf, max_cost=math.inf):
        """The next rule of the refinement: the levels (``Quadrature.LEVELS``) whose own doubling moves the
        estimate beyond ``quad_tol`` and by at least a tenth of the largest such move are refined
        (:meth:`~replica.Quadrature.refined`; the largest always), the others kept. A level the model does not use moves
        nothing; near q -> 1 the truncated and inner levels need many more nodes than the outer one, and refining
        only them keeps the rule affordable. None where that rule is no finer (its levels at their caps), its outer
        level exceeds ``max_nodes`` (and this rule's) or its ``cost`` exceeds ``max_cost``."""
        def affordable(rule):
            return rule != quad and rule.gauss <= max(max_nodes, quad.gauss) and rule.cost <= max_cost

        # refining more levels never costs less: where no level alone may be refined, measuring them is wasted
        if not any(affordable(quad.refined((level,))) for level in quad.LEVELS):
            return None
        moves = {level: self._doubling(v, quad, unknowns, target, (level,))[0] for level in quad.LEVELS}
        if not all(math.isfinite(e) for e in moves.values()):
            rule = quad.refined()
        else:
            floor = max(quad_tol, 0.1 * max(moves.values()))
            rule = quad.refined(tuple(level for level, e in moves.items() if e >= floor)
                                or (max(moves, key=moves.get),))
        return rule if affordable(rule) else None

    def refine(self, result, v, quad, tol=Tolerance(), quad_tol=1e-8, max_nodes=8192, unknowns=None, target=None,
               max_cost=None):
        """Node refinement until the error estimate is below ``quad_tol``: while it is not, the levels of the rule
        that carry the error are refined (:meth:`finer`) and the point re-solved by Newton from the previous one,
        as long as the outer level stays within ``max_nodes`` and the rule's ``cost`` within
        ``max_cost`` (default: ``quad.refinement_cap(max_nodes)``). Returns ``(result, v, quad, error)``; the error
        is the last estimate (the caller decides what it means)."""
        if not result.converged:
            return result, v, quad, math.inf
        max_cost = quad.refinement_cap(max_nodes) if max_cost is None else max_cost
        err, moved = self._doubling(v, quad, unknowns, target)
        while not err <= quad_tol:
            finer = self.finer(v, quad, quad_tol, unknowns, target, max_nodes, max_cost)
            if finer is None:
                break
            # from the root moved by the estimate's own step: where the residual is already below the solver's
            # (relative) tolerance, Newton would otherwise stop where it starts and the estimate would not improve
            start = moved if moved is not None and self.in_domain(moved) else v
            r, w = self.solve(start, finer, method="newton", tol=tol, unknowns=unknowns, target=target)
            if not r.converged:
                break
            r.iterations += result.iterations
            result, v, quad = r, w, finer
            err, moved = self._doubling(v, quad, unknowns, target)
        return result, v, quad, err

    def observables(self, v, quad=Quadrature()):
        """The observables at ``v`` (phi first), by name."""
        return dict(zip(self.observable_names, self.call("obs", v, quad)))


def interval_text(interval):
    """A human-readable allowed range, e.g. '[0, inf)' or '(-inf, 0)'."""
    lo, hi, lo_open, hi_open = interval_bounds(interval)
    return f"{'(' if lo_open or lo == -math.inf else '['}{lo:g}, {hi:g}{')' if hi_open or hi == math.inf else ']'}"

