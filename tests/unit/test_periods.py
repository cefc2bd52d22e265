"""Reporting periods: whole London days, as UTC bounds, with clear errors."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.sla_monitor.reporting.periods import PeriodError, PeriodKind, parse_period


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, label, kind, first_day, last_day, start, end",
    [
        # British Summer Time: London midnight is 23:00 UTC the evening before.
        ("2026Q3", "2026Q3", PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30), utc(2026, 6, 30, 23), utc(2026, 9, 30, 23)),
        # Q1 starts in GMT and ends in BST (the clocks go forward on 29 March 2026).
        ("2026Q1", "2026Q1", PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31), utc(2026, 1, 1), utc(2026, 3, 31, 23)),
        ("2026Q4", "2026Q4", PeriodKind.QUARTER, date(2026, 10, 1), date(2026, 12, 31), utc(2026, 9, 30, 23), utc(2027, 1, 1)),
        ("2026", "2026", PeriodKind.YEAR, date(2026, 1, 1), date(2026, 12, 31), utc(2026, 1, 1), utc(2027, 1, 1)),
        ("2026-27", "2026-27", PeriodKind.FINANCIAL_YEAR, date(2026, 4, 1), date(2027, 3, 31), utc(2026, 3, 31, 23), utc(2027, 3, 31, 23)),
        ("2099-00", "2099-00", PeriodKind.FINANCIAL_YEAR, date(2099, 4, 1), date(2100, 3, 31), utc(2099, 3, 31, 23), utc(2100, 3, 31, 23)),
    ],
)
def test_periods_are_whole_london_days(text, label, kind, first_day, last_day, start, end):  # type: ignore[no-untyped-def]
    period = parse_period(text)
    assert (period.label, period.kind, period.first_day, period.last_day) == (label, kind, first_day, last_day)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["2026q3", " 2026Q3 ", "2026Q3\n"])
def test_a_quarter_may_be_written_loosely(text: str):
    assert parse_period(text).label == "2026Q3"


def test_a_financial_year_may_be_written_with_a_slash():
    assert parse_period("2026/27").label == "2026-27"


def test_the_start_is_in_the_period_and_the_end_is_not():
    q3 = parse_period("2026Q3")
    assert q3.contains(q3.start)
    assert q3.contains(q3.end - timedelta(microseconds=1))
    assert not q3.contains(q3.end)
    assert not q3.contains(q3.start - timedelta(microseconds=1))


def test_half_past_midnight_on_1_july_in_london_is_in_the_third_quarter():
    received = utc(2026, 6, 30, 23, 30)  # 00:30 BST on 1 July
    assert parse_period("2026Q3").contains(received)
    assert not parse_period("2026Q2").contains(received)


@pytest.mark.parametrize(
    "text, says",
    [
        ("2026Q5", "quarters 1 to 4, not 5"),
        ("2026Q0", "quarters 1 to 4, not 0"),
        ("26Q3", "not a reporting period"),
        ("Q3 2026", "not a reporting period"),
        ("", "not a reporting period"),
        ("next quarter", "give a quarter such as 2026Q3"),
        ("2026-28", "2026-27, not 2026-28"),
        ("1999", "between 2000 and 2999, not 1999"),
        ("0000Q1", "between 2000 and 2999, not 0"),
    ],
)
def test_a_bad_period_says_what_is_wrong(text: str, says: str):
    with pytest.raises(PeriodError, match=says):
        parse_period(text)


def test_a_long_bad_period_is_quoted_cut_short():
    with pytest.raises(PeriodError) as caught:
        parse_period("x" * 500)
    assert len(str(caught.value)) < 200
    assert "xxx..." in str(caught.value)


def test_a_period_error_is_a_value_error():
    assert issubclass(PeriodError, ValueError)
