"""Known outages on PostgreSQL itself: the index finds the one a report falls in, and a declaration too
large is refused at the edge.

The matching runs in a database of its own on the desk's PostgreSQL, so the outages declared here
match none of the other tests' reports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import pytest

from helpdesk.v1 import intake_pb2, intake_pb2_grpc
from services.intake import repository
from services.intake.outages.matching import MAX_EXCHANGES, KnownOutage, OutageRecord, matching, report_terms
from tests.integration.desk_client import auth, bad_fields
from tests.stack import RunningDesk

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def outage(
    outage_id: str,
    minutes: int,
    *,
    exchanges: Sequence[str] = (),
    categories: Sequence[str] = (),
    regions: Sequence[str] = (),
) -> OutageRecord:
    return OutageRecord(
        outage_id,
        f"req-{outage_id}",
        f"cause {outage_id}",
        T0 + timedelta(minutes=minutes),
        [*exchanges],
        [*categories],
        [*regions],
    )


DECLARED = [
    outage("LATER", 5, exchanges=["0215555"], categories=["network"]),
    outage("EARLIEST", 1, exchanges=["021", "0755"], regions=["310000"]),
    outage("OTHER-CATEGORY", 0, exchanges=["0215555"], categories=["power"]),
    outage("OTHER-REGION", 0, regions=["110000"]),
    outage("NO-EXCHANGE", 3, categories=["network"], regions=["310000"]),
    outage("RESOLVED", 0, exchanges=["02155"]),
    outage("TIE-B", 10, exchanges=["0371"]),
    outage("TIE-A", 10, exchanges=["03712"]),
]

REPORTS = [  # fault number, category, region: the outage it falls in
    ("02155551234", "network", "310000", "EARLIEST"),  # LATER and NO-EXCHANGE match too
    ("02155551234", "network", "440300", "LATER"),  # EARLIEST is only in 310000
    ("02155551234", "power", "440300", "OTHER-CATEGORY"),
    ("", "network", "310000", "NO-EXCHANGE"),  # a report without a number is in no exchange
    ("07551234567", "software", "310000", "EARLIEST"),  # by its second exchange
    ("03712345678", "network", "410100", "TIE-A"),  # declared at the same time: the smaller id
    ("01012345678", "software", "110000", "OTHER-REGION"),
    ("01012345678", "software", "120000", None),
]


async def test_the_index_finds_only_the_earliest_matching_active_outage(scratch: asyncpg.Pool) -> None:
    for declared in DECLARED:
        await repository.declare_outage(db=scratch, outage=declared)
    await repository.resolve_outage(db=scratch, outage_id="RESOLVED", resolution="spliced", now=T0)
    resolved = await repository.get_outage(db=scratch, outage_id="RESOLVED")
    assert resolved is not None and not resolved.active
    everything = [d for d in DECLARED if d.outage_id != "RESOLVED"] + [resolved]

    for fault_number, category, region, expected in REPORTS:
        known = await repository.matching_outage(
            db=scratch, fault_number=fault_number, category=category, region=region
        )
        assert (known.outage_id if known else None) == expected, (fault_number, category, region)
        in_memory = matching(everything, fault_number=fault_number, category=category, region=region)
        assert (in_memory.outage_id if in_memory else None) == expected  # the rule, as the index answers it
    known = await repository.matching_outage(
        db=scratch, fault_number="02155551234", category="network", region="310000"
    )
    assert known == KnownOutage("EARLIEST", "cause EARLIEST", T0 + timedelta(minutes=1))


async def test_a_report_reads_the_outages_scope_by_index_however_large_the_outages(
    scratch: asyncpg.Pool,
) -> None:
    for n in range(30):
        exchanges = [f"0755{n:03d}{i:04d}" for i in range(MAX_EXCHANGES)]
        await repository.declare_outage(db=scratch, outage=outage(f"BIG-{n}", n, exchanges=exchanges))
    await scratch.execute("ANALYZE intake.outage_scope")
    terms = report_terms(fault_number="07550051234", category="network", region="440300")
    plan = await scratch.fetchval(
        f"EXPLAIN (FORMAT JSON) {repository.MATCHING_OUTAGE}",
        terms["exchange"],
        terms["category"],
        terms["region"],
    )
    on_scope = [n for n in _nodes(json.loads(plan)[0]["Plan"]) if n.get("Relation Name") == "outage_scope"]
    assert len(on_scope) == 3, plan  # one lookup per dimension,
    assert all(n.get("Index Name") == "outage_scope_pkey" for n in on_scope), plan  # each by the index


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def test_a_declaration_too_large_is_refused_naming_the_field(desk: RunningDesk) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    manager = auth(desk.token("manager"))
    too_many = intake_pb2.DeclareOutageRequest(
        request_id=f"big-{uuid.uuid4().hex[:8]}",
        cause="fibre cut",
        exchanges=[f"0755{i:05d}" for i in range(MAX_EXCHANGES + 1)],
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.DeclareOutage(too_many, metadata=manager)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_fields(refused.value) == ["exchanges"]
    long_cause = intake_pb2.DeclareOutageRequest(
        request_id=too_many.request_id, cause="x" * 20_000, regions=["310000"]
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.DeclareOutage(long_cause, metadata=manager)
    assert bad_fields(refused.value) == ["cause"]
    del too_many.exchanges[MAX_EXCHANGES:]  # at the bound: declared, under the same request id
    declared = await intake.DeclareOutage(too_many, metadata=manager)
    assert len(declared.exchanges) == MAX_EXCHANGES
    await intake.ResolveOutage(
        intake_pb2.ResolveOutageRequest(outage_id=declared.outage_id, resolution="spliced"), metadata=manager
    )
