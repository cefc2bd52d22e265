"""The reminder goes on the previous working day at the set hour, London time."""

from datetime import UTC, datetime

import pytest

from services.scheduler.domain.reminders import long_date, reminder_due, time_range


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("starts_at", "reminded_at", "why"),
    [
        (utc(2026, 3, 4, 9), utc(2026, 3, 3, 10), "a Wednesday's appointment: Tuesday"),
        (utc(2026, 3, 9, 8), utc(2026, 3, 6, 10), "a Monday's appointment: the Friday before"),
        (utc(2025, 5, 27, 8), utc(2025, 5, 23, 9), "the day after the late May bank holiday: the Friday (BST)"),
        (utc(2025, 12, 29, 9), utc(2025, 12, 24, 10), "the Monday after Christmas and Boxing Day: Christmas Eve"),
        (utc(2026, 4, 7, 8), utc(2026, 4, 2, 9), "the Tuesday after Easter Monday: the Thursday before Good Friday"),
        (utc(2026, 3, 7, 9), utc(2026, 3, 6, 10), "a Saturday morning slot: Friday"),
    ],
)
def test_the_reminder_is_due_on_the_previous_working_day(starts_at: datetime, reminded_at: datetime, why: str):
    assert reminder_due(starts_at, hour=10) == reminded_at, why


def test_the_hour_is_configurable_and_counted_on_the_london_clock():
    assert reminder_due(utc(2026, 7, 15, 7), hour=18) == utc(2026, 7, 14, 17)


def test_an_early_morning_appointment_counts_by_its_london_date():
    # 00:30 London on Tuesday 14 July is 23:30 UTC on Monday: the reminder is Monday's.
    assert reminder_due(utc(2026, 7, 13, 23, 30), hour=10) == utc(2026, 7, 13, 9)


def test_a_date_and_a_slot_read_as_the_tenant_expects():
    assert long_date(utc(2026, 7, 14, 7)) == "Tuesday 14 July 2026"
    assert time_range(utc(2026, 7, 14, 7), utc(2026, 7, 14, 11)) == "8am to 12pm"
    assert time_range(utc(2026, 1, 14, 12, 30), utc(2026, 1, 14, 17)) == "12:30pm to 5pm"
