"""The leader lease: one database row naming the replica that runs timed jobs.

A replica holds the lease while it renews it before `expires_at`; when the holder dies
the row expires and the next replica to try takes it. Claiming is one conditional
UPDATE (or the first INSERT), atomic on SQLite and PostgreSQL alike.
"""

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.events import utcnow
from services.scheduler.timed.tables import leader_leases

log = logging.getLogger(__name__)

TIMED_JOBS = "timed-jobs"


def replica_name() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaderLease:
    def __init__(
        self,
        sessions: async_sessionmaker,
        ttl: timedelta,
        holder: str | None = None,
        name: str = TIMED_JOBS,
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.holder = holder or replica_name()
        self.name = name
        self._held_until = 0.0  # monotonic: what this process may rely on

    def held(self) -> bool:
        """True while the last successful claim has not run out on this machine's clock."""
        return time.monotonic() < self._held_until

    async def claim(self) -> bool:
        """Take or renew the lease; False when another replica holds it."""
        started = time.monotonic()
        now = utcnow()
        won = await self._renew_or_take(now) or await self._take_first(now)
        # Counted from before the request, so this replica never believes in a lease
        # longer than the database grants it.
        self._held_until = started + self.ttl.total_seconds() if won else 0.0
        return won

    async def release(self) -> None:
        """Let another replica take over at once (a clean shutdown)."""
        self._held_until = 0.0
        async with self.sessions.begin() as session:
            await session.execute(
                update(leader_leases)
                .where(leader_leases.c.name == self.name, leader_leases.c.holder == self.holder)
                .values(expires_at=utcnow())
            )

    async def _renew_or_take(self, now: datetime) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(leader_leases)
                .where(
                    leader_leases.c.name == self.name,
                    or_(leader_leases.c.holder == self.holder, leader_leases.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
        return result.rowcount == 1

    async def _take_first(self, now: datetime) -> bool:
        try:
            async with self.sessions.begin() as session:
                await session.execute(
                    insert(leader_leases).values(
                        name=self.name, holder=self.holder, expires_at=now + self.ttl
                    )
                )
        except IntegrityError:
            return False
        return True
