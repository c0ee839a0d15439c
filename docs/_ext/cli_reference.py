"""The command-line reference, generated from the argument parser: ``replica --help`` and every command's help, as
the installed ``replica`` prints them."""
import argparse
import os
from pathlib import Path

from reference import write_if_changed


def _commands(parser, prefix):
    """(command line, parser) for ``parser`` and every sub-command under it, depth first."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix} {name}")


def _page():
    from replica.cli import _parser

    os.environ["COLUMNS"] = "110"  # argparse wraps help text to the terminal's width
    lines = ["# Command-line reference", "",
             "Every command and option, as `replica COMMAND --help` prints them. The [user guide](guide/index.md)",
             "shows them at work.", ""]
    for command, parser in _commands(_parser(), "replica"):
        lines += [f"## `{command}`", "", "```text", parser.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def setup(app):
    write_if_changed(Path(app.srcdir) / "cli.md", _page())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
