"""Branch following: the one predictor–corrector every march of the toolkit goes through.

:func:`follow` moves one input of a compiled :class:`~replica.solvers.system.System` (a load, a distance, a margin)
from a solved point towards a value, solving the system's equations at each step: the stationarity equations for the
order parameters, or an augmented system (stationarity plus "observable = value", with one more input among the
unknowns) whose solutions form a line in the plane of two inputs. The result is a :class:`Branch`, which is data: the
points solved along it, each with the quadrature rule it was solved on; the events located on it (an observable
crossing a value, a fold); and why it ended.

One step: a predictor (the tangent from the sympy Jacobian, J_u dv/ds = -J_s, and a secant through the last two
points; where the caller has a map of a solution to new inputs, that map plus the secant first), then Newton. A step
that fails is halved; one that succeeds lets the next grow by 1.5. Where the step falls below ``min_step`` the
branch has stalled, and in this order:

* with a :class:`Refinement`, where phi at the last point changes beyond the quadrature tolerance when the nodes
  double, the levels of the rule that carry the error are refined and the march goes on (near q -> 1 coarse nodes
  can leave the discretized equations without a root next to the solution);
* pseudo-arclength steps (the continued input becomes an unknown, and the step is measured along the branch's unit
  tangent in scaled coordinates) go past the stall; where the continued input turns back, the branch has a fold
  (a spinodal), which is located (the tangent's component along the input vanishes there) and reported as an
  event; the branch ends there;
* otherwise the branch ends where it stalled: the caller's reason if it has one (``branch_end``: a freezing, the end
  of a derivation), the edge of the equations' domain, or the corrector's own failure.

Stops (``stops``): input values at which the branch must put a point (a sweep's grid along one line). Crossings
(``crossings``): ``(observable, value)`` pairs whose sign changes between two points are located by Newton on the
augmented system. Nothing here knows any physics.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from .quadrature import Quadrature
from .root import SolverResult, Tolerance
from .status import Status

__all__ = ["Refinement", "Point", "Event", "Branch", "follow", "predictions"]

CREEP_STEPS, CREEP_FRACTION = 24, 1e-5  # a branch that moves this little in this many steps has stalled


@dataclass(frozen=True)
class Refinement:
    """When a stalled march may refine its rule: while phi at the last point changes by more than ``quad_tol`` when
    the nodes double, the levels that carry the error are refined (:meth:`~replica.solvers.system.System.finer`) as
    long as the outer level stays within ``max_nodes`` and the rule's cost within ``max_cost``."""

    quad_tol: float = 1e-8
    max_nodes: float = math.inf
    max_cost: float = math.inf

    def finer(self, system, v, rule, unknowns=None, target=None):
        """The next rule, or None where more nodes would not help (phi is as good on this rule as on the doubled
        one: the stall is the branch's own) or the caps forbid it."""
        if system.phi_change(v, rule) <= self.quad_tol:
            return None
        return system.finer(v, rule, self.quad_tol, unknowns, target, self.max_nodes, self.max_cost)


@dataclass
class Point:
    """A solved point of a branch: the full input vector, the rule it was solved on, the corrector's result."""

    v: np.ndarray
    rule: Quadrature
    result: SolverResult = None


@dataclass
class Event:
    """A named point located on a branch: ``"fold"`` or ``"<observable>=<value>"``. ``point`` is None where the
    location failed (``status`` says why)."""

    name: str
    point: Point
    status: Status = Status.CONVERGED


@dataclass
class Branch:
    """What :func:`follow` found: ``points`` (the start first), ``events`` in the order met, ``stops`` (the point at
    each requested stop, None for the stops not reached), ``status`` (CONVERGED when it arrived; otherwise why it
    ended: FOLD, ENDED, LEFT_DOMAIN, or the corrector's status) with a ``message``, and ``result``, the last
    corrector's result."""

    name: str
    points: list
    events: list = field(default_factory=list)
    stops: list = field(default_factory=list)
    status: Status = Status.CONVERGED
    message: str = ""
    result: SolverResult = None

    @property
    def arrived(self):
        return self.status == Status.CONVERGED

    @property
    def last(self):
        return self.points[-1]

    def event(self, name):
        """The first located event called ``name``, or None."""
        return next((e for e in self.events if e.name == name and e.point is not None), None)


def predictions(v, prev, k, value, guess=None):
    """Guesses at the solution with input k = ``value`` from the solution ``v`` and the one before it, ``prev`` (or
    None), which differ in input k only: ``guess(v, k, value)`` (a caller's map of a solution to new inputs; by
    default the same unknowns) plus a secant through what the map missed from ``prev`` to ``v``; the map alone;
    ``v`` itself at the new input."""
    def moved(w, to):
        if guess is not None:
            return guess(w, k, to)
        w = np.array(w, dtype=float)
        w[k] = to
        return w

    mapped = moved(v, value)
    out = []
    if prev is not None and prev[k] != v[k]:
        out.append(mapped + (v - moved(prev, v[k])) * (value - v[k]) / (v[k] - prev[k]))
    if guess is not None:
        out.append(mapped)
    same = np.array(v, dtype=float)
    same[k] = value
    return out + [same]


class _Follower:
    """The state of one :func:`follow` call (kept apart so that each part of the step reads on its own)."""

    def __init__(self, system, name, rule, tol, unknowns, target, method, guess, reseed, refine, crossings,
                 newton_iter, max_iter, branch_end):
        self.system, self.name, self.k = system, name, system.index(name)
        self.rule, self.tol, self.unknowns, self.target, self.method = rule, tol, unknowns, target, method
        self.guess, self.reseed, self.refine = guess, reseed, refine
        self.newton_iter, self.max_iter = newton_iter, max_iter
        self.crossings, self.branch_end = list(crossings), branch_end
        self.idx = system.unknown_indices(unknowns, target)

    # ----- one natural step --------------------------------------------------------------------------------------
    def correct(self, guess, rule=None):
        return self.system.solve(guess, rule or self.rule, method=self.method, tol=self.tol, unknowns=self.unknowns,
                                 target=self.target, newton_iter=self.newton_iter, max_iter=self.max_iter)

    def tangent_guess(self, v, value):
        t = self.system.tangent(v, self.rule, self.name, self.unknowns, self.target)
        if t is None:
            return None
        w = np.array(v, dtype=float)
        w[self.idx] += t * (value - v[self.k])
        w[self.k] = value
        return w

    def step(self, v, prev, value):
        """(result, w): the corrector from the first prediction at which the equations are defined. A caller's map
        goes first where there is one (it is made to keep the distance to a domain edge, which the tangent's
        straight line crosses where the solution hugs a curved edge); else the secant through the last two points
        where there is one (first order like the tangent, and free); then the tangent (computed only if reached),
        then the last point."""
        mapped = predictions(v, prev, self.k, value, self.guess)
        secant = prev is not None and prev[self.k] != v[self.k]  # then mapped[0] is first order too
        mapped = [(c, secant and i == 0) for i, c in enumerate(mapped)]

        def candidates():
            ahead = mapped[:-1] if self.guess is not None or secant else []
            yield from ahead
            yield self.tangent_guess(v, value), True
            yield from mapped[len(ahead):]

        for guess, first_order in candidates():  # the next one only where the equations are not defined at this one
            if guess is None or not self.system.in_domain(guess):
                continue
            result, w = self.correct(guess)
            if result.status != Status.NOT_FINITE.value:
                break
        else:  # every prediction left the region where the equations are defined
            guess, first_order = mapped[-1]
            guess = self.reseed(guess) if self.reseed is not None else guess
            first_order = False
            result, w = self.correct(guess)
        if result.converged and first_order and self.jumped(v, guess, w):
            result = SolverResult(result.x, False, Status.WRONG_BRANCH.value, result.iterations, result.residual,
                                  result.method)
        return result, w

    def jumped(self, v, guess, w):
        """Whether the corrector left the branch: from a first-order prediction it moves the unknowns by a fraction
        of the step (second order in it); a correction larger than half the predicted move means it converged onto
        another branch (the step is then halved, as for a failure)."""
        cols = np.append(self.idx, self.k)
        scale = np.maximum(1.0, np.abs(v[cols]))
        moved = np.max(np.abs(guess[cols] - v[cols]) / scale)
        corrected = np.max(np.abs(w[self.idx] - guess[self.idx]) / scale[:-1])
        return corrected > max(0.5 * moved, 1e-8)

    # ----- crossings -------------------------------------------------------------------------------------------
    def crossing_values(self, v):
        if not self.crossings:
            return []
        obs = dict(zip(self.system.observable_names, self.system.call("obs", v, self.rule)))
        return [obs[name] - value for name, value in self.crossings]

    def locate_crossing(self, a, b, fa, fb, crossing):
        """The point between solved ``a`` and ``b`` where the observable equals the value: Newton on the equations
        plus that one, with the continued input among the unknowns, from the secant between them."""
        name, value = crossing
        label = f"{name}={value:g}"
        guess = a + fa / (fa - fb) * (b - a)
        names = [self.system.names[i] for i in self.idx] + [self.name]
        result, w = self.system.solve(guess, self.rule, method="newton", tol=self.tol, unknowns=names,
                                      target=crossing)
        lo, hi = sorted((a[self.k], b[self.k]))
        if not result.converged:
            return Event(label, None, Status(result.status))
        if not lo - 1e-9 * (1 + abs(lo)) <= w[self.k] <= hi + 1e-9 * (1 + abs(hi)):
            return Event(label, None, Status.WRONG_BRANCH)
        return Event(label, Point(w, self.rule, result))

    # ----- past a stall: pseudo-arclength --------------------------------------------------------------------
    def arc_tangent(self, v, scale, previous=None):
        """The branch's unit tangent at ``v`` in scaled coordinates (unknowns, then the continued input): the null
        vector of the scaled Jacobian [J_u | J_s], oriented along ``previous`` (or towards increasing input when
        ``previous`` is a number: its sign)."""
        cols = np.append(self.idx, self.k)
        J = self.system.equations_jacobian(v, self.rule, cols, self.target) * scale
        if not np.all(np.isfinite(J)):
            return None
        tau = np.linalg.svd(J)[2][-1]
        ref = previous if isinstance(previous, np.ndarray) else np.eye(len(cols))[-1] * previous
        return tau if tau @ ref >= 0 else -tau

    def arc_step(self, v, tau, ds, scale):
        """Solve the equations with the continued input free and tau . (w - v)/scale = ds."""
        names = [self.system.names[i] for i in self.idx] + [self.name]
        cols = np.append(self.idx, self.k)
        guess = np.array(v, dtype=float)
        guess[cols] += ds * tau * scale
        a = tau / scale
        return self.system.solve(guess, self.rule, method="newton", tol=self.tol, unknowns=names,
                                 target=self.target, linear=(a, a @ v[cols] + ds), newton_iter=self.newton_iter)

    def past_stall(self, v, to, ds0, max_steps):
        """Pseudo-arclength steps from the stalled point ``v`` towards ``to``. Returns (w, event, result): ``w`` a
        solved point beyond the stall in the direction of ``to`` (None if none), or the located fold ``event``."""
        direction = math.copysign(1.0, to - v[self.k])
        cols = np.append(self.idx, self.k)
        scale = np.maximum(1.0, np.abs(v[cols]))
        tau = self.arc_tangent(v, scale, direction)
        result = None
        if tau is None:
            return None, None, result
        ds = ds0
        for _ in range(max_steps):
            result, w = self.arc_step(v, tau, ds, scale)
            if not result.converged:
                ds /= 2
                if ds < 1e-6 * ds0:
                    return None, None, result
                continue
            tau_w = self.arc_tangent(w, scale, tau)
            if tau_w is None:
                return None, None, result
            if tau_w[-1] * direction <= 0 < tau[-1] * direction:  # the input turned back: a fold between v and w
                return None, self.locate_fold(v, tau, ds, scale, direction), result
            if (w[self.k] - v[self.k]) * direction > 0 and tau_w[-1] * direction > 0:
                return w, None, result
            v, tau = w, tau_w
            ds *= 1.5
        return None, None, result

    def locate_fold(self, v, tau, ds, scale, direction):
        """The fold between ``v`` (s = 0) and the point at arclength ``ds`` along ``tau``: the secant on the
        tangent's input component, which vanishes there (the input is stationary at the fold, so its value is
        accurate to second order in the location)."""
        s0, s1 = 0.0, ds
        t0 = self.arc_tangent(v, scale, tau)[-1]
        result, w = self.arc_step(v, tau, s1, scale)
        t1 = self.arc_tangent(w, scale, tau)[-1]
        for _ in range(40):
            if t1 == t0:
                break
            s = s1 - t1 * (s1 - s0) / (t1 - t0)
            if not 0 <= s <= ds:
                s = 0.5 * (s0 + s1)
            r, x = self.arc_step(v, tau, s, scale)
            if not r.converged:
                break
            tx = self.arc_tangent(x, scale, tau)[-1]
            s0, t0, s1, t1, result, w = s1, t1, s, tx, r, x
            if abs(tx) < 1e-10 or abs(s1 - s0) < 1e-13 * ds:
                break
        return Event("fold", Point(w, self.rule, result))

    def end_reason(self, v, result):
        """(status, message) for a branch that stalled at ``v`` (the corrector's last ``result``)."""
        if self.branch_end is not None:
            reason = self.branch_end(v)
            if reason:
                return Status.ENDED, reason
        where = f"{self.name} = {v[self.k]:.8g}"
        if result is not None and result.status == "left_domain":
            return Status.LEFT_DOMAIN, (f"the branch reaches the edge of the order parameters' domain at {where} "
                                        "(every smaller step left it)")
        status = Status(result.status) if result is not None and not result.converged else Status.STALLED
        return status, f"the branch could not be followed beyond {where} ({status.meaning})"


def follow(system, v, name, to, rule=Quadrature(), *, tol=Tolerance(), unknowns=None, target=None, method="newton",
           guess=None, reseed=None, refine=None, crossings=(), stop_at_crossing=False, stops=(), first_step=None,
           min_step=None, max_steps=400, newton_iter=15, max_iter=2000, branch_end=None, arclength=True,
           previous=None):
    """Follow the solutions of ``system`` through the solved full vector ``v`` while input ``name`` moves to ``to``.

    Parameters
    ----------
    system : System
    v : array
        A solved full input vector (unknowns at a solution, inputs at their values).
    name : str
        The input that moves.
    to : float
        Where it moves to.
    rule : Quadrature
        The rule to start on (refined along the way with ``refine``).
    tol, method, newton_iter, max_iter
        The corrector's tolerance, method, Newton iterations per step (from a good prediction Newton takes a
        handful: more means the step was too long, and a shorter one is cheaper than a long search) and fixed-point
        iterations (method 'auto' or 'fixed-point').
    unknowns, target
        The equations followed (:meth:`~replica.solvers.system.System.solve`): by default the stationarity
        equations in the order parameters; with ``target=(observable, value)`` one more input among ``unknowns``
        (a threshold line).
    guess : callable, optional
        ``guess(w, k, value)``: a caller's map of a solution ``w`` to a guess at input k = value (kept behind the
        tangent predictor: near the edge of a domain a map that keeps the distance to it stays defined).
    reseed : callable, optional
        ``reseed(w)``: a caller's own start at the inputs of ``w``, where every prediction leaves the domain.
    refine : Refinement, optional
        Whether a stalled march may refine its rule.
    crossings : sequence of (observable, value)
        Located where they are met (``Branch.events``); with ``stop_at_crossing`` the branch ends at the first.
    stops : sequence of float
        Input values (between the start and ``to``) at which the branch must put a point (``Branch.stops``).
    first_step, min_step, max_steps
        The first step (default: an eighth of the span; the span itself asks for one direct step first), the
        smallest (default 1e-7 of the span) and the number of steps.
    branch_end : callable, optional
        ``branch_end(w)`` -> why the branch ends at the stalled point ``w`` (status ENDED), or None.
    arclength : bool
        Try pseudo-arclength steps past a stall (and locate a fold).
    previous : array, optional
        The solution before ``v`` on the same line (it differs from ``v`` in input ``name`` only), for the secant.

    Returns
    -------
    Branch
    """
    if target is not None and crossings:
        raise ValueError("crossings are located on the stationarity equations alone, not on an augmented system")
    f = _Follower(system, name, rule, tol, unknowns, target, method, guess, reseed, refine, crossings, newton_iter,
                  max_iter, branch_end)
    k = f.k
    v = np.array(v, dtype=float)
    start = v[k]
    span = to - start
    step = first_step if first_step is not None else span / 8
    min_step = min_step if min_step is not None else 1e-7 * max(abs(span), abs(to), 1e-3)
    direction = math.copysign(1.0, span) if span else 1.0
    branch = Branch(name, [Point(v, f.rule)])
    stop_points = {s: branch.points[0] for s in stops if s == start}
    pending = sorted((s for s in stops if (s - start) * direction > 0), key=lambda s: (s - start) * direction)
    prev, result = (None if previous is None else np.array(previous, dtype=float)), None
    values = f.crossing_values(v)
    since = 0  # the creep test looks at the points since the rule last changed
    for _ in range(max_steps):
        if v[k] == to:
            break
        landing = pending[0] if pending else to  # the next value a point must land on
        h = math.copysign(min(abs(step), abs(landing - v[k])), landing - v[k])
        result, w = f.step(v, prev, v[k] + h)
        if not result.converged:
            step = h / 2
            if abs(step) >= min_step:
                continue
            finer = f.refine.finer(system, v, f.rule, unknowns, target) if f.refine is not None else None
            if finer is not None:  # coarse nodes: refine the levels that carry the error, go on from here
                f.rule, step = finer, h
                continue
            fold = None
            if arclength:
                scale = np.maximum(1.0, np.abs(v[np.append(f.idx, k)]))
                last = (v - prev)[np.append(f.idx, k)] / scale if prev is not None else None
                ds = float(np.linalg.norm(last)) if last is not None else abs(span) / 8 / scale[-1]
                w, fold, result = f.past_stall(v, to, ds, 20)
                if w is not None and (w[k] - landing) * direction > 0:  # past the landing value: land on it
                    guess = v + (landing - v[k]) / (w[k] - v[k]) * (w - v)
                    guess[k] = landing
                    result, w = f.correct(guess)
                    w = w if result.converged else None
            else:
                w = None
            if fold is not None:
                branch.events.append(fold)
                branch.status = Status.FOLD
                branch.message = (f"the branch turns back at a fold (spinodal) at {name} = "
                                  f"{fold.point.v[k]:.10g}: no solution on it beyond")
                break
            if w is None:
                branch.status, branch.message = f.end_reason(v, result)
                break
            step = h
        else:
            step = 1.5 * h
        new_values = f.crossing_values(w)
        for crossing, a, b in zip(f.crossings, values, new_values):
            if a * b < 0 or b == 0 != a:
                branch.events.append(f.locate_crossing(v, w, a, b, crossing))
        values = new_values
        prev, v = v, w
        branch.points.append(Point(v, f.rule, result))
        if len(branch.points) - since > CREEP_STEPS and abs(v[k] - branch.points[-1 - CREEP_STEPS].v[k]) < \
                CREEP_FRACTION * abs(span):
            # the branch creeps towards a value it does not pass: for lack of nodes (each step then converges only
            # every other time, the step never reaching its minimum), or at its end (q -> 1 at a capacity)
            finer = f.refine.finer(system, v, f.rule, unknowns, target) if f.refine is not None else None
            if finer is None:
                branch.status, branch.message = f.end_reason(v, result)
                if branch.status != Status.ENDED:
                    branch.status = Status.STALLED
                    branch.message = (f"the branch creeps towards {name} = {v[k]:.8g} without passing it ({CREEP_STEPS}"
                                      f" steps moved {name} by less than {CREEP_FRACTION:g} of the span)")
                break
            f.rule, since = finer, len(branch.points)
        if pending and v[k] == pending[0]:
            stop_points[pending.pop(0)] = branch.points[-1]
        if stop_at_crossing and branch.events:
            break
    if branch.status == Status.CONVERGED and v[k] != to and not (stop_at_crossing and branch.events):
        branch.status, branch.message = f.end_reason(v, None)
        if branch.status != Status.ENDED:
            branch.status = Status.MAX_ITER
            branch.message = f"the march ran out of steps ({max_steps}) at {name} = {v[k]:.8g}"
    branch.result = result
    branch.stops = [stop_points.get(s) for s in stops]
    return branch
