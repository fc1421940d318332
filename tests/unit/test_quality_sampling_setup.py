"""What the daily sample needs around the rule: its secret (a setting, or the data dir's key file that
`helpdesk up` makes once), a quality service that refuses to start without it, the day a Schedule's run
samples, and the Schedules' definitions."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import ScheduleActionStartWorkflow, ScheduleOverlapPolicy, ScheduleRange

from deploy.up import quality_sampling_secret
from desk.config import load_settings, parse_sampling_secret
from desk.errors import ConfigurationError
from services.quality import main as quality_main
from services.quality.schedules import daily_sampling_schedule, weekly_report_schedule
from workflows.quality_contract import DailySamplingInput, WeeklyReportInput, previous_day

SECRET = base64.urlsafe_b64encode(b"k" * 32).decode()


def test_the_secret_is_read_from_its_setting() -> None:
    settings = load_settings({"HELPDESK_QUALITY_SAMPLING_SECRET": SECRET})
    assert settings.quality_sampling_secret == b"k" * 32
    assert settings.require_quality_sampling_secret() == b"k" * 32
    assert load_settings({}).quality_sampling_secret is None


@pytest.mark.parametrize("value", ["not base64!!", base64.b64encode(b"short").decode()])
def test_a_bad_secret_stops_the_process_naming_the_setting(value: str) -> None:
    with pytest.raises(ConfigurationError, match="HELPDESK_QUALITY_SAMPLING_SECRET"):
        load_settings({"HELPDESK_QUALITY_SAMPLING_SECRET": value})


def test_standard_and_url_safe_base64_read_alike() -> None:
    raw = bytes(range(250, 256)) * 4  # '+' and '/' in standard base64
    assert parse_sampling_secret(base64.b64encode(raw).decode()) == raw
    assert parse_sampling_secret(base64.urlsafe_b64encode(raw).decode() + "\n") == raw


async def test_the_quality_service_refuses_to_start_without_the_secret() -> None:
    settings = load_settings({"TEMPORAL_ADDRESS": "127.0.0.1:1", "NATS_URL": "nats://x", "DATABASE_URL": "x"})
    with pytest.raises(ConfigurationError, match="HELPDESK_QUALITY_SAMPLING_SECRET"):
        await quality_main.run(settings)  # before it connects to anything


def test_helpdesk_up_makes_the_key_file_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATA_DIR": str(tmp_path)})
    first = quality_sampling_secret(settings)
    assert quality_sampling_secret(settings) == first
    key_file = tmp_path / "quality-sampling.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(parse_sampling_secret(key_file.read_text())) == 32


def test_a_configured_secret_is_handed_on_and_no_file_made(tmp_path: Path) -> None:
    settings = load_settings({"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_QUALITY_SAMPLING_SECRET": SECRET})
    assert parse_sampling_secret(quality_sampling_secret(settings)) == b"k" * 32
    assert not (tmp_path / "quality-sampling.key").exists()


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (datetime(2026, 12, 1, 16, 10, tzinfo=UTC), "2026-12-01"),  # 00:10 on 2 December in Shanghai
        (datetime(2026, 12, 1, 15, 59, tzinfo=UTC), "2026-11-30"),  # still 1 December there
        (datetime(2026, 2, 28, 16, 10, tzinfo=UTC), "2026-02-28"),  # 00:10 on 1 March there
    ],
)
def test_a_scheduled_run_samples_the_local_day_before(at: datetime, day: str) -> None:
    assert previous_day(at, "Asia/Shanghai") == day


def test_the_schedules_say_when_and_what() -> None:
    daily = daily_sampling_schedule("Asia/Shanghai")
    weekly = weekly_report_schedule("Asia/Shanghai")
    for schedule in (daily, weekly):
        assert schedule.spec.time_zone_name == "Asia/Shanghai"
        assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert schedule.policy.catchup_window == timedelta(days=1)
    (day,) = daily.spec.calendars
    assert (day.hour, day.minute) == ((ScheduleRange(0),), (ScheduleRange(10),))
    (week,) = weekly.spec.calendars
    assert (week.hour, week.minute, week.day_of_week) == (
        (ScheduleRange(17),),  # Monday's inspections of Sunday's sample are in the report
        (ScheduleRange(0),),
        (ScheduleRange(1),),  # Monday
    )
    assert isinstance(daily.action, ScheduleActionStartWorkflow)
    assert isinstance(weekly.action, ScheduleActionStartWorkflow)
    assert list(daily.action.args) == [DailySamplingInput(day="", time_zone="Asia/Shanghai")]
    assert list(weekly.action.args) == [WeeklyReportInput(week="", time_zone="Asia/Shanghai")]
