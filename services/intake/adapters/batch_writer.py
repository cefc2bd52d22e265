"""Group commit: what requests arriving together write is written in one transaction,
one INSERT per table for all of them, so one disk flush makes many durable. SQLite and
PostgreSQL flush once per commit; a burst of mail on several connections would
otherwise wait in line for one flush and half a dozen statements each.

On a SQLite file the whole transaction is one call to a thread of the writer's own, on
a synchronous connection (see shared/database_work.py).

Each request's writes still land whole or not at all: if a shared transaction fails,
every request in it is written again in a transaction of its own, so one bad request
fails alone.
"""

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.database_work import database_work
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
        self._database = database_work(sessions.kw["bind"])
        # The engine whose connections commit the batches (for its events, in tests).
        self.engine: Engine = self._database.engine
        self._waiting: list[tuple[Writes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, writes: Writes) -> None:
        """Write `writes` in a transaction shared with whatever else is waiting; return once
        that transaction is committed. The outbox is woken after each commit that added events."""
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
        await self._database.transaction(lambda connection: apply(connection, self.outbox, batch))
        if any(writes.events for writes in batch):
            self.outbox.wake()

    async def _one_by_one(self, batch: list[tuple[Writes, asyncio.Future[None]]]) -> None:
        for writes, done in batch:
            try:
                await self._commit([writes])
            except Exception as error:  # noqa: BLE001 - handed to the request that asked
                _settle(done, error)
            else:
                _settle(done)


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
