"""No customer data in the desk's logs or spans: a ticket's main path and some refusals, then a grep.

Every file under the desk's ``logs/`` (each process's, the embedded Temporal's, NATS's and
PostgreSQL's) and ``spans/`` is searched for the customer's phone (whole, and its last eight digits),
name (whole, and the given name), e-mail, address, the line's number, and the summary, description
and supplement texts: none may be there. The ticket's id must be there, in both, or the grep proves
nothing.
"""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from pathlib import Path

import grpc
import httpx
import pytest

from helpdesk.v1 import (
    common_pb2,
    dispatch_pb2,
    dispatch_pb2_grpc,
    intake_pb2,
    intake_pb2_grpc,
    survey_pb2,
    survey_pb2_grpc,
)
from tests.integration.desk_client import auth, recorded, report
from tests.stack import RunningDesk

S = common_pb2
MARK = uuid.uuid4().hex[:6]  # this run's texts are its own, whatever else the session's desk has seen
PHONE = "139" + "".join(random.choices("0123456789", k=8))
LANDLINE = "0106" + "".join(random.choices("0123456789", k=7))  # Beijing's area code, then the line
CHINESE_NAME, GIVEN_NAME = "欧阳娜娜", "娜娜"
LATIN_NAME = "Ottoline Quennell"
EMAIL = f"ottoline.{MARK}@example.org"
ADDRESS = f"17 Wutong Lane {MARK}"
SUMMARY = f"Modem blinks amber {MARK}"
DESCRIPTION = f"Since the storm the modem in the study blinks amber thrice {MARK}"
SUPPLEMENT = f"Neighbour at number nine has the same trouble {MARK}"

SECRETS = {
    "phone": PHONE,
    "phone's last 8 digits": PHONE[-8:],
    "landline": LANDLINE,
    "landline's last 8 digits": LANDLINE[-8:],
    "name": CHINESE_NAME,
    "given name": GIVEN_NAME,
    "Latin name": LATIN_NAME,
    "Latin given name": "Ottoline",
    "e-mail": EMAIL,
    "address": ADDRESS,
    "summary": SUMMARY,
    "description": DESCRIPTION,
    "supplement": SUPPLEMENT,
}


def _files(data_dir: Path) -> list[Path]:
    return [path for folder in ("logs", "spans") for path in (data_dir / folder).rglob("*") if path.is_file()]


def _found(data_dir: Path, text: str) -> list[str]:
    """The files that hold `text` (rotated files too; a file rotated away meanwhile is skipped).

    Digits count only as a number of their own: a phone's last eight digits are also somewhere in the
    19-digit nanosecond times of a session's spans, by chance (a run in ~40 failed so)."""
    pattern = re.compile(rf"(?<![0-9]){re.escape(text)}(?![0-9])" if text.isdigit() else re.escape(text))
    hits = []
    for path in _files(data_dir):
        try:
            content = path.read_bytes().decode(errors="replace")
        except FileNotFoundError:
            continue
        if pattern.search(content):
            hits.append(str(path.relative_to(data_dir)))
    return hits


async def _until_written(data_dir: Path, text: str, folder: str) -> None:
    """Spans are exported every 0.5 s and a child's log is copied as written: wait for `text` there."""
    for _ in range(60):
        if any(hit.startswith(folder) for hit in _found(data_dir, text)):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{text!r} is in no file under {folder}/: the grep would prove nothing")


async def _main_path(desk: RunningDesk) -> str:
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    dispatch = dispatch_pb2_grpc.DispatchServiceStub(desk.channel("dispatch"))
    survey = survey_pb2_grpc.SurveyServiceStub(desk.channel("survey"))
    agent, ops = auth(desk.token("agent")), auth(desk.token("ops_engineer:network"))
    reporter = S.Reporter(
        name=CHINESE_NAME, phone=PHONE, email=EMAIL, address=ADDRESS, organization=f"Quennell & Co {MARK}"
    )
    created = await intake.CreateTicket(
        report(
            category="network",
            reporter=reporter,
            fault_number=LANDLINE,
            summary=SUMMARY,
            description=DESCRIPTION,
        ),
        metadata=agent,
    )
    ticket = created.ticket
    await recorded(intake, ticket.ticket_id, agent)
    await intake.AddSupplement(
        intake_pb2.AddSupplementRequest(ticket_id=ticket.ticket_id, text=SUPPLEMENT), metadata=agent
    )
    [work_order] = ticket.work_orders
    accepted = await dispatch.AcceptWorkOrder(
        dispatch_pb2.AcceptWorkOrderRequest(work_order_id=work_order.work_order_id, engineer="Wang Wu"),
        metadata=ops,
    )
    await dispatch.ResolveWorkOrder(
        dispatch_pb2.ResolveWorkOrderRequest(
            work_order_id=work_order.work_order_id,
            cause="water in the junction box",
            action="dried and resealed the box",
            engineer="Wang Wu",
            onsite=S.OnsiteReport(
                departed_at=accepted.accepted_at,
                arrived_at=accepted.accepted_at,
                restored_at=accepted.accepted_at,
                test_result=S.TEST_RESULT_NORMAL,
                customer_signed=True,
            ),
        ),
        metadata=ops,
    )
    callback = await survey.RecordCallback(
        survey_pb2.RecordCallbackRequest(
            ticket_id=ticket.ticket_id,
            reached=True,
            confirmed_resolved=True,
            note=f"{LATIN_NAME} at {PHONE} is satisfied",
        ),
        metadata=auth(desk.token("surveyor")),
    )
    assert callback.ticket_status == S.TICKET_STATUS_CLOSED
    return str(ticket.ticket_id)


async def _refusals(desk: RunningDesk) -> None:
    """Requests refused for their data: each refusal's words must not carry the data into a log."""
    intake = intake_pb2_grpc.IntakeServiceStub(desk.channel("intake"))
    agent = auth(desk.token("agent"))
    bad_phone = S.Reporter(name=LATIN_NAME, phone=f"{PHONE[:3]}\x00{PHONE[3:]}", email=EMAIL)
    bad_name = S.Reporter(name=f"{CHINESE_NAME}\x1b[31m", phone=PHONE, address=ADDRESS)
    for refused in (
        report(reporter=bad_phone, summary=SUMMARY, description=DESCRIPTION),
        report(reporter=bad_name, summary=f"{SUMMARY}\x07", description=DESCRIPTION),
        report(reporter=S.Reporter(name=LATIN_NAME, phone=f"{PHONE}{PHONE}"), summary=SUMMARY),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await intake.CreateTicket(refused, metadata=agent)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for unknown in (PHONE, "TK-00000000-000000"):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await intake.GetTicket(intake_pb2.GetTicketRequest(ticket_id=unknown), metadata=agent)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    # The gateway's access log names each path: a phone typed where a ticket id goes.
    async with httpx.AsyncClient(base_url=desk.endpoints["http"]["intake"], timeout=60) as http:
        page = await http.get(f"/v1/tickets/{PHONE}/trace", params={"caller": PHONE})
        assert page.status_code == 401


async def test_no_log_or_span_file_holds_the_customers_data(desk: RunningDesk) -> None:
    ticket_id = await _main_path(desk)
    await _refusals(desk)
    await _until_written(desk.data_dir, ticket_id, "spans")
    await _until_written(desk.data_dir, ticket_id, "logs")
    await _until_written(desk.data_dir, "/trace?caller=", "logs")  # the gateway's access line, the last
    await asyncio.sleep(1.0)  # the last batch of spans (0.5 s) and the log copies settle

    found = {what: hits for what, text in SECRETS.items() if (hits := _found(desk.data_dir, text))}
    assert found == {}, f"customer data in the desk's files: {found}"
    assert _found(desk.data_dir, f"{PHONE[:3]}****{PHONE[-4:]}"), "the phone typed in the path, masked"
    assert (desk.data_dir / "logs" / "temporal.log").exists()  # the Temporal server's log was searched
