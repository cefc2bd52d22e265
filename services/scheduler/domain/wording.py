"""How dates and times read in messages to tenants (pure): "Tuesday 14 July 2026", "8am to 12pm"."""

from datetime import datetime

from shared.calendar import WorkingCalendar


def spoken_date(instant: datetime, calendar: WorkingCalendar) -> str:
    local = calendar.local(instant)
    return f"{local:%A} {local.day} {local:%B %Y}"


def spoken_time(instant: datetime, calendar: WorkingCalendar) -> str:
    local = calendar.local(instant)
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def spoken_window(starts_at: datetime, ends_at: datetime, calendar: WorkingCalendar) -> str:
    return f"{spoken_time(starts_at, calendar)} to {spoken_time(ends_at, calendar)}"


def spoken_offer(starts_at: datetime, ends_at: datetime, calendar: WorkingCalendar) -> str:
    """ "Monday 13 July, 8am to 12pm" (an offer in a text)."""
    local = calendar.local(starts_at)
    return f"{local:%A} {local.day} {local:%B}, {spoken_window(starts_at, ends_at, calendar)}"
