"""Every code block of the documentation site and of the README runs and prints what the page says.

The pages are MyST Markdown under ``docs/``, and the README. A block is run according to its language:

- ``python``: doctest examples (``>>>`` lines with the printed output below them), or plain code that must run;
- ``console``: ``$ replica ...`` commands, each followed by its expected output (stderr is added when the command
  fails, so an error example shows its one-line message);
- ``sh``: shell lines that are not run here (installs, long jobs); each must carry a marker saying why;
- anything else (``text``, ``toml``, directives) is not code.

A comment line ``% test: slow`` right above a block runs it only with ``-m slow``; ``% test: not run: REASON`` skips
it, and a reason is required (in the README, where ``%`` lines would show, ``<!-- test: ... -->``). Outputs are
compared as doctest does, with ``...`` for what varies (residuals, times). Blocks of one page share one namespace
and run in order, in a scratch directory.
"""
import contextlib
import doctest
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GENERATED = {DOCS / "gallery" / "index.md", DOCS / "cli.md"}
PAGES = [ROOT / "README.md"] + sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts
                                      and "reference" not in p.parts and p not in GENERATED)
FENCE = re.compile(r"^(?:(?:% test: |<!-- test: )(?P<marker>[^\n]*?)(?: -->)?\n)?"
                   r"```(?P<lang>[\w{}-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def blocks(page):
    """(line number, language, marker, body) for each fenced block of ``page``."""
    text = page.read_text()
    for m in FENCE.finditer(text):
        yield text.count("\n", 0, m.start("body")) + 1, m["lang"], (m["marker"] or "").strip(), m["body"]


def _check(want, got, where):
    if not doctest.OutputChecker().check_output(want, got, FLAGS):
        pytest.fail(f"{where}: the output differs from the page\n--- page ---\n{want}--- got ---\n{got}")


def _console(body, where):
    from replica import cli

    commands = re.split(r"^\$ ", body, flags=re.M)
    assert commands[0].strip() == "", f"{where}: a console block starts with '$ '"
    for command in commands[1:]:
        line, _, want = command.partition("\n")
        while line.endswith("\\"):
            more, _, want = want.partition("\n")
            line = line[:-1] + " " + more
        argv = shlex.split(line, comments=True)
        assert argv[0] == "replica", f"{where}: only replica commands are run: {line}"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv[1:]) or 0
        got = out.getvalue() + (err.getvalue() if code else "")
        _check(want, got, f"{where}: $ {line}")


def _python(body, where, globs):
    if ">>>" not in body:
        exec(compile(body, where, "exec"), globs)
        return
    test = doctest.DocTestParser().get_doctest(body, globs, where, where, 0)
    output = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=output.write, clear_globs=False)
    globs.update(test.globs)  # a DocTest runs on a copy: the next block sees this one's names
    if runner.failures:
        pytest.fail(output.getvalue())


def run_page(page, slow):
    globs = {"__name__": "__guide__"}
    for line, lang, marker, body in blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        if marker.startswith("not run"):
            assert marker.partition(":")[2].strip(), f"{where}: '% test: not run' needs a reason"
            continue
        assert marker in ("", "slow"), f"{where}: unknown marker {marker!r}"
        if lang == "sh":
            pytest.fail(f"{where}: an sh block is not run: mark it '% test: not run: REASON' or make it console")
        if lang not in ("python", "console") or (marker == "slow" and not slow):
            continue
        if lang == "console":
            _console(body, where)
        else:
            _python(body, where, globs)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_blocks(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_page(page, slow=False)


SLOW_PAGES = [p for p in PAGES if any(marker == "slow" for _, _, marker, _ in blocks(p))]


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_blocks_with_slow_ones(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_page(page, slow=True)


def test_the_guide_runs_code():
    """The harness finds the guide's blocks (a broken fence pattern would pass every page vacuously)."""
    counted = sum(1 for p in PAGES for _, lang, marker, _ in blocks(p)
                  if lang in ("python", "console") and not marker.startswith("not run"))
    assert counted >= 30


def test_every_module_is_in_the_reference_or_says_why_not():
    """The API reference lists modules by hand (for their order): a new module must be placed, or declared internal
    with a reason, and every name of a listed module's __all__ gets a page."""
    import pkgutil
    import sys

    import replica.solvers

    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import reference
    finally:
        sys.path.pop(0)
    modules = {f"replica.{m.name}" for m in pkgutil.iter_modules(replica.__path__)}
    modules |= {f"replica.solvers.{m.name}" for m in pkgutil.iter_modules(replica.solvers.__path__)}
    listed = {m for group in reference.PUBLIC.values() for m in group}
    assert modules - {"replica.equations", "replica.solvers", "replica.figures"} <= listed | set(reference.INTERNAL)
    names = reference.documented_names()
    assert set(names["replica"]) == set(replica.__all__)
    assert all(names[m] for m in listed)


def test_every_figure_recipe_has_its_picture_in_the_gallery():
    """The gallery shows each recipe's picture (docs/gallery/NAME.png, redrawn by docs/gallery/draw.py); a recipe
    added without one would be a missing image in the site build."""
    from replica.figures import RECIPES

    missing = [name for name in RECIPES if not (DOCS / "gallery" / f"{name}.png").is_file()]
    assert not missing, f"no picture for {missing}: run python docs/gallery/draw.py {' '.join(missing)}"
