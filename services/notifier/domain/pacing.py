"""Pacing texts per sender (pure): never faster than the sender's rate, and the most
pressing message first when several wait.

Twilio sends from a UK alphanumeric sender at 10 messages a second: no one second may
hold more than that many texts from the sender, and a long queue should leave at
exactly that rate, evenly, so that an urgent text never waits long for its turn. When texts wait for their turn, "on the way" and urgent ones go first, routine ones next,
and the gas programme's bulk offers and chasers last; within a priority, first come
first served.
"""

import heapq
import itertools
import math
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

from shared.events.notifications import Purpose

T = TypeVar("T")
_EPSILON = 1e-9  # times are floating point: a nanosecond either way is the same instant
# The beat runs 2% slower than the rate, and "one second" is 2% longer: texts leave
# exactly 1/rate apart only in theory, and a few milliseconds more on the way to the
# provider for one text than for the next would otherwise put one text too many into
# one of the provider's seconds. 2% leaves 20 ms of slack at 10 a second.
BEAT_MARGIN = 0.02

BULK = frozenset({Purpose.GAS_CHECK_OFFER, Purpose.GAS_CHECK_CHASER})


class Priority(IntEnum):
    """Lower goes first."""

    URGENT = 0
    ROUTINE = 1
    BULK = 2


def priority_of(purpose: Purpose, urgent: bool) -> Priority:
    if urgent or purpose is Purpose.ON_THE_WAY:
        return Priority.URGENT
    return Priority.BULK if purpose in BULK else Priority.ROUTINE


@dataclass
class SendingWindow:
    """Sends on an even beat of (1 + BEAT_MARGIN)/rate seconds, and never more than the
    rate in any 1 + BEAT_MARGIN seconds (for a rate under one a second: one in every
    spacing); times are in seconds.

    A send found a little late (a busy process) keeps the beat: the next may follow it
    sooner, down to half the spacing, so over a minute the rate is the configured one,
    while no one second, wherever it starts, holds more than the rate.
    """

    per_second: float
    _sent: deque[float] = field(default_factory=deque, init=False)
    _beat: float | None = field(default=None, init=False)  # when the next send is due

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("a sender's rate must be a positive number of texts a second")
        self.spacing = (1 + BEAT_MARGIN) / self.per_second
        self.span = max(1.0 + BEAT_MARGIN, self.spacing)
        self.limit = max(1, math.floor(self.per_second * self.span + _EPSILON))

    def wait(self, now: float) -> float:
        """Seconds until one more send is allowed (0: now)."""
        while self._sent and self._sent[0] <= now - self.span + _EPSILON:
            self._sent.popleft()
        waits = [0.0]
        if self._beat is not None:
            waits.append(self._beat - now)
        if len(self._sent) >= self.limit:
            waits.append(self._sent[0] + self.span - now)
        return max(waits)

    def take(self, now: float) -> bool:
        """Count one send now, if it is allowed."""
        if self.wait(now) > _EPSILON:
            return False
        self._sent.append(now)
        on_the_beat = self._beat is not None and now - self._beat <= self.spacing
        beat = self._beat if on_the_beat else now  # after a pause, the beat starts again
        self._beat = max(beat + self.spacing, now + self.spacing / 2)  # type: ignore[operator]
        return True


@dataclass
class TurnQueue(Generic[T]):
    """Who waits for a turn: by priority, then in order of arrival."""

    _heap: list[tuple[int, int, T]] = field(default_factory=list)
    _arrivals: itertools.count = field(default_factory=itertools.count)

    def push(self, priority: Priority, item: T) -> None:
        heapq.heappush(self._heap, (int(priority), next(self._arrivals), item))

    def pop(self) -> T:
        return heapq.heappop(self._heap)[2]

    def __len__(self) -> int:
        return len(self._heap)
