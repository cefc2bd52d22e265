"""Synchronous work on a service's database, awaited by the event loop in one hand-off.

On a SQLite file the work runs whole in a thread, on a synchronous connection: through
aiosqlite every statement, fetch, cursor close, BEGIN, COMMIT and the pool's rollback on
return was a hand-off to its thread and back to the event loop. Transactions all run in
one thread, on one connection, so they never wait on each other's write lock (SQLite's
busy handler sleeps for milliseconds at a time); reads run in another, beside them.
On any other database (PostgreSQL) the work runs on an async connection, by `run_sync`.
"""

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import sqlite_file_engine

T = TypeVar("T")
Work = Callable[[Connection], T]


class DatabaseWork:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        # Weakly, so that database_work's registry does not keep a service's engine alive.
        self._async = weakref.ref(engine)
        self._sqlite = sqlite_file_engine(engine)
        self._name = name
        self._threads: dict[str, ThreadPoolExecutor] = {}
        self._reads_waiting: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._reader: asyncio.Task[None] | None = None
        # The engine whose connections do the work (for its events, in tests).
        self.engine: Engine = self._sqlite or engine.sync_engine
        if self._sqlite is not None:
            # Closed with the service's own engine; opened again if used after.
            event.listen(engine.sync_engine, "engine_disposed", lambda _engine: self.close())

    @property
    def in_thread(self) -> bool:
        """Whether the work runs in threads of its own (a SQLite file)."""
        return self._sqlite is not None

    async def transaction(self, work: Work[T]) -> T:
        """`work` in one transaction, committed before this returns."""
        if (sqlite := self._sqlite) is None:
            async with self._engine().begin() as connection:
                return await connection.run_sync(work)
        return await self._in_thread(sqlite, "writes", _transaction, work)

    async def read(self, work: Work[T]) -> T:
        """`work` on a connection that commits nothing."""
        if (sqlite := self._sqlite) is None:
            async with self._engine().connect() as connection:
                return await connection.run_sync(work)
        return await self._in_thread(sqlite, "reads", _read, work)

    async def read_together(self, work: Work[T]) -> T:
        """`work` read with whatever other reads are waiting, all in one hand-off (each
        gets its own result or error): lookups asked for by requests arriving together."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._reads_waiting.append((work, done))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_waiting(), name="database-reads")
        return await done

    async def _read_waiting(self) -> None:
        while self._reads_waiting:
            batch, self._reads_waiting = self._reads_waiting, []
            try:
                outcomes = await self.read(lambda connection: [_outcome(work, connection) for work, _ in batch])
            except Exception as error:  # noqa: BLE001 - handed to every read that asked
                outcomes = [(None, error)] * len(batch)
            for (_, done), (value, error) in zip(batch, outcomes):
                if done.done():  # the request went away
                    continue
                if error is not None:
                    done.set_exception(error)
                else:
                    done.set_result(value)

    def _engine(self) -> AsyncEngine:
        engine = self._async()
        if engine is None:
            raise RuntimeError("the service's engine is gone")
        return engine

    async def _in_thread(self, sqlite: Engine, kind: str, how: Callable[[Engine, Work[T]], T], work: Work[T]) -> T:
        if (thread := self._threads.get(kind)) is None:
            thread = self._threads[kind] = ThreadPoolExecutor(1, thread_name_prefix=f"{self._name}-{kind}")
        return await asyncio.get_running_loop().run_in_executor(thread, how, sqlite, work)

    def close(self) -> None:
        threads, self._threads = self._threads, {}
        for thread in threads.values():
            thread.shutdown(wait=True)
        if self._sqlite is not None:
            self._sqlite.dispose()


_works: "weakref.WeakKeyDictionary[AsyncEngine, DatabaseWork]" = weakref.WeakKeyDictionary()


def database_work(engine: AsyncEngine) -> DatabaseWork:
    """The one DatabaseWork of a service's engine: its writes share one connection."""
    if (work := _works.get(engine)) is None:
        work = _works[engine] = DatabaseWork(engine, "db")
    return work


def _outcome(work: Work[T], connection: Connection) -> tuple[T | None, Exception | None]:
    try:
        return work(connection), None
    except Exception as error:  # noqa: BLE001 - the caller's to raise
        return None, error


def _transaction(engine: Engine, work: Work[T]) -> T:
    with engine.begin() as connection:
        return work(connection)


def _read(engine: Engine, work: Work[T]) -> T:
    with engine.connect() as connection:
        return work(connection)
