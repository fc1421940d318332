"""`helpdesk ops watch --team T`: a team's work orders as they come, and the engineer's answers to them.

It reads the team's durable JetStream consumer through :mod:`desk.team_feed` (so it also shows what
arrived while nobody watched, and acks what it shows), prints one line per event (local times, as
cli/render.py writes them), and reads commands from stdin meanwhile; each command is one
DispatchService call with the team's ops-engineer token. It connects to NATS as the team, with the
team's credential file, and with the NATS TLS and credentials settings of its own environment
(NATS_TLS_*, NATS_CREDS_FILE: docs/deployment.md) for a NATS that asks for them.

`helpdesk ops credential TEAM` gives a team its user on the embedded NATS (a team created after
`helpdesk up` started); `helpdesk ops nats-permissions TEAM` prints that user's permissions, for a
NATS run elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf import message

from cli.endpoints import CALLER_TLS, service_target
from cli.render import enum_text, local_time
from desk.config import Settings
from desk.grpc_channels import aio_channel
from desk.nats_access import DESK_USER, checked_team_id, team_permissions, team_user
from desk.rich_errors import explain
from desk.team_feed import TeamEvent, open_team_feed
from desk.tls import NatsAccess
from helpdesk.v1 import common_pb2, dispatch_pb2, dispatch_pb2_grpc

COMMANDS = """\
commands, typed while watching (one per line):
  accept  WORK_ORDER ENGINEER...                 accept it as ENGINEER
  return  WORK_ORDER REASON...                   hand it back to the desk
  resolve WORK_ORDER ENGINEER CAUSE... -- ACTION...
                                                 report it fixed; quote an ENGINEER with spaces
  help                                           this list
  quit                                           stop watching (so does the end of input)
e.g.  accept TK20261123000001-W1 Wang Wu
      resolve TK20261123000001-W1 "Wang Wu" corroded jumper -- replaced the jumper"""

Rpc = tuple[str, message.Message]  # a DispatchService method and its request


def register(sub: Any) -> None:
    """Add `ops watch`, `ops credential` and `ops nats-permissions` to the `helpdesk` parser's subcommands."""
    ops = sub.add_parser("ops", help="an ops team's side: watch and answer work orders; its NATS user")
    verbs = ops.add_subparsers(dest="verb", required=True)
    watch = verbs.add_parser(
        "watch",
        help="show the team's work orders live and answer them from stdin",
        description="Show a team's work-order events live and answer them with commands on stdin.",
        epilog=COMMANDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    watch.add_argument("--team", required=True, help="the team whose durable consumer team-<TEAM> to read")
    watch.add_argument(
        "--observe",
        action="store_true",
        help="only new events, live (nothing acked): leave the durable consumer to the team's integration",
    )
    watch.add_argument(
        "--as", dest="as_role", default="", help="whose development token (default ops_engineer:<TEAM>)"
    )
    watch.add_argument(
        "--credential",
        default="",
        help="the file with the team's NATS URL (default: the one `helpdesk ops credential` wrote)",
    )
    watch.set_defaults(entry=watch_command)
    credential = verbs.add_parser(
        "credential",
        help="give a team its user on the embedded NATS; prints the path of its credential file",
        description="Give TEAM its user on the embedded NATS (made for every active team at `helpdesk up`;"
        " this is for a team created later), have the running server take it, and print the path of"
        " the team's credential file: one line, the NATS URL with the team's user and password.",
    )
    credential.add_argument("team")
    credential.set_defaults(entry=credential_command)
    permissions = verbs.add_parser(
        "nats-permissions",
        help="print the NATS permissions of a team's user, for a NATS server run elsewhere",
    )
    permissions.add_argument("team")
    permissions.set_defaults(entry=permissions_command)


def watch_command(args: argparse.Namespace, settings: Settings) -> int:
    from cli.endpoints import read_endpoints

    endpoints = read_endpoints(settings)
    role = args.as_role or f"ops_engineer:{args.team}"
    token = endpoints["tokens"].get(role)
    if token is None:
        known = ", ".join(sorted(endpoints["tokens"]))
        raise SystemExit(f"no development token for {role!r}; known: {known}")
    nats_url = _team_nats_url(endpoints, settings, args.team, args.credential)
    # NATS_TLS_* and NATS_CREDS_FILE of the watcher's own environment: a NATS run elsewhere may ask for them.
    access = settings.nats_access
    asyncio.run(_watch(endpoints, nats_url, access, team=args.team, token=str(token), observe=args.observe))
    return 0


def _team_nats_url(endpoints: dict[str, Any], settings: Settings, team: str, credential: str) -> str:
    """The team's NATS URL from its credential file: the one given, or the embedded NATS's for the team.
    The desk's own URL only when NATS is configured elsewhere (it is then the operator's, used as is)."""
    from deploy.nats_users import NatsUsers

    if credential:
        return Path(credential).read_text().strip()
    if urlsplit(endpoints["nats"]).username != DESK_USER:
        return str(endpoints["nats"])
    kept = NatsUsers(settings.data_dir, *_embedded_nats_ports(settings)).credential_path(team)
    if not kept.exists():
        raise SystemExit(f"team {team!r} has no NATS user yet: `helpdesk ops credential {team}` makes it")
    return kept.read_text().strip()


async def _watch(
    endpoints: dict[str, Any], nats_url: str, access: NatsAccess, *, team: str, token: str, observe: bool
) -> None:
    lines = _stdin_lines()
    async with (
        aio_channel(service_target(endpoints, "dispatch"), endpoints[CALLER_TLS]) as channel,
        open_team_feed(nats_url, team, _show, observe=observe, access=access) as feed,
    ):
        stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
        source = "new events only" if observe else "durable consumer"
        _say(f"watching team {team} ({source}); type help for commands")
        reading = asyncio.create_task(feed.run(linger=2.0))
        reading.add_done_callback(lambda _: lines.put_nowait(None))  # it failed: stop reading commands
        try:
            while (line := await lines.get()) is not None:
                if not await _answer(stub, token, line):
                    break
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading  # before the connection closes; raises what stopped it, if it failed


def credential_command(args: argparse.Namespace, settings: Settings) -> int:
    from deploy.nats_users import NatsUsers, admitted

    if settings.nats_url is not None:
        raise SystemExit(
            "NATS_URL is set: that NATS is not the desk's own, its operator gives the team a user with"
            f" the permissions `helpdesk ops nats-permissions {args.team}` prints (docs/security.md, NATS)"
        )
    team = checked_team_id(args.team)
    users = NatsUsers(settings.data_dir, *_embedded_nats_ports(settings))
    changed = users.admit([team])
    path = users.credential_path(team)
    if changed and users.reload() and not asyncio.run(admitted(path.read_text().strip())):
        raise SystemExit(f"the embedded NATS did not take team {team!r}'s user; see its log (logs/nats.log)")
    print(path)
    return 0


def _embedded_nats_ports(settings: Settings) -> tuple[str, list[int]]:
    """Where the embedded NATS's nodes listen: the running desk's, else where `helpdesk up` would start
    them (deploy/nats_cluster.py)."""
    from deploy.nats_cluster import nats_nodes
    from deploy.stack import EMBEDDED_HOST

    if settings.endpoints_file.exists():
        running = json.loads(settings.endpoints_file.read_text())
        servers = [urlsplit(url) for url in running.get("nats_servers") or [running["nats"]]]
        if all(server.hostname and server.port for server in servers):
            return str(servers[0].hostname), [server.port for server in servers if server.port]
    return EMBEDDED_HOST, [node.port for node in nats_nodes(settings, EMBEDDED_HOST)]


def permissions_command(args: argparse.Namespace, settings: Settings) -> int:
    user = {"user": team_user(args.team), "password": "…", "permissions": team_permissions(args.team)}
    print(json.dumps(user, indent=2, ensure_ascii=False))
    return 0


async def _show(event: TeamEvent) -> None:
    _say(describe(event))


def describe(event: TeamEvent) -> str:
    """One line: when, what, which work order and ticket, and what the event says about it."""
    payload = event.envelope.payload
    when = event.envelope.occurred_at.ToDatetime(tzinfo=UTC)
    parts = [local_time(when), f"{event.type:<18}", event.work_order_id or "-"]
    parts.append(f"ticket {event.envelope.ticket_id}")
    if "response_due_at" in payload:
        due = datetime.fromisoformat(str(payload["response_due_at"]))
        parts.append(f"response due {local_time(due, seconds=False)}")
    if event.envelope.reason:
        parts.append(f"reason {event.envelope.reason}")
    for key in ("engineer", "cause", "action", "chase_count"):
        if key in payload and payload[key] not in ("", None):
            value = payload[key]
            parts.append(f"{key.replace('_', ' ')} {int(value) if isinstance(value, float) else value}")
    if event.envelope.actor:
        parts.append(f"by {event.envelope.actor}")
    return "  ".join(parts)


async def _answer(stub: dispatch_pb2_grpc.DispatchServiceStub, token: str, line: str) -> bool:
    """Carry out one typed command; False once the engineer wants to stop."""
    try:
        command = parse_command(line)
    except ValueError as bad:
        _say(f"? {bad}")
        return True
    if command == "quit":
        return False
    if command == "help":
        _say(COMMANDS)
    elif isinstance(command, tuple):
        method, request = command
        try:
            answer = await getattr(stub, method)(
                request, metadata=(("authorization", f"Bearer {token}"),), timeout=60
            )
        except grpc.aio.AioRpcError as error:
            _say(f"! {method} refused: {explain(error)}")
        else:
            status = enum_text(common_pb2.WorkOrderStatus.DESCRIPTOR, answer.status)
            _say(f"ok {answer.work_order_id} {status}")
    return True


def parse_command(line: str) -> Rpc | str:
    """A DispatchService call, or "quit", "help" or "" (nothing to do). ValueError: not a command."""
    words = line.strip().split(maxsplit=2)  # the typed line's newline is no part of its last word
    if not words:
        return ""
    verb = words[0].lower()
    if verb in ("quit", "exit", "help"):
        return "quit" if verb == "exit" else verb
    if len(words) < 3:
        raise ValueError(f"{line.strip()!r} is not a command; type help")
    work_order_id, rest = words[1], words[2]
    if verb == "accept":
        return "AcceptWorkOrder", dispatch_pb2.AcceptWorkOrderRequest(
            work_order_id=work_order_id, engineer=rest
        )
    if verb == "return":
        return "ReturnWorkOrder", dispatch_pb2.ReturnWorkOrderRequest(
            work_order_id=work_order_id, reason=rest
        )
    if verb == "resolve":
        return "ResolveWorkOrder", _resolve(work_order_id, rest)
    raise ValueError(f"unknown command {verb!r}; type help")


def _resolve(work_order_id: str, rest: str) -> dispatch_pb2.ResolveWorkOrderRequest:
    head, separator, action = rest.partition(" -- ")
    words = shlex.split(head)  # ValueError on an unbalanced quote
    if not separator or len(words) < 2 or not action.strip():
        raise ValueError("resolve WORK_ORDER ENGINEER CAUSE... -- ACTION...")
    return dispatch_pb2.ResolveWorkOrderRequest(
        work_order_id=work_order_id, engineer=words[0], cause=" ".join(words[1:]), action=action.strip()
    )


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines of stdin, read by a daemon thread (None at the end): works for a terminal, a pipe or a file."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in iter(sys.stdin.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except RuntimeError:  # the loop is closed: the watch has ended meanwhile
            return

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return queue


def _say(text: str) -> None:
    print(text, flush=True)
