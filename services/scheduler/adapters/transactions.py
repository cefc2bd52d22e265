"""Units of work that may lose a race and be tried again."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.service import Runtime

T = TypeVar("T")

ATTEMPTS = 12


async def in_transaction(runtime: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction (its events go in the outbox with it). When another
    booking committed first (a unique place taken; SQLite's snapshot gone stale) it is run
    again from a fresh read, which then sees what the other one took."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with runtime.sessions.begin() as session:
                result = await work(session)
            runtime.outbox.wake()
            return result
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))  # noqa: S311 - jitter, not secrecy
    raise AssertionError("unreachable")
