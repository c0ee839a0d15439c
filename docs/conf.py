"""Sphinx configuration of the replica documentation site.

Build it with ``pip install -e '.[docs]'`` and ``python -m sphinx -W -b html docs docs/_build/html``. The API
reference, the figure gallery and the command-line reference are generated at build time (``_ext/reference.py``,
``_ext/gallery.py``, ``_ext/cli_reference.py``) from what the package exports, its figure recipes and its argument
parser, so none of them can fall behind the code.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import replica  # noqa: E402

project = "replica"
author = "the replica developers"
copyright = "2026, the replica developers"
version = release = replica.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "reference",
    "cli_reference",
    "gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# Markdown: the guide and the derivations are MyST; ``%`` lines are comments (the tests read them as markers)
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# the reference: one page per public name, numpydoc docstrings
autosummary_generate = True
# every cross-reference must resolve (the -W build fails on a broken one); numpy is not part of this site
nitpicky = True
nitpick_ignore = [("py:class", "numpy.ndarray")]
autosummary_imported_members = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


def _literal_bars(app, what, name, obj, options, lines):
    """Docstrings write norms and absolute values as |x| (plain-text math); outside ``literals`` reST would read
    them as substitutions, so they are escaped."""
    for i, line in enumerate(lines):
        parts = line.split("``")
        lines[i] = "``".join(p.replace("|", "\\|") if k % 2 == 0 else p for k, p in enumerate(parts))


def _registered_models(app, what, name, obj, options, lines):
    """A module's ModelSpec or Family constant is documented by what it registers, not by its class's docstring."""
    from replica.models import Family, ModelSpec

    if what == "data" and isinstance(obj, (ModelSpec, Family)):
        kind = "model" if isinstance(obj, ModelSpec) else "model family"
        lines[:] = [f"The {kind} ``{obj.name}``: {obj.summary}.", "",
                    "``replica models`` lists its parameters; the user guide's model catalogue has them as a table."]


def setup(app):
    app.connect("autodoc-process-docstring", _registered_models, priority=90)
    app.connect("autodoc-process-docstring", _literal_bars, priority=100)


html_theme = "pydata_sphinx_theme"
html_title = "replica"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
