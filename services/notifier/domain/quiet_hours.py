"""Quiet hours (pure): routine messages wait for a decent hour; emergencies and "on the
way" do not."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from shared.calendar import default_calendar as calendar
from shared.events.notifications import Purpose

NEVER_HELD = frozenset({Purpose.ON_THE_WAY})
SUNDAY = 6


@dataclass(frozen=True)
class QuietHours:
    starts: time = time(20, 0)
    ends: time = time(8, 0)
    sundays: bool = True

    def release_at(self, now: datetime, purpose: Purpose, urgent: bool) -> datetime | None:
        """When a message requested `now` may go; None when it may go at once."""
        if urgent or purpose in NEVER_HELD:
            return None
        local = calendar.local(now)
        day = local.date()
        if local.time() >= self.starts:
            day += timedelta(days=1)
        elif local.time() >= self.ends and not self._quiet_day(day):
            return None
        while self._quiet_day(day):
            day += timedelta(days=1)
        release = calendar.at(day, self.ends)
        return None if release <= now else release

    def _quiet_day(self, day) -> bool:  # type: ignore[no-untyped-def]
        return self.sundays and day.weekday() == SUNDAY
