"""Who a command's answer is for: a person at a terminal, or a script.

The rule, for every command that answers with records (tickets, work orders, callbacks, and whatever
answers a protobuf message; `events dead-letters`):

- ``--json``: JSON, for scripts (protobuf's JSON mapping, as the desk has always printed it);
- ``--human``: for a person (cli/render.py), even into a pipe or a file;
- neither: for a person when stdout is a terminal, JSON when it is not, so ``| jq`` and scripts that
  capture the output keep reading JSON.

Commands that report what they did in one sentence (`directory import`, `events retry`) print that
sentence anywhere, and `ops watch`, a live conversation, prints its lines anywhere.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import TextIO

from google.protobuf import json_format
from google.protobuf.message import Message

from cli.render import render


def add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--json", action="store_true", help="print JSON, for scripts (the default when not on a terminal)"
    )
    group.add_argument("--human", action="store_true", help="print for a person (the default on a terminal)")


def wants_json(args: argparse.Namespace, stream: TextIO | None = None) -> bool:
    """JSON when asked for, or when nobody asked and the output is not a terminal."""
    if getattr(args, "json", False):
        return True
    if getattr(args, "human", False):
        return False
    return not (stream or sys.stdout).isatty()


def print_answer(answer: Message, args: argparse.Namespace, stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    if wants_json(args, out):
        print(json.dumps(json_format.MessageToDict(answer), indent=2, ensure_ascii=False), file=out)
    else:
        print(render(answer, width=terminal_width()), file=out)


def terminal_width() -> int | None:
    """The terminal's columns (or $COLUMNS); None when unknown, e.g. into a pipe with --human."""
    return shutil.get_terminal_size(fallback=(0, 0)).columns or None
