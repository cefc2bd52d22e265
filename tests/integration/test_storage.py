"""Every service's storage on both databases it supports: SQLite (the default) and PostgreSQL.

The migrations must build exactly the tables the code declares, be safe to run again, and
leave nothing for Alembic's autogenerate to find: a table changed without a migration fails
here. The transactional outbox is checked on both databases too.
"""

import asyncio
import importlib
import importlib.util
from email.message import EmailMessage
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine, migrate, session_factory
from shared.events import parse_event
from shared.events.cases import CaseKind, CaseOpened, Channel, Mailbox
from shared.outbox import Outbox
from shared.relay_lock import relay_exclusive
from shared.standards.loader import load_all
from shared.topics import Topic
from services.intake import handlers as intake_handlers
from services.intake.adapters import tables as intake_tables
from services.intake.bootstrap import bootstrap as intake_runtime
from services.intake.settings import IntakeSettings

SERVICES = ("intake", "scheduler", "notifier", "sla_monitor")


def _has_storage(service: str) -> bool:
    """Whether the service declares its tables yet (services gain them as they are built)."""
    return all(
        importlib.util.find_spec(f"services.{service}.{module}") is not None
        for module in ("bootstrap", "adapters.tables")
    )


# Imported inside the tests, so that one service's broken module fails only its own tests.
SERVICES_WITH_STORAGE = [service for service in SERVICES if _has_storage(service)]

BACKENDS = [
    pytest.param("sqlite"),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@dataclass(frozen=True)
class Storage:
    migrations: Path
    metadata: MetaData


def storage_of(service: str) -> Storage:
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    tables = importlib.import_module(f"services.{service}.adapters.tables")
    return Storage(migrations=bootstrap.MIGRATIONS, metadata=tables.metadata)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a brand-new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    return request.getfixturevalue("fresh_postgres_database")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def schema_differences(engine: AsyncEngine, metadata: MetaData) -> list[object]:
    def compare(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
        )
        # Alembic leaves its own alembic_version table out of the comparison.
        return compare_metadata(context, metadata)

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


# --- migrations ----------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES_WITH_STORAGE)
async def test_migrations_create_every_declared_table(
    service: str, database_url: str, engine: AsyncEngine
) -> None:
    storage = storage_of(service)

    await migrate(storage.migrations, database_url)

    assert await table_names(engine) == set(storage.metadata.tables)


@pytest.mark.parametrize("service", SERVICES_WITH_STORAGE)
async def test_migrating_twice_is_harmless(
    service: str, database_url: str, engine: AsyncEngine
) -> None:
    storage = storage_of(service)

    await migrate(storage.migrations, database_url)
    await migrate(storage.migrations, database_url)

    assert await table_names(engine) == set(storage.metadata.tables)
    async with engine.connect() as connection:
        versions = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        rows = versions.all()
    assert len(rows) == 1


@pytest.mark.parametrize("service", SERVICES_WITH_STORAGE)
async def test_migrations_match_the_declared_tables(
    service: str, database_url: str, engine: AsyncEngine
) -> None:
    """Alembic's autogenerate finds nothing to do: no table was changed without a migration."""
    storage = storage_of(service)

    await migrate(storage.migrations, database_url)

    differences = await schema_differences(engine, storage.metadata)
    assert differences == [], (
        f"services/{service}/adapters/tables.py and its migrations disagree; write a migration "
        f"(alembic revision --autogenerate). Differences: {differences}"
    )


# --- the transactional outbox --------------------------------------------------------


def case_opened(case_id: str, reference: str) -> CaseOpened:
    return CaseOpened(
        correlation_id=f"test-{reference}",
        case_id=case_id,
        reference=reference,
        channel=Channel.EMAIL,
        kind=CaseKind.GENERAL_ENQUIRY,
        received_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    )


class Recorder:
    """A publish function that remembers what it was given."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, bytes, dict[str, str]]] = []

    async def __call__(
        self, topic: str, payload: bytes, key: bytes, headers: dict[str, str]
    ) -> None:
        self.published.append((topic, payload, key, headers))


@pytest.fixture
async def outbox_table(database_url: str) -> Table:
    """The intake service's migrated outbox table (every service's outbox is the same table)."""
    storage = storage_of("intake")
    await migrate(storage.migrations, database_url)
    return storage.metadata.tables["outbox"]


async def test_outbox_relays_committed_events_once_in_order(
    engine: AsyncEngine, outbox_table: Table
) -> None:
    sessions = session_factory(engine)
    recorder = Recorder()
    outbox = Outbox(outbox_table, sessions, recorder)
    first = case_opened(str(uuid4()), "DS-000001")
    second = case_opened(str(uuid4()), "DS-000002")

    async with sessions() as session:
        await outbox.add(session, Topic.CASES, first, second)
        await session.commit()

    assert await outbox.relay_pending() == 2
    assert [
        (topic, parse_event(payload), key, headers)
        for topic, payload, key, headers in recorder.published
    ] == [
        (
            str(Topic.CASES),
            event,
            event.case_id.encode(),
            {"event_type": "case.opened", "event_id": str(event.event_id)},
        )
        for event in (first, second)
    ]

    assert await outbox.relay_pending() == 0
    assert len(recorder.published) == 2
    async with sessions() as session:
        published_at = (await session.execute(select(outbox_table.c.published_at))).scalars().all()
    assert len(published_at) == 2
    assert all(moment is not None for moment in published_at)


class SlowRecorder(Recorder):
    """Takes a moment over each record, as a broker does, so two relays overlap."""

    async def __call__(self, topic: str, payload: bytes, key: bytes, headers: dict[str, str]) -> None:
        await asyncio.sleep(0.002)
        await super().__call__(topic, payload, key, headers)


async def test_two_relays_on_one_database_send_each_row_once(
    engine: AsyncEngine, outbox_table: Table, database_url: str
) -> None:
    """Replicas of a service share its database. On PostgreSQL each relays the rows the
    other has not locked (FOR UPDATE SKIP LOCKED); on SQLite, which has no row locks, one
    relays at a time (the relay lock). Either way every event goes out once."""
    sessions = session_factory(engine)
    events = [case_opened(str(uuid4()), f"DS-{n:06d}") for n in range(200)]
    async with sessions() as session:
        await Outbox(outbox_table, sessions, Recorder()).add(session, Topic.CASES, *events)
        await session.commit()
    recorders = [SlowRecorder(), SlowRecorder()]
    # Each relay its own lock, as in two processes.
    relays = [Outbox(outbox_table, sessions, r, exclusive=relay_exclusive(database_url)) for r in recorders]

    async def drain(relay: Outbox) -> None:
        while await relay.relay_pending(limit=20):
            pass

    await asyncio.gather(*(drain(relay) for relay in relays))

    sent = [headers["event_id"] for recorder in recorders for _, _, _, headers in recorder.published]
    assert sorted(sent) == sorted(str(event.event_id) for event in events)
    if database_url.startswith("postgresql"):
        assert all(recorder.published for recorder in recorders)  # both took a share at once


async def test_the_relay_lock_is_one_holder_at_a_time_and_free_again_after(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    first, second = relay_exclusive(url), relay_exclusive(url)
    order: list[str] = []

    async def hold(lock, name: str) -> None:  # type: ignore[no-untyped-def]
        async with lock():
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(hold(first, "a"), hold(second, "b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    async with asyncio.timeout(1):  # released: taken again at once
        async with first():
            pass


async def test_outbox_relays_nothing_from_a_rolled_back_transaction(
    engine: AsyncEngine, outbox_table: Table
) -> None:
    sessions = session_factory(engine)
    recorder = Recorder()
    outbox = Outbox(outbox_table, sessions, recorder)

    async with sessions() as session:
        await outbox.add(session, Topic.CASES, case_opened(str(uuid4()), "DS-000003"))
        await session.rollback()

    assert await outbox.relay_pending() == 0
    assert recorder.published == []


async def test_published_rows_are_forgotten_after_the_topics_would_have_dropped_them(
    engine: AsyncEngine, outbox_table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shared.outbox.FORGET_IN_CHUNKS_OF", 3)  # several chunks
    sessions = session_factory(engine)
    outbox = Outbox(outbox_table, sessions, Recorder())
    events = [case_opened(str(uuid4()), f"DS-{n:06d}") for n in range(8)]
    async with sessions.begin() as session:
        await outbox.add(session, Topic.CASES, *events)
    assert await outbox.relay_pending() == 8
    unsent = case_opened(str(uuid4()), "DS-000099")
    async with sessions.begin() as session:
        await outbox.add(session, Topic.CASES, unsent)

    assert await outbox.forget_published() == 0  # published just now: kept for 7 days
    later = datetime.now(UTC) + timedelta(days=8)
    assert await outbox.forget_published(before=later) == 8
    async with sessions() as session:
        left = (await session.execute(select(outbox_table.c.event_id, outbox_table.c.published_at))).all()
    assert left == [(str(unsent.event_id), None)]  # an unsent row is never forgotten


# --- intake's group commit and lookups ------------------------------------------------


async def test_intake_keeps_a_mail_once_and_threads_its_reply_on_both_databases(database_url: str):
    """Intake's batch writer and mail lookups run their statements synchronously (in a
    thread of their own on SQLite, by run_sync on PostgreSQL): each database keeps the
    case, the raw mail and the events, finds the same mail sent again, and threads a
    reply into its case."""
    def mail(message_id: str, body: str, **headers: str) -> bytes:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "t@example.org", "repairs@hexagon.org.uk", "Tap"
        message["Message-ID"] = message_id
        for name, value in headers.items():
            message[name.replace("_", "-")] = value
        message.set_content(body)
        return message.as_bytes()

    runtime = intake_runtime(IntakeSettings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1"))
    await migrate(runtime.migrations, database_url)
    book, to = load_all(), "repairs@hexagon.org.uk"
    try:
        first = mail("<one@example.org>", "The kitchen tap is leaking.")
        references = await asyncio.gather(
            intake_handlers.receive_mail(runtime, book, Mailbox.REPAIRS, to, first),
            *(intake_handlers.receive_mail(runtime, book, Mailbox.REPAIRS, to, mail(f"<{n}@example.org>", "Mould.")) for n in range(5)),
        )
        again = await intake_handlers.receive_mail(runtime, book, Mailbox.REPAIRS, to, first)
        reply = mail("<two@example.org>", "Still leaking.", In_Reply_To="<one@example.org>")
        threaded = await intake_handlers.receive_mail(runtime, book, Mailbox.REPAIRS, to, reply)
        async with runtime.engine.connect() as connection:
            count = lambda table: connection.scalar(select(func.count()).select_from(table))  # noqa: E731
            counted = tuple([await count(t) for t in (intake_tables.cases, intake_tables.raw_messages, intake_tables.outbox)])
    finally:
        await runtime.engine.dispose()
    assert references[0] and again == threaded == references[0]
    assert len(set(references)) == 6
    # Six cases, seven mails kept; six case.opened and six acknowledgements, one message received.
    assert counted == (6, 7, 13)
