"""The reminder goes on the previous working day at the set time, London time
(services/scheduler/domain/reminders.py, which booking uses to set `remind_at`)."""

from datetime import UTC, datetime, time, timedelta

import pytest

from shared.calendar import default_calendar
from services.scheduler.domain.reminders import remind_at

TEN = time(10, 0)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def due(starts_at: datetime, at: time = TEN) -> datetime | None:
    return remind_at(starts_at, starts_at - timedelta(days=20), default_calendar, at)


@pytest.mark.parametrize(
    ("starts_at", "reminded_at", "why"),
    [
        (utc(2026, 3, 4, 9), utc(2026, 3, 3, 10), "a Wednesday's appointment: Tuesday"),
        (utc(2026, 3, 9, 8), utc(2026, 3, 6, 10), "a Monday's appointment: the Friday before"),
        (
            utc(2025, 5, 27, 8),
            utc(2025, 5, 23, 9),
            "the day after the late May bank holiday: the Friday (BST)",
        ),
        (
            utc(2025, 12, 29, 9),
            utc(2025, 12, 24, 10),
            "the Monday after Christmas and Boxing Day: Christmas Eve",
        ),
        (
            utc(2026, 4, 7, 8),
            utc(2026, 4, 2, 9),
            "the Tuesday after Easter Monday: the Thursday before Good Friday",
        ),
        (utc(2026, 3, 7, 9), utc(2026, 3, 6, 10), "a Saturday morning slot: Friday"),
    ],
)
def test_the_reminder_is_due_on_the_previous_working_day(
    starts_at: datetime, reminded_at: datetime, why: str
):
    assert due(starts_at) == reminded_at, why


def test_the_time_is_configurable_and_counted_on_the_london_clock():
    assert due(utc(2026, 7, 15, 7), time(18, 0)) == utc(2026, 7, 14, 17)


def test_an_early_morning_appointment_counts_by_its_london_date():
    # 00:30 London on Tuesday 14 July is 23:30 UTC on Monday: the reminder is Monday's.
    assert due(utc(2026, 7, 13, 23, 30)) == utc(2026, 7, 13, 9)


def test_no_reminder_is_planned_when_its_time_has_passed_at_booking():
    starts = utc(2026, 3, 4, 9)
    assert remind_at(starts, utc(2026, 3, 3, 12), default_calendar, TEN) is None


def test_the_default_reminder_time_keeps_the_standard_by_the_end_of_the_previous_working_day():
    from services.scheduler.settings import SchedulerSettings
    from shared.standards.loader import load_all

    tuesday = utc(2027, 5, 4, 7)  # after the early May bank holiday
    reminded = due(tuesday, SchedulerSettings().reminder_time)
    standard = load_all().pack("hexagon").standard_on(tuesday.date())
    deadline = standard.clock("appointment_reminder").target.due(tuesday)
    assert reminded is not None and reminded.date() == deadline.date() and reminded < deadline
