"""When appointments can be: the slot patterns of 002 (pure).

- Repairs: weekdays 08:00-12:00 and 12:00-17:00; Saturday 09:00-12:00 (non-emergency
  repairs only); no slots on bank holidays.
- Inspections and home visits: office hours, 09:00-12:00 and 12:00-17:00 on working days.
- Emergencies: any hour of any day, in two-hour attendance windows.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from shared.calendar import WorkingCalendar

EMERGENCY_WINDOW = timedelta(hours=2)
# An emergency window is offered only if at least this much of it is left.
EMERGENCY_REACH = timedelta(hours=1)

WEEKDAY_REPAIRS = ((time(8), time(12)), (time(12), time(17)))
SATURDAY_MORNING = ((time(9), time(12)),)
OFFICE_HOURS = ((time(9), time(12)), (time(12), time(17)))


class Pattern(StrEnum):
    REPAIR = "repair"  # weekdays and Saturday mornings
    OFFICE = "office"  # working days, 09:00-17:00
    EMERGENCY = "emergency"  # any hour, any day


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime
    ends_at: datetime


def day_windows(day: date, pattern: Pattern, calendar: WorkingCalendar) -> tuple[tuple[time, time], ...]:
    """The wall-clock windows of one day under a (non-emergency) pattern."""
    if calendar.is_bank_holiday(day):
        return ()
    if pattern is Pattern.OFFICE:
        return OFFICE_HOURS if calendar.is_working_day(day) else ()
    if day.isoweekday() <= 5:
        return WEEKDAY_REPAIRS
    return SATURDAY_MORNING if day.isoweekday() == 6 else ()


def slots_between(
    earliest: datetime, latest: datetime, pattern: Pattern, calendar: WorkingCalendar
) -> Iterator[Slot]:
    """Every slot that starts at or after `earliest` and ends by `latest`, in time order."""
    if pattern is Pattern.EMERGENCY:
        yield from _emergency_slots(earliest, latest)
        return
    day, last = calendar.local_date(earliest), calendar.local_date(latest)
    while day <= last:
        for opens, closes in day_windows(day, pattern, calendar):
            slot = Slot(calendar.at(day, opens), calendar.at(day, closes))
            if slot.starts_at >= earliest and slot.ends_at <= latest:
                yield slot
        day += timedelta(days=1)


def _emergency_slots(earliest: datetime, latest: datetime) -> Iterator[Slot]:
    start = earliest.replace(minute=0, second=0, microsecond=0)
    start -= timedelta(hours=start.hour % 2)  # windows on even UTC hours
    while start < latest:
        slot = Slot(start, start + EMERGENCY_WINDOW)
        if slot.ends_at - earliest >= EMERGENCY_REACH:
            yield slot
        start += EMERGENCY_WINDOW
