"""A timer that fires at the next warning or deadline, not on a polling sweep."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from shared.clock import utcnow

log = logging.getLogger(__name__)

# Even with nothing due, look again now and then: a clock may have been added by
# another replica, which cannot wake this one.
LONGEST_SLEEP = 30.0
# While something due waits for the inputs to be caught up.
CATCH_UP_RETRY = 0.05


class Alarm:
    """What wakes the timer early: a batch of events bringing a warning or deadline
    sooner than the one it sleeps until, or a change of partitions (look again now).
    A batch whose clocks are all due later leaves the timer asleep, and the database
    is not asked for the soonest alert again after every batch."""

    def __init__(self) -> None:
        self.rung = asyncio.Event()
        # The alert the timer sleeps until; None: it knows of none, so any wakes it.
        self.sleeping_until: datetime | None = None

    def now(self) -> None:
        self.rung.set()

    def by(self, at: datetime | None) -> None:
        if at is not None and (self.sleeping_until is None or at < self.sleeping_until):
            self.rung.set()


class DeadlineTimer:
    def __init__(
        self,
        fire: Callable[[], Awaitable[bool]],
        next_alert: Callable[[], Awaitable[datetime | None]],
        alarm: Alarm,
    ) -> None:
        self.fire = fire
        self.next_alert = next_alert
        self.alarm = alarm
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="deadline-timer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self.alarm.rung.clear()
            self.alarm.sleeping_until = None  # until known: any new alert wakes it
            try:
                if await self.fire():
                    at = await self.next_alert()
                    self.alarm.sleeping_until, delay = at, self._seconds_until(at)
                else:
                    self.alarm.sleeping_until, delay = utcnow(), CATCH_UP_RETRY
            except Exception as error:  # noqa: BLE001 - keep timing; the database may be back soon
                log.warning("deadline timer failed; retrying", extra={"reason": type(error).__name__})
                delay = 1.0
            try:
                await asyncio.wait_for(self.alarm.rung.wait(), delay)
            except TimeoutError:
                pass

    @staticmethod
    def _seconds_until(at: datetime | None) -> float:
        if at is None:
            return LONGEST_SLEEP
        remaining = (at - utcnow()).total_seconds()
        return min(max(remaining, 0.0), LONGEST_SLEEP)
