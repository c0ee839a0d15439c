"""Redraw the gallery's pictures: ``python docs/gallery/draw.py [NAME ...]`` (default: every figure recipe).

Each recipe runs as ``replica figure NAME`` does and its picture is copied here as ``NAME.png``. Some recipes take
minutes (the Franz–Parisi diagrams and onsets, the finite-N overlays); a recipe that fails is reported and the others
go on.
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

from replica.figures import RECIPES


def main(names):
    here = Path(__file__).parent
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        sys.exit(f"draw.py: error: unknown recipe {', '.join(unknown)}; recipes: {', '.join(RECIPES)}")
    failed = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in names or list(RECIPES):
            start = time.perf_counter()
            try:
                shutil.copy(RECIPES[name](scratch), here / f"{name}.png")
                print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
            except Exception as e:  # one recipe's failure does not stop the others
                failed.append(name)
                print(f"{name}: failed: {e}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
