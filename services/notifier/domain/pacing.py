"""Pacing texts per sender (pure): never faster than the sender's rate, and the most
pressing message first when several wait.

Twilio sends from a UK alphanumeric sender at 10 messages a second. A token bucket of
capacity one gives exactly that: one text every 1/rate seconds, never two closer. When
texts wait for their turn, "on the way" and urgent ones go first, routine ones next,
and the gas programme's bulk offers and chasers last; within a priority, first come
first served.
"""

import heapq
import itertools
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

from shared.events.notifications import Purpose

T = TypeVar("T")
# Tokens are refilled in floating point: a token 1e-9 short is a whole one.
_WHOLE = 1 - 1e-9

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
class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; times are in seconds."""

    rate: float
    capacity: float = 1.0
    _tokens: float = field(init=False)
    _at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("a sender's rate must be positive and its capacity at least one")
        self._tokens = self.capacity

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: now)."""
        self._refill(now)
        return 0.0 if self._tokens >= _WHOLE else (1 - self._tokens) / self.rate

    def take(self, now: float) -> bool:
        """Take a token if there is one."""
        self._refill(now)
        if self._tokens < _WHOLE:
            return False
        self._tokens = max(0.0, self._tokens - 1)
        return True

    def _refill(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        if self._at is None or now > self._at:
            self._at = now


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
