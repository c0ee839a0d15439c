"""The figure gallery, generated from the figure recipes.

One section per recipe of ``replica.figures.RECIPES``: its picture (``docs/gallery/NAME.png``, drawn by the recipe
itself; ``python docs/gallery/draw.py`` redraws them), the command that draws it, what it reconstructs and what it
could not pin down. A recipe without a picture is a missing image, which the ``-W`` build turns into an error.
"""
from pathlib import Path

from reference import write_if_changed
from replica.figures import RECIPES


def _page():
    lines = ["# Gallery", "",
             "Every figure recipe, with the command that draws it. `replica figure NAME --out DIR` writes",
             "`DIR/NAME.png` and the data behind it as `DIR/NAME.csv`; `replica figure list` prints what each",
             "reconstructs and its caveats, as below.", ""]
    for recipe in RECIPES.values():
        lines += [f"## {recipe.NAME}", "",
                  f"![{recipe.NAME}]({recipe.NAME}.png)", "",
                  "```sh", f"replica figure {recipe.NAME} --out figs", "```", "",
                  f"**Reconstructs:** {recipe.reconstructs}.", "",
                  f"**Caveats:** {recipe.caveats}.", ""]
    return "\n".join(lines)


def setup(app):
    # written now, before Sphinx lists the source files
    write_if_changed(Path(app.srcdir) / "gallery" / "index.md", _page())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
