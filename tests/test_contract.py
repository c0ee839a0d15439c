"""The model contract (docs/models.md): checked when a spec is built, frozen afterwards, duplicates refused; plugins
from the entry-point group ``replica.models``; no import cycle inside ``replica``."""
import ast
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from replica.equations.perceptron import binary_perceptron

import replica
from replica import ModelError, ModelSpec
from replica.models import get_model, register

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = Path(__file__).resolve().parent / "plugin"


def _spec(**changes):
    fields = dict(name="a-test-model", summary="a model for the tests", build=binary_perceptron,
                  start=lambda p: {"q": 0.3, "qhat": 0.3})
    return ModelSpec(**{**fields, **changes})


@pytest.mark.parametrize("changes, match", [
    (dict(start=None), "start must be a callable"),
    (dict(build="binary_perceptron"), "build must be a callable"),
    (dict(name="binary perceptron"), "one word of letters, digits"),
    (dict(summary=""), "summary must be a non-empty str"),
    (dict(region=3), "region must be None or a callable"),
    (dict(inputs=lambda p: p), "declare them"),
    (dict(thresholds={"capacity": 1.0}), "threshold 'capacity' must be callable"),
    (dict(quadrature=128), "quadrature must be a Quadrature"),
])
def test_a_broken_spec_is_refused_when_built(changes, match):
    with pytest.raises(ModelError, match=match):
        _spec(**changes)


def test_a_spec_is_frozen_and_its_mappings_read_only():
    spec = _spec(defaults={"kappa": 0.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.start = None
    with pytest.raises(TypeError):
        spec.defaults["kappa"] = 1.0


def test_undeclared_parameter_names_are_a_contract_error():
    with pytest.raises(ModelError, match="defaults names undeclared parameters"):
        _ = _spec(defaults={"kapa": 0.0}).declared
    with pytest.raises(ModelError, match="path 'beta' is not a parameter"):
        _ = _spec(path="beta").declared


def test_a_duplicate_name_is_refused_unless_replacement_is_asked():
    original = get_model("binary-perceptron")
    with pytest.raises(ModelError, match="already registered"):
        register(dataclasses.replace(original, summary="another"))
    try:
        replaced = register(dataclasses.replace(original, summary="another"), replace=True)
        assert get_model("binary-perceptron") is replaced
    finally:
        register(original, replace=True)


def test_an_undeclared_threshold_names_the_declared_ones():
    with pytest.raises(replica.ParameterError, match="onset is not defined for binary-perceptron; its thresholds: "
                                                      "capacity, capacity-1rsb, max-margin, dat-line"):
        replica.onset("binary-perceptron")


def _imports(path):
    """The replica modules a module imports, at any depth of its code (function-level imports count)."""
    package = "replica"
    rel = path.relative_to(ROOT / "replica").with_suffix("")
    here = [package, *rel.parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            found.update(n for n in names if n.startswith("replica."))
            found.update(f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in _modules())
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("replica."))
    return {m for m in found if m in _modules()}


def _modules():
    return {"replica." + p.stem for p in (ROOT / "replica").glob("*.py") if p.stem != "__init__"}


def test_replica_has_no_import_cycle():
    """The generic algorithms (thresholds, lines, onset, optimize, sweep, solving) sit above the contract, the
    model modules above them: the import graph of ``replica`` (the package's own __init__ aside) is acyclic."""
    graph = {m: _imports(ROOT / "replica" / (m.split(".")[1] + ".py")) for m in _modules()}
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        if state.get(m) == "active":
            cycle = path[path.index(m):] + [m]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        state[m] = "active"
        for n in sorted(graph[m]):
            visit(n, path + [m])
        state[m] = "done"

    for m in sorted(graph):
        visit(m, [])
    assert "replica.perceptron" not in graph["replica.models"]


# ----- a plugin distribution, installed for the test -----------------------------------------------------------
@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), str(PLUGIN)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}


def _replica(env, *args, cwd=None):
    return subprocess.run([sys.executable, "-m", "replica", *args], env=env, capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def test_an_installed_plugin_is_listed_and_served_by_every_command(plugin_env, tmp_path):
    import json

    listed = _replica(plugin_env, "models", "--json")
    assert listed.returncode == 0 and "teacher-student-perceptron" in json.loads(listed.stdout)
    solved = _replica(plugin_env, "solve", "teacher-student-perceptron", "--alpha", "2", "--json")
    assert solved.returncode == 0, solved.stderr
    row = json.loads(solved.stdout)
    assert row["status"] == "converged" and 0.1 < row["error"] < 0.3
    out = tmp_path / "ts.csv"
    swept = _replica(plugin_env, "sweep", "teacher-student-perceptron", "--alpha", "1:100:4", "--out", str(out),
                     "--json")
    assert swept.returncode == 0, swept.stderr
    rows = json.loads(swept.stdout)
    assert [r["status"] for r in rows] == ["converged"] * 4
    errors = [r["error"] for r in rows]
    assert errors == sorted(errors, reverse=True) and 0.55 < errors[-1] * 100 < 0.65  # eps ~ 0.625/alpha
    equations = _replica(plugin_env, "equations", "teacher-student-perceptron")
    assert equations.returncode == 0 and r"\phi" in equations.stdout
    refused = _replica(plugin_env, "capacity", "teacher-student-perceptron")
    assert refused.returncode == 2 and "its thresholds: none" in refused.stderr and "Traceback" not in refused.stderr
