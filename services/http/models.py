"""The bodies the HTTP channels accept and answer, and the CreateTicketRequest each request becomes.

Nothing here judges a report: fields default to empty and intake's own validation names whatever is
missing or wrong, exactly as it does for gRPC callers. Only each text's bounds are checked here, the
gRPC edge's own (desk/request_bounds.py: length by field kind, no control characters, one line where
the proto field is one line): an e-mail's ``subject`` becomes the ticket's summary, and the caller is
told about ``subject``, the field it sent, rather than ``summary``. Enum values are the proto names
without their prefix ("FAULT", "P2", "VIP"); the full names ("TICKET_KIND_FAULT") are accepted too,
so a ticket read back can be posted again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from google.protobuf import timestamp_pb2
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from desk.request_bounds import ID_CHARS, desk_text_limits
from desk.text_rules import text_problem
from helpdesk.v1 import common_pb2, intake_pb2

IM_SUMMARY_CHARS = 80
"""An IM message has no subject: its summary is the start of its first line, cut here."""


def _without(prefix: str) -> Callable[[Any], Any]:
    def strip(value: Any) -> Any:
        return value.removeprefix(prefix) if isinstance(value, str) else value

    return strip


KindName = Annotated[
    Literal["FAULT", "SERVICE_REQUEST", "CONSULTATION", "COMPLAINT", "CHANGE_REQUEST"],
    BeforeValidator(_without("TICKET_KIND_")),
]
PriorityName = Annotated[Literal["P1", "P2", "P3", "P4"], BeforeValidator(_without("PRIORITY_"))]
TierName = Annotated[Literal["STANDARD", "VIP"], BeforeValidator(_without("CUSTOMER_TIER_"))]
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

WEBHOOK_KEY_CHARS = 998
"""A webhook's own message keys (a Message-ID, a conversation id) are hashed into the request id, so
they may be longer than the desk's ids: up to RFC 5322's longest line."""
IM_CONVERSATION_CHARS = 256
IM_SUFFIX_CHARS = 400
"""Room an IM's description keeps for the conversation and sender ids added after the text (at most
256 + 64 characters, and the words around them)."""


@dataclass(frozen=True)
class Bounded:
    """A text's bounds as pydantic metadata: the limit in the OpenAPI schema (maxLength), the desk's
    text rules (desk/text_rules.py) as a validator, so a breach is a 400 naming the field."""

    max_chars: int
    one_line: bool

    @classmethod
    def like(cls, message: Any, name: str, *, room: int = 0) -> Bounded:
        """The gRPC edge's bounds of the proto field this text becomes, less ``room`` for what the
        gateway adds to it."""
        field = message.DESCRIPTOR.fields_by_name[name]
        limits = desk_text_limits()
        return cls(limits.limit(field) - room, field.full_name in limits.single_line)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["maxLength"] = self.max_chars
        if self.one_line:
            json_schema["x-one-line"] = True  # no newline, carriage return nor tab
        return json_schema

    def _check(self, text: str) -> str:
        if problem := text_problem(text, self.max_chars, self.one_line):
            raise ValueError(problem)
        return text


def _as(message: Any, name: str, *, room: int = 0) -> Bounded:
    return Bounded.like(message, name, room=room)


_REPORTER, _CREATE = common_pb2.Reporter, intake_pb2.CreateTicketRequest


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _enum(enum: Any, prefix: str, name: str | None) -> Any:
    """A name ("FAULT") → its proto value; None → UNSPECIFIED, which intake treats as not given."""
    return enum.Value(prefix + name) if name else 0


def derived_request_id(channel: str, *keys: str) -> str:
    """An idempotency key from a webhook's own message keys: a redelivery finds the same ticket."""
    return f"{channel}:{hashlib.sha256(chr(0).join(keys).encode()).hexdigest()[:40]}"


class ReporterIn(BaseModel):
    name: Annotated[str, _as(_REPORTER, "name")] = ""
    organization: Annotated[str, _as(_REPORTER, "organization")] = ""
    phone: Annotated[str, _as(_REPORTER, "phone")] = ""
    email: Annotated[str, _as(_REPORTER, "email")] = ""
    address: Annotated[str, _as(_REPORTER, "address")] = ""


class WebTicket(BaseModel):
    """A web form: the fields of CreateTicketRequest (DESIGN section 7); the channel is always WEB.

    Form-encoded posts name the reporter's fields `reporter.name`, `reporter.phone` and so on, the
    same paths a 400 answer names.
    """

    request_id: Annotated[str, _as(_CREATE, "request_id")] = Field(
        default="",
        description="Idempotency key (1-128 of A-Z a-z 0-9 . _ : -); or send the Idempotency-Key header.",
    )
    kind: KindName | None = None
    reporter: ReporterIn | None = None
    fault_number: Annotated[str, _as(_CREATE, "fault_number")] = ""
    category: Annotated[str, _as(_CREATE, "category")] = ""
    priority: PriorityName | None = Field(default=None, description="P3 when not given.")
    customer_tier: TierName | None = Field(default=None, description="STANDARD when not given.")
    summary: Annotated[str, _as(_CREATE, "summary")] = ""
    description: Annotated[str, _as(_CREATE, "description")] = ""
    occurred_at: AwareDatetime | None = None
    expected_by: AwareDatetime | None = None
    agent_id: Annotated[str, _as(_CREATE, "agent_id")] = Field(
        default="",
        description=(
            "Who recorded it is the caller's principal. An integrator's token may name its own agent"
            " here (recorded as on_behalf_of beside the integrator); another role only itself."
        ),
    )
    region: Annotated[str, _as(_CREATE, "region")] = ""
    wait_for_routing: bool = Field(
        default=False,
        description="Answer once the ticket is routed and dispatched, not as soon as it is accepted.",
    )

    def to_request(self, request_id: str) -> intake_pb2.CreateTicketRequest:
        return intake_pb2.CreateTicketRequest(
            request_id=request_id,
            channel=common_pb2.CHANNEL_WEB,
            kind=_enum(common_pb2.TicketKind, "TICKET_KIND_", self.kind),
            reporter=common_pb2.Reporter(**self.reporter.model_dump()) if self.reporter else None,
            fault_number=self.fault_number,
            category=self.category,
            priority=_enum(common_pb2.Priority, "PRIORITY_", self.priority),
            customer_tier=_enum(common_pb2.CustomerTier, "CUSTOMER_TIER_", self.customer_tier),
            summary=self.summary,
            description=self.description,
            occurred_at=_timestamp(self.occurred_at),
            expected_by=_timestamp(self.expected_by),
            agent_id=self.agent_id,
            region=self.region,
            wait_for_routing=self.wait_for_routing,
        )


class InboundEmail(BaseModel):
    """One e-mail as a mail gateway posts it. The sender is the reporter, the subject the summary.

    The ticket's request id comes from the Message-ID, so a redelivered message (same Message-ID,
    same content) answers with the ticket the first delivery created.
    """

    model_config = ConfigDict(populate_by_name=True)

    message_id: Annotated[NonBlank, Bounded(WEBHOOK_KEY_CHARS, one_line=True)] = Field(
        description="The Message-ID header, with or without its angle brackets."
    )
    from_address: Annotated[NonBlank, _as(_REPORTER, "email")] = Field(
        alias="from", description="The sender's address: the reporter's e-mail."
    )
    from_name: Annotated[str, _as(_REPORTER, "name")] = Field(
        default="", description="The sender's display name; the address when empty."
    )
    subject: Annotated[str, _as(_CREATE, "summary")] = ""
    text: Annotated[str, _as(_CREATE, "description")] = Field(
        default="", description="The plain-text body: the ticket's description."
    )
    phone: Annotated[str, _as(_REPORTER, "phone")] = Field(
        default="", description="The reporter's phone, when the gateway knows it."
    )
    organization: Annotated[str, _as(_REPORTER, "organization")] = ""
    category: Annotated[str, _as(_CREATE, "category")] = Field(
        default="", description="The desk's configured channel category when empty."
    )
    kind: KindName = "FAULT"

    def to_request(self, *, default_category: str) -> intake_pb2.CreateTicketRequest:
        message_id = self.message_id.strip("<>").strip()
        return intake_pb2.CreateTicketRequest(
            request_id=derived_request_id("email", message_id),
            channel=common_pb2.CHANNEL_EMAIL,
            kind=_enum(common_pb2.TicketKind, "TICKET_KIND_", self.kind),
            reporter=common_pb2.Reporter(
                name=self.from_name.strip() or self.from_address,
                email=self.from_address,
                phone=self.phone,
                organization=self.organization,
            ),
            category=self.category or default_category,
            summary=self.subject,
            description=self.text,
        )


class InboundIm(BaseModel):
    """One instant message as an IM platform's webhook posts it.

    The request id comes from the conversation and message ids, so a redelivery finds the same ticket.
    The summary is the start of the text's first line; the description is the whole text followed by
    the conversation and sender ids, so an agent knows where to answer.
    """

    message_id: Annotated[NonBlank, Bounded(WEBHOOK_KEY_CHARS, one_line=True)]
    conversation_id: Annotated[NonBlank, Bounded(IM_CONVERSATION_CHARS, one_line=True)]
    sender_id: Annotated[NonBlank, Bounded(ID_CHARS, one_line=True)]  # also the reporter's name when unnamed
    sender_name: Annotated[str, _as(_REPORTER, "name")] = Field(
        default="", description="The sender's display name; the sender id when empty."
    )
    phone: Annotated[str, _as(_REPORTER, "phone")] = Field(
        default="", description="The sender's phone, when the platform knows it."
    )
    text: Annotated[str, _as(_CREATE, "description", room=IM_SUFFIX_CHARS)] = ""
    category: Annotated[str, _as(_CREATE, "category")] = Field(
        default="", description="The desk's configured channel category when empty."
    )
    kind: KindName = "FAULT"

    def to_request(self, *, default_category: str) -> intake_pb2.CreateTicketRequest:
        return intake_pb2.CreateTicketRequest(
            request_id=derived_request_id("im", self.conversation_id, self.message_id),
            channel=common_pb2.CHANNEL_IM,
            kind=_enum(common_pb2.TicketKind, "TICKET_KIND_", self.kind),
            reporter=common_pb2.Reporter(name=self.sender_name.strip() or self.sender_id, phone=self.phone),
            category=self.category or default_category,
            summary=_first_line(self.text, IM_SUMMARY_CHARS),
            description=(
                f"{self.text.strip()}\n\n(IM conversation {self.conversation_id}, sender {self.sender_id})"
            ),
        )


def _first_line(text: str, limit: int) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class TicketAnswer(BaseModel):
    """What a create answers: 201 when this request created the ticket, 200 when it existed already."""

    ticket: dict[str, Any] = Field(
        description="The helpdesk.v1.Ticket in protobuf's JSON mapping, with proto field and enum names."
    )
    outcome: str = Field(description="CREATE_OUTCOME_CREATED, CREATE_OUTCOME_REPEAT or ..._KNOWN_OUTAGE.")


class ErrorInfo(BaseModel):
    code: int = Field(description="The HTTP status.")
    status: str = Field(description="The gRPC status name, e.g. INVALID_ARGUMENT.")
    message: str
    details: list[dict[str, Any]] = Field(
        default_factory=list,
        description="As gRPC sends them; a 400 has a google.rpc.BadRequest naming each bad field.",
    )


class ErrorBody(BaseModel):
    """Every error, in the JSON shape of google.rpc.Status over HTTP (Google AIP-193)."""

    error: ErrorInfo
