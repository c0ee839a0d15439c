"""The examples in docstrings and in the README run and print what they say."""
import doctest
import importlib
import re
from pathlib import Path

import pytest

MODULES = ["replica", "replica.api", "replica.sweep", "replica.thresholds", "replica.lines", "replica.optimize",
           "replica.simulate"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_readme_python_blocks(tmp_path, monkeypatch):
    """Every ```python block of the README runs (in a scratch directory)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
