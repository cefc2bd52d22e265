"""Group commit: writes from requests arriving together share one transaction, so one
disk flush makes many of them durable. SQLite (and PostgreSQL) flush once per commit; a
burst of mail on several connections would otherwise wait in line for one flush each.

Each piece of work still lands whole or not at all: if a shared transaction fails, every
piece in it is tried again in a transaction of its own, so one bad piece fails alone.
"""

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]
MAX_BATCH = 128


class BatchWriter:
    def __init__(self, sessions: async_sessionmaker, max_batch: int = MAX_BATCH) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._waiting: list[tuple[Work, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a transaction shared with whatever else is waiting; return its
        result once that transaction is committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="intake-batch-writer")
        return await done

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            try:
                async with self.sessions.begin() as session:
                    results = [await work(session) for work, _ in batch]
            except Exception as error:  # noqa: BLE001 - each piece is tried alone below
                if len(batch) == 1:
                    _settle(batch[0][1], error=error)
                    continue
                log.warning("shared write failed; writing one by one", extra={"count": len(batch)})
                await self._one_by_one(batch)
                continue
            for (_, done), result in zip(batch, results, strict=True):
                _settle(done, result)

    async def _one_by_one(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        for work, done in batch:
            try:
                async with self.sessions.begin() as session:
                    result = await work(session)
            except Exception as error:  # noqa: BLE001 - handed to the caller that asked
                _settle(done, error=error)
            else:
                _settle(done, result)


def _settle(done: asyncio.Future[Any], result: Any = None, error: BaseException | None = None) -> None:
    if done.done():  # the caller went away (a dropped connection); its write stands
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


_writers: "weakref.WeakKeyDictionary[async_sessionmaker, BatchWriter]" = weakref.WeakKeyDictionary()


def writer_for(sessions: async_sessionmaker) -> BatchWriter:
    """The one batch writer of a database (its session factory)."""
    if (writer := _writers.get(sessions)) is None:
        writer = _writers[sessions] = BatchWriter(sessions)
    return writer
