"""One task at a time per key, within this process: two deliveries of one mail at the same
moment (a client retrying on a second connection) would both find it not seen before, and
both open a case. The second now waits for the first, then finds its case."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Hashable


class OneAtATime:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._wanted: Counter[Hashable] = Counter()

    @contextlib.asynccontextmanager
    async def holding(self, key: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._wanted[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._wanted[key] -= 1
            if not self._wanted[key]:  # nobody holds or waits: forget the key
                del self._wanted[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
