"""When an appointment's reminder is due (pure): on the previous working day before the
appointment's London date, at a configurable hour (16:00 by default, inside the working
day that the standard's "by the end of the previous working day" counts to 17:00). Monday's appointment
is reminded on Friday; the day after a bank holiday, on the working day before it."""

from datetime import datetime, time

from shared.calendar import WorkingCalendar

DEFAULT_REMINDER_TIME = time(16, 0)


def remind_at(
    starts_at: datetime, booked_at: datetime, calendar: WorkingCalendar, at: time = DEFAULT_REMINDER_TIME
) -> datetime | None:
    """The UTC instant the reminder is due, or None when that has already passed at
    booking (an appointment booked for tomorrow after the reminder hour, an emergency)."""
    day = calendar.previous_working_day(calendar.local_date(starts_at))
    due = calendar.at(day, at)
    return due if booked_at < due < starts_at else None
