"""The transactional outbox: events written with the change that caused them,
then relayed to Kafka, so a crash between the two loses nothing and invents nothing."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    Select,
    String,
    Table,
    Update,
    bindparam,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from shared.database_work import DatabaseWork
from shared.db import UtcDateTime
from shared.events import Event, serialize, utcnow
from shared.relay_lock import Exclusive
from shared.topics import Topic

log = logging.getLogger(__name__)

# A published row is kept as long as the topics keep their records, for looking into what
# was sent, then deleted: it carries all that its event carries.
KEEP_PUBLISHED = timedelta(days=7)
FORGET_IN_CHUNKS_OF = 5_000  # rows per transaction, so no writer waits long behind it
ROUND_LIMIT = 500  # rows a relay round reads, sends and marks

# Hands one record to the producer, in order; what it returns, if anything, is awaited
# before the rows are marked as relayed.
Publish = Callable[[str, bytes, bytes, dict[str, str]], Awaitable[Awaitable[object] | None]]

# Replaces the producer behind `publish` with a new one (a new producer id), for when
# the producer says it can never send again; see shared.kafka.producer_is_broken.
ResetProducer = Callable[[], Awaitable[None]]
BrokenProducer = Callable[[BaseException], bool]


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("topic", String(200), nullable=False),
        Column("key", LargeBinary, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True, index=True),
    )


class Outbox:
    """Adds events inside a caller's transaction and relays them after commit."""

    def __init__(
        self,
        table: Table,
        sessions: async_sessionmaker,
        publish: Publish,
        poll_seconds: float = 0.5,
        reset_producer: ResetProducer | None = None,
        producer_is_broken: BrokenProducer = lambda _: False,
        exclusive: Exclusive = contextlib.nullcontext,
        linger_seconds: float = 0.0,
    ) -> None:
        self.table = table
        # How long the relay waits, once woken, for more commits to join the round: each
        # round costs a read, a produce request and a mark whatever it carries.
        self.linger_seconds = linger_seconds
        self.exclusive = exclusive
        self.sessions = sessions
        self.publish = publish
        self.poll_seconds = poll_seconds
        self.reset_producer = reset_producer
        self.producer_is_broken = producer_is_broken
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._database: DatabaseWork | None = None
        # Built once: building a statement and its cache key cost more CPU each round
        # than running it.
        self._pending = _pending(table)
        # Replicas relay disjoint rows on PostgreSQL; on SQLite, one at a time (`exclusive`).
        self._pending_locked = self._pending.with_for_update(skip_locked=True)
        self._mark = _mark(table)

    def relay_alone(self, database: DatabaseWork) -> None:
        """For a service that is the only relay of its SQLite file: pending rows are read,
        and then marked, each in one hand-off to `database`'s thread, instead of a
        transaction held open on aiosqlite (a hand-off per statement, fetch and close)
        while they are sent. Other processes on the file wait for the relay lock."""
        if database.in_thread:
            self._database = database

    async def add(self, session: AsyncSession | AsyncConnection, topic: Topic, *events: Event) -> None:
        await session.execute(self.table.insert(), self.rows(topic, events))

    def rows(self, topic: Topic, events: Iterable[Event]) -> list[dict[str, object]]:
        """The outbox rows of `events`, for a caller that inserts them itself."""
        now = utcnow()
        return [self._row(topic, event, now) for event in events]

    def _row(self, topic: Topic, event: Event, now: datetime) -> dict[str, object]:
        return {
            "topic": str(topic),
            "key": event.key(),
            "payload": serialize(event),
            "event_id": str(event.event_id),
            "event_type": event.event_type,
            "created_at": now,
        }

    async def forget_published(self, before: datetime | None = None) -> int:
        """Delete the rows published before `before` (default: KEEP_PUBLISHED ago)."""
        cutoff = before or utcnow() - KEEP_PUBLISHED
        table, forgotten = self.table, 0
        while True:
            chunk = select(table.c.id).where(table.c.published_at < cutoff).limit(FORGET_IN_CHUNKS_OF)
            async with self.sessions.begin() as session:
                deleted = (await session.execute(delete(table).where(table.c.id.in_(chunk)))).rowcount
            forgotten += deleted
            if deleted < FORGET_IN_CHUNKS_OF:
                return forgotten

    def wake(self) -> None:
        """Called after a commit that added events: relay them now, not at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                if await self.relay_pending() == ROUND_LIMIT:
                    continue  # a full round: more are waiting, so no wait and no linger
            except Exception as error:
                log.exception("outbox relay failed; retrying")
                if self.reset_producer is not None and self.producer_is_broken(error):
                    await self._replace_producer(error)
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            else:
                await self._linger()
            self._wake.clear()

    async def _linger(self) -> None:
        if self.linger_seconds > 0:
            await asyncio.sleep(self.linger_seconds)

    async def _replace_producer(self, error: BaseException) -> None:
        """The unpublished rows stay in the outbox and go out again through the new
        producer: at least once (consumers de-duplicate on event_id)."""
        assert self.reset_producer is not None
        log.warning("outbox producer replaced", extra={"reason": type(error).__name__})
        try:
            await self.reset_producer()
        except Exception as failure:  # noqa: BLE001 - tried again after the next failure
            log.warning("outbox producer not replaced", extra={"reason": type(failure).__name__})

    async def relay_pending(self, limit: int = ROUND_LIMIT) -> int:
        """Relay up to `limit` unpublished rows, oldest first: every record is handed to
        the producer before any is awaited, so they go out in batches, then the rows are
        marked in one statement."""
        async with self.exclusive():
            if self._database is not None:
                return await self._relay_alone(self._database, limit)
            return await self._relay_in_transaction(limit)

    async def _relay_in_transaction(self, limit: int) -> int:
        async with self.sessions() as session:
            # Core statements on the session's connection: none of the ORM's work per row.
            connection = await session.connection()
            rows = (await connection.execute(self._pending_locked, {"limit": limit})).all()
            if not rows:
                return 0
            await self._send(rows)
            await connection.execute(self._mark, _marked(rows))
            await session.commit()
        return len(rows)

    async def _relay_alone(self, database: DatabaseWork, limit: int) -> int:
        rows = await database.read(lambda connection: connection.execute(self._pending, {"limit": limit}).all())
        if not rows:
            return 0
        await self._send(rows)
        marked = _marked(rows)
        await database.transaction(lambda connection: connection.execute(self._mark, marked))
        return len(rows)

    async def _send(self, rows: Sequence[Row]) -> None:
        sent = [
            await self.publish(topic, payload, key, {"event_type": event_type, "event_id": event_id})
            for _, topic, payload, key, event_type, event_id in rows
        ]
        await asyncio.gather(*(confirmed for confirmed in sent if confirmed is not None))


def _pending(table: Table) -> Select:
    return (
        select(table.c.id, table.c.topic, table.c.payload, table.c.key, table.c.event_type, table.c.event_id)
        .where(table.c.published_at.is_(None))
        .order_by(table.c.id)
        .limit(bindparam("limit"))
    )


def _mark(table: Table) -> Update:
    return update(table).where(table.c.id.in_(bindparam("ids", expanding=True))).values(published_at=bindparam("at"))


def _marked(rows: Sequence[Row]) -> dict[str, object]:
    return {"ids": [row[0] for row in rows], "at": utcnow()}
