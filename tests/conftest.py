import math
import os
from pathlib import Path

# the tests compile into a cache of their own, shared by the whole session (and by later sessions of this checkout):
# a developer's ~/.cache/replica does not change what they see. REPLICA_TEST_CACHE_DIR points elsewhere.
os.environ["REPLICA_CACHE_DIR"] = os.environ.get("REPLICA_TEST_CACHE_DIR",
                                                 str(Path(__file__).resolve().parents[1] / ".test-cache"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import replica  # noqa: E402
from replica.models import get_model  # noqa: E402

MODELS = ["spherical-perceptron", "binary-perceptron"]


def fd_gradient(f, v, idx, h=1e-6):
    """Central finite differences of scalar f at v along the entries idx."""
    g = []
    for i in idx:
        a, b = v.copy(), v.copy()
        a[i] += h
        b[i] -= h
        g.append((f(a) - f(b)) / (2 * h))
    return np.array(g)


@pytest.fixture(scope="session")
def systems():
    return {m: get_model(m).system for m in MODELS}


def points(model):
    """A few interior parameter points of each model."""
    if model == "spherical-perceptron":
        return [dict(alpha=0.5, kappa=0.0), dict(alpha=1.0, kappa=0.3), dict(alpha=3.0, kappa=-0.5)]
    return [dict(alpha=0.3, kappa=0.0), dict(alpha=0.6, kappa=0.0), dict(alpha=0.4, kappa=0.4),
            dict(alpha=1.0, kappa=-0.3)]


__all__ = ["fd_gradient", "points", "MODELS", "math", "replica"]
