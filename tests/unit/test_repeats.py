"""Which keys make a report a repeat: the line, and (except self-service) the caller and category."""

from __future__ import annotations

from services.intake.reports.repeats import report_keys


def test_an_agents_report_is_known_by_its_line_and_by_its_caller_and_category() -> None:
    keys = report_keys(
        fault_number="021-5555 1234", phone="+86 138 0013 6138", category="network", channel="PHONE"
    )
    assert keys == ["caller:8613800136138:network", "fault:02155551234"]


def test_a_self_service_report_is_known_by_its_line_only() -> None:
    """An IVR caller's contact number is for the callback: one number may report two lines."""
    assert report_keys(
        fault_number="02155551234", phone="13800136138", category="network", channel="IVR"
    ) == ["fault:02155551234"]


def test_a_report_without_line_or_phone_has_no_key() -> None:
    assert report_keys(fault_number="", phone="", category="network", channel="WEB") == []
