"""`helpdesk kb`: the knowledge base (知识库) from the command line, as knowledge managers and agents use it.

`kb add|revise|retire` write entries (a knowledge manager's token by default), `kb search|show` read
them (an agent's), `kb propose TICKET` marks a hard case (a senior agent's) and `kb candidates` lists
the cases waiting for their entry, earliest due first. Answers print as JSON, like the other client
commands; `--as ROLE` picks another development token.
"""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from google.protobuf import message

from cli.endpoints import service_channel
from helpdesk.v1 import knowledge_pb2, knowledge_pb2_grpc

SERVICE = "knowledge"


def _call(args: argparse.Namespace, endpoints: dict[str, Any], role: str, method: str, request: Any) -> Any:
    """One KnowledgeService call with the development token of ``--as`` or else ``role``."""
    wanted = args.as_role or role
    token = endpoints["tokens"].get(wanted)
    if token is None:
        known = ", ".join(sorted(endpoints["tokens"]))
        raise SystemExit(f"no development token for {wanted!r}; known: {known}")
    service = SERVICE if SERVICE in endpoints["services"] else "intake"  # intake's processes serve it
    with service_channel(endpoints, service) as channel:
        stub = knowledge_pb2_grpc.KnowledgeServiceStub(channel)
        return getattr(stub, method)(request, metadata=(("authorization", f"Bearer {token}"),))


def kb_add(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.CreateEntryRequest(
        request_id=args.request_id or str(uuid.uuid4()),
        title=args.title,
        body=args.body,
        category=args.category,
        tags=args.tag,
        ticket_id=args.ticket,
    )
    return _call(args, endpoints, "knowledge_manager", "CreateEntry", request)  # type: ignore[no-any-return]


def kb_revise(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.ReviseEntryRequest(
        entry_id=args.entry_id,
        title=args.title,
        body=args.body,
        category=args.category,
        tags=args.tag,
        note=args.note,
        expected_version=args.expected_version,
    )
    return _call(args, endpoints, "knowledge_manager", "ReviseEntry", request)  # type: ignore[no-any-return]


def kb_retire(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.RetireEntryRequest(entry_id=args.entry_id, reason=args.reason)
    return _call(args, endpoints, "knowledge_manager", "RetireEntry", request)  # type: ignore[no-any-return]


def kb_show(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.GetEntryRequest(entry_id=args.entry_id)
    return _call(args, endpoints, "agent", "GetEntry", request)  # type: ignore[no-any-return]


def kb_search(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.SearchEntriesRequest(query=" ".join(args.query), limit=args.limit)
    return _call(args, endpoints, "agent", "SearchEntries", request)  # type: ignore[no-any-return]


def kb_propose(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.ProposeEntryRequest(ticket_id=args.ticket_id, note=args.note)
    return _call(args, endpoints, "senior_agent", "ProposeEntry", request)  # type: ignore[no-any-return]


def kb_candidates(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    request = knowledge_pb2.ListCandidatesRequest(include_met=args.all, page_size=args.page_size)
    return _call(args, endpoints, "knowledge_manager", "ListCandidates", request)  # type: ignore[no-any-return]


def _text_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", required=True)
    parser.add_argument("--body", required=True, help="the answer: cause, what to check, what fixed it")
    parser.add_argument("--category", default="", help="e.g. network, software, machine-room, automation")
    parser.add_argument("--tag", action="append", default=[], help="a tag; repeat for more")


def register(sub: Any) -> None:
    """Add `helpdesk kb …` to the `helpdesk` parser's subcommands."""
    kb = sub.add_parser("kb", help="the knowledge base: add, revise, retire, search and show entries")
    verbs = kb.add_subparsers(dest="kb_command", required=True, metavar="VERB")
    add = verbs.add_parser("add", help="publish a new entry (knowledge managers)")
    _text_options(add)
    add.add_argument("--ticket", default="", help="the proposed hard case this entry answers")
    add.add_argument("--request-id", default="", help="idempotency key (default: a new one)")
    add.set_defaults(run=kb_add)
    revise = verbs.add_parser("revise", help="a new version of an entry; the older ones are kept")
    revise.add_argument("entry_id")
    _text_options(revise)
    revise.add_argument("--note", default="", help="what this version changes")
    revise.add_argument("--expected-version", type=int, default=0, help="refuse if the entry moved on")
    revise.set_defaults(run=kb_revise)
    retire = verbs.add_parser("retire", help="take an entry out of search (it stays readable)")
    retire.add_argument("entry_id")
    retire.add_argument("--reason", required=True)
    retire.set_defaults(run=kb_retire)
    show = verbs.add_parser("show", help="an entry with every version")
    show.add_argument("entry_id")
    show.set_defaults(run=kb_show)
    search = verbs.add_parser("search", help="published entries holding the words, best first")
    search.add_argument("query", nargs="+")
    search.add_argument("--limit", type=int, default=0)
    search.set_defaults(run=kb_search)
    propose = verbs.add_parser("propose", help="mark a ticket as a hard case for the knowledge base")
    propose.add_argument("ticket_id")
    propose.add_argument("--note", default="", help="what makes the case hard")
    propose.set_defaults(run=kb_propose)
    candidates = verbs.add_parser("candidates", help="hard cases waiting for their entry, earliest due first")
    candidates.add_argument("--all", action="store_true", help="those whose entry is written too")
    candidates.add_argument("--page-size", type=int, default=0)
    candidates.set_defaults(run=kb_candidates)
