"""Which SLA policy is in force: the most specific match wins (team, then priority, then tier)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from domain.work_orders import SlaPolicyRecord
from services.dispatch.repository import TeamRow

HOUR = 3600.0
DESK_CALENDAR = "24X7"
DESK_TIME_ZONE = "Asia/Shanghai"
DEFAULT_RESPONSE_SECONDS = {"P1": 15 * 60.0, "P2": 30 * 60.0, "P3": 2 * HOUR, "P4": 4 * HOUR}
DEFAULT_RESOLUTION_SECONDS = 24 * HOUR
DEFAULT_CALLBACK_SECONDS = 24 * HOUR


def specificity(policy: SlaPolicyRecord) -> int:
    return (4 if policy.team_id else 0) + (2 if policy.priority else 0) + (1 if policy.customer_tier else 0)


def matches(policy: SlaPolicyRecord, *, priority: str, customer_tier: str, team_id: str) -> bool:
    return (
        policy.priority in ("", priority)
        and policy.customer_tier in ("", customer_tier)
        and policy.team_id in ("", team_id)
    )


def most_specific(
    policies: Iterable[SlaPolicyRecord], *, priority: str, customer_tier: str, team_id: str
) -> SlaPolicyRecord | None:
    candidates = [
        p for p in policies if matches(p, priority=priority, customer_tier=customer_tier, team_id=team_id)
    ]
    return max(candidates, key=specificity, default=None)


def default_policies() -> list[SlaPolicyRecord]:
    """The seeded defaults of DESIGN section 5: response by priority, resolution 24 h, callback 1 day."""
    return [
        SlaPolicyRecord(
            priority=priority,
            customer_tier="",
            team_id="",
            response_seconds=response,
            resolution_seconds=DEFAULT_RESOLUTION_SECONDS,
            callback_seconds=DEFAULT_CALLBACK_SECONDS,
        )
        for priority, response in DEFAULT_RESPONSE_SECONDS.items()
    ]


def on_team_calendar(policy: SlaPolicyRecord, team: TeamRow | None) -> SlaPolicyRecord:
    """The policy as a work order runs on it: its own calendar, else the team's; the team's time zone.

    Without a team (the desk holds the ticket) it runs round the clock in the desk's time zone.
    """
    calendar = policy.calendar or (team.calendar if team else "") or DESK_CALENDAR
    return replace(policy, calendar=calendar, time_zone=team.time_zone if team else DESK_TIME_ZONE)


def policy_in_force(
    policies: list[SlaPolicyRecord],
    *,
    priority: str,
    customer_tier: str,
    team_id: str,
    team: TeamRow | None,
) -> SlaPolicyRecord:
    """The most specific stored policy for the team (the defaults when none is stored), on its calendar."""
    found = most_specific(
        policies or default_policies(), priority=priority, customer_tier=customer_tier, team_id=team_id
    ) or most_specific(default_policies(), priority=priority, customer_tier=customer_tier, team_id="")
    assert found is not None, f"no default policy for priority {priority!r}"
    return on_team_calendar(found, team)
