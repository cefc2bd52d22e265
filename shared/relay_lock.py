"""One outbox relay at a time among the processes that share one SQLite file.

On PostgreSQL, replicas relay disjoint rows (SELECT ... FOR UPDATE SKIP LOCKED). SQLite
has no row locks: two replicas' relays would both read the same unsent rows and publish
each twice. So on SQLite a relay first takes an exclusive lock on a file beside the
database. The operating system drops the lock when its process dies, so a killed relay
never holds up the others.
"""

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from shared.db import sqlite_file

RETRY_SECONDS = 0.005

Exclusive = Callable[[], AbstractAsyncContextManager[object]]


class RelayLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(RETRY_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


def relay_exclusive(database_url: str) -> Exclusive:
    """What a relay holds while it reads, publishes and marks rows: the file lock for a
    SQLite file, nothing for PostgreSQL or an in-memory database."""
    database = sqlite_file(database_url)
    if database is None:
        return contextlib.nullcontext
    return RelayLock(Path(f"{database}.relay-lock")).held
