"""Log lines: one JSON object each off a terminal, with the trace, span and ticket; numbers masked."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from desk.config import load_settings
from desk.errors import ConfigurationError
from desk.log_format import JsonFormatter, TextFormatter, TraceContextFilter
from desk.process_logging import LogStyle, configure_logging
from desk.ticket_spans import ticket_scope

PHONE = "13912345678"
TRACER = TracerProvider().get_tracer("test")  # not the global provider: spans only for the context


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own whose lines go through the desk's JSON handler into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("intake"))
    handler.addFilter(TraceContextFilter())
    logger = logging.getLogger(f"test-{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_says_when_what_and_where(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.warning("ticket %s not opened yet", "TK-1")
    [line] = lines(stream)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line.pop("time"))
    assert line == {
        "level": "WARNING",
        "logger": logger.name,
        "message": "ticket TK-1 not opened yet",
        "process": "intake",
    }


def test_a_line_in_a_span_and_a_tickets_scope_names_both(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    with TRACER.start_as_current_span("CreateTicket") as span, ticket_scope("TK-20261202-000001"):
        logger.info("opened")
    [line] = lines(stream)
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}" and line["span_id"] == f"{context.span_id:016x}"
    assert line["ticket_id"] == "TK-20261202-000001"


def test_a_ticket_workflows_line_names_its_ticket(logged: tuple[logging.Logger, io.StringIO]) -> None:
    """Workflow code has no OpenTelemetry context; Temporal's logger puts the workflow on the record."""
    logger, stream = logged
    logger.warning("line test not recorded", extra={"temporal_workflow": {"workflow_id": "ticket/TK-7"}})
    [line] = lines(stream)
    assert line["ticket_id"] == "TK-7" and line["temporal_workflow"] == {"workflow_id": "ticket/TK-7"}


def test_an_exception_gives_its_type_and_traceback(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("failed unexpectedly")
    [line] = lines(stream)
    assert line["error_type"] == "KeyError"
    assert line["traceback"].startswith("Traceback") and "KeyError: 'missing'" in line["traceback"]


def test_extra_fields_are_fields_of_the_line(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("rebuilt", extra={"events_read": 12, "schema": "intake"})
    [line] = lines(stream)
    assert (line["events_read"], line["schema"]) == (12, "intake")


Logged = tuple[logging.Logger, io.StringIO]


def test_a_phone_number_is_masked_wherever_it_is_in_a_line(logged: Logged) -> None:
    logger, stream = logged
    logger.warning("refused %s", f"phone={PHONE}", extra={"caller": f"+86 {PHONE}"})
    try:
        raise ValueError(f"invalid input for query argument $1: '{PHONE}'")
    except ValueError:
        logger.exception("landline 010-62345678 failed")
    written = stream.getvalue()
    assert PHONE not in written and "62345678" not in written and PHONE[-8:] not in written
    first, second = lines(stream)
    assert first["message"] == "refused phone=139****5678" and first["caller"] == "+86 1******5678"
    assert second["message"] == "landline 010-****5678 failed"
    assert "'139****5678'" in second["traceback"]


def test_ids_and_dates_are_not_taken_for_numbers(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("ticket TK-20261202-000123 of 2026-12-02, work order WO_12345678")
    assert lines(stream)[0]["message"] == "ticket TK-20261202-000123 of 2026-12-02, work order WO_12345678"


def test_a_text_line_names_the_trace_and_ticket_compactly() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter("%(levelname)s %(name)s%(ids)s: %(message)s"))
    handler.addFilter(TraceContextFilter())
    logger = logging.getLogger(f"test-{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.warning("outside")
    with TRACER.start_as_current_span("x") as span, ticket_scope("TK-9"):
        logger.warning("call %s", PHONE)
    trace_id = f"{span.get_span_context().trace_id:032x}"[:8]
    assert stream.getvalue().splitlines() == [
        f"WARNING {logger.name}: outside",
        f"WARNING {logger.name} [trace={trace_id} ticket=TK-9]: call 139****5678",
    ]


def _run(program: str) -> str:
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return done.stderr


def test_a_process_off_a_terminal_logs_json_and_still_counts_repeats() -> None:
    program = (
        "import logging, sys\n"
        "from desk.process_logging import LogStyle, configure_logging\n"
        "configure_logging('%(message)s', stream=sys.stderr, repeat_interval=0.2, style=LogStyle('worker'))\n"
        "for n in range(100):\n"
        "    logging.getLogger('desk.outbox_relay').warning('events not published yet (%s)', n)\n"
        "import time; time.sleep(0.5)\n"
    )
    written = [json.loads(line) for line in _run(program).splitlines()]
    assert [line["message"] for line in written] == [
        "events not published yet (0)",
        "events not published yet (99) (repeated 99 times in the last 0.2 s)",
    ]
    assert {line["process"] for line in written} == {"worker"}


def test_the_level_and_format_are_chosen_by_the_style() -> None:
    program = (
        "import logging, sys\n"
        "from desk.process_logging import LogStyle, configure_logging\n"
        "style = LogStyle('intake', 'text', logging.WARNING)\n"
        "configure_logging('%(levelname)s %(message)s', stream=sys.stderr, repeat_interval=None,\n"
        "                  style=style)\n"
        "logging.getLogger('x').info('hidden')\n"
        "logging.getLogger('x').warning('shown')\n"
    )
    assert _run(program).splitlines() == ["WARNING shown"]


def test_the_log_settings_are_read_and_refused_by_name() -> None:
    settings = load_settings({"HELPDESK_LOG_LEVEL": "debug", "HELPDESK_LOG_FORMAT": "JSON"})
    assert (settings.log_level, settings.log_format) == (logging.DEBUG, "json")
    assert (load_settings({}).log_level, load_settings({}).log_format) == (logging.INFO, "auto")
    with pytest.raises(ConfigurationError, match="HELPDESK_LOG_LEVEL"):
        load_settings({"HELPDESK_LOG_LEVEL": "verbose"})
    with pytest.raises(ConfigurationError, match="HELPDESK_LOG_FORMAT"):
        load_settings({"HELPDESK_LOG_FORMAT": "xml"})


def test_configure_logging_is_what_the_entry_point_calls() -> None:
    """Guards the signature cli.main uses (a text style on an in-memory stream, at the root)."""
    root = logging.getLogger()
    before = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging("%(message)s", stream=stream, repeat_interval=None, style=LogStyle("up", "json"))
        logging.getLogger("deploy.up").info("intake is ready")
        assert json.loads(stream.getvalue())["message"] == "intake is ready"
    finally:
        root.handlers[:] = before[0]
        root.setLevel(before[1])
