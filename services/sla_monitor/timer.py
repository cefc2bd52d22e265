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


class DeadlineTimer:
    def __init__(
        self,
        fire: Callable[[], Awaitable[bool]],
        next_alert: Callable[[], Awaitable[datetime | None]],
        deadlines_changed: asyncio.Event,
    ) -> None:
        self.fire = fire
        self.next_alert = next_alert
        self._wake = deadlines_changed
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="deadline-timer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                all_done = await self.fire()
                delay = self._seconds_until(await self.next_alert()) if all_done else CATCH_UP_RETRY
            except Exception as error:  # noqa: BLE001 - keep timing; the database may be back soon
                log.warning("deadline timer failed; retrying", extra={"reason": type(error).__name__})
                delay = 1.0
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    @staticmethod
    def _seconds_until(at: datetime | None) -> float:
        if at is None:
            return LONGEST_SLEEP
        remaining = (at - utcnow()).total_seconds()
        return min(max(remaining, 0.0), LONGEST_SLEEP)
