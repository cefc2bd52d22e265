"""The outbox relay on a real broker of its own (deploy/kafka.sh on ports of its own, so
the shared test broker is never disturbed): every row reaches Kafka when the broker is
restarted while the relay publishes, and when the broker answers OutOfOrderSequenceNumber,
after which the idempotent producer is replaced by a new one."""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition
from faststream.kafka import KafkaBroker
from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.db import make_engine, session_factory
from shared.events.cases import CaseKind, CaseOpened, Channel
from shared.kafka import ensure_topics, make_broker, producer_is_broken, publisher, restart_producer
from shared.outbox import Outbox, outbox_table
from shared.topics import Topic
from tests.e2e.faults import PrivateBroker
from tests.kafka_reader import TopicReader

pytestmark = pytest.mark.kafka

TEST_KAFKA_PORT = int(os.environ.get("DOORSTEP_TEST_KAFKA_PORT", "19092"))
BROKER_PORT = int(os.environ.get("DOORSTEP_OUTBOX_KAFKA_PORT", str(TEST_KAFKA_PORT + 30)))


@pytest.fixture(scope="module")
def private_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(tmp_path_factory.mktemp("outbox-kafka") / "var", BROKER_PORT)
    broker.up()
    try:
        yield broker
    finally:
        broker.down()


@pytest.fixture
async def sessions_and_table(tmp_path: Path) -> AsyncIterator[tuple[async_sessionmaker, Table]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    table = outbox_table(MetaData())
    async with engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    yield session_factory(engine), table
    await engine.dispose()


@pytest.fixture
async def kafka(private_broker: PrivateBroker) -> AsyncIterator[KafkaBroker]:
    await ensure_topics(private_broker.bootstrap, [Topic.CASES])
    broker = make_broker(private_broker.bootstrap, "outbox-test")
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


def relay(broker: KafkaBroker, sessions: async_sessionmaker, table: Table) -> Outbox:
    """The outbox as shared.service builds it."""
    return Outbox(
        table, sessions, publisher(broker), poll_seconds=0.2,
        reset_producer=lambda: restart_producer(broker), producer_is_broken=producer_is_broken,
    )


def the_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    return broker.config.producer._producer.producer  # type: ignore[attr-defined]  # noqa: SLF001


async def add_events(outbox: Outbox, count: int) -> set[str]:
    events = [
        CaseOpened(
            correlation_id=f"test-{n}", case_id=str(uuid4()), reference=f"DS-{n:06d}",
            channel=Channel.EMAIL, kind=CaseKind.GENERAL_ENQUIRY,
            received_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        )
        for n in range(count)
    ]
    async with outbox.sessions() as session:
        await outbox.add(session, Topic.CASES, *events)
        await session.commit()
    outbox.wake()
    return {str(event.event_id) for event in events}


async def settle(outbox: Outbox, table: Table, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while True:
            async with outbox.sessions() as session:
                left = (await session.execute(select(table.c.id).where(table.c.published_at.is_(None)))).all()
            if not left:
                return
            await asyncio.sleep(0.2)


async def on_kafka(bootstrap: str, wanted: set[str], timeout: float = 60) -> set[str]:
    """The wanted event ids found on the cases topic (duplicates allowed: at least once)."""
    found: set[str] = set()
    async with TopicReader(bootstrap, str(Topic.CASES)) as reader:
        async with asyncio.timeout(timeout):
            while not wanted <= found:
                found |= {seen.headers.get("event_id", "") for seen in await reader.poll(500)}
    return found & wanted


async def test_restart_producer_gives_the_broker_a_new_idempotent_producer(kafka: KafkaBroker) -> None:
    old = the_producer(kafka)
    old_id = old._txn_manager.producer_id  # noqa: SLF001
    await restart_producer(kafka)
    new = the_producer(kafka)
    assert new is not old
    assert old._closed  # noqa: SLF001
    await kafka.publish(b"{}", str(Topic.CASES), key=b"k")
    assert new._txn_manager.producer_id != old_id  # noqa: SLF001


async def test_out_of_order_sequence_numbers_from_the_broker_replace_the_producer(
    private_broker: PrivateBroker, kafka: KafkaBroker, sessions_and_table: tuple[async_sessionmaker, Table],
) -> None:
    sessions, table = sessions_and_table
    await kafka.publish(b"{}", str(Topic.CASES), key=b"k")
    broken = the_producer(kafka)
    # Skip sequence numbers on every partition, as a producer does whose batches the
    # broker lost: from now on the broker answers OUT_OF_ORDER_SEQUENCE_NUMBER to it.
    for partition in await broken.partitions_for(str(Topic.CASES)):
        broken._txn_manager.increment_sequence_number(TopicPartition(str(Topic.CASES), partition), 7)  # noqa: SLF001
    failures: list[str] = []
    outbox = relay(kafka, sessions, table)
    publish = outbox.publish

    async def watched(*args):  # type: ignore[no-untyped-def]
        confirmed = await publish(*args)

        async def confirmation() -> object:
            try:
                return await confirmed
            except Exception as error:
                failures.append(type(error).__name__)
                raise

        return confirmation()

    outbox.publish = watched
    outbox.start()
    try:
        wanted = await add_events(outbox, 20)
        await settle(outbox, table, timeout=60)
    finally:
        await outbox.stop()
    assert "OutOfOrderSequenceNumber" in failures
    assert the_producer(kafka) is not broken
    assert await on_kafka(private_broker.bootstrap, wanted) == wanted


async def test_every_row_reaches_kafka_across_a_broker_restart(
    private_broker: PrivateBroker, kafka: KafkaBroker, sessions_and_table: tuple[async_sessionmaker, Table],
) -> None:
    sessions, table = sessions_and_table
    outbox = relay(kafka, sessions, table)
    outbox.start()
    wanted: set[str] = set()
    try:
        for _ in range(5):
            wanted |= await add_events(outbox, 20)
            await asyncio.sleep(0.1)
        restarted = asyncio.create_task(asyncio.to_thread(private_broker.down))
        for _ in range(10):  # written while the broker stops, is away and comes back
            wanted |= await add_events(outbox, 20)
            await asyncio.sleep(0.3)
        await restarted
        await asyncio.to_thread(private_broker.up)
        for _ in range(5):
            wanted |= await add_events(outbox, 20)
            await asyncio.sleep(0.1)
        await settle(outbox, table, timeout=180)
    finally:
        await outbox.stop()
    assert await on_kafka(private_broker.bootstrap, wanted, timeout=120) == wanted
