"""`helpdesk stats kpis`: how its --from and --to become the request's instants (cli/stats_kpis.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cli.main import build_parser
from cli.stats_kpis import instant

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_day_starts_at_the_desk_s_midnight_and_to_includes_its_day() -> None:
    assert instant("--from", "2024-02-01", SHANGHAI, end_of_day=False) == datetime(
        2024, 2, 1, tzinfo=SHANGHAI
    )
    assert instant("--to", "2024-02-29", SHANGHAI, end_of_day=True) == datetime(2024, 3, 1, tzinfo=SHANGHAI)


def test_a_date_time_is_an_instant_in_its_own_zone_or_the_desk_s() -> None:
    given = instant("--to", "2024-02-01T08:00+00:00", SHANGHAI, end_of_day=True)
    assert given == datetime(2024, 2, 1, 8, tzinfo=UTC)
    assert instant("--from", "2024-02-01T08:00", SHANGHAI, end_of_day=False) == datetime(
        2024, 2, 1, 8, tzinfo=SHANGHAI
    )


def test_a_bad_day_names_its_option() -> None:
    with pytest.raises(SystemExit, match="--from: '2024-13-01' is not a date"):
        instant("--from", "2024-13-01", SHANGHAI, end_of_day=False)


def test_the_command_sits_beside_stats_rebuild() -> None:
    args = build_parser().parse_args(
        ["stats", "kpis", "--from", "2024-02-01", "--to", "2024-02-29", "--tier", "VIP"]
    )
    assert (args.start, args.end, args.tier, args.team) == ("2024-02-01", "2024-02-29", "VIP", "")
    assert build_parser().parse_args(["stats", "rebuild"]).verb == "rebuild"
