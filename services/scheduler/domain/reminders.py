"""When an appointment's reminder is due, and how its date and time read (pure).

The reminder goes on the previous working day at a set hour (London): Monday's
appointment is reminded on Friday, the day after a bank holiday on the working day
before the holiday."""

from datetime import datetime, time

from shared.calendar import WorkingCalendar, default_calendar


def reminder_due(
    starts_at: datetime, hour: int, calendar: WorkingCalendar = default_calendar
) -> datetime:
    """The UTC instant the reminder for an appointment starting at `starts_at` is due."""
    day_before = calendar.previous_working_day(calendar.local_date(starts_at))
    return calendar.at(day_before, time(hour))


def long_date(instant: datetime, calendar: WorkingCalendar = default_calendar) -> str:
    """'Tuesday 14 July 2026', on the London calendar."""
    local = calendar.local(instant)
    return f"{local:%A} {local.day} {local:%B %Y}"


def _clock(instant: datetime, calendar: WorkingCalendar) -> str:
    local = calendar.local(instant)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def time_range(
    starts_at: datetime, ends_at: datetime, calendar: WorkingCalendar = default_calendar
) -> str:
    """'8am to 12pm', on the London clock."""
    return f"{_clock(starts_at, calendar)} to {_clock(ends_at, calendar)}"
