"""The ``replica`` command line: models, solve, sweep, line, capacity, max-margin, dat-line, onset, optimize,
simulate, equations, figure.

Control parameters are given as ``--NAME VALUE`` (``--alpha 0.6 --kappa 0``); in ``sweep`` a value may be a range
``START:STOP:NUM`` or a list ``a,b,c``, and in ``capacity``, ``max-margin``, ``dat-line`` and ``line`` a range gives
the threshold line. Bad input prints one line and exits with status 2; a solve that does not converge prints its
status and remedy and exits with status 1.
"""
import argparse
import json
import math
import os
import re
import sys

from replica.solvers.codegen import CacheError

from . import api
from .errors import ConvergenceError, ReplicaError
from .lines import LINE_KINDS, line
from .models import families, get_model, resolve
from .sweep import parse_grid, sweep

EXAMPLES = """examples:
  replica models
  replica solve binary-perceptron --alpha 0.6 --kappa 0 --json
  replica capacity spherical-perceptron --kappa -1 --rsb 1
  replica capacity binary-perceptron --kappa 0:2:21
  replica max-margin binary-perceptron --alpha 0.5
  replica max-margin binary-perceptron --alpha 0.05:0.8:40
  replica dat-line spherical-perceptron --kappa -1
  replica dat-line spherical-perceptron --kappa -2:-0.01:40
  replica line gm-ridge optimum --solve-for lam --alpha 0.5:4:8 --delta 0.5 --rho 0.2
  replica dat-line committee --K inf --activation relu --weights spherical
  replica onset binary-perceptron-fp --ref-kappa max --alpha-range 0.6:0.8
  replica onset binary-perceptron-ld --y inf --alpha-range 0.7:0.8
  replica solve gm-ridge --alpha 2 --delta 0.5 --rho 0.2 --lam 0.47 --json
  replica optimize gm-ridge lam --alpha 2 --delta 0.5 --rho 0.2
  replica simulate gm-ridge --alpha 2 --delta 0.5 --rho 0.2 --lam 0.47 --n 1000 --seeds 20
  replica simulate binary-perceptron --algorithm sbpi --n 1001 --alpha 0.5 --seeds 10 --local-energy 0.1,0.3
  replica enumerate binary-perceptron --n 21 --alpha 0.4 --samples 100
  replica sweep binary-perceptron --alpha 0.05:0.8:76 --kappa 0 --out sweep.csv --plot sweep.png
  replica phase-diagram binary-perceptron --alpha 0.05:1.5:60 --kappa 0:1.5:40 --lines capacity,alpha-gd \
      --workers 2 --out pd.csv --plot pd.png
  replica solve committee --K 3 --activation sign --weights binary --alpha 0.5 --json
  replica capacity committee --K inf --activation relu --weights spherical
  replica equations binary-perceptron
  replica figure list
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ReplicaError(message)


def _common(p, json_help="print one JSON object"):
    p.add_argument("--json", action="store_true", help=json_help)
    p.add_argument("--nodes", type=int, default=None,
                   help="fixed number of outer Gaussian quadrature nodes, the model's inner, truncated and nest rules "
                        "kept (default: adaptive, doubled until the node-doubling error estimate is below 1e-8)")
    p.add_argument("--rule", choices=["trapezoid", "hermite"], default=None,
                   help="rule for Gaussian averages (default: Gaussian-weighted trapezoid); fixes the nodes")
    p.add_argument("--nest", type=int, default=None,
                   help="nodes of the outer level of nested averages (a finite-K ReLU committee's K hidden fields, a "
                        "Franz-Parisi energetic term's reference field); fixes the nodes")
    p.add_argument("--trunc", type=int, default=None,
                   help="nodes of the truncated and Gauss-Legendre level (a finite-K ReLU committee's interval "
                        "levels); fixes the nodes")


def _parser():
    top = _Parser(prog="replica", description="Replica-symmetric saddle points of the statistical physics of "
                  "learning.", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version="replica " + __import__("replica").__version__)
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("models", help="list the models and their parameters")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    for name, text in [("solve", "solve the saddle point at one parameter point"),
                       ("sweep", "solve along a grid with warm-started continuation")]:
        p = sub.add_parser(name, help=text, description=text + ". Parameters: --NAME VALUE"
                           + (" (VALUE may be START:STOP:NUM or a,b,c)" if name == "sweep" else "")
                           + "; `replica models` lists each model's parameters.")
        p.add_argument("model", help="one of: " + ", ".join(api.models()))
        p.add_argument("--method", choices=["auto", "fixed-point", "newton"], default="auto",
                       help="auto (default): damped fixed point, then Newton")
        p.add_argument("--max-iter", type=int, default=2000, help="fixed-point iterations at most (default 2000)")
        _common(p, "print JSON (a list of row objects for a sweep)")
        if name == "sweep":
            p.add_argument("--out", help="write rows to FILE.csv (or .parquet) as they are computed; resumes")
            p.add_argument("--no-resume", action="store_true", help="recompute points already in --out")
            p.add_argument("--plot", help="save a plot of the sweep to FILE.png")
            p.add_argument("--until-failure", action="store_true",
                           help="stop at the first point that does not converge (a curve followed to where it ends)")

    range_help = " (a range START:STOP:NUM or a list a,b,c gives the line, traced by continuation)"
    p = sub.add_parser("capacity", help="storage capacity alpha_c(kappa)")
    p.add_argument("model")
    p.add_argument("--kappa", default=None, help="margin (default: the model's, 0)" + range_help)
    p.add_argument("--rsb", type=int, choices=[0, 1], default=0, help="0: RS (default), 1: 1RSB SAT/UNSAT line")
    _common(p, "print JSON (a list of row objects for a line)")

    p = sub.add_parser("max-margin", help="maximal margin kappa_max(alpha) (binary perceptron)")
    p.add_argument("model")
    p.add_argument("--alpha", required=True, help="load" + range_help)
    _common(p, "print JSON (a list of row objects for a line)")

    p = sub.add_parser("dat-line", help="de Almeida-Thouless load alpha_dAT: spherical-perceptron (kappa < 0), "
                                        "committee, parity")
    p.add_argument("model")
    p.add_argument("--kappa", default=None,
                   help="margin (spherical-perceptron: required, negative; committee K=inf: output margin, default 0)"
                        + range_help)
    _common(p, "print JSON (a list of row objects for a line)")

    p = sub.add_parser("phase-diagram", help="every point of a rectangle in two parameters, threshold lines on top",
                       description="a phase diagram: two parameters as ranges (--X a:b:n --Y c:d:m; the first is "
                                   "the horizontal axis), the others fixed (--NAME VALUE)")
    p.add_argument("model")
    p.add_argument("--color", default=None, help="observable to colour by (default: entropy)")
    p.add_argument("--lines", default="", help="comma-separated threshold lines: capacity, max-margin, dat-line, "
                                               "capacity-1rsb, onset, alpha-gd, zero:OBS, optimum:PARAM")
    p.add_argument("--out", help="write the grid to FILE.csv (or .parquet) as strips complete, the lines to "
                                 "FILE.lines.csv, the settings to FILE.meta.json; resumes")
    p.add_argument("--no-resume", action="store_true", help="recompute points already in --out")
    p.add_argument("--plot", help="save the picture to FILE.png")
    p.add_argument("--along", default=None, help="the axis the strips follow by continuation (default: the first)")
    p.add_argument("--workers", type=int, default=1, help="local processes for the strips (default 1)")
    p.add_argument("--scheduler", default=None, help="'local' (a Dask LocalCluster) or tcp://HOST:PORT of a Dask "
                                                     "scheduler (pip install 'replica[dask]')")
    p.add_argument("--json", action="store_true", help='print {"rows": [...], "lines": {...}}')

    p = sub.add_parser("line", help="a threshold line: " + ", ".join(LINE_KINDS) + " along a parameter given as a "
                                    "range", description="a threshold line along the one parameter given as a range "
                                    "(--NAME START:STOP:NUM), the others fixed (--NAME VALUE)")
    p.add_argument("model")
    p.add_argument("kind", help="one of: " + ", ".join(LINE_KINDS))
    p.add_argument("--observable", default=None, help="zero: the observable; optimum: the one minimized (error)")
    p.add_argument("--solve-for", default=None, help="zero: the parameter solved for (give its starting value); "
                                                     "optimum: the parameter optimized")
    p.add_argument("--value", type=float, default=0.0, help="zero: the value sought (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON list of row objects")

    p = sub.add_parser("onset", help="load at which a local-entropy curve (Franz-Parisi, or large deviations with "
                                     "--y inf) first dips at small d")
    p.add_argument("model")
    p.add_argument("--ref-kappa", default=None, help="Franz-Parisi: margin of the reference, or 'max' (default)")
    p.add_argument("--kappa", type=float, default=0.0, help="margin of the counted solutions (default 0)")
    p.add_argument("--alpha-range", help="LOW:HIGH bracket of the onset (default: the model's own, else 0.4:0.9; "
                                         "the result reports the bracket used)")
    p.add_argument("--d-min", type=float, default=None,
                   help="smallest distance searched for a dip (default: the model's own; the result reports it)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("optimize", help="minimize an observable (default: error) over one parameter",
                       description="minimize an observable over one parameter, the others given as --NAME VALUE")
    p.add_argument("model")
    p.add_argument("param", help="the parameter to optimize, e.g. lam")
    p.add_argument("--observable", default="error", help="observable to minimize (default: error)")
    p.add_argument("--bounds", default="1e-5:1e3", help="LOW:HIGH, searched on a log scale (default 1e-5:1e3)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("simulate", help="finite-N simulation: a Gaussian-mixture estimator, or a learning algorithm "
                                        "on the binary perceptron (mean and error bar)",
                       description="fit the estimator (run the algorithm) on --seeds training sets of dimension --n; "
                                   "parameters and an algorithm's hyperparameters as --NAME VALUE")
    p.add_argument("model", help="a gm-* model, or binary-perceptron")
    p.add_argument("--n", type=int, default=1000, help="dimension N (default 1000)")
    p.add_argument("--seeds", type=int, default=10, help="number of training sets (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--algorithm", default=None, help="binary-perceptron: sbpi, ce-sgd, rsgd, esgd or fbp")
    p.add_argument("--local-entropy", default="", help="binary-perceptron: distances d1,d2,... at which to count the "
                                                       "solutions around each found one (exact, N <= 25)")
    p.add_argument("--local-energy", default="", help="binary-perceptron: noise sizes s1,s2,... of the local energy")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("enumerate", help="exact enumeration of the binary perceptron's solutions (N <= 30)",
                       description="count every solution of --samples random instances: the entropy per weight with "
                                   "its standard error and the fraction of solvable instances")
    p.add_argument("model", help="binary-perceptron")
    p.add_argument("--n", type=int, required=True, help="number of weights N (odd N avoids ties at kappa = 0)")
    p.add_argument("--alpha", type=float, required=True, help="load; P = round(alpha N) patterns")
    p.add_argument("--kappa", type=float, default=0.0, help="margin (default 0)")
    p.add_argument("--samples", type=int, default=100, help="number of instances (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("abc", help="abc-parametrizations of wide MLPs (Tensor Programs IV): classify, presets",
                       description="classify an abc-parametrization (exact): stable, nontrivial, feature learning or "
                                   "kernel regime, r, r_l, c_min, width exponents")
    p.add_argument("action", choices=["classify", "preset"])
    p.add_argument("name", nargs="?", default=None, help="preset: sp, ntp, mf, mup or mup-sgd")
    p.add_argument("--a", default=None, help="classify: a_l per layer, readout last (e.g. -1/2,0,1/2)")
    p.add_argument("--b", default=None, help="classify: b_l per layer (inf for a zero-initialized readout)")
    p.add_argument("--c", default=None, help="learning-rate exponent: one number, or one per layer (classify); "
                                             "the preset's own by default")
    p.add_argument("--alpha", default=None, help="classify: the invariants alpha_l = a_l + b_l instead of --a --b")
    p.add_argument("--beta", default=None, help="classify: the invariants beta_l = 2 a_l + c_l")
    p.add_argument("--layers", type=int, default=None, help="preset: the number L of hidden layers")
    p.add_argument("--linear", action="store_true", help="the activation is linear (flagged: outside the theorems)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("warm", help="compile models ahead of time (before a long job or a cluster run)",
                       description="derive and compile models now, with a line per model: MODEL ... [--K 3 ...] (a "
                                   "family option applies to every family given) or, without a model, every listed "
                                   "model (not the families' members)")
    p.add_argument("model", nargs="*")
    p.add_argument("--workers", type=int, default=1, help="compile in this many processes (default 1)")

    p = sub.add_parser("equations", help="print the free entropy and the derived saddle-point equations (LaTeX)")
    p.add_argument("model")

    p = sub.add_parser("figure", help="redraw a figure: `replica figure list`, `replica figure NAME --out DIR`")
    p.add_argument("name", help="a recipe name, or 'list'")
    p.add_argument("--out", default="figures-out", help="directory for NAME.png and NAME.csv (default figures-out)")
    return top


def _pairs(extra, allowed, unknown):
    """The ``--name value`` (or ``--name=value``) pairs of ``extra`` as {name: value}, dashes in names read as
    underscores; a name not in ``allowed`` is refused with the message ``unknown(name, allowed names as options)``."""
    pairs, i = {}, 0
    while i < len(extra):
        token = extra[i]
        if not token.startswith("--"):
            raise ReplicaError(f"unexpected argument {token!r}; parameters are given as --NAME VALUE")
        name, _, value = token[2:].partition("=")
        name = name.replace("-", "_")
        if not value:
            if i + 1 >= len(extra):
                raise ReplicaError(f"--{name} needs a value")
            value, i = extra[i + 1], i + 1
        if name not in allowed:
            raise ReplicaError(unknown(name, ", ".join("--" + k.replace("_", "-") for k in allowed)))
        pairs[name] = value
        i += 1
    return pairs


def _model_params(spec, extra, command):
    """Parse the leftover ``--name value`` pairs against the model's declared parameters."""
    params = _pairs(extra, spec.declared,
                    lambda name, allowed: f"unknown option --{name} for {command} {spec.name}; its parameters are "
                                          f"{allowed}")
    if command == "solve":  # numbers, or a model's named values (ref_kappa 'max'), checked by the model
        return params
    return {k: v if v in spec.special.get(k, {}) else parse_grid(v, "--" + k.replace("_", "-"))
            for k, v in params.items()}


def _family_member(name, extra):
    """(spec, leftover arguments): a model family's options (--K 3 --weights binary), or a parameter's limit value
    (--y inf), are taken out of ``extra`` and select the model (:func:`replica.models.resolve`)."""
    family = families().get(name)
    keys = family.options if family is not None else get_model(name).limits
    options, rest, i = {}, [], 0
    while i < len(extra):
        key, _, value = extra[i][2:].partition("=")
        key = key.replace("-", "_")
        if extra[i].startswith("--") and key in keys:
            if not value:
                if i + 1 >= len(extra):
                    raise ReplicaError(f"--{key} needs a value")
                value, i = extra[i + 1], i + 1
            options[key] = value
        else:
            rest.append(extra[i])
        i += 1
    spec, unused = resolve(name, options)  # a parameter whose value is not a limit stays a parameter
    return spec, rest + [f"--{k.replace('_', '-')}={v}" for k, v in unused.items()]


def _quadrature(args, spec):
    """None (adaptive) unless --nodes, --rule, --nest or --trunc fixes the quadrature. --nodes sets the outer Gaussian
    nodes and --rule their rule, --nest and --trunc those levels; the model's own other rules are kept (an inner or
    nest rule tied to the outer one follows it, a trunc_inner rule tied to the inner one follows that)."""
    from replica.solvers.quadrature import Quadrature

    nest, trunc = getattr(args, "nest", None), getattr(args, "trunc", None)
    if args.nodes is None and args.rule is None and nest is None and trunc is None:
        return None
    base = spec.quadrature

    def given(value, default):
        return default if value is None else value

    gauss, rule = given(args.nodes, base.gauss), given(args.rule, base.rule)
    inner = gauss if base.inner == base.gauss else base.inner
    inner_rule = rule if base.inner_rule == base.rule else base.inner_rule
    try:
        return Quadrature(gauss=gauss, trunc=given(trunc, base.trunc), rule=rule, inner=inner, inner_rule=inner_rule,
                          nest=given(nest, gauss if base.nest == base.gauss else base.nest),
                          trunc_inner=inner if base.trunc_inner == base.inner else base.trunc_inner,
                          trunc_inner_rule=inner_rule if base.trunc_inner_rule == base.inner_rule
                          else base.trunc_inner_rule).check_size()
    except ValueError as e:
        raise ReplicaError(f"--nodes, --nest, --trunc: {e}") from None


def _emit(obj, as_json):
    if as_json:
        print(obj.to_json())
    else:
        print(obj)


def main(argv=None):
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except ConvergenceError as e:  # a computation the command depends on did not converge: not bad input
        print(f"replica: {e}", file=sys.stderr)
        return 1
    except CacheError as e:
        print(f"replica: error: {e}", file=sys.stderr)
        return 2
    except ReplicaError as e:
        print(f"replica: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("replica: interrupted; rows already computed are saved in --out (run the same command to resume)",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (replica ... | head): stop quietly, as other commands do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes stdout
        return 141


def run():
    """The ``replica`` command: :func:`main`, then an immediate exit with its status. Everything the command writes
    is flushed and closed by then; what the interpreter would do next, finalizing every compiled numba library and
    sympy's caches (a quarter of a second after an import, most of a second after a first compile), would only delay
    the prompt."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = 141
    os._exit(code or 0)


_NEGATIVE = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


def _normalized(argv):
    """``argv`` with each option's value attached (``--kappa=-2:1:61``: a value starting with '-', a negative
    number or range, is not taken for an option), refusing an option given twice (the last would win silently)."""
    out, seen, i = [], set(), 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--") and len(token) > 2:
            name = token[2:].partition("=")[0].replace("-", "_")
            if name in seen:
                raise ReplicaError(f"--{name.replace('_', '-')} is given twice; give each option once")
            seen.add(name)
            if "=" not in token and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
                out.append(f"{token}={argv[i + 1]}")
                i += 2
                continue
        out.append(token)
        i += 1
    return out


def _main(argv):
    parser = _parser()
    args, extra = parser.parse_known_args(_normalized(argv))
    if args.command == "warm":
        return _warm(args.model or [name for name in api.models() if name not in families()], extra, args.workers)
    if args.command == "abc":
        if extra:
            raise ReplicaError(f"unrecognized arguments: {' '.join(extra)}")
        return _abc(args)
    if args.command == "enumerate":
        if extra:
            raise ReplicaError(f"unrecognized arguments: {' '.join(extra)}")
        return _enumerate(args)
    if args.command not in ("models", "figure"):
        spec, extra = _family_member(args.model, extra)
    if args.command not in ("solve", "sweep", "optimize", "simulate", "line", "phase-diagram") and extra:
        raise ReplicaError(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "models":
        fams = families()
        table = {name: {"summary": fams[name].summary,
                        "options": {k: doc for k, (_, _, doc) in fams[name].options.items()}}
                 if name in fams else
                 {"summary": get_model(name).summary,
                  "parameters": {k: s.doc for k, s in get_model(name).declared.items()}}
                 for name in api.models()}
        if args.json:
            print(json.dumps(table))
        else:
            for name, info in table.items():
                kind = "parameters" if "parameters" in info else "options"
                params = ", ".join(f"--{k.replace('_', '-')} ({d})" for k, d in info[kind].items())
                print(f"{name}\n    {info['summary']}\n    {kind}: {params}")
        return 0
    if args.command == "figure":
        return _figure(args)
    if args.command == "equations":
        for line in spec.build().latex():
            print(line)
        return 0
    if args.command == "onset":
        return _onset(spec, args)
    if args.command == "optimize":
        return _optimize(spec, args, extra)
    if args.command == "simulate":
        return _simulate(spec, args, extra)
    if args.command == "line":
        return _line(spec, args.kind, _model_params(spec, extra, "line"), None, args)
    if args.command == "phase-diagram":
        return _phase_diagram(spec, args, extra)
    quad = _quadrature(args, spec)
    if args.command == "solve":
        sol = api.solve(spec.name, method=args.method, quadrature=quad, strict=False, max_iter=args.max_iter,
                        **_model_params(spec, extra, "solve"))
        _emit(sol, args.json)
        return 0 if sol.converged else 1
    if args.command == "sweep":
        return _sweep(spec, args, extra, quad)
    name, value = ("alpha", args.alpha) if args.command == "max-margin" else ("kappa", args.kappa)
    values = None if value is None else parse_grid(value, "--" + name)
    kind = "capacity-1rsb" if args.command == "capacity" and args.rsb == 1 else args.command
    if values is not None and len(values) > 1:
        return _line(spec, kind, {name: values}, quad, args)
    point = {} if values is None else {name: float(values[0])}
    thr = spec.threshold(kind)(spec, quadrature=quad, **point)
    _emit(thr, args.json)
    return 0 if thr.converged else 1


def _line(spec, kind, grid, quad, args):
    options = {}
    if getattr(args, "observable", None) is not None:
        options["observable"] = args.observable
    if getattr(args, "solve_for", None) is not None:
        options["solve_for"] = args.solve_for.replace("-", "_")
    if kind == "zero":
        options["value"] = args.value
    df = line(spec.name, kind, quadrature=quad, **options, **grid)
    failed = _print_rows(df, args.json, ("model", "message", "remedy", "criterion"), "points of the line")
    return 0 if failed == 0 else 1


def _abc(args):
    from . import parametrization as abc

    def numbers(text):
        return None if text is None else [s.strip() for s in text.split(",")]

    if args.action == "preset":
        if args.name is None or args.layers is None:
            raise ReplicaError("abc preset needs a NAME (sp, ntp, mf, mup, mup-sgd) and --layers L")
        p = abc.preset(args.name, args.layers, c=args.c, linear=args.linear)
    else:
        if args.name is not None:
            raise ReplicaError(f"abc classify takes no NAME, got {args.name!r}")
        c = numbers(args.c) or ["0"]
        p = abc.classify(a=numbers(args.a), b=numbers(args.b), c=c[0] if len(c) == 1 else c,
                         alpha=numbers(args.alpha), beta=numbers(args.beta), linear=args.linear)
    if args.json:
        print(json.dumps(_infinities_as_text(p.as_dict()), allow_nan=False))
    else:
        print(p)
    return 0


def _infinities_as_text(x):
    """JSON has no infinity: +-inf (a zero-initialized readout's exponents) as the strings 'inf', '-inf'."""
    if isinstance(x, dict):
        return {k: _infinities_as_text(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_infinities_as_text(v) for v in x]
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _warm(names, extra, workers):
    """Compile each model of ``names`` (its family's options, or a parameter's limit value, taken from ``extra``),
    in ``workers`` processes, with a line per model as it is done. Every model is resolved first, so that a bad name
    or option stops the command before anything compiles."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if workers < 1:
        raise ReplicaError(f"--workers {workers}: give a positive number of processes")
    resolved = [_family_member(name, extra) for name in names]
    unused = [token for token in resolved[0][1] if all(token in rest for _, rest in resolved)]
    if unused:
        raise ReplicaError(f"unrecognized arguments: {' '.join(unused)}")
    if workers == 1:
        for spec, _ in resolved:
            _report_warm(*_warm_spec(spec))
        return 0
    with ProcessPoolExecutor(max_workers=min(workers, len(names))) as pool:
        for future in as_completed([pool.submit(_warm_one, name, extra) for name in names]):
            _report_warm(*future.result())
    return 0


def _warm_one(name, extra):
    """:func:`_warm_spec` of a model named on the command line (in a worker process: it resolves the name again)."""
    return _warm_spec(_family_member(name, extra)[0])


def _warm_spec(spec):
    import time

    t0 = time.perf_counter()
    spec.system.warm(spec.quadrature)
    return spec.name, time.perf_counter() - t0


def _report_warm(name, seconds):
    print(f"replica: {name} compiled ({seconds:.1f} s)", file=sys.stderr, flush=True)


def _phase_diagram(spec, args, extra):
    from .phase_diagram import phase_diagram
    from .tables import check_output_path

    if args.plot:
        check_output_path(args.plot, (".png",), what="--plot")
    if args.workers < 1:
        raise ReplicaError(f"--workers {args.workers}: give a positive number of processes")
    params = {k: v for k, v in _model_params(spec, extra, "sweep").items()}
    diagram = phase_diagram(spec.name, color=args.color, lines=args.lines, along=args.along, out=args.out,
                            resume=not args.no_resume, workers=args.workers, scheduler=args.scheduler, **params)
    if args.json:
        print(json.dumps(diagram.as_json(), allow_nan=False))
    else:
        counts = diagram.grid["status"].astype(str).value_counts()
        print(f"{spec.name}: {len(diagram.grid)} points ({', '.join(f'{n} {s}' for s, n in counts.items())}); "
              f"lines: {', '.join(f'{k} ({len(v)} points)' for k, v in diagram.lines.items()) or 'none'}")
    if args.out:
        print(f"replica: {len(diagram.grid)} rows in {args.out}", file=sys.stderr)
    if args.plot:
        diagram.plot(args.plot)
        print(f"replica: wrote {args.plot}", file=sys.stderr)
    return 0


def _print_rows(df, as_json, hidden, points):
    """The rows of a sweep or a line on stdout: a JSON list, or a table without the ``hidden`` columns (a failed
    point's missing values as '-', not NaN); how many ``points`` failed goes to stderr. Returns that number."""
    if as_json:
        print(json.dumps([{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")], allow_nan=False))
    else:
        print(df[[c for c in df.columns if c not in hidden]].to_string(index=False, na_rep="-"))
    failed = int((~df["converged"].astype(bool)).sum())
    if failed:
        print(f"replica: {failed} of {len(df)} {points} did not converge (see their status and remedy)",
              file=sys.stderr)
    return failed


def _plain(v):
    """A JSON-ready cell: None for a missing or non-finite number."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _pair(text, option, example):
    """LOW:HIGH -> (low, high) as floats; ReplicaError naming ``option`` otherwise."""
    try:
        lo, hi = (float(x) for x in text.split(":"))
    except ValueError:
        raise ReplicaError(f"{option} {text!r}: give LOW:HIGH, e.g. {example}") from None
    return lo, hi


def _onset(spec, args):
    bracket = None if args.alpha_range is None else _pair(args.alpha_range, "--alpha-range", "0.6:0.8")
    params = {"kappa": args.kappa}
    if args.ref_kappa is not None:
        try:
            params["ref_kappa"] = float(args.ref_kappa)
        except ValueError:
            params["ref_kappa"] = args.ref_kappa
    thr = api.onset(spec.name, alpha_range=bracket, d_min=args.d_min, **params)
    _emit(thr, args.json)
    return 0 if thr.converged else 1


def _numbers(spec, extra, command):
    params = _model_params(spec, extra, "solve")
    try:
        return {k: float(v) for k, v in params.items()}
    except ValueError:
        raise ReplicaError(f"{command} takes numbers: " + " ".join(f"--{k} {v}" for k, v in params.items())) from None


def _optimize(spec, args, extra):
    bounds = _pair(args.bounds, "--bounds", "1e-4:10")
    thr = api.optimize(spec.name, args.param, observable=args.observable, bounds=bounds,
                       **_numbers(spec, extra, "optimize"))
    _emit(thr, args.json)
    return 0 if thr.converged else 1


def _enumerate(args):
    from .enumeration import entropy

    if args.model != "binary-perceptron":
        raise ReplicaError(f"enumerate: only binary-perceptron is enumerated, not {args.model!r}")
    get_model("binary-perceptron").check({"alpha": args.alpha, "kappa": args.kappa})
    result = {"model": args.model, **entropy(args.n, args.alpha, args.kappa, args.samples, args.seed)}
    if args.json:
        print(json.dumps(result))
    else:
        s = "no solvable instance" if result["entropy"] is None else \
            f"{result['entropy']:.6f} +- {result['entropy_err']:.2g}"
        print(f"binary-perceptron  N={args.n}  alpha={result['alpha']:.6g} (P={round(args.alpha * args.n)})  "
              f"kappa={args.kappa:g}  {args.samples} instances")
        print(f"  entropy (solvable instances) = {s}")
        print(f"  solvable_fraction = {result['solvable_fraction']:.4f} +- {result['solvable_fraction_err']:.2g}")
    return 0


def _list(text, option):
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ReplicaError(f"{option} takes a comma list of numbers, got {text!r}") from None


def _committee_k(spec):
    """K for a finite tree committee of sign units with binary weights (the ones the algorithms learn), else None."""
    match = re.fullmatch(r"committee-K(\d+)-sign-binary", spec.name)
    return int(match.group(1)) if match else None


def _simulate_algorithm(spec, args, extra):
    from .algorithms import ALGORITHMS, COMMITTEE_ALGORITHMS, hyperparameters, simulate

    k = _committee_k(spec)
    names = ", ".join(COMMITTEE_ALGORITHMS if k else ALGORITHMS)
    if args.algorithm is None:
        raise ReplicaError(f"simulate {spec.name} needs --algorithm ({names})")
    allowed = hyperparameters(args.algorithm, committee=k is not None)
    declared = ("alpha",) if k else ("alpha", "kappa")
    pairs = _pairs(extra, [*declared, *allowed],
                   lambda name, names: f"unknown parameter --{name} for {args.algorithm}; allowed: {names}")
    params = {name: value for name, value in pairs.items() if name in declared}
    hyper = {}
    for name in pairs.keys() - params.keys():
        integer = isinstance(allowed[name], int) or name == "batch"
        try:
            hyper[name] = int(pairs[name]) if integer else float(pairs[name])
        except ValueError:
            raise ReplicaError(f"--{name} takes {'an integer' if integer else 'a number'}, "
                               f"got {pairs[name]!r}") from None
    if "alpha" not in params:
        raise ReplicaError(f"simulate {spec.name} needs --alpha")
    p = spec.check(params)
    p.setdefault("kappa", 0.0)
    df = simulate(args.algorithm, args.n, p["alpha"], p["kappa"], seeds=args.seeds, seed=args.seed,
                  local_entropy=_list(args.local_entropy, "--local-entropy"),
                  local_energy=_list(args.local_energy, "--local-energy"), k=k, **hyper)
    hessian = [c for c in ("hessian_max", "hessian_trace") if c in df]
    summary = {"model": spec.name, "algorithm": args.algorithm, "n": args.n, "alpha": p["alpha"],
               "kappa": p["kappa"], "seeds": args.seeds, "success": float(df.solved.mean()),
               "success_err": float(df.solved.sem()) if len(df) > 1 else 0.0,
               "epochs": float(df.epochs.mean()),
               **{c: float(df[c].mean()) for c in hessian},
               **{c + "_err": float(df[c].sem()) if len(df) > 1 else 0.0 for c in hessian}}
    for kind in ("local_entropy", "local_energy"):
        cols = [c for c in df if c.startswith(kind + "[")]
        summary[kind] = {c[len(kind) + 1:-1]: {"mean": None if df[c].isna().all() else float(df[c].mean()),
                                                "err": float(df[c].sem()) if df[c].notna().sum() > 1 else 0.0,
                                                "runs": int(df[c].notna().sum())} for c in cols}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{spec.name}  {args.algorithm}  N={args.n}  alpha={p['alpha']:g}  kappa={p['kappa']:g}  "
              f"({args.seeds} instances; mean +- standard error)")
        print(f"  success = {summary['success']:.3f} +- {summary['success_err']:.2g}  "
              f"(mean epochs {summary['epochs']:.1f})")
        for c in hessian:
            print(f"  {c} (cross-entropy, gamma = 1) = {summary[c]:.6g} +- {summary[c + '_err']:.2g}")
        for kind in ("local_entropy", "local_energy"):
            for at, v in summary[kind].items():
                value = "no count" if v["mean"] is None else f"{v['mean']:.6g} +- {v['err']:.2g}"
                print(f"  {kind}[{at}] = {value}  ({v['runs']} runs)")
    return 0


def _simulate(spec, args, extra):
    if spec.name == "binary-perceptron" or _committee_k(spec):
        return _simulate_algorithm(spec, args, extra)
    if args.algorithm is not None or args.local_entropy or args.local_energy:
        raise ReplicaError("--algorithm, --local-entropy and --local-energy apply to binary-perceptron and the "
                           "binary sign committees only")
    df = api.simulate(spec.name, n=args.n, seeds=args.seeds, seed=args.seed, **_numbers(spec, extra, "simulate"))
    summary = {"model": spec.name, "n": args.n, "seeds": args.seeds,
               **{k: float(df[k].mean()) for k in df}, **{k + "_sem": float(df[k].sem()) for k in df}}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{spec.name}  (N={args.n}, {args.seeds} training sets; mean +- standard error)")
        for k in df:
            print(f"  {k} = {df[k].mean():.6g} +- {df[k].sem():.2g}")
    return 0


def _figure(args):
    from replica.figures import RECIPES

    if args.name == "list":
        for name, recipe in RECIPES.items():
            print(f"{name}\n    reconstructs: {recipe.reconstructs}\n    caveats: {recipe.caveats}")
        return 0
    if args.name not in RECIPES:
        raise ReplicaError(f"unknown figure {args.name!r}; available: {', '.join(RECIPES)} (or 'list')")
    from .tables import check_output_dir

    check_output_dir(args.out)
    print(f"replica: wrote {RECIPES[args.name](args.out)}", file=sys.stderr)
    return 0


def _sweep(spec, args, extra, quad):
    from .tables import check_output_path

    grids = _model_params(spec, extra, "sweep")
    if args.plot:  # checked before anything is computed; drawn after the rows are printed and written
        check_output_path(args.plot, (".png",), what="--plot")
        if not any(len(v) > 1 for v in grids.values() if not isinstance(v, str)):
            raise ReplicaError("--plot needs a swept parameter (a range such as --alpha 0.1:0.8:36)")
    df = sweep(spec.name, out=args.out, resume=not args.no_resume, method=args.method, quadrature=quad,
               max_iter=args.max_iter, until_failure=args.until_failure, **grids)
    _print_rows(df, args.json, ("model", "message", "remedy", "method", "notes"), "points")
    if args.plot:
        from .plotting import plot_sweep

        try:
            plot_sweep(df, args.plot)
        except (OSError, ValueError) as e:
            raise ReplicaError(f"--plot {args.plot}: the rows are computed{' and in ' + args.out if args.out else ''}, "
                               f"but the plot failed: {e}") from None
    if args.out:
        print(f"replica: {len(df)} rows in {args.out}", file=sys.stderr)
    return 0
