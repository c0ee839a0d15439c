"""Where the seconds of a cold start go: for each model, the sympy derivation and code generation, then numba's
compilation of each generated function on its own, then a first solve (the solvers are compiled once per machine and
loaded from numba's cache afterwards; the model's functions are compiled by then).

    python benchmarks/profile_cold_start.py [MODEL ...]

Runs in a fresh temporary cache (nothing is reused from ~/.cache). The breakdown is written up in
docs/cold_start.md.
"""
import os
import sys
import tempfile
import time

os.environ["REPLICA_CACHE_DIR"] = tempfile.mkdtemp(prefix="replica-profile-")

import numpy as np  # noqa: E402
from replica.solvers import codegen  # noqa: E402

from replica.models import resolve  # noqa: E402

MODELS = ["binary-perceptron", "binary-perceptron-fp", "binary-perceptron-ld", "gm-ridge", "gm-logistic",
          ("committee", {"K": 3})]


def profile(model, options):
    spec, _ = resolve(model, dict(options))
    t0 = time.perf_counter()
    fe = spec.free_entropy
    t1 = time.perf_counter()
    bundles = fe.bundles()
    t2 = time.perf_counter()
    source = codegen.generate_source(fe.symbols, bundles, header_comment=fe.name)
    t3 = time.perf_counter()
    system = spec.system  # writes the module (derivation again, cached) and imports it
    t4 = time.perf_counter()
    module, quad = system.module, spec.quadrature
    v = np.full(len(fe.symbols), 0.3)
    nodes = quad.arrays()
    rows = [("sympy: build the declaration", t1 - t0), ("sympy: derive the bundles", t2 - t1),
            ("code generation (printing, CSE)", t3 - t2), ("write and import the module", t4 - t3)]
    for name in bundles:  # each generated function on its own (the solvers call them: compiled first here)
        t = time.perf_counter()
        getattr(module, name)(v, nodes)
        rows.append((f"numba: {name}", time.perf_counter() - t))
    t = time.perf_counter()
    system.solve(v, quad, max_iter=2, newton_iter=2)  # a meaningless point: only the compilation is timed
    rows.append(("the solvers (compiled once per machine)", time.perf_counter() - t))
    return spec.name, len(source.splitlines()), rows


def main():
    names = sys.argv[1:] or MODELS
    for entry in names:
        model, options = entry if isinstance(entry, tuple) else (entry, {})
        name, lines, rows = profile(model, options)
        total = sum(s for _, s in rows)
        print(f"\n{name}  ({lines} generated lines; {total:.1f} s in all)")
        for what, seconds in rows:
            print(f"  {what:<44} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
