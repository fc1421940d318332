"""The knowledge base over gRPC on the real desk: entries, versions, search, cases, events, matches.

Each test marks its entries with a code of its own (a Latin word search finds as a prefix), so tests
sharing the desk never find each other's entries.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC

import grpc
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from helpdesk.v1 import events_pb2, intake_pb2_grpc, knowledge_pb2, knowledge_pb2_grpc
from services.knowledge.contract import case_workflow_id, entry_deadline
from tests.integration.desk_client import Event, auth, bad_fields, report, stream_events
from tests.stack import RunningDesk, helpdesk

K = knowledge_pb2


class Knowledge:
    def __init__(self, desk: RunningDesk) -> None:
        self.desk = desk
        self.stub = knowledge_pb2_grpc.KnowledgeServiceStub(desk.channel("knowledge"))

    def as_(self, role: str) -> tuple[tuple[str, str], ...]:
        return auth(self.desk.token(role))

    async def create(self, title: str, body: str, **fields: str) -> K.KnowledgeEntry:
        request = K.CreateEntryRequest(title=title, body=body, **fields)
        entry: K.KnowledgeEntry = await self.stub.CreateEntry(request, metadata=self.as_("knowledge_manager"))
        return entry

    async def search(self, query: str, role: str = "agent") -> list[str]:
        answer = await self.stub.SearchEntries(K.SearchEntriesRequest(query=query), metadata=self.as_(role))
        return [m.entry_id for m in answer.matches]


@pytest.fixture
def kb(desk: RunningDesk) -> Knowledge:
    return Knowledge(desk)


def code() -> str:
    return "kb" + uuid.uuid4().hex[:10]


def of_entry(entry_id: str) -> Callable[[events_pb2.EventEnvelope], bool]:
    return lambda envelope: envelope.payload.fields["entry_id"].string_value == entry_id


async def test_an_entry_is_found_by_a_word_inside_its_sentences(kb: Knowledge) -> None:
    mark = code()
    entry = await kb.create(
        "光猫LOS红灯闪烁", f"测量台测试光功率过低。更换光模块后恢复。{mark}", category="network"
    )
    assert (entry.status, entry.version) == (K.ENTRY_STATUS_PUBLISHED, 1)
    assert await kb.search(f"光模块 {mark}") == [entry.entry_id]
    assert await kb.search(f"光模块 {mark}", role="senior_agent") == [entry.entry_id]


async def test_a_revision_keeps_every_version_and_search_follows_the_newest(kb: Knowledge) -> None:
    mark = code()
    entry = await kb.create("拨号错误691", f"核对账号密码。{mark}")
    for n, body in enumerate([f"账号欠费停机。缴费后复机。{mark}", f"重新鉴权后恢复。{mark}"], start=1):
        revised = await kb.stub.ReviseEntry(
            K.ReviseEntryRequest(
                entry_id=entry.entry_id, title="拨号错误691", body=body, note=f"第{n}次修订"
            ),
            metadata=kb.as_("knowledge_manager"),
        )
        assert revised.version == n + 1
    read = await kb.stub.GetEntry(K.GetEntryRequest(entry_id=entry.entry_id), metadata=kb.as_("agent"))
    assert [v.version for v in read.versions] == [1, 2, 3]
    assert [v.body.removesuffix(mark) for v in read.versions] == [
        "核对账号密码。",
        "账号欠费停机。缴费后复机。",
        "重新鉴权后恢复。",
    ]
    assert [v.note for v in read.versions] == ["", "第1次修订", "第2次修订"]
    assert read.body == f"重新鉴权后恢复。{mark}"
    assert await kb.search(f"鉴权 {mark}") == [entry.entry_id]
    assert entry.entry_id not in await kb.search("核对账号密码")  # only version 1 said it


async def test_a_retired_entry_leaves_search_stays_readable_and_is_not_revised(kb: Knowledge) -> None:
    mark = code()
    entry = await kb.create("机房空调故障", f"修复空调后重启交换机。{mark}")
    assert await kb.search(f"空调 {mark}") == [entry.entry_id]
    retire = K.RetireEntryRequest(entry_id=entry.entry_id, reason="空调已更换为新型号")
    retired = await kb.stub.RetireEntry(retire, metadata=kb.as_("knowledge_manager"))
    assert (retired.status, retired.retired_reason) == (K.ENTRY_STATUS_RETIRED, "空调已更换为新型号")
    again = await kb.stub.RetireEntry(retire, metadata=kb.as_("knowledge_manager"))
    assert again.retired_at == retired.retired_at  # retiring twice answers the same
    assert await kb.search(f"空调 {mark}") == []
    read = await kb.stub.GetEntry(K.GetEntryRequest(entry_id=entry.entry_id), metadata=kb.as_("agent"))
    assert read.status == K.ENTRY_STATUS_RETIRED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await kb.stub.ReviseEntry(
            K.ReviseEntryRequest(entry_id=entry.entry_id, title="t", body="b"),
            metadata=kb.as_("knowledge_manager"),
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_bad_input_unknown_entries_and_roles_are_refused(kb: Knowledge) -> None:
    manager = kb.as_("knowledge_manager")
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await kb.stub.CreateEntry(K.CreateEntryRequest(title=" ", tags=[""]), metadata=manager)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sorted(bad_fields(bad.value)) == ["body", "tags", "title"]
    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await kb.stub.RetireEntry(K.RetireEntryRequest(entry_id="kb-x"), metadata=manager)
    assert bad_fields(no_reason.value) == ["reason"]
    with pytest.raises(grpc.aio.AioRpcError) as no_query:
        await kb.stub.SearchEntries(K.SearchEntriesRequest(query=""), metadata=kb.as_("agent"))
    assert bad_fields(no_query.value) == ["query"]
    for call, request in [
        (kb.stub.GetEntry, K.GetEntryRequest(entry_id="kb-none")),
        (kb.stub.ReviseEntry, K.ReviseEntryRequest(entry_id="kb-none", title="t", body="b")),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await call(request, metadata=manager)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as agent_writes:
        await kb.stub.CreateEntry(K.CreateEntryRequest(title="t", body="b"), metadata=kb.as_("agent"))
    assert agent_writes.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as agent_proposes:
        await kb.stub.ProposeEntry(K.ProposeEntryRequest(ticket_id="T-1"), metadata=kb.as_("agent"))
    assert agent_proposes.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_same_request_id_creates_one_entry(kb: Knowledge) -> None:
    request_id = f"req-{uuid.uuid4()}"
    first = await kb.create("电话串线", "重新跳线后恢复。", request_id=request_id)
    again = await kb.create("电话串线", "重新跳线后恢复。", request_id=request_id)
    assert again.entry_id == first.entry_id
    assert again.version == 1


async def test_a_new_report_shows_the_entries_that_answer_its_summary(
    desk: RunningDesk, kb: Knowledge
) -> None:
    mark = code()
    entry = await kb.create(f"老鼠咬断地下室线缆 {mark}", "更换线缆并加装护套。")
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    answer = await intake.CreateTicket(
        report(summary=f"地下室的线被老鼠咬断了 {mark}"), metadata=auth(desk.token("agent"))
    )
    assert answer.knowledge_matches[0].entry_id == entry.entry_id
    assert answer.knowledge_matches[0].title.startswith("老鼠咬断")
    assert len(answer.knowledge_matches) <= 3


async def test_a_proposed_case_is_due_in_half_a_working_day_and_met_by_its_entry(
    desk: RunningDesk, kb: Knowledge
) -> None:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    ticket = (await intake.CreateTicket(report(), metadata=auth(desk.token("agent")))).ticket
    propose = K.ProposeEntryRequest(ticket_id=ticket.ticket_id, note="转接正确的疑难问题")
    case = await kb.stub.ProposeEntry(propose, metadata=kb.as_("senior_agent"))
    deadline = entry_deadline(case.proposed_at.ToDatetime(tzinfo=UTC))  # half a working day, 5x8
    assert case.state == K.CANDIDATE_STATE_PENDING
    assert case.due_at.ToDatetime(tzinfo=UTC) == deadline.due_at
    assert case.warn_at.ToDatetime(tzinfo=UTC) == deadline.warn_at
    again = await kb.stub.ProposeEntry(propose, metadata=kb.as_("senior_agent"))
    assert again.proposed_at == case.proposed_at  # proposing again answers the same case
    listed = await kb.stub.ListCandidates(K.ListCandidatesRequest(), metadata=kb.as_("knowledge_manager"))
    assert ticket.ticket_id in [c.ticket_id for c in listed.candidates]
    temporal = await Client.connect(desk.endpoints["temporal"])
    case_workflow = temporal.get_workflow_handle(case_workflow_id(ticket.ticket_id))
    assert (await case_workflow.describe()).status == WorkflowExecutionStatus.RUNNING  # the deadline
    entry = await kb.create("疑难问题", "整理后的答复。", ticket_id=ticket.ticket_id)
    for _ in range(100):  # the entry's signal ends it
        if (await case_workflow.describe()).status == WorkflowExecutionStatus.COMPLETED:
            break
        await asyncio.sleep(0.1)
    assert (await case_workflow.describe()).status == WorkflowExecutionStatus.COMPLETED
    listed = await kb.stub.ListCandidates(
        K.ListCandidatesRequest(include_met=True, page_size=500), metadata=kb.as_("knowledge_manager")
    )
    met = next(c for c in listed.candidates if c.ticket_id == ticket.ticket_id)
    assert (met.state, met.entry_id) == (K.CANDIDATE_STATE_MET, entry.entry_id)
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await kb.stub.ProposeEntry(K.ProposeEntryRequest(ticket_id="T-NONE"), metadata=kb.as_("senior_agent"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    proposed = await stream_events(
        desk.endpoints["nats"],
        lambda e: (
            e.type == "knowledge.proposed" and e.payload.fields["ticket_id"].string_value == ticket.ticket_id
        ),
        until=lambda events: len(events) >= 1,
    )
    assert len(proposed) == 1


async def test_each_change_of_an_entry_is_on_the_stream_once_with_the_envelope(
    desk: RunningDesk, kb: Knowledge
) -> None:
    entry = await kb.create("网站证书过期", "重新签发证书并部署。")
    await kb.stub.ReviseEntry(
        K.ReviseEntryRequest(entry_id=entry.entry_id, title="网站证书过期", body="续期证书。"),
        metadata=kb.as_("knowledge_manager"),
    )
    await kb.stub.RetireEntry(
        K.RetireEntryRequest(entry_id=entry.entry_id, reason="证书已自动续期"),
        metadata=kb.as_("knowledge_manager"),
    )

    def all_three(events: list[Event]) -> bool:
        return len(events) >= 3

    events = await stream_events(desk.endpoints["nats"], of_entry(entry.entry_id), until=all_three)
    assert [e.envelope.type for e in events] == [
        "knowledge.published",
        "knowledge.revised",
        "knowledge.retired",
    ]
    assert [e.subject for e in events] == [
        "helpdesk.knowledge.published",
        "helpdesk.knowledge.revised",
        "helpdesk.knowledge.retired",
    ]
    assert [e.envelope.sequence for e in events] == [1, 2, 3]
    assert Counter(e.msg_id for e in events) == Counter({e.envelope.event_id: 1 for e in events})
    assert events[0].envelope.actor == "dev-knowledge_manager"
    assert events[2].envelope.reason == "证书已自动续期"


async def test_the_command_line_adds_searches_and_shows_entries(desk: RunningDesk) -> None:
    env = {**os.environ, "HELPDESK_DATA_DIR": str(desk.data_dir)}
    mark = code()
    body = f"LOID录入错误。重新录入LOID后注册成功。{mark}"
    status, output = await helpdesk(
        "kb", "add", "--title", "光猫注册失败", "--body", body, "--tag", "光猫", env=env
    )
    assert status == 0, output
    entry_id = json.loads(output)["entryId"]
    status, output = await helpdesk("kb", "search", "注册成功", mark, env=env)
    assert status == 0, output
    assert [m["entryId"] for m in json.loads(output)["matches"]] == [entry_id]
    status, output = await helpdesk("kb", "show", entry_id, env=env)
    assert status == 0, output
    assert [v["body"] for v in json.loads(output)["versions"]] == [body]
    status, output = await helpdesk("kb", "add", "--title", "t", "--body", "b", "--as", "agent", env=env)
    assert status == 1
    assert "PERMISSION_DENIED" in output or "permission" in output.lower()
