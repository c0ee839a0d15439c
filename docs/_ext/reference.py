"""The API reference, generated from what the package exports.

``PUBLIC`` lists the public modules in reading order. Each gets a page with its docstring and a table of its
``__all__`` (names re-exported by ``replica`` itself are documented once, under ``replica``); autosummary then writes
one page per name. A module's ``__all__`` is the single source: a name added there has a page at the next build.
"""
import importlib
import inspect
from pathlib import Path

PUBLIC = {
    "The package": ["replica"],
    "Declaring models": ["replica.equations", "replica.models"],
    "Sweeps, diagrams, thresholds": ["replica.sweep", "replica.phase_diagram", "replica.thresholds", "replica.onset",
                                     "replica.optimize", "replica.plotting", "replica.highprec"],
    "Model modules (closed forms and registrations)": [
        "replica.perceptron", "replica.local_entropy", "replica.large_deviation", "replica.cross_entropy",
        "replica.gaussian_mixture", "replica.committee"],
    "Finite-N experiments": ["replica.simulate", "replica.enumeration", "replica.algorithms"],
    "Width scaling and landscapes": ["replica.parametrization", "replica.width", "replica.infinite_width",
                                     "replica.landscape"],
    "The numerical engine (no physics)": ["replica.solvers.quadrature", "replica.solvers.root",
                                          "replica.solvers.system", "replica.solvers.continuation"],
}

# the other modules, and why they have no page of their own
INTERNAL = {
    "replica.__main__": "python -m replica: the command line",
    "replica.cli": "the command line (documented by replica --help and the guide)",
    "replica.api": "every name is exported by replica",
    "replica.errors": "every name is exported by replica",
    "replica.lines": "every name is exported by replica",
    "replica.results": "every name is exported by replica",
    "replica.solving": "one solve with its branch bookkeeping, behind replica.solve and the sweeps",
    "replica.tables": "row files of sweeps and diagrams, behind --out",
    "replica.solvers.codegen": "code generation and the compile cache, behind every model",
    "replica.solvers.special": "numba special functions used by the generated modules",
    "replica.solvers.status": "Status is exported by replica",
}


def documented_names():
    """``{module: [names]}``: every name that gets a reference page, in order."""
    top = importlib.import_module("replica")
    exported = {id(getattr(top, name)) for name in top.__all__}
    names = {}
    for modules in PUBLIC.values():
        for module_name in modules:
            module = importlib.import_module(module_name)
            if module_name == "replica":
                names[module_name] = list(module.__all__)
            else:
                names[module_name] = [n for n in module.__all__ if id(getattr(module, n)) not in exported]
    return names


def _module_page(module_name, names):
    title = f"``{module_name}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {module_name}", "   :no-members:"]
    if _shadowed(module_name):
        lines.append("   :no-index:")
    lines += ["", f".. currentmodule:: {module_name}", ""]
    if names:
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in names]
    return "\n".join(lines) + "\n"


def _shadowed(module_name):
    """``replica.sweep`` is both a module and the function ``replica`` exports: the function keeps the name."""
    parent, _, leaf = module_name.rpartition(".")
    attribute = getattr(importlib.import_module(parent), leaf, None) if parent else None
    return attribute is not None and not inspect.ismodule(attribute)


def write_reference(app):
    out = Path(app.srcdir) / "reference"
    out.mkdir(exist_ok=True)
    names = documented_names()
    index = ["API reference", "=============", "",
             "Every public name, one page each, from its docstring. Names that ``replica`` re-exports are documented",
             "under ``replica``.", ""]
    for section, modules in PUBLIC.items():
        index += [section, "-" * len(section), "", ".. toctree::", "   :maxdepth: 1", ""]
        index += [f"   {m}" for m in modules]
        index.append("")
        for module_name in modules:
            write_if_changed(out / f"{module_name}.rst", _module_page(module_name, names[module_name]))
    write_if_changed(out / "index.rst", "\n".join(index) + "\n")
    # the pages of names no longer exported (autosummary writes the others again): left, they would be orphans
    keep = {f"{module_name}.{name}" for module_name, listed in names.items() for name in listed}
    for page in (out / "generated").glob("*.rst"):
        parts = page.stem.split(".")
        if not any(".".join(parts[:i]) in keep for i in range(1, len(parts) + 1)):
            page.unlink()


def write_if_changed(path, text):
    """Write a generated page only when its text changed (Sphinx then rereads only what changed)."""
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def setup(app):
    # written now, before Sphinx lists the source files (autosummary then finds the pages)
    write_reference(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
