"""Who `helpdesk` prints for (cli/output.py): a person on a terminal, JSON for scripts."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from cli.main import build_parser
from cli.output import print_answer, wants_json
from helpdesk.v1 import common_pb2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["ticket", "show", "TK1", *argv])


def test_a_terminal_gets_text_a_pipe_json_and_the_options_decide_over_both() -> None:
    assert not wants_json(_args(), _Terminal())
    assert wants_json(_args(), io.StringIO())  # a pipe or a file: what scripts read today
    assert wants_json(_args("--json"), _Terminal())
    assert not wants_json(_args("--human"), io.StringIO())


def test_json_and_human_cannot_both_be_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--json", "--human")
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_json_is_protobufs_mapping_as_before() -> None:
    answer = common_pb2.Ticket(ticket_id="TK1", status=common_pb2.TICKET_STATUS_OPEN)
    piped = io.StringIO()
    print_answer(answer, _args(), piped)
    assert json.loads(piped.getvalue()) == {"ticketId": "TK1", "status": "TICKET_STATUS_OPEN"}

    terminal = _Terminal()
    print_answer(answer, _args(), terminal)
    assert terminal.getvalue() == "Ticket TK1 · OPEN\n"


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for child in subs[0].choices.values() for leaf in _leaves(child)]


def test_every_command_answering_with_a_message_takes_json_and_human() -> None:
    """Also a command added later: the options come with its `run`, not with code of its own."""
    answering = [p for p in _leaves(build_parser()) if "run" in p._defaults]
    assert len(answering) >= 7  # ticket create|show|list, workorder accept|resolve|return, callback
    for parser in answering:
        options = {o for action in parser._actions for o in action.option_strings}
        assert {"--json", "--human"} <= options, parser.prog
