"""GetKpis's arithmetic and validation (services/stats/kpis.py), from known roll-up sums."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from desk import proto_fields
from desk.errors import InvalidArgument
from helpdesk.v1 import stats_pb2
from services.stats.kpis import KpiFilters, KpiQuery, Kpis, kpi_query, kpis_message
from services.stats.rollups import BUCKET_BOUNDS, KpiInputs, SlaCounts, bucket_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def request(start: datetime | None, end: datetime | None, **filters: str) -> stats_pb2.GetKpisRequest:
    message = stats_pb2.GetKpisRequest()
    for name, value in filters.items():
        setattr(message, name, value)
    if start is not None:
        getattr(message, "from").FromDatetime(start)
    if end is not None:
        message.to.FromDatetime(end)
    return message


def shanghai(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def violated_fields(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [v.field for v in error.value.violations]


# --- the range and the filters ---


def test_midnight_to_midnight_is_exactly_those_days_of_the_desk() -> None:
    query = kpi_query(request(shanghai(date(2024, 2, 1)), shanghai(date(2024, 3, 1))), SHANGHAI)
    assert (query.range.first_day, query.range.last_day, query.range.days) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
        29,
    )


def test_a_range_inside_days_is_widened_to_the_whole_days_of_the_desk_time_zone() -> None:
    # 2024-02-01 15:00 UTC is 23:00 in Shanghai; 2024-02-02 16:30 UTC is 00:30 on the 3rd there.
    start, end = datetime(2024, 2, 1, 15, tzinfo=UTC), datetime(2024, 2, 2, 16, 30, tzinfo=UTC)
    query = kpi_query(request(start, end), SHANGHAI)
    assert (query.range.first_day, query.range.last_day) == (date(2024, 2, 1), date(2024, 2, 3))
    assert query.range.start == shanghai(date(2024, 2, 1))
    assert query.range.end == shanghai(date(2024, 2, 4))


def test_filters_are_read_by_name_in_any_case_and_with_or_without_the_enum_prefix() -> None:
    query = kpi_query(
        request(
            shanghai(date(2024, 2, 1)),
            shanghai(date(2024, 2, 2)),
            team_id=" network ",
            channel="phone",
            kind="TICKET_KIND_FAULT",
            customer_tier="Vip",
        ),
        SHANGHAI,
    )
    assert query.filters == KpiFilters(team_id="network", channel="PHONE", kind="FAULT", customer_tier="VIP")


def test_missing_bounds_are_each_named() -> None:
    with pytest.raises(InvalidArgument) as error:
        kpi_query(request(None, None), SHANGHAI)
    assert violated_fields(error) == ["from", "to"]


def test_to_before_from_names_to() -> None:
    with pytest.raises(InvalidArgument) as error:
        kpi_query(request(shanghai(date(2024, 2, 2)), shanghai(date(2024, 2, 1))), SHANGHAI)
    assert violated_fields(error) == ["to"]
    with pytest.raises(InvalidArgument):  # an empty range too
        kpi_query(request(shanghai(date(2024, 2, 2)), shanghai(date(2024, 2, 2))), SHANGHAI)


def test_400_days_are_served_and_401_are_refused_naming_to() -> None:
    start = shanghai(date(2024, 1, 1))
    assert kpi_query(request(start, shanghai(date(2025, 2, 4))), SHANGHAI).range.days == 400
    with pytest.raises(InvalidArgument) as error:
        kpi_query(request(start, shanghai(date(2025, 2, 5))), SHANGHAI)
    assert violated_fields(error) == ["to"]
    assert "401 days" in str(error.value)


def test_unknown_filter_names_are_each_named_with_the_bounds() -> None:
    with pytest.raises(InvalidArgument) as error:
        kpi_query(request(None, None, channel="PIGEON", kind="GRIPE", customer_tier="GOLD"), SHANGHAI)
    assert violated_fields(error) == ["from", "to", "channel", "kind", "customer_tier"]
    assert "PHONE" in str(error.value)


# --- the p90 from the roll-ups' histogram ---


def histogram(**by_bound: int) -> tuple[int, ...]:
    """Counts per bucket, given by the bucket's upper bound in seconds (``b600=3``) or ``over=n``."""
    counts = [0] * (len(BUCKET_BOUNDS) + 1)
    for name, count in by_bound.items():
        index = len(BUCKET_BOUNDS) if name == "over" else BUCKET_BOUNDS.index(float(name[1:]))
        counts[index] = count
    return tuple(counts)


def test_p90_interpolates_inside_the_bucket_it_falls_in() -> None:
    # 100 times: 50 up to 60 s, 30 in (60, 300], 20 in (300, 600]: the 90th is half-way in the third.
    inputs = KpiInputs(respond_histogram=histogram(b60=50, b300=30, b600=20))
    assert inputs.p90_respond_seconds == pytest.approx(300 + 300 * 10 / 20)


def test_p90_is_never_off_by_more_than_its_bucket() -> None:
    exact = sorted(float(s) for s in range(1, 3601))  # 1 s … 1 h, one of each
    counts = [0] * (len(BUCKET_BOUNDS) + 1)
    for seconds in exact:
        counts[bucket_of(seconds)] += 1
    true_p90 = exact[int(0.9 * len(exact)) - 1]
    estimate = KpiInputs(resolve_histogram=tuple(counts)).p90_resolve_seconds
    width = 3600 - 1800  # the bucket the 90th falls in: (1800, 3600]
    assert abs(estimate - true_p90) < width
    assert abs(estimate - true_p90) <= 1.0  # uniform inside the bucket: interpolation is all but exact


def test_an_empty_histogram_gives_zero() -> None:
    assert KpiInputs(respond_histogram=histogram()).p90_respond_seconds == 0.0


# --- the figures from known sums ---

DAYS = kpi_query(request(shanghai(date(2024, 2, 1)), shanghai(date(2024, 3, 1))), SHANGHAI).range

KNOWN = KpiInputs(
    tickets=200,
    complete_records=150,
    record_fields_filled=700,
    record_fields_total=800,
    first_contact_resolved=40,
    surveys_answered=80,
    satisfied=60,
    sla=(
        SlaCounts("RESPONSE", met=90, missed=10),
        SlaCounts("RESOLUTION", met=70, missed=30),
        SlaCounts("CALLBACK", met=20, missed=0),
    ),
    response_seconds_sum=9000.0,
    response_count=100,
    respond_histogram=histogram(b60=50, b300=30, b600=20),
    resolve_seconds_sum=4000.0,
    resolve_count=4,
    resolve_histogram=histogram(b900=2, b1800=2),
    backlog=17,
)


def test_each_rate_is_its_numerator_over_its_denominator() -> None:
    kpis = kpis_message(KNOWN, DAYS)
    assert kpis.record_completeness_rate == pytest.approx(700 / 800)  # fields filled over expected
    assert kpis.fcr_rate == pytest.approx(40 / 200)
    assert kpis.satisfaction_rate == pytest.approx(60 / 80)
    assert kpis.sla_compliance == pytest.approx((90 + 70 + 20) / (100 + 100 + 20))
    assert (kpis.tickets, kpis.first_contact_resolved, kpis.surveys_answered, kpis.satisfied) == (
        200,
        40,
        80,
        60,
    )
    assert kpis.backlog == 17


def test_sla_has_a_line_for_every_deadline_kind_in_the_contract_order() -> None:
    lines = {line.deadline_kind: line for line in kpis_message(KNOWN, DAYS).sla}
    assert list(lines) == ["RESPONSE", "RESOLUTION", "CALLBACK", "INVESTIGATION", "KNOWLEDGE_ENTRY"]
    assert (lines["RESOLUTION"].met, lines["RESOLUTION"].missed) == (70, 30)
    assert lines["RESOLUTION"].rate == pytest.approx(0.7)
    none_due = lines["INVESTIGATION"]
    assert (none_due.met, none_due.missed, none_due.rate) == (0, 0, 0.0)


def test_times_are_mean_from_the_sum_and_p90_from_the_histogram() -> None:
    kpis = kpis_message(KNOWN, DAYS)
    assert kpis.mean_time_to_respond_seconds == pytest.approx(90.0)
    assert kpis.p90_time_to_respond_seconds == pytest.approx(450.0)
    assert kpis.mean_time_to_resolve_seconds == pytest.approx(1000.0)
    # the 90th of 4 (3.6th) is 80 % into (900, 1800]
    assert kpis.p90_time_to_resolve_seconds == pytest.approx(900 + 900 * 1.6 / 2)


def test_the_answer_says_the_whole_days_it_covers() -> None:
    kpis = kpis_message(KNOWN, DAYS)
    assert proto_fields.from_timestamp(kpis, "from") == shanghai(date(2024, 2, 1))
    assert proto_fields.from_timestamp(kpis, "to") == shanghai(date(2024, 3, 1))


def test_an_empty_range_gives_zeros_not_errors() -> None:
    kpis = kpis_message(KpiInputs(), DAYS)
    assert kpis.tickets == 0
    assert kpis.record_completeness_rate == kpis.fcr_rate == kpis.satisfaction_rate == 0.0
    assert kpis.sla_compliance == kpis.p90_time_to_resolve_seconds == kpis.mean_time_to_respond_seconds == 0.0
    assert len(kpis.sla) == 5


class _Recorded:
    """A KpiSource answering known inputs and keeping the query it was asked."""

    def __init__(self, inputs: KpiInputs) -> None:
        self.inputs = inputs
        self.queries: list[KpiQuery] = []

    async def kpi_inputs(self, query: KpiQuery) -> KpiInputs:
        self.queries.append(query)
        return self.inputs


async def test_the_filters_reach_the_read_model_and_bad_input_never_does() -> None:
    source = _Recorded(KNOWN)
    kpis = Kpis(source, SHANGHAI)
    start, end = shanghai(date(2024, 2, 1)), shanghai(date(2024, 3, 1))
    answer = await kpis.get(request(start, end, team_id="network", kind="fault"))
    assert answer.tickets == 200
    assert source.queries[0].filters == KpiFilters(team_id="network", kind="FAULT")
    with pytest.raises(InvalidArgument):
        await kpis.get(request(end, start))
    assert len(source.queries) == 1
