"""Deadlines in working days, worked out for the tests independently of the services'
calendar (DESIGN §4): Monday to Friday except England's bank holidays (from the `holidays`
package), days ending at 17:00 London time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG", years=range(2024, 2030))


def working(day: date) -> bool:
    return day.weekday() < 5 and day not in BANK_HOLIDAYS


def next_working(day: date) -> date:
    day += timedelta(days=1)
    while not working(day):
        day += timedelta(days=1)
    return day


def within_working_days(event: datetime, n: int) -> datetime:
    """17:00 London on the nth working day after the event's day; an event on a day off
    or after 17:00 counts from the next working day."""
    local = event.astimezone(LONDON)
    day = local.date()
    if not working(day) or local.time() >= time(17):
        day = next_working(day)
    for _ in range(n):
        day = next_working(day)
    return datetime.combine(day, time(17), LONDON).astimezone(UTC)
