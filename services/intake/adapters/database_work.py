"""Synchronous work on intake's database, awaited by the event loop in one hand-off.

On a SQLite file the work runs whole in a thread of its own, on a synchronous
connection: through aiosqlite every statement, fetch, cursor close, BEGIN, COMMIT and
the pool's rollback on return was a hand-off to its thread and back to the event loop.
On any other database (PostgreSQL) it runs on an async connection, by `run_sync`.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import sqlite_file_engine

T = TypeVar("T")
Work = Callable[[Connection], T]


class DatabaseWork:
    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._async = engine
        self._sqlite = sqlite_file_engine(engine)
        self._name = name
        self._thread: ThreadPoolExecutor | None = None
        # The engine whose connections do the work (for its events, in tests).
        self.engine: Engine = self._sqlite or engine.sync_engine
        if self._sqlite is not None:
            # Closed with the service's own engine; opened again if used after.
            event.listen(engine.sync_engine, "engine_disposed", lambda _engine: self.close())

    async def transaction(self, work: Work[T]) -> T:
        """`work` in one transaction, committed before this returns."""
        if self._sqlite is None:
            async with self._async.begin() as connection:
                return await connection.run_sync(work)
        return await self._in_thread(_transaction, work)

    async def read(self, work: Work[T]) -> T:
        """`work` on a connection that commits nothing."""
        if self._sqlite is None:
            async with self._async.connect() as connection:
                return await connection.run_sync(work)
        return await self._in_thread(_read, work)

    async def _in_thread(self, how: Callable[[Engine, Work[T]], T], work: Work[T]) -> T:
        assert self._sqlite is not None
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        return await asyncio.get_running_loop().run_in_executor(self._thread, how, self._sqlite, work)

    def close(self) -> None:
        if self._thread is not None and self._sqlite is not None:
            self._thread.submit(self._sqlite.dispose)
            self._thread.shutdown(wait=False)
            self._thread = None


def _transaction(engine: Engine, work: Work[T]) -> T:
    with engine.begin() as connection:
        return work(connection)


def _read(engine: Engine, work: Work[T]) -> T:
    with engine.connect() as connection:
        return work(connection)
