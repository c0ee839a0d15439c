"""Code generation: lists of sympy expressions with Gaussian averages -> a cached module of numba functions.

Every function takes ``(v, nodes)``: the values of the input symbols in a fixed order, and the tuple of node arrays
of a :class:`~replica.solvers.quadrature.Quadrature` (:meth:`~replica.solvers.quadrature.Quadrature.arrays`; the
names the code gives them: :data:`NODE_ARRAYS`). It returns a float64 array with one entry per expression.

Each average becomes a quadrature loop; averages over the same measure at the same nesting level share one loop;
nested averages become nested loops (a product rule); a uniform average over [0, 1] (a Gaussian average over a
finite interval, :func:`~replica.equations.vocabulary.gauss_integral`) loops over the Gauss–Legendre nodes; an average
over K i.i.d. variables of a symmetric integrand becomes K loops over node multisets (N^K/K! points). Inside a loop,
subexpressions that do not depend on the integration variable are hoisted out of it, and common subexpressions are
eliminated (``sympy.cse``).

The module is written to a cache directory under a hash of the expressions, the code generator and the special-function
kernels, and compiled by numba with ``cache=True``: a fresh process with a warm cache neither re-derives nor recompiles.

With ``REPLICA_PARALLEL=1`` in the environment, the outermost loop of every nested average (a loop with a loop
inside) in ``values`` and ``res_jac`` (``PARALLEL_FUNCTIONS``) is a ``numba.prange`` over the cores. Its body is
a serial function of its own that writes each node's contributions into a row of a table, summed in node order
after the loop: the serial loop's sums, to the last bit. Parallel modules are cached under their own key. Loops over
node multisets (i.i.d. averages) stay serial: their triangular iteration space would load one thread.
"""
import hashlib
import importlib.util
import os
import re
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import sympy as sp
from replica.equations.vocabulary import SPECIAL_FUNCTIONS, AtMax, Average, IidAverage, UnitAverage
from sympy.printing.pycode import PythonCodePrinter

from . import special as _special

__all__ = ["cache_dir", "compile_module", "generate_source", "heads_nest", "module_key", "CacheError"]

CODEGEN_VERSION = "6"
# the node arrays of a Quadrature (Quadrature.arrays), as every generated function unpacks its ``nodes`` tuple: the
# outer Gaussian rule, the upper-tail rule, the inner Gaussian rule, Gauss–Legendre, the nest's outer rule, the
# Gaussian rule inside truncated averages; x nodes, w weights
NODE_ARRAYS = ("gx", "gw", "tx", "tw", "ix", "iw", "lx", "lw", "nx", "nw", "jx", "jw")
# a truncated average's boundary layer of width w (``E_trunc(..., layer=w)``) gets its own Gauss–Legendre nodes on
# [a, a + LAYER_SPAN w] when that is shorter than LAYER_MAX (wider, the upper-tail rule resolves it as it is)
LAYER_SPAN, LAYER_MAX = 8, 4.0
# the functions that run in parallel with REPLICA_PARALLEL=1: those a solve evaluates at every iteration and every
# node-doubling estimate (the observables, their gradients and the parameter derivatives are evaluated once or a few
# times per point, and a parallel function costs seconds more to compile)
PARALLEL_FUNCTIONS = ("values", "res_jac")


class CacheError(RuntimeError):
    """The compile cache cannot be used (its path is a file, say); the message names it."""


_cache = []  # the directory in use, once chosen (a temporary one where the configured one is not writable)


def cache_dir():
    """Where generated modules live: ``$REPLICA_CACHE_DIR``, else ``$XDG_CACHE_HOME/replica``, else ~/.cache/replica.
    A path that is a file is a :class:`CacheError`; a directory that cannot be created or written falls back to a
    temporary one for this process, with a one-line warning."""
    env = os.environ.get("REPLICA_CACHE_DIR")
    if env:
        wanted = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        wanted = Path(base) / "replica"
    if _cache and _cache[0][0] == wanted:
        return _cache[0][1]
    if wanted.exists() and not wanted.is_dir():
        raise CacheError(f"the compile cache {wanted} is a file, not a directory: remove it or set REPLICA_CACHE_DIR "
                         "to a directory")
    usable = wanted
    try:
        wanted.mkdir(parents=True, exist_ok=True)
        if not os.access(wanted, os.W_OK | os.X_OK):
            raise PermissionError(wanted)
    except OSError:
        usable = Path(tempfile.mkdtemp(prefix="replica-cache-"))
        print(f"replica: warning: the compile cache {wanted} is not writable; compiling into {usable} for this "
              "process (set REPLICA_CACHE_DIR to a writable directory to keep it)", file=sys.stderr, flush=True)
    _cache[:] = [(wanted, usable)]
    return usable


def parallel():
    """Whether nested averages are compiled to run on all cores (``REPLICA_PARALLEL`` set and not 0)."""
    return os.environ.get("REPLICA_PARALLEL", "0") not in ("", "0")


def module_key(text):
    """Hash of a model's declaration together with everything that turns it into code: the derivation rules
    (vocabulary, model), the code generator and the special-function kernels. Editing any of them invalidates the
    cached modules."""
    from replica.equations import model as _model
    from replica.equations import vocabulary as _vocabulary

    h = hashlib.sha256(CODEGEN_VERSION.encode())
    for module in (_vocabulary, _model, sys.modules[__name__], _special):
        h.update(Path(module.__file__).read_bytes())
    h.update(text.encode())
    h.update(b"parallel" if parallel() else b"")
    return h.hexdigest()[:20]


class _Printer(PythonCodePrinter):
    def __init__(self, names):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self._names = names

    def _print_Symbol(self, expr):
        return self._names.get(expr, super()._print_Symbol(expr))

    def _print_Pow(self, expr, rational=False):
        # numba raises ZeroDivisionError for 0.0 ** (negative integer); 1.0/x**n gives inf, which the solvers report
        if expr.exp.is_Integer and expr.exp < 0:
            return "(1.0/%s)" % self.parenthesize(sp.Pow(expr.base, -expr.exp, evaluate=False), 0)
        return super()._print_Pow(expr, rational=rational)


def _special_printer(name):
    def method(self, expr):
        return "_sp.%s(%s)" % (name, ", ".join(self._print(a) for a in expr.args))

    return method


for _f in SPECIAL_FUNCTIONS:
    setattr(_Printer, "_print_" + _f.__name__, _special_printer(_f.__name__))
# any number of terms: passed as one tuple
_Printer._print_logsumexp = lambda self, e: "_sp.logsumexp((%s,))" % ", ".join(self._print(a) for a in e.args)
_Printer._print_Split = lambda self, e: self._print(e.args[0])  # a split point is its value
_AVERAGES = (Average, IidAverage, UnitAverage)
_UNIT = sp.Symbol("unit")  # the grouping key of uniform averages over [0, 1]


@lru_cache(maxsize=None)
def _free(e):
    """``e.free_symbols``, memoized all the way down (sympy recomputes them at every node it is asked of: the hoisting
    asks it of every subexpression of every integrand). Bound variables of averages and maxima are left out."""
    if e.is_Symbol:
        return frozenset((e,))
    if e.is_Atom:
        return frozenset()
    if isinstance(e, Average):
        layer = _free(e.layer) if e.layer is not None else frozenset()
        return (_free(e.integrand) - {e.variable}) | _free(e.lower) | layer
    if isinstance(e, UnitAverage):
        return _free(e.integrand) - {e.variable}
    if isinstance(e, IidAverage):
        return _free(e.integrand) - set(e.variables)
    if isinstance(e, AtMax):
        g, f, u, start = e.args
        return (_free(g) | _free(f) | _free(start)) - {u}
    return frozenset().union(*(_free(a) for a in e.args))


@lru_cache(maxsize=None)
def _has_average(e):
    """Whether an average sits anywhere in ``e`` (memoized: the hoisting asks it of every subexpression)."""
    return isinstance(e, _AVERAGES) or any(_has_average(a) for a in e.args)


def heads_nest(avg):
    """Whether a truncated or a uniform average sits inside ``avg``'s integrand (at any depth): an outermost such
    ``avg`` runs on the quadrature's ``nest`` rule."""
    return any(isinstance(a, UnitAverage) or isinstance(a, Average) and a.truncated
               for a in sp.preorder_traversal(avg.integrand))


def _outer_averages(exprs):
    """The averages in ``exprs`` that are not inside another average, in a deterministic order."""
    found = {}

    def visit(e):
        if isinstance(e, _AVERAGES):
            found.setdefault(e, None)
            return
        for a in e.args:
            visit(a)

    for e in exprs:
        visit(e)
    return list(found)


class _Emitter:
    def __init__(self, names, prange=False, prefix="", unpack=()):
        self.lines = []
        self.printer = _Printer(names)
        self._count = 0
        self.prange = prange  # may the outermost loops of nested averages run in parallel
        self.parallel = False  # did they
        self.prefix = prefix  # of the functions outlined from parallel loops (the emitted function's name)
        self.unpack = list(unpack)  # the lines that read the inputs off v, for the outlined functions
        self.outlined = []  # their lines
        self.under_truncated = False  # is the code being emitted inside a truncated average's loop

    def inner_rule(self):
        """The node arrays of a nested plain average: the trunc_inner rule under a truncated average, else the inner."""
        return ("jx", "jw") if self.under_truncated else ("ix", "iw")

    def fresh(self, prefix):
        self._count += 1
        return sp.Symbol(f"{prefix}{self._count}")

    def code(self, e):
        return self.printer.doprint(e)

    def assign(self, exprs, indent):
        """CSE ``exprs`` (average-free), emit the shared assignments, return the reduced expressions."""
        replacements, reduced = sp.cse(exprs, symbols=_Fresh(self, "c"), order="none")
        pad = "    " * indent
        for sym, val in replacements:
            self.lines.append(f"{pad}{sym} = {self.code(val)}")
        return reduced

    def define(self, pairs, indent):
        """Emit ``name = value`` for each (name, average-free value) pair, CSE'd together."""
        names, values = zip(*pairs)
        for name, val in zip(names, self.assign(list(values), indent)):
            self.lines.append(f"{'    ' * indent}{name} = {self.code(val)}")

    def hoist(self, e, variant, table):
        """Replace maximal subexpressions of ``e`` free of ``variant`` symbols (and of averages) by symbols; a
        maximum free of them is hoisted too (its ascent then runs once, outside the loop: :meth:`define_hoisted`)."""
        if e.is_Atom or isinstance(e, _AVERAGES):
            return e
        if not (_free(e) & variant) and not _has_average(e):
            if e not in table:
                table[e] = self.fresh("h")
            return table[e]
        if isinstance(e, AtMax):
            return e
        if e.is_Add or e.is_Mul:  # the terms (factors) free of the loop's variables, gathered and hoisted as one
            free = [a for a in e.args if not (_free(a) & variant)]
            inv = e.func(*free) if free else e.func.identity
            head = inv
            if not (inv.is_Atom or _has_average(inv)):
                if inv not in table:
                    table[inv] = self.fresh("h")
                head = table[inv]
            rest = [self.hoist(a, variant, table) for a in e.args if _free(a) & variant]
            return e.func(head, *rest)
        return e.func(*[self.hoist(a, variant, table) for a in e.args])

    def define_hoisted(self, table, indent):
        """Emit the hoisted subexpressions of ``table`` (value -> symbol), their maxima first."""
        if table:
            values = self.maxima(list(table), indent)
            self.define(list(zip(table.values(), values)), indent)

    def level(self, exprs, indent, variant):
        """Emit the quadrature loops for the outer averages of ``exprs``; return ``exprs`` with each average replaced
        by its accumulator.

        A plain Gaussian average is one loop over the Gaussian rule; a uniform one over [0, 1]
        (:class:`~replica.equations.vocabulary.UnitAverage`) one loop over the Gauss–Legendre rule. A truncated one,
        E_{x>a}[f], is one loop over the upper-tail rule when a >= 0; when a < 0 it is computed as
        (int_a^0 Dx f + E_{x>0}[f] / 2) / H(a), a Gauss–Legendre loop over [max(a, -10), 0] and one over the tail rule
        at 0: no rule maps the bulk of the Gaussian, and none samples f where x < a (where f may have a kink the
        measure never sees). A declared boundary layer of width w adds a Gauss–Legendre loop over [a, b],
        b = a + LAYER_SPAN w, in front: E_{x>a}[f] = (int_a^b Dx f)/H(a) + (H(b)/H(a)) E_{x>b}[f], the last term as
        above (when b - a < LAYER_MAX). These pieces run in one loop, the body written once (:meth:`truncated_loop`).
        A plain average with a declared layer runs on a composite rule (:meth:`split_at_layer`)."""
        averages = _outer_averages(exprs)
        if not averages:
            return self.maxima(exprs, indent)
        groups, iid, layered = {}, {}, {}
        for avg in averages:
            if isinstance(avg, IidAverage):
                iid.setdefault(avg.variables, []).append(avg)
            elif isinstance(avg, UnitAverage):
                groups.setdefault((_UNIT, None, False), []).append(avg)
            elif not avg.truncated and avg.layer is not None:
                layered.setdefault(avg.layer, []).append(avg)
            else:  # an outermost plain average holding a truncated one runs on the nest's outer rule
                nest = not avg.truncated and not variant and heads_nest(avg)
                groups.setdefault((avg.lower, avg.layer, nest), []).append(avg)
        acc_of = {}
        for members in iid.values():
            acc_of.update(self.iid_loops(members, indent, variant))
        for layer, members in layered.items():
            acc_of.update(self.split_at_layer(members, layer, indent, variant))
        for (lower, layer, nest), members in groups.items():
            node, weight = self.fresh("x"), self.fresh("w")
            accs = [self.fresh("A") for _ in members]
            acc_of.update(zip(members, accs))
            inner_variant = set(variant) | {node}
            table = {}
            # what does not depend on this loop's node is computed once, before the loop
            integrands = [self.hoist(m.integrand.xreplace({m.variable: node}), {node}, table) for m in members]
            lo = span = None
            if lower not in (sp.S.NegativeInfinity, _UNIT):
                lo = self.fresh("lo")
                self.define_hoisted({lower: lo}, indent)
            if layer is not None:
                span = self.fresh("ly")
                self.define_hoisted({LAYER_SPAN * layer: span}, indent)
            self.define_hoisted(table, indent)
            # the loop body, emitted once at indentation 0 and placed in every loop below
            outer, self.lines = self.lines, []
            under, self.under_truncated = self.under_truncated, self.under_truncated or lo is not None
            body = self.level(integrands, 1, inner_variant)
            self.under_truncated = under
            for acc, val in zip(accs, self.assign(body, 1)):
                self.lines.append(f"    {acc} += {weight} * ({self.code(val)})")
            body_lines, self.lines = self.lines, outer

            # the outermost loop of a nest over the cores (a reduction into the accumulators), where asked for
            spread = self.prange and not variant and any(line.lstrip().startswith("for ") for line in body_lines)
            self.parallel |= spread

            def loop(at, n, node_value, weight_value):
                idx = self.fresh("i")
                p = "    " * at
                values = (node_value.format(i=idx), f"{weight_value}[{idx}]")
                if spread:
                    self.outline(idx, n, values, (node, weight), table, accs, body_lines, p)
                    return
                self.lines.extend(f"{p}{a} = 0.0" for a in accs)
                self.lines.append(f"{p}for {idx} in range({n}.shape[0]):")
                self.lines += [f"{p}    {node} = {values[0]}", f"{p}    {weight} = {values[1]}"]
                self.lines.extend(p + line for line in body_lines)

            # nested averages use the inner rule (their own under a truncated average), the outermost average of a
            # nest with a truncated level its own
            gx, gw = self.inner_rule() if variant else ("nx", "nw") if nest else ("gx", "gw")
            if lower is _UNIT:  # the mean over [0, 1] on the Gauss–Legendre nodes
                loop(indent, "lx", "0.5 * (1.0 + lx[{i}])", "lw")
                continue
            if lo is None:
                loop(indent, gx, gx + "[{i}]", gw)
                continue
            self.truncated_loop(accs, body_lines, node, weight, lo, span, indent)
        return self.maxima([e.xreplace(acc_of) for e in exprs], indent)

    def outline(self, idx, n, values, variables, table, accs, body_lines, pad):
        """A parallel loop over the nodes of rule ``n`` whose body (``body_lines``, at the node and weight
        ``variables``) is a serial function of its own: it writes a node's contributions to the accumulators
        ``accs`` into a row of a table, which is summed in node order after the loop (the serial loop's order: the
        same sums to the last bit). numba's parallel transformation costs time in proportion to the loop it
        rewrites, and with one reduction per accumulator several times the serial compilation of the same code."""
        name, rows = f"_{self.prefix}_node{self._count}", self.fresh("P")
        args = ", ".join(["v", "nodes", *(str(h) for h in table.values())])
        self.outlined += ["", "@_jit", f"def {name}(row, {', '.join(map(str, variables))}, {args}):",
                          f"    {', '.join(NODE_ARRAYS)} = nodes", *self.unpack, *(f"    {a} = 0.0" for a in accs),
                          *body_lines, *(f"    row[{k}] = {a}" for k, a in enumerate(accs))]
        self.lines.append(f"{pad}{rows} = np.empty(({n}.shape[0], {len(accs)}))")
        self.lines.append(f"{pad}for {idx} in numba.prange({n}.shape[0]):")
        self.lines.append(f"{pad}    {name}({rows}[{idx}], {', '.join(values)}, {args})")
        self.lines.extend(f"{pad}{a} = 0.0" for a in accs)
        self.lines.append(f"{pad}for {idx} in range({n}.shape[0]):")
        self.lines.extend(f"{pad}    {a} += {rows}[{idx}, {k}]" for k, a in enumerate(accs))

    def truncated_loop(self, accs, body_lines, node, weight, lo, span, indent):
        """Emit E_{x>lo}[f] (``body_lines`` accumulate ``weight * f(node)`` into ``accs``) as one loop over three
        pieces, the body written once: the declared boundary layer [lo, lo + span] on the Gauss–Legendre nodes (when
        narrow, span < LAYER_MAX; ``span`` None: no layer), the bulk [start, 0] on the Gauss–Legendre nodes (when the
        start, past the layer, is negative), and the upper tail from max(start, 0) on its own rule; each piece's
        weights carry its normalization, E_{x>lo} = int_lo^start Dx f / H(lo) + (H(start)/H(lo)) E_{x>start}[f] and
        E_{x>s}[f] = (int_s^0 Dx f + E_{x>0}[f]/2) / H(s) for s < 0."""
        pad = "    " * indent
        start, ratio, width, tail, c_bulk, c_tail, piece, count, i = (
            self.fresh(p) for p in ("st", "ra", "wd", "ta", "cb", "ct", "pc", "nc", "i"))
        layer = self.fresh("hl")
        if span is None:
            self.lines += [f"{pad}{layer} = False", f"{pad}{start} = {lo}"]
        else:
            self.lines += [f"{pad}{layer} = {span} < {LAYER_MAX!r}",
                           f"{pad}{start} = {lo} + {span} if {layer} else {lo}"]
        self.lines += [
            f"{pad}{ratio} = math.exp(_sp.logH({start}) - _sp.logH({lo})) if {layer} else 1.0",
            f"{pad}if {start} < 0.0:",
            f"{pad}    {width} = -max({start}, -_sp.GAUSS_EDGE)",
            f"{pad}    {tail} = 0.0",
            f"{pad}    {c_bulk} = {ratio} / _sp.H({start})",
            f"{pad}    {c_tail} = 0.5 * {c_bulk}",
            f"{pad}else:",
            f"{pad}    {width} = 0.0",
            f"{pad}    {tail} = {start}",
            f"{pad}    {c_bulk} = 0.0",
            f"{pad}    {c_tail} = {ratio}",
        ]
        self.lines.extend(f"{pad}{a} = 0.0" for a in accs)
        self.lines += [
            f"{pad}for {piece} in range(3):",
            f"{pad}    if {piece} == 0:",
            f"{pad}        {count} = lx.shape[0] if {layer} else 0",
            f"{pad}    elif {piece} == 1:",
            f"{pad}        {count} = lx.shape[0] if {width} > 0.0 else 0",
            f"{pad}    else:",
            f"{pad}        {count} = tx.shape[0]",
            f"{pad}    for {i} in range({count}):",
            f"{pad}        if {piece} == 0:",
            f"{pad}            {node} = {lo} + 0.5 * {span or 0.0} * (1.0 + lx[{i}])",
            f"{pad}            {weight} = {span or 0.0} * _sp.GH({lo}) "
            f"* math.exp(-0.5 * ({node} - {lo}) * ({node} + {lo})) * lw[{i}]",
            f"{pad}        elif {piece} == 1:",
            f"{pad}            {node} = -0.5 * {width} * (1.0 - lx[{i}])",
            f"{pad}            {weight} = {c_bulk} * {width} * _sp.G({node}) * lw[{i}]",
            f"{pad}        else:",
            f"{pad}            {node} = _sp.tail_inverse({tail}, tx[{i}])",
            f"{pad}            {weight} = {c_tail} * tw[{i}]",
        ]
        self.lines.extend(pad + "    " + line for line in body_lines)

    def split_at_layer(self, members, layer, indent, variant):
        """Emit plain averages whose integrands turn in a boundary layer of width w around z = c (``layer = (c, w)``):
        where the layer is narrow (LAYER_SPAN w <= LAYER_MAX) a composite rule, the Gauss–Legendre nodes (the
        ``trunc`` level) on each of [-E, c - s], [c - s, c], [c, c + s], [c + s, E] with s = LAYER_SPAN w and E the
        Gaussian's edge (the break points clamped to [-E, E]), the Gaussian density in the weights: the layer gets
        two segments of its own, either side's smooth part one; where it is wide (beyond 2 LAYER_MAX), the plain rule;
        in between, the two blended with a smoothstep weight of the span, so that the discretized equations stay
        continuous in the parameters (a sharp switch between two rules leaves Newton toggling across it, their roots
        a quadrature error apart). Returns {average: accumulator}."""
        c, w = layer
        pad = "    " * indent
        accs = [self.fresh("A") for _ in members]
        split_accs, plain_accs = [self.fresh("S") for _ in members], [self.fresh("P") for _ in members]
        span, centre, blend = self.fresh("ly"), self.fresh("lc"), self.fresh("bl")
        self.define_hoisted({LAYER_SPAN * w: span}, indent)
        self.lines.append(f"{pad}{blend} = min(max(({span} - {LAYER_MAX!r}) / {LAYER_MAX!r}, 0.0), 1.0)")
        self.lines.append(f"{pad}{blend} = {blend} * {blend} * (3.0 - 2.0 * {blend})")
        self.lines.extend(f"{pad}{s} = 0.0" for s in split_accs + plain_accs)
        # the composite rule, where blend < 1: one loop over the four segments, one over the Legendre nodes
        self.lines.append(f"{pad}if {blend} < 1.0:")
        inner = pad + "    "
        self.define_hoisted({c: centre}, indent + 1)
        edges = [self.fresh("e") for _ in range(5)]
        clamp = "min(max({}, -_sp.GAUSS_EDGE), _sp.GAUSS_EDGE)"
        self.lines.append(f"{inner}{edges[0]} = -_sp.GAUSS_EDGE")
        self.lines.append(f"{inner}{edges[1]} = " + clamp.format(f"{centre} - {span}"))
        self.lines.append(f"{inner}{edges[2]} = " + clamp.format(centre))
        self.lines.append(f"{inner}{edges[3]} = " + clamp.format(f"{centre} + {span}"))
        self.lines.append(f"{inner}{edges[4]} = _sp.GAUSS_EDGE")
        node, weight, seg, i, lo_, hi_ = (self.fresh(p) for p in ("x", "w", "g", "i", "a", "b"))
        table = {}
        integrands = [self.hoist(m.integrand.xreplace({m.variable: node}), {node}, table) for m in members]
        self.define_hoisted(table, indent + 1)
        outer, self.lines = self.lines, []
        body = self.level(integrands, 3, set(variant) | {node})
        for acc, val in zip(split_accs, self.assign(body, 3)):
            self.lines.append(f"{'    ' * 3}{acc} += {weight} * ({self.code(val)})")
        body_lines, self.lines = self.lines, outer
        self.lines.append(f"{inner}for {seg} in range(4):")
        self.lines.append(f"{inner}    {lo_} = ({', '.join(map(str, edges[:4]))},)[{seg}]")
        self.lines.append(f"{inner}    {hi_} = ({', '.join(map(str, edges[1:]))},)[{seg}]")
        self.lines.append(f"{inner}    for {i} in range(lx.shape[0]):")
        self.lines.append(f"{inner}        {node} = {lo_} + 0.5 * ({hi_} - {lo_}) * (1.0 + lx[{i}])")
        self.lines.append(f"{inner}        {weight} = ({hi_} - {lo_}) * _sp.G({node}) * lw[{i}]")
        self.lines.extend(pad + line for line in body_lines)
        # the plain rule, where blend > 0
        self.lines.append(f"{pad}if {blend} > 0.0:")
        plain = [Average(m.integrand, m.variable) for m in members]
        self.define(list(zip(plain_accs, self.level(plain, indent + 1, variant))), indent + 1)
        self.lines.extend(f"{pad}{a} = (1.0 - {blend}) * {s} + {blend} * {p}"
                          for a, s, p in zip(accs, split_accs, plain_accs))
        return dict(zip(members, accs))

    def iid_loops(self, members, indent, variant):
        """Emit the loops of averages over the same K i.i.d. Gaussian variables of symmetric integrands: K nested
        loops over non-decreasing node indices i_1 <= ... <= i_K, each multiset weighted by the product of its
        weights times its number of orderings K!/(r_1! r_2! ...), built up level by level (a run of equal indices
        of length r divides by r). Before the loop over z_l, what depends only on z_1..z_{l-1} is hoisted. Returns
        {average: accumulator}."""
        zs = members[0].variables
        k = len(zs)
        nodes = [self.fresh("x") for _ in zs]
        idx, wts, runs, mults = ([self.fresh(p) for _ in zs] for p in ("i", "w", "r", "m"))
        accs = [self.fresh("A") for _ in members]
        # nested inside another average: an inner rule; the head of a nest: the nest rule
        gx, gw = self.inner_rule() if variant else ("nx", "nw") if any(map(heads_nest, members)) else ("gx", "gw")
        integrands = [m.integrand.xreplace(dict(zip(zs, nodes))) for m in members]
        self.lines.extend(f"{'    ' * indent}{a} = 0.0" for a in accs)
        for level in range(k):
            table = {}
            integrands = [self.hoist(f, set(nodes[level:]), table) for f in integrands]
            self.define_hoisted(table, indent)
            pad = "    " * indent
            i, w, r, m = idx[level], wts[level], runs[level], mults[level]
            if level == 0:
                self.lines.append(f"{pad}for {i} in range({gx}.shape[0]):")
                self.lines += [f"{pad}    {w} = {gw}[{i}]", f"{pad}    {m} = 1.0", f"{pad}    {r} = 1"]
            else:
                i0, w0, r0, m0 = idx[level - 1], wts[level - 1], runs[level - 1], mults[level - 1]
                self.lines.append(f"{pad}for {i} in range({i0}, {gx}.shape[0]):")
                self.lines += [f"{pad}    {w} = {w0} * {gw}[{i}]",
                               f"{pad}    {r} = {r0} + 1 if {i} == {i0} else 1",
                               f"{pad}    {m} = {m0} * {level + 1}.0 / {r}"]
            self.lines.append(f"{pad}    {nodes[level]} = {gx}[{i}]")
            indent += 1
        body = self.level(integrands, indent, set(variant) | set(nodes))
        for acc, val in zip(accs, self.assign(body, indent)):
            self.lines.append(f"{'    ' * indent}{acc} += {wts[-1]} * {mults[-1]} * ({self.code(val)})")
        return dict(zip(members, accs))

    def maxima(self, exprs, indent):
        """Emit a Newton ascent for every maximum (:class:`AtMax`) in ``exprs``; return ``exprs`` with each
        ``AtMax(g, f, u, start)`` replaced by g at the maximizer. One maximization per distinct (f, u, start).

        Steps: Newton where f_uu < 0, else the gradient step u + f_u; halved until f does not decrease (Newton steps
        below 1e-6 (1 + |u|) are taken as they are: f cannot resolve them). Converged when the step is below
        1e-12 (1 + |u|); otherwise (or at once where f or the step is not finite) the maximizer is NaN, which makes the
        equations non-finite and the solver report it."""
        found = {}
        for e in exprs:
            for node in sp.preorder_traversal(e):
                if isinstance(node, AtMax):
                    found.setdefault(node.args[1:], []).append(node)
        if not found:
            return list(exprs)
        pad = "    " * indent
        replace = {}
        for (f, u, start), nodes in found.items():
            t, t_new, step, fv, fn, ok = (self.fresh(p) for p in ("t", "tn", "st", "fv", "fn", "ok"))
            f_u = f.diff(u)
            table = {}
            f_t, fu_t, fuu_t = (self.hoist(e.xreplace({u: t}), {t}, table) for e in (f, f_u, f_u.diff(u)))
            self.define_hoisted(table, indent)
            self.define([(t, start)], indent)
            self.define([(fv, f_t)], indent)
            self.lines.append(f"{pad}{ok} = False")
            self.lines.append(f"{pad}for _ in range(200):")
            g1, g2 = self.assign([fu_t, fuu_t], indent + 1)
            self.lines.append(f"{pad}    {step} = -({self.code(g1)}) / ({self.code(g2)}) if ({self.code(g2)}) < 0.0 "
                              f"else {self.code(g1)}")
            # a non-finite value or step (parameters outside f's domain) cannot be mended by halving: give up at once
            self.lines.append(f"{pad}    if not (math.isfinite({step}) and math.isfinite({fv})):")
            self.lines.append(f"{pad}        break")
            self.lines.append(f"{pad}    for _ in range(80):")
            self.lines.append(f"{pad}        {t_new} = {t} + {step}")
            self.define([(fn, f_t.xreplace({t: t_new}))], indent + 2)
            # small Newton steps are taken as they are: there f changes below its rounding error
            self.lines.append(f"{pad}        if {fn} >= {fv} or abs({step}) < 1e-6 * (1.0 + abs({t})) and "
                              f"({self.code(g2)}) < 0.0:")
            self.lines.append(f"{pad}            break")
            self.lines.append(f"{pad}        {step} *= 0.5")
            self.lines.append(f"{pad}    {t}, {fv} = {t_new}, {fn}")
            self.lines.append(f"{pad}    if abs({step}) <= 1e-12 * (1.0 + abs({t})):")
            self.lines.append(f"{pad}        {ok} = True")
            self.lines.append(f"{pad}        break")
            self.lines.append(f"{pad}if not {ok}:")
            self.lines.append(f"{pad}    {t} = math.nan")
            for node in nodes:
                replace[node] = node.args[0].xreplace({u: t})
        return [e.xreplace(replace) for e in exprs]


class _Fresh:
    """An endless symbol generator drawing names from the emitter's counter (for sympy.cse)."""

    def __init__(self, emitter, prefix):
        self.emitter, self.prefix = emitter, prefix

    def __iter__(self):
        return self

    def __next__(self):
        return self.emitter.fresh(self.prefix)


def _identifier(name, taken):
    base = "v_" + re.sub(r"\W", "_", name)
    ident, k = base, 1
    while ident in taken:
        ident, k = f"{base}_{k}", k + 1
    taken.add(ident)
    return ident


def generate_source(inputs, bundles, header_comment="", prange=False):
    """Python/numba source for ``bundles`` (name -> list of expressions) as functions of the ``inputs`` symbols (the
    solvers of :mod:`replica.solvers.root` take them as arguments)."""
    taken = set()
    names = {s: _identifier(s.name, taken) for s in inputs}
    out = [
        f"# Generated by replica.solvers.codegen (version {CODEGEN_VERSION}). Do not edit.",
        *(f"# {line}" for line in header_comment.splitlines()),
        "import math",
        "import numba",
        "import numpy as np",
        "from replica.solvers import special as _sp",
        "",
        '_jit = numba.njit(cache=True, error_model="numpy")',
        '_pjit = numba.njit(cache=True, error_model="numpy", parallel=True)',
        "",
    ]
    unpack = [f"    {names[s]} = v[{i}]" for i, s in enumerate(inputs)]
    for fname, exprs in bundles.items():
        em = _Emitter(names, prange and fname in PARALLEL_FUNCTIONS, fname, unpack)
        exprs = [sp.sympify(e) for e in exprs]
        stray = set().union(*(e.free_symbols for e in exprs)) - set(inputs)
        if stray:
            raise ValueError(f"{fname}: expressions use symbols that are not inputs: {sorted(map(str, stray))}")
        reduced = em.assign(em.level(exprs, 1, set()), 1)
        out += em.outlined
        out += ["", "@_pjit" if em.parallel else "@_jit",
                f"def {fname}(v, nodes):", f"    {', '.join(NODE_ARRAYS)} = nodes"]
        out += unpack
        out += em.lines
        out.append(f"    out = np.empty({len(exprs)})")
        out += [f"    out[{i}] = {em.code(e)}" for i, e in enumerate(reduced)]
        out.append("    return out")
    out.append("COMPLETE = True  # the last line: a module cut short lacks it")
    return "\n".join(out) + "\n"


_loaded = {}


def compile_module(key_text, inputs, derive, label, verbose=True):
    """Load (or derive, write and load) the generated module for a declaration.

    ``key_text`` identifies the declaration; ``derive()`` returns the bundles and is called only when no module with
    that key is cached. Returns the imported module; its functions compile on first call (or load numba's cache).
    A cache entry that cannot be loaded (a generated module cut short, a garbled numba index or data file) is moved
    aside with a one-line warning naming it, and rebuilt.
    """
    key = module_key(key_text)
    if key in _loaded:
        return _loaded[key]
    directory = cache_dir()
    path = directory / f"gen_{key}.py"
    for attempt in (1, 2):
        if not path.exists():
            _write_module(path, inputs, derive, label, verbose)
        spec = importlib.util.spec_from_file_location(f"_replica_gen_{key}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # numba's cached data refer to the module by this name
        try:
            spec.loader.exec_module(module)
            if not getattr(module, "COMPLETE", False):
                raise ImportError("the module is cut short (its last line is missing)")
        except (SyntaxError, ValueError, ImportError, NameError, AttributeError) as e:
            del sys.modules[spec.name]
            if attempt == 2:
                raise
            _move_aside(path, f"{type(e).__name__}: {e}")
            continue
        break
    _heal_numba_cache(directory, path.stem)
    _loaded[key] = module
    return module


def _write_module(path, inputs, derive, label, verbose):
    t0 = time.perf_counter()
    if verbose:
        print(f"replica: deriving the equations of {label} with sympy (first use; cached afterwards)...",
              file=sys.stderr, flush=True)
    source = generate_source(inputs, derive(), header_comment=label, prange=parallel())
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(source)
    os.replace(tmp, path)  # atomic: concurrent processes see the whole module or none
    if verbose:
        print(f"replica: wrote {path.name} in {time.perf_counter() - t0:.1f} s; "
              "numba compiles it on first call (cached afterwards)...", file=sys.stderr, flush=True)


def _move_aside(path, why):
    """Rename a damaged cache file out of the way (``NAME.damaged``), with a one-line warning naming it."""
    target = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, target)
    except OSError:
        path.unlink(missing_ok=True)
        target = None
    print(f"replica: warning: the cache entry {path} could not be loaded ({why.splitlines()[0][:120]}); "
          f"{'moved to ' + target.name if target else 'removed'}, rebuilding", file=sys.stderr, flush=True)


def _heal_numba_cache(directory, stem):
    """Check numba's cache files of module ``stem`` (index and data, in ``__pycache__``): one that cannot be read
    back is moved aside, so that numba recompiles that function instead of failing on it."""
    import pickle

    cache = directory / "__pycache__"
    if not cache.is_dir():
        return
    for index in cache.glob(f"{stem}.*.nbi"):
        try:
            with open(index, "rb") as fh:
                pickle.load(fh)
                stamp, overloads = pickle.loads(fh.read())
            for data_name in overloads.values():
                data = cache / data_name
                if data.exists():
                    try:
                        pickle.loads(data.read_bytes())
                    except Exception as e:  # noqa: BLE001  (any unpickling failure: the file is damaged)
                        _move_aside(data, f"{type(e).__name__}: {e}")
                        _move_aside(index, "it refers to a damaged data file")
                        break
        except Exception as e:  # noqa: BLE001
            if index.exists():
                _move_aside(index, f"{type(e).__name__}: {e}")
