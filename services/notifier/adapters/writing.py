"""Write transactions of the notifier's own database.

SQLite lets one connection write at a time; a second writer waits in SQLite's busy
handler, which sleeps between retries, up to 100 ms a time, so under load an urgent
text can wait a second behind bulk ones. On SQLite the notifier's writers therefore
queue on an asyncio lock instead, in order, and each goes the moment the previous one
commits. PostgreSQL locks rows, not the database: there, no lock is taken.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.service import Runtime

_writers: WeakKeyDictionary[AsyncEngine, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def writing(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """A transaction that commits on leaving, one at a time on SQLite."""
    if runtime.engine.dialect.name != "sqlite":
        async with runtime.sessions.begin() as session:
            yield session
        return
    async with _writers.setdefault(runtime.engine, asyncio.Lock()), runtime.sessions.begin() as session:
        yield session
