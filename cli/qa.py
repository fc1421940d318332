"""`helpdesk qa`: quality inspection (质检) against a running desk.

`qa sample DAY` has the day's sample drawn (or answers the one drawn before); `qa verify DAY`
recomputes a stored run from the ledger with the sampling key, as an auditor would, and says MATCH
(exit 0) or lists what differs (exit 1): items in the run but not recomputed, items recomputed but
not in the run, population counts that differ, another key.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import message

from cli.client import bearer, call, group_verbs
from cli.endpoints import read_endpoints, service_channel
from desk.config import Settings, parse_sampling_secret
from desk.errors import ConfigurationError
from desk.rich_errors import explain
from helpdesk.v1 import quality_pb2, quality_pb2_grpc
from services.quality import wire
from services.quality.sampling import Count, Differences, Draw, WorkItem, compare, draw

WORKLOAD_PAGE = 500


def quality_call(args: argparse.Namespace, endpoints: dict[str, Any], method: str, request: Any) -> Any:
    """One QualityService call with the qa_inspector's development token (or `--as` another role's)."""
    role = args.as_role or "qa_inspector"
    stub = quality_pb2_grpc.QualityServiceStub
    return call(endpoints, service="quality", role=role, stub_type=stub, method=method, request=request)


def _stub(endpoints: dict[str, Any], args: argparse.Namespace) -> tuple[grpc.Channel, Any, Any]:
    metadata = bearer(endpoints, args.as_role or "qa_inspector")
    channel = service_channel(endpoints, "quality")
    return channel, quality_pb2_grpc.QualityServiceStub(channel), metadata


def qa_verbs(commands: Any) -> Any:
    """The `qa` group's subcommands: `register` below makes the group; the other qa modules add to it."""
    return group_verbs(commands, "qa")


def sample(args: argparse.Namespace, endpoints: dict[str, Any]) -> message.Message:
    channel, stub, metadata = _stub(endpoints, args)
    with channel:
        answer: message.Message = stub.RunDailySampling(
            quality_pb2.RunDailySamplingRequest(day=args.day), metadata=metadata
        )
    return answer


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    key_file = Path(args.key_file) if args.key_file else settings.quality_sampling_key_file
    secret = _read_key(key_file)
    channel, stub, metadata = _stub(read_endpoints(settings), args)
    try:
        with channel:
            run = stub.GetSamplingRun(quality_pb2.GetSamplingRunRequest(day=args.day), metadata=metadata)
            items = _workload_seen_by(stub, metadata, run)
    except grpc.RpcError as error:
        print(explain(error), file=sys.stderr)
        return 1
    stored = stored_draw(run)
    recomputed = draw(items, secret=secret, day=stored.day, rate_per_mille=run.rate_per_mille)
    differences = compare(stored, recomputed)
    if args.json:
        print(json.dumps(_as_json(run, differences), ensure_ascii=False, indent=2))
    else:
        for line in describe(run, differences):
            print(line)
    return 0 if differences.match else 1


def _read_key(path: Path) -> bytes:
    try:
        return parse_sampling_secret(path.read_text(), source=str(path))
    except OSError as error:
        raise ConfigurationError(f"cannot read the sampling key {path}: {error.strerror}") from error


def _workload_seen_by(stub: Any, metadata: Any, run: quality_pb2.SamplingRun) -> list[WorkItem]:
    """The day's ledger as the run saw it: every item up to its ledger position."""
    items: list[WorkItem] = []
    token = ""
    while True:
        page = stub.ListWorkload(
            quality_pb2.ListWorkloadRequest(day=run.day, page_size=WORKLOAD_PAGE, page_token=token),
            metadata=metadata,
        )
        for item in page.items:
            post = wire.post_from_proto(item.post)
            if item.ledger_position <= run.ledger_position and post is not None:
                items.append(WorkItem(item.item_id, post, item.agent_id))
        token = page.next_page_token
        if not token:
            return items


def stored_draw(run: quality_pb2.SamplingRun) -> Draw:
    population = tuple(
        Count(post, count.agent_id, count.items, count.sampled)
        for count in run.population
        if (post := wire.post_from_proto(count.post)) is not None
    )
    return Draw(
        day=date.fromisoformat(run.day),
        key_id=run.key_id,
        rate_per_mille=run.rate_per_mille,
        population=population,
        item_ids=tuple(sorted(s.item_id for s in run.samples)),
    )


def _who(count: Count | None) -> str:
    return f"{count.post} {count.staff_id or '(whole post)'}" if count else ""


def _counted(count: Count | None) -> str:
    return f"{count.items} items, {count.sampled} sampled" if count else "absent"


def describe(run: quality_pb2.SamplingRun, differences: Differences) -> list[str]:
    if differences.match:
        total = sum(c.items for c in run.population if not c.agent_id)
        return [
            f"MATCH {run.day}: {len(run.samples)} of {total} items sampled, key {run.key_id},"
            f" ledger position {run.ledger_position}"
        ]
    lines = [f"DIFFERENT {run.day} (key {run.key_id}, ledger position {run.ledger_position}):"]
    if differences.key_id:
        stored, recomputed = differences.key_id
        lines.append(f"  key: the run was drawn with key {stored}, this key is {recomputed}")
    lines += [f"  in the run, not recomputed: {item_id}" for item_id in differences.only_stored]
    lines += [f"  recomputed, not in the run: {item_id}" for item_id in differences.only_recomputed]
    for stored_count, recomputed_count in differences.population:
        lines.append(
            f"  population {_who(stored_count or recomputed_count)}: run {_counted(stored_count)},"
            f" recomputed {_counted(recomputed_count)}"
        )
    return lines


def _as_json(run: quality_pb2.SamplingRun, differences: Differences) -> dict[str, Any]:
    def count(c: Count | None) -> dict[str, Any] | None:
        return (
            None
            if c is None
            else {"post": str(c.post), "agent_id": c.staff_id, "items": c.items, "sampled": c.sampled}
        )

    return {
        "day": run.day,
        "match": differences.match,
        "key_id": run.key_id,
        "ledger_position": run.ledger_position,
        "key_differs": list(differences.key_id) if differences.key_id else None,
        "only_in_run": list(differences.only_stored),
        "only_recomputed": list(differences.only_recomputed),
        "population": [{"run": count(s), "recomputed": count(r)} for s, r in differences.population],
    }


def register(sub: Any) -> None:
    """Add the `helpdesk qa` group with `sample|verify`; cli/quality_inspections.py and
    cli/quality_report.py add their verbs to it (:func:`qa_verbs`)."""
    qa = sub.add_parser("qa", help="quality inspection (质检): samples, spot checks, inspections, reports")
    verbs = qa.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser("sample", help="draw the day's 5 %% sample (or show the one drawn before)")
    run.add_argument("day", help="YYYY-MM-DD, a day that is over (the desk's time zone)")
    run.set_defaults(run=sample)
    check = verbs.add_parser(
        "verify", help="recompute a day's sample from the ledger with the key: MATCH, or what differs"
    )
    check.add_argument("day", help="YYYY-MM-DD")
    check.add_argument(
        "--key-file", default="", help="the sampling key (default: <data dir>/quality-sampling.key)"
    )
    check.add_argument("--json", action="store_true", help="say it as a JSON object")
    check.set_defaults(entry=verify_command)
