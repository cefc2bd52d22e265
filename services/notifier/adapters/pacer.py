"""Turn-taking for one sender, in two steps (the rules are in `domain/pacing.py`):

- admission: a few texts at a time (as many as the sender sends in a second) are let
  through to be checked and sent, the most pressing first. The checks (is the
  appointment still on, has the tenant opted out) are therefore made at most about a
  second before the text goes, however long the queue behind. Urgent texts ("on the
  way", emergencies) are few and need no admission: they go straight to the turn;
- the turn: each admitted text, checked and rendered, waits until the sender's window
  has room, the most pressing first, and is handed to the provider at once.

The provider calls are the paced events: no one second holds more of them than the
rate. The admitted few keep the window fed, so a long queue leaves at the rate.
"""

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from services.notifier.domain.pacing import Priority, SendingWindow, TurnQueue


class Pacer:
    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = SendingWindow(per_second)
        self.clock = clock
        self.admissions = max(1, math.ceil(per_second))
        self._admitted = 0
        self._to_admit: TurnQueue[asyncio.Future[None]] = TurnQueue()
        self._waiting: TurnQueue[asyncio.Future[None]] = TurnQueue()
        self._arrived = asyncio.Event()
        self._gone = asyncio.Event()  # the text given the last turn has been counted
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @asynccontextmanager
    async def admitted(self, priority: Priority) -> AsyncIterator[None]:
        """Hold one of the few places of texts being checked and sent."""
        if priority is Priority.URGENT:
            yield
            return
        if self._admitted >= self.admissions or self._to_admit:
            place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._to_admit.push(priority, place)
            try:
                await place  # the place is handed over by whoever leaves it
            except asyncio.CancelledError:
                if place.done() and not place.cancelled():
                    self._leave()  # handed over just as its caller gave up: pass it on
                raise
        else:
            self._admitted += 1
        try:
            yield
        finally:
            self._leave()

    async def turn(self, priority: Priority) -> None:
        """Return when this text may go to the provider."""
        if self._closed:
            raise asyncio.CancelledError("the sender is stopping")
        self._ensure_running()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.push(priority, ready)
        self._arrived.set()
        try:
            await ready
            # Counted now, as the text goes, not when the turn was handed over: a busy
            # process may resume it late, and the next turn is measured from here.
            self.window.take(self.clock())
        finally:
            if ready.done() and not ready.cancelled():
                self._gone.set()

    async def aclose(self) -> None:
        """Give no more turns; whoever still waits is cancelled (their requests stay queued)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for queue in (self._waiting, self._to_admit):
            while queue:
                queue.pop().cancel()

    def _leave(self) -> None:
        while self._to_admit:
            place = self._to_admit.pop()
            if not place.done():  # else its caller gave up waiting
                place.set_result(None)  # the place passes on: the count stays
                return
        self._admitted -= 1

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._give_turns(), name="sms-pacer")

    async def _give_turns(self) -> None:
        while True:
            while not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
            # Wait for room first, then pick: a more pressing text that arrives
            # meanwhile takes this turn.
            if delay := self.window.wait(self.clock()):
                await asyncio.sleep(delay)
                continue
            ready = self._waiting.pop()
            if ready.done():  # its caller gave up waiting
                continue
            self._gone.clear()
            ready.set_result(None)
            await self._gone.wait()
