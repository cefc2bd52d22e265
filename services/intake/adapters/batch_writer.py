"""Group commit: what requests arriving together write is written in one transaction,
one INSERT per table for all of them, so one disk flush makes many durable. SQLite and
PostgreSQL flush once per commit; a burst of mail on several connections would
otherwise wait in line for one flush and half a dozen statements each.

On a SQLite file the whole transaction is one call to a thread of the writer's own, on
a synchronous connection: through aiosqlite every statement, the BEGIN and the COMMIT
were each a hand-off to its thread and back to the event loop.

Each request's writes still land whole or not at all: if a shared transaction fails,
every request in it is written again in a transaction of its own, so one bad request
fails alone.
"""

import asyncio
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.db import sqlite_file_engine
from shared.events import Event
from shared.outbox import Outbox
from shared.topics import Topic

log = logging.getLogger(__name__)

MAX_BATCH = 128
Step = Callable[[Connection], Any]


class Writes:
    """One request's writes: rows to insert, statements of its own, and events for the outbox."""

    def __init__(self) -> None:
        self.rows: dict[Table, list[dict[str, Any]]] = {}
        self.steps: list[Step] = []
        self.events: dict[Topic, list[Event]] = {}

    def insert(self, table: Table, **row: Any) -> None:
        self.rows.setdefault(table, []).append(row)

    def then(self, step: Step) -> None:
        self.steps.append(step)

    def emit(self, topic: Topic, *events: Event) -> None:
        self.events.setdefault(topic, []).extend(events)


def apply(connection: Connection, outbox: Outbox, batch: list[Writes]) -> None:
    """Write `batch` in the transaction of `connection`: one INSERT per table for all of
    it. Synchronous, so that it runs whole in a thread, or in an async connection's
    `run_sync`."""
    rows: dict[Table, list[dict[str, Any]]] = {}
    events: dict[Topic, list[Event]] = {}
    for writes in batch:
        for table, table_rows in writes.rows.items():
            rows.setdefault(table, []).extend(table_rows)
        for topic, topic_events in writes.events.items():
            events.setdefault(topic, []).extend(topic_events)
    for table, table_rows in rows.items():
        connection.execute(table.insert(), table_rows)
    for writes in batch:
        for step in writes.steps:
            step(connection)
    outbox_rows = [row for topic, topic_events in events.items() for row in outbox.rows(topic, topic_events)]
    if outbox_rows:
        connection.execute(outbox.table.insert(), outbox_rows)


class BatchWriter:
    def __init__(self, sessions: async_sessionmaker, outbox: Outbox, max_batch: int = MAX_BATCH) -> None:
        self.outbox = outbox
        self.max_batch = max_batch
        engine: AsyncEngine = sessions.kw["bind"]
        sqlite = sqlite_file_engine(engine)
        self._transaction = _InThread(sqlite, engine) if sqlite else _OnLoop(engine)
        # The engine whose connections commit the batches (for its events, in tests).
        self.engine: Engine = sqlite or engine.sync_engine
        self._waiting: list[tuple[Writes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, writes: Writes) -> None:
        """Write `writes` in a transaction shared with whatever else is waiting; return once
        that transaction is committed. The outbox is woken after each commit."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((writes, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="intake-batch-writer")
        await done

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            try:
                await self._commit([writes for writes, _ in batch])
            except Exception as error:  # noqa: BLE001 - each request is tried alone below
                if len(batch) == 1:
                    _settle(batch[0][1], error)
                    continue
                log.warning("shared write failed; writing one by one", extra={"count": len(batch)})
                await self._one_by_one(batch)
                continue
            for _, done in batch:
                _settle(done)

    async def _commit(self, batch: list[Writes]) -> None:
        await self._transaction(lambda connection: apply(connection, self.outbox, batch))
        self.outbox.wake()

    async def _one_by_one(self, batch: list[tuple[Writes, asyncio.Future[None]]]) -> None:
        for writes, done in batch:
            try:
                await self._commit([writes])
            except Exception as error:  # noqa: BLE001 - handed to the request that asked
                _settle(done, error)
            else:
                _settle(done)


Work = Callable[[Connection], None]


class _OnLoop:
    """Any database: the transaction on an async connection, its statements run by
    `run_sync` (Core statements: none of the ORM's work per row)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def __call__(self, work: Work) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(work)


class _InThread:
    """A SQLite file: the transaction begun, written and committed in one call to a
    thread of its own, on one synchronous connection."""

    def __init__(self, engine: Engine, owner: AsyncEngine) -> None:
        self.engine = engine
        self._thread: ThreadPoolExecutor | None = None
        # Closed with the service's own engine; opened again if it is used after.
        event.listen(owner.sync_engine, "engine_disposed", lambda _engine: self.close())

    async def __call__(self, work: Work) -> None:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="intake-writer")
        await asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Work) -> None:
        with self.engine.begin() as connection:
            work(connection)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.submit(self.engine.dispose)
            self._thread.shutdown(wait=False)
            self._thread = None


def _settle(done: asyncio.Future[None], error: BaseException | None = None) -> None:
    if done.done():  # the request went away (a dropped connection); its write stands
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(None)


_writers: "weakref.WeakKeyDictionary[async_sessionmaker, BatchWriter]" = weakref.WeakKeyDictionary()


def writer_for(sessions: async_sessionmaker, outbox: Outbox) -> BatchWriter:
    """The one batch writer of a database (its session factory)."""
    if (writer := _writers.get(sessions)) is None:
        writer = _writers[sessions] = BatchWriter(sessions, outbox)
    return writer
