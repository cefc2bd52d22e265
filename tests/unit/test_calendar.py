from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.calendar import (
    Unit,
    WorkingCalendar,
    add_working_days,
    deadline,
    default_calendar,
    end_of_previous_working_day,
    is_working_day,
    next_working_day,
    previous_working_day,
    received_on,
    working_time_between,
)

LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def london(*parts: int) -> datetime:
    """A London wall-clock time, as the UTC instant services pass around."""
    return datetime(*parts, tzinfo=LONDON).astimezone(UTC)


# -- which days are working days -------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2021, 4, 5), "Easter Monday 2021"),
        (date(2021, 5, 3), "early May 2021"),
        (date(2021, 12, 27), "Christmas Day 2021 fell on a Saturday: substitute Monday"),
        (date(2021, 12, 28), "Boxing Day 2021 fell on a Sunday: substitute Tuesday"),
        (date(2022, 1, 3), "New Year's Day 2022 fell on a Saturday: substitute Monday"),
        (date(2022, 4, 15), "Good Friday 2022"),
        (date(2022, 6, 3), "Platinum Jubilee"),
        (date(2022, 9, 19), "State funeral of Queen Elizabeth II"),
        (date(2022, 12, 26), "Boxing Day 2022, a Monday"),
        (date(2022, 12, 27), "Christmas Day 2022 fell on a Sunday: substitute Tuesday"),
        (date(2026, 4, 3), "Good Friday 2026"),
        (date(2026, 4, 6), "Easter Monday 2026"),
        (date(2026, 5, 4), "early May 2026"),
        (date(2026, 5, 25), "spring bank holiday 2026"),
        (date(2026, 8, 31), "summer bank holiday 2026"),
        (date(2026, 12, 28), "Boxing Day 2026 fell on a Saturday: substitute Monday"),
        (date(2027, 3, 29), "Easter Monday 2027"),
        (date(2027, 12, 27), "Christmas Day 2027 fell on a Saturday: substitute Monday"),
        (date(2027, 12, 28), "Boxing Day 2027 fell on a Sunday: substitute Tuesday"),
        (date(2026, 3, 7), "Saturday"),
        (date(2026, 3, 8), "Sunday"),
    ],
)
def test_bank_holidays_and_weekends_are_not_working_days(day: date, why: str) -> None:
    assert not is_working_day(day), why


@pytest.mark.parametrize(
    "day",
    [
        date(2021, 12, 29),
        date(2022, 12, 28),
        date(2026, 3, 9),
        date(2026, 4, 7),
        date(2026, 12, 24),
        date(2026, 12, 29),
        date(2027, 3, 30),
    ],
)
def test_ordinary_weekdays_are_working_days(day: date) -> None:
    assert is_working_day(day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 6), date(2026, 3, 9)),  # Friday -> Monday
        (date(2026, 3, 7), date(2026, 3, 9)),  # Saturday -> Monday
        (date(2026, 4, 2), date(2026, 4, 7)),  # over Easter 2026
        (date(2021, 12, 24), date(2021, 12, 29)),  # over both 2021 substitute days
        (date(2022, 12, 23), date(2022, 12, 28)),  # over Boxing Day and the 2022 substitute
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 9), date(2026, 3, 6)),  # Monday -> Friday
        (date(2026, 4, 7), date(2026, 4, 2)),  # Tuesday after Easter Monday -> Maundy Thursday
        (date(2027, 3, 30), date(2027, 3, 25)),
        (date(2022, 12, 28), date(2022, 12, 23)),
        (date(2026, 5, 26), date(2026, 5, 22)),  # after the spring bank holiday
    ],
)
def test_previous_working_day(day: date, expected: date) -> None:
    assert previous_working_day(day) == expected


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        (date(2026, 3, 9), 10, date(2026, 3, 23)),
        (date(2026, 3, 30), 5, date(2026, 4, 8)),  # Good Friday and Easter Monday skipped
        (date(2026, 3, 7), 0, date(2026, 3, 7)),
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        (date(2026, 4, 7), -3, date(2026, 3, 31)),
    ],
)
def test_add_working_days(day: date, count: int, expected: date) -> None:
    assert add_working_days(day, count) == expected


def test_holidays_are_looked_up_once_per_year() -> None:
    years_asked: list[int] = []

    def holidays_of_year(year: int) -> list[date]:
        years_asked.append(year)
        return [date(year, 1, 2)]

    calendar = WorkingCalendar(holidays_of_year=holidays_of_year)

    assert not calendar.is_working_day(date(2026, 1, 2))
    assert calendar.is_working_day(date(2026, 1, 5))
    assert calendar.is_working_day(date(2027, 1, 4))
    assert years_asked == [2026, 2027]


# -- within N working days -------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "days", "due"),
    [
        pytest.param(london(2026, 3, 9, 10), 10, utc(2026, 3, 23, 17), id="Monday 10:00, 10 days: Monday fortnight"),
        pytest.param(london(2026, 3, 7, 10), 10, utc(2026, 3, 23, 17), id="Saturday counts from Monday"),
        pytest.param(london(2026, 3, 8, 23, 59), 10, utc(2026, 3, 23, 17), id="Sunday night counts from Monday"),
        pytest.param(london(2026, 3, 9, 7, 30), 1, utc(2026, 3, 10, 17), id="before 09:00 counts that day"),
        pytest.param(london(2026, 3, 9, 16, 59), 1, utc(2026, 3, 10, 17), id="16:59 counts that day"),
        pytest.param(london(2026, 3, 9, 17, 0), 1, utc(2026, 3, 11, 17), id="17:00 close counts from next day"),
        pytest.param(london(2026, 3, 9, 21, 15), 1, utc(2026, 3, 11, 17), id="evening counts from next day"),
        pytest.param(london(2026, 3, 9, 10), 0, utc(2026, 3, 9, 17), id="zero days: close of the same day"),
        pytest.param(london(2026, 3, 7, 10), 0, utc(2026, 3, 9, 17), id="zero days on a Saturday: Monday close"),
        pytest.param(london(2026, 4, 2, 18), 3, utc(2026, 4, 10, 16), id="after close before Easter 2026"),
        pytest.param(london(2026, 4, 3, 10), 1, utc(2026, 4, 8, 16), id="on Good Friday counts from Tuesday"),
        pytest.param(london(2022, 12, 23, 12), 3, utc(2022, 12, 30, 17), id="Christmas 2022 substitute"),
        pytest.param(london(2021, 12, 24, 12), 1, utc(2021, 12, 29, 17), id="Christmas 2021 substitutes"),
        pytest.param(london(2026, 5, 1, 12), 1, utc(2026, 5, 5, 16), id="over early May bank holiday"),
        pytest.param(london(2027, 3, 25, 10), 1, utc(2027, 3, 30, 16), id="Easter 2027 and the clocks going forward"),
        pytest.param(london(2026, 12, 24, 10), 2, utc(2026, 12, 30, 17), id="Christmas 2026 substitute"),
    ],
)
def test_working_day_deadlines_end_at_17_00_london(event: datetime, days: int, due: datetime) -> None:
    assert deadline(event, days, Unit.WORKING_DAYS) == due


@pytest.mark.parametrize(
    ("event", "due"),
    [
        # The clocks go forward on Sunday 29 March 2026: 17:00 London is 16:00 UTC after it.
        pytest.param(london(2026, 3, 27, 10), utc(2026, 3, 30, 16), id="into summer time"),
        # The clocks go back on Sunday 25 October 2026: 17:00 London is 17:00 UTC after it.
        pytest.param(london(2026, 10, 23, 10), utc(2026, 10, 26, 17), id="into winter time"),
    ],
)
def test_working_day_deadline_across_daylight_saving_change(event: datetime, due: datetime) -> None:
    assert deadline(event, 1, Unit.WORKING_DAYS) == due


@pytest.mark.parametrize(
    ("day", "close"),
    [
        (date(2026, 3, 27), utc(2026, 3, 27, 17)),
        (date(2026, 3, 30), utc(2026, 3, 30, 16)),
        (date(2026, 10, 23), utc(2026, 10, 23, 16)),
        (date(2026, 10, 26), utc(2026, 10, 26, 17)),
    ],
)
def test_17_00_london_in_utc(day: date, close: datetime) -> None:
    assert default_calendar.close_of(day) == close


@pytest.mark.parametrize(
    ("event", "day"),
    [
        (london(2026, 3, 9, 8), date(2026, 3, 9)),
        (london(2026, 3, 9, 17), date(2026, 3, 10)),
        (london(2026, 3, 6, 17, 30), date(2026, 3, 9)),
        (london(2026, 4, 6, 11), date(2026, 4, 7)),
        # 23:30 UTC on Monday 1 June is 00:30 on Tuesday in London.
        (utc(2026, 6, 1, 23, 30), date(2026, 6, 2)),
    ],
)
def test_received_on(event: datetime, day: date) -> None:
    assert received_on(event) == day


def test_any_aware_time_zone_is_accepted_and_utc_comes_out() -> None:
    result = deadline(datetime(2026, 3, 9, 10, tzinfo=LONDON), 10, Unit.WORKING_DAYS)

    assert result == utc(2026, 3, 23, 17)
    assert result.tzinfo is UTC


# -- hours, calendar days, months --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(utc(2026, 3, 28, 12), 24, utc(2026, 3, 29, 12), id="across the spring change"),
        pytest.param(utc(2026, 10, 24, 12), 24, utc(2026, 10, 25, 12), id="across the autumn change"),
        pytest.param(london(2026, 3, 6, 18), 24, london(2026, 3, 7, 18), id="through a weekend"),
        pytest.param(london(2026, 12, 24, 20), 48, london(2026, 12, 26, 20), id="through Christmas"),
    ],
)
def test_hours_are_elapsed_hours(start: datetime, hours: int, due: datetime) -> None:
    assert deadline(start, hours, Unit.HOURS) == due


@pytest.mark.parametrize(
    ("start", "days", "due", "elapsed_hours"),
    [
        pytest.param(london(2026, 3, 28, 12), 1, london(2026, 3, 29, 12), 23, id="spring: a 23-hour day"),
        pytest.param(london(2026, 10, 24, 13), 1, london(2026, 10, 25, 13), 25, id="autumn: a 25-hour day"),
        pytest.param(london(2026, 3, 25, 9), 7, utc(2026, 4, 1, 8), 7 * 24 - 1, id="urgent repair over the change"),
        pytest.param(london(2026, 10, 1, 10), 28, utc(2026, 10, 29, 10), 28 * 24 + 1, id="routine repair over the change"),
        pytest.param(london(2026, 6, 1, 10), 0, london(2026, 6, 1, 10), 0, id="zero days"),
    ],
)
def test_calendar_days_end_at_the_same_london_time(
    start: datetime, days: int, due: datetime, elapsed_hours: int
) -> None:
    result = deadline(start, days, Unit.CALENDAR_DAYS)

    assert result == due
    assert result - start == timedelta(hours=elapsed_hours)


def test_calendar_day_landing_in_the_spring_gap_moves_an_hour_later() -> None:
    # 01:30 on 29 March 2026 does not exist in London; it becomes 02:30 BST.
    assert deadline(london(2026, 3, 28, 1, 30), 1, Unit.CALENDAR_DAYS) == utc(2026, 3, 29, 1, 30)


@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (utc(2025, 1, 31, 12), 1, utc(2025, 2, 28, 12)),
        (utc(2024, 2, 29, 10), 12, utc(2025, 2, 28, 10)),
        (london(2025, 1, 15, 10), 6, london(2025, 7, 15, 10)),
        (london(2025, 6, 15, 10), 12, london(2026, 6, 15, 10)),
        (london(2021, 3, 1, 9), 60, london(2026, 3, 1, 9)),
    ],
)
def test_months_end_on_the_same_day_of_the_month(start: datetime, months: int, due: datetime) -> None:
    assert deadline(start, months, Unit.MONTHS) == due


def test_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        deadline(utc(2026, 3, 9, 10), -1, Unit.HOURS)


# -- by the end of the previous working day ---------------------------------------------


@pytest.mark.parametrize(
    ("appointment", "due"),
    [
        pytest.param(london(2026, 3, 9, 10), utc(2026, 3, 6, 17), id="Monday: Friday"),
        pytest.param(london(2026, 3, 11, 8), utc(2026, 3, 10, 17), id="Wednesday: Tuesday"),
        pytest.param(london(2026, 3, 7, 9), utc(2026, 3, 6, 17), id="Saturday morning slot: Friday"),
        pytest.param(london(2026, 4, 7, 9), utc(2026, 4, 2, 16), id="Tuesday after Easter Monday"),
        pytest.param(london(2026, 5, 26, 9), utc(2026, 5, 22, 16), id="day after the spring bank holiday"),
        pytest.param(london(2022, 12, 28, 9), utc(2022, 12, 23, 17), id="after Christmas 2022"),
        pytest.param(london(2026, 3, 30, 9), utc(2026, 3, 27, 17), id="Monday after the clocks go forward"),
        pytest.param(utc(2026, 6, 1, 23, 30), utc(2026, 6, 1, 16), id="London date, not UTC date"),
    ],
)
def test_end_of_previous_working_day(appointment: datetime, due: datetime) -> None:
    assert end_of_previous_working_day(appointment) == due
    assert deadline(appointment, 0, Unit.BEFORE_PREVIOUS_WORKING_DAY) == due


def test_previous_working_day_target_takes_no_amount() -> None:
    with pytest.raises(ValueError, match="no amount"):
        deadline(utc(2026, 3, 9, 10), 1, Unit.BEFORE_PREVIOUS_WORKING_DAY)


# -- working time used -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        pytest.param(london(2026, 3, 9, 10), london(2026, 3, 9, 12), 2, id="same morning"),
        pytest.param(london(2026, 3, 9, 6), london(2026, 3, 9, 20), 8, id="whole working day"),
        pytest.param(london(2026, 3, 9, 18), london(2026, 3, 10, 8), 0, id="overnight"),
        pytest.param(london(2026, 3, 6, 16), london(2026, 3, 9, 10), 2, id="over a weekend"),
        pytest.param(london(2026, 4, 2, 16), london(2026, 4, 7, 10), 2, id="over Easter"),
        pytest.param(london(2026, 3, 27, 16), london(2026, 3, 30, 10), 2, id="over the spring change"),
        pytest.param(london(2026, 3, 9), london(2026, 3, 14), 40, id="a working week"),
    ],
)
def test_working_time_between(start: datetime, end: datetime, hours: int) -> None:
    assert working_time_between(start, end) == timedelta(hours=hours)


def test_working_time_between_refuses_end_before_start() -> None:
    with pytest.raises(ValueError, match="before start"):
        working_time_between(utc(2026, 3, 9, 12), utc(2026, 3, 9, 11))


@pytest.mark.parametrize(
    ("instant", "open_"),
    [
        (london(2026, 3, 9, 9), True),
        (london(2026, 3, 9, 16, 59), True),
        (london(2026, 3, 9, 17), False),
        (london(2026, 3, 9, 8, 59), False),
        (london(2026, 4, 6, 11), False),
        (london(2026, 3, 7, 11), False),
    ],
)
def test_office_hours(instant: datetime, open_: bool) -> None:
    assert default_calendar.is_office_hours(instant) is open_


# -- refusing ambiguous input ------------------------------------------------------------

NAIVE = datetime(2026, 3, 9, 10)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: deadline(NAIVE, 3, Unit.WORKING_DAYS), id="deadline"),
        pytest.param(lambda: end_of_previous_working_day(NAIVE), id="end_of_previous_working_day"),
        pytest.param(lambda: working_time_between(NAIVE, utc(2026, 3, 10)), id="working_time_between start"),
        pytest.param(lambda: working_time_between(utc(2026, 3, 8), NAIVE), id="working_time_between end"),
        pytest.param(lambda: received_on(NAIVE), id="received_on"),
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="naive datetime 2026-03-09T10:00:00 refused"):
        call()


def test_a_datetime_is_not_taken_for_a_date() -> None:
    with pytest.raises(TypeError, match="local_date"):
        is_working_day(utc(2026, 3, 9, 10))


# -- adding working time (a paused clock resumes with what it had left) ----------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Monday 10:00 London (GMT) + 3 h → Monday 13:00.
        (utc(2026, 11, 30, 10), timedelta(hours=3), utc(2026, 11, 30, 13)),
        # Friday 15:00 + 4 h: 2 h on Friday, 2 h from Monday 09:00.
        (utc(2026, 12, 4, 15), timedelta(hours=4), utc(2026, 12, 7, 11)),
        # Saturday counts from Monday's opening.
        (utc(2026, 12, 5, 12), timedelta(hours=1), utc(2026, 12, 7, 10)),
        # Christmas: Thursday 24 Dec 16:00 + 2 h → 1 h then Tuesday 29 Dec (28th is the Boxing Day substitute).
        (utc(2026, 12, 24, 16), timedelta(hours=2), utc(2026, 12, 29, 10)),
        # In summer time 09:00 London is 08:00 UTC.
        (utc(2026, 7, 6, 6), timedelta(hours=1), utc(2026, 7, 6, 9)),
        # Nothing to add: the start itself.
        (utc(2026, 11, 30, 10), timedelta(), utc(2026, 11, 30, 10)),
    ],
)
def test_adding_working_time_counts_only_office_hours(start, duration, expected):
    assert default_calendar.add_working_time(start, duration) == expected


def test_adding_working_time_undoes_measuring_it():
    start, end = utc(2026, 11, 27, 11, 30), utc(2026, 12, 9, 15, 45)
    used = default_calendar.working_time_between(start, end)
    assert default_calendar.add_working_time(start, used) == end


def test_negative_working_time_is_refused():
    with pytest.raises(ValueError, match="negative"):
        default_calendar.add_working_time(utc(2026, 11, 30, 10), timedelta(hours=-1))


def test_working_time_is_counted_the_same_after_earlier_years_are_listed():
    # Office time is counted from the first working day listed, and remembered per day;
    # listing an earlier year moves that first day, and nothing remembered may go stale.
    calendar = WorkingCalendar()
    start, end = utc(2030, 3, 4, 10), utc(2030, 3, 12, 15)
    points = calendar.working_time_points(start, end, (0.5, 0.75))
    between = calendar.working_time_between(start, end)
    calendar.working_time_between(utc(2026, 11, 30, 10), utc(2026, 12, 1, 10))  # lists 2026 to 2030
    assert calendar.working_time_points(start, end, (0.5, 0.75)) == points
    assert calendar.working_time_between(start, end) == between == timedelta(hours=7 + 4 * 8 + 8 + 6)
    assert calendar.add_working_time(start, between) == end
