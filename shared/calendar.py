"""The working-day calendar: the one answer to "when is this due?" for every service.

Instants go in and come out as timezone-aware UTC datetimes. Every rule about days is
evaluated on the Europe/London wall clock, daylight saving included.

- A working day is Monday to Friday, except England and Wales bank holidays (substitute
  days included) as published by the `holidays` package.
- The office is open 09:00-17:00 London time; deadlines counted in working days end at
  the 17:00 close.
- "Within N working days" of an event ends at 17:00 on the Nth working day after the day
  the event counts as received. An event on a working day before the 17:00 close counts
  as received that day (before 09:00 included); an event at or after the close, or on a
  non-working day, counts as received on the next working day. So a letter received
  Monday 10:00 with N=10 is due 17:00 on Monday two weeks later, and one received on
  Saturday is treated as received on Monday and is due at the same moment.
- N hours are N elapsed hours (24 hours across a clock change is still 24 hours).
- N calendar days (or months) end at the same London time of day N days (months) later,
  so a day that contains a clock change is 23 or 25 hours long. A wall time that does
  not exist on the target day (01:30 on the last Sunday of March) lands an hour later;
  one that happens twice (01:30 on the last Sunday of October) is the first of the two.
- "By the end of the previous working day before" an instant is 17:00 on the last
  working day strictly before that instant's London date.
"""

from __future__ import annotations

import calendar as gregorian
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
OFFICE_OPENS = time(9, 0)
OFFICE_CLOSES = time(17, 0)


class Unit(StrEnum):
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MONTHS = "months"
    # Counted back from a future instant (an appointment), not forward from an event;
    # the amount is always 0.
    BEFORE_PREVIOUS_WORKING_DAY = "before_previous_working_day"


def england_bank_holidays(year: int) -> Iterable[date]:
    """England and Wales bank holidays of one year, substitute days included."""
    return holidays.country_holidays("GB", subdiv="ENG", years=year).keys()


class WorkingCalendar:
    def __init__(
        self,
        zone: ZoneInfo = LONDON,
        opens: time = OFFICE_OPENS,
        closes: time = OFFICE_CLOSES,
        holidays_of_year: Callable[[int], Iterable[date]] = england_bank_holidays,
    ) -> None:
        if opens >= closes:
            raise ValueError(f"the office must open before it closes: {opens} >= {closes}")
        self.zone = zone
        self.opens = opens
        self.closes = closes
        self._holidays_of_year = holidays_of_year
        self._holidays_by_year: dict[int, frozenset[date]] = {}
        # Office hours of each day, as UTC instants: asked for many times per clock.
        self._hours_of_day: dict[date, tuple[datetime, datetime]] = {}
        self._working: dict[date, bool] = {}
        self._working_days: list[date] = []
        self._openings: list[datetime] = []  # of each working day listed, as UTC instants
        self._years_listed: set[int] = set()
        # Asked once per clock started: remembered per day (a handful of days a year).
        self._office_time_to: dict[date, tuple[timedelta, datetime | None]] = {}
        self._working_days_deadlines: dict[tuple[date, int], datetime] = {}
        self._previous_closes: dict[date, datetime] = {}

    # -- days -------------------------------------------------------------------------

    def bank_holidays(self, year: int) -> frozenset[date]:
        known = self._holidays_by_year.get(year)
        if known is None:
            known = frozenset(self._holidays_of_year(year))
            self._holidays_by_year[year] = known
        return known

    def is_bank_holiday(self, day: date) -> bool:
        _require_plain_date(day)
        return day in self.bank_holidays(day.year)

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            _require_plain_date(day)
            known = self._working[day] = day.weekday() < 5 and not self.is_bank_holiday(day)
        return known

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        _require_plain_date(day)
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        _require_plain_date(day)
        day -= timedelta(days=1)
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`th working day after `day` (before it, when `count` is negative).

        `day` itself need not be a working day; with `count` 0 it is returned unchanged.
        """
        _require_plain_date(day)
        if count == 0:
            return day
        reach = timedelta(days=14 + 3 * abs(count))  # 3+ working days in any 7, and more
        self._cover(day - reach, day + reach)
        if count > 0:
            return self._working_days[bisect_right(self._working_days, day) + count - 1]
        return self._working_days[bisect_left(self._working_days, day) + count]

    # -- instants ---------------------------------------------------------------------

    def local(self, instant: datetime) -> datetime:
        """`instant` on the London wall clock."""
        return _require_aware(instant).astimezone(self.zone)

    def local_date(self, instant: datetime) -> date:
        return self.local(instant).date()

    def _day_of(self, instant: datetime) -> date:
        """local_date() for an instant already checked to be aware."""
        return instant.astimezone(self.zone).date()

    def at(self, day: date, wall_time: time) -> datetime:
        """The UTC instant of a London wall-clock time on `day`."""
        return datetime.combine(day, wall_time.replace(fold=0), tzinfo=self.zone).astimezone(UTC)

    def opening_of(self, day: date) -> datetime:
        return self._office_hours(day)[0]

    def close_of(self, day: date) -> datetime:
        return self._office_hours(day)[1]

    def _office_hours(self, day: date) -> tuple[datetime, datetime]:
        hours = self._hours_of_day.get(day)
        if hours is None:
            hours = self._hours_of_day[day] = (self.at(day, self.opens), self.at(day, self.closes))
        return hours

    def is_office_hours(self, instant: datetime) -> bool:
        local = self.local(instant)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def received_on(self, instant: datetime) -> date:
        """The working day an event at `instant` counts as received on."""
        local = self.local(instant)
        if self.is_working_day(local.date()) and local.time() < self.closes:
            return local.date()
        return self.next_working_day(local.date())

    # -- deadlines --------------------------------------------------------------------

    def deadline(self, start: datetime, amount: int, unit: Unit) -> datetime:
        """When a target of `amount` `unit`s counted from `start` runs out (UTC).

        For `Unit.BEFORE_PREVIOUS_WORKING_DAY`, `start` is the future instant (the
        appointment) and `amount` must be 0.
        """
        _require_aware(start)
        if amount < 0:
            raise ValueError(f"a target cannot be negative: {amount} {unit}")
        match Unit(unit):
            case Unit.HOURS:
                return start.astimezone(UTC) + timedelta(hours=amount)
            case Unit.CALENDAR_DAYS:
                return self._same_wall_time(start, self.local_date(start) + timedelta(days=amount))
            case Unit.MONTHS:
                return self._same_wall_time(start, add_months(self.local_date(start), amount))
            case Unit.WORKING_DAYS:
                return self._working_days_deadline(self.received_on(start), amount)
            case Unit.BEFORE_PREVIOUS_WORKING_DAY:
                if amount != 0:
                    raise ValueError(f"'{unit}' takes no amount, got {amount}")
                return self.end_of_previous_working_day(start)

    def _working_days_deadline(self, received: date, amount: int) -> datetime:
        key = (received, amount)
        if (known := self._working_days_deadlines.get(key)) is None:
            known = self._working_days_deadlines[key] = self.close_of(self.add_working_days(received, amount))
        return known

    def end_of_previous_working_day(self, before: datetime) -> datetime:
        """17:00 London on the last working day strictly before `before`'s London date."""
        day = self.local_date(before)
        if (known := self._previous_closes.get(day)) is None:
            known = self._previous_closes[day] = self.close_of(self.previous_working_day(day))
        return known

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Time between two instants that falls in office hours on working days."""
        _require_aware(start)
        _require_aware(end)
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        first, last = self._day_of(start), self._day_of(end)
        self._cover(first, last)
        return self._office_time_before(end, last) - self._office_time_before(start, first)

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of office-hours time has passed after `start`."""
        _require_aware(start)
        if duration < timedelta():
            raise ValueError(f"cannot add a negative working time: {duration}")
        if not duration:
            return start.astimezone(UTC)
        first = self._day_of(start)
        # At least three working days in every seven calendar days, holidays and all.
        self._cover(first, first + timedelta(days=7 + 3 * (duration // self._day_length + 1)))
        return self._after_office_time(self._office_time_before(start, first) + duration)

    def working_time_points(
        self, start: datetime, end: datetime, fractions: Iterable[float]
    ) -> list[datetime]:
        """The instants at which each fraction of the working time from `start` to `end`
        has passed: add_working_time(start, f * working_time_between(start, end)) for
        each f, with the London dates worked out once for them all."""
        _require_aware(start)
        _require_aware(end)
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        first_day, last_day = self._day_of(start), self._day_of(end)
        self._cover(first_day, last_day)
        first, last = self._office_time_before(start, first_day), self._office_time_before(end, last_day)
        points = []
        for fraction in fractions:
            if fraction < 0:
                raise ValueError(f"cannot count a negative fraction of working time: {fraction}")
            offset = fraction * (last - first)
            points.append(self._after_office_time(first + offset) if offset else start.astimezone(UTC))
        return points

    # Working time is counted with a sorted list of working days: the office time before
    # an instant is 8 hours for each working day before its date, plus what has passed of
    # its own day. Differences of these counts are working times.

    @cached_property
    def _day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def _cover(self, first: date, last: date) -> None:
        listed = self._years_listed
        if first.year in listed and last.year in listed and last.year - first.year < 2:
            return
        missing = [y for y in range(first.year, last.year + 1) if y not in listed]
        if missing:
            for year in missing:
                listed.add(year)
                start, end = date(year, 1, 1), date(year + 1, 1, 1)
                self._working_days += [
                    start + timedelta(days=n)
                    for n in range((end - start).days)
                    if self.is_working_day(start + timedelta(days=n))
                ]
            self._working_days.sort()
            self._openings = [self.opening_of(day) for day in self._working_days]
            self._office_time_to.clear()  # counted from the first day listed, which may have moved

    def _after_office_time(self, total: timedelta) -> datetime:
        """The instant by which `total` office time has passed since the first day listed."""
        days, rest = divmod(total, self._day_length)
        if not rest:  # ends exactly at a close: that day's 17:00, not the next day's 09:00
            days, rest = days - 1, self._day_length
        return self._openings[days] + rest

    def _office_time_before(self, instant: datetime, day: date) -> timedelta:
        """`day` is the instant's London date, which the caller has already worked out."""
        before, opening = self._office_time_to_day(day)
        if opening is None:
            return before
        passed = instant - opening
        return before + min(max(passed, _NO_TIME), self._day_length)

    def _office_time_to_day(self, day: date) -> tuple[timedelta, datetime | None]:
        """The office time listed before `day`, and its opening if it is a working day."""
        known = self._office_time_to.get(day)
        if known is None:
            before = bisect_left(self._working_days, day) * self._day_length
            known = self._office_time_to[day] = (before, self.opening_of(day) if self.is_working_day(day) else None)
        return known

    def _same_wall_time(self, start: datetime, day: date) -> datetime:
        if day == self.local_date(start):
            return start.astimezone(UTC)
        return self.at(day, self.local(start).time())


_NO_TIME = timedelta()


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day if shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, gregorian.monthrange(year, month)[1]))


def _require_aware(instant: datetime) -> datetime:
    if instant.__class__ is datetime and instant.tzinfo is UTC:  # nearly every instant: at once
        return instant
    if not isinstance(instant, datetime):
        raise TypeError(f"expected a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(
            f"naive datetime {instant.isoformat()} refused: instants must be timezone-aware (UTC)"
        )
    return instant


def _require_plain_date(day: date) -> None:
    # A datetime is a date too, but which day it falls on depends on the time zone.
    if isinstance(day, datetime):
        raise TypeError("expected a date, got a datetime; use local_date() to find its London date")


default_calendar = WorkingCalendar()

is_working_day = default_calendar.is_working_day
is_bank_holiday = default_calendar.is_bank_holiday
next_working_day = default_calendar.next_working_day
previous_working_day = default_calendar.previous_working_day
add_working_days = default_calendar.add_working_days
add_working_time = default_calendar.add_working_time
local_date = default_calendar.local_date
received_on = default_calendar.received_on
deadline = default_calendar.deadline
end_of_previous_working_day = default_calendar.end_of_previous_working_day
working_time_between = default_calendar.working_time_between
