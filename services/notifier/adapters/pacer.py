"""The turn-taking for one sender: each text waits here until the sender has a turn
turn free and no more pressing text is waiting (the rules are in `domain/pacing.py`).

A turn is given before the checks that precede a send (is the appointment still on, has
the tenant opted out), so they are made just before sending; those take a varying time,
so the provider call itself passes a second window at the same rate: the texts leave
no faster than the rate allows, whatever the checks cost.
"""

import asyncio
import time
from collections.abc import Callable

from services.notifier.domain.pacing import Priority, SendingWindow, TurnQueue


class Pacer:
    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.turns = SendingWindow(per_second)
        self._at_send = SendingWindow(per_second)
        self._sending = asyncio.Lock()
        self.clock = clock
        self._waiting: TurnQueue[asyncio.Future[None]] = TurnQueue()
        self._arrived = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def turn(self, priority: Priority) -> None:
        """Return when it is this caller's turn to send one text."""
        self._ensure_running()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.push(priority, ready)
        self._arrived.set()
        await ready

    async def just_before_sending(self) -> None:
        """Return when one more text may leave without exceeding the rate."""
        async with self._sending:
            while delay := self._at_send.wait(self.clock()):
                await asyncio.sleep(delay)
            self._at_send.take(self.clock())

    async def aclose(self) -> None:
        """Stop giving turns; whoever still waits is cancelled (their requests stay queued)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while self._waiting:
            self._waiting.pop().cancel()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._give_turns(), name="sms-pacer")

    async def _give_turns(self) -> None:
        while True:
            while not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
            # Wait for the turn first, then pick: a more pressing text that arrives
            # meanwhile takes this turn.
            if delay := self.turns.wait(self.clock()):
                await asyncio.sleep(delay)
                continue
            ready = self._waiting.pop()
            if ready.done():  # its caller gave up waiting
                continue
            self.turns.take(self.clock())
            ready.set_result(None)
