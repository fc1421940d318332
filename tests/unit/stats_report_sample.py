"""A statistics report with known numbers in every section, for the exports' and the page's tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from helpdesk.v1 import stats_pb2

S = stats_pb2
FIRST_DAY = date(2025, 5, 12)
# Tickets per day and channel: the trend chart's points.
DAILY = {
    "PHONE": [12, 9, 15, 7, 11, 3, 2],
    "WEB": [4, 6, 5, 8, 3, 1, 0],
    "EMAIL": [1, 0, 2, 1, 1, 0, 0],
}


def _timestamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def sample_report(*, team: str = "network") -> S.Report:
    daily = [
        S.DailyVolume(day=(FIRST_DAY + timedelta(days=i)).isoformat(), channel=channel, tickets=n)
        for channel, counts in DAILY.items()
        for i, n in enumerate(counts)
        if n
    ]
    kpis = S.Kpis(
        record_completeness_rate=0.9, fcr_rate=0.625, satisfaction_rate=0.8, sla_compliance=0.875,
        mean_time_to_resolve_seconds=7200.5, backlog=6, mean_time_to_respond_seconds=300.0,
        p90_time_to_respond_seconds=900.0, p90_time_to_resolve_seconds=14400.0, tickets=91,
        first_contact_resolved=40, surveys_answered=20, satisfied=16,
        sla=[S.SlaCompliance(deadline_kind="RESPONSE", met=30, missed=2, rate=0.9375),
             S.SlaCompliance(deadline_kind="RESOLUTION", met=26, missed=6, rate=0.8125)],
    )  # fmt: skip
    return S.Report(
        report_id="weekly-2025-05-12", period=S.PERIOD_WEEKLY, period_start="2025-05-12",
        period_end="2025-05-18", boundary=S.PERIOD_BOUNDARY_CALENDAR,
        generated_at=_timestamp(datetime(2025, 5, 19, 1, 0, tzinfo=UTC)), tickets=91,
        volume_by_channel={"PHONE": 59, "WEB": 27, "EMAIL": 5},
        volume_by_kind={"FAULT": 60, "CONSULTATION": 25, "COMPLAINT": 6},
        volume_by_customer_tier={"VIP": 11, "STANDARD": 80},
        volume_by_handling={"AUTOMATIC": 21, "MANUAL": 70},
        volume_by_stage={"MANAGER_HOTLINE": 1, "IVR": 21, "JUNIOR_AGENT": 40, "SENIOR_AGENT": 19,
                         "OPS_TEAM": 10},
        warnings=7, overdue_alarms=3, chases=4, returns=2, redispatches=1, dispatches=30,
        dispatches_answered=26, second_dispatches=2, surveys_answered=20, surveys_expired=5,
        satisfaction={"RATING_UNSATISFIED": 1, "RATING_VERY_SATISFIED": 10, "RATING_SATISFIED": 6,
                      "RATING_NEUTRAL": 3},
        satisfaction_rate=0.8, escalations_by_source={"SLA": 2, "COMPLAINT": 1}, escalations_resolved=2,
        teams=[
            S.TeamLine(team_id=team, dispatches=18, answered=16, warnings=5, overdue_alarms=2, chases=3,
                       returns=1, second_dispatches=1, sla_met=15, sla_missed=3, sla_compliance=15 / 18),
            S.TeamLine(team_id="software", dispatches=12, answered=10, warnings=2, overdue_alarms=1, chases=1,
                       returns=1, second_dispatches=1, sla_met=11, sla_missed=1, sla_compliance=11 / 12),
        ],
        agents=[S.AgentLine(agent_id="agent-1", recorded=40, first_contact_resolved=25, dispatches=12,
                            reviews=0, callbacks=3, surveys=9)],
        daily_volume=daily,
        late_corrections=[S.LateCorrection(period_start="2025-05-05", period_end="2025-05-11",
                                           measure="volume_by_channel/PHONE", delta=2)],
        kpis=kpis,
    )  # fmt: skip
