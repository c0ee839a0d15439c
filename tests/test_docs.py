"""The examples in docstrings run and print what they say (the README and the site: test_guide.py)."""
import doctest
import importlib

import pytest

MODULES = ["replica", "replica.api", "replica.sweep", "replica.thresholds", "replica.lines", "replica.optimize",
           "replica.simulate"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
