"""On the real broker: a consumer commits only after its handler has finished, and a
poison message is dead-lettered and committed so the consumer moves on."""

import asyncio
from uuid import uuid4

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker

from shared.events import serialize, utcnow
from shared.events.cases import CaseClosed
from shared.kafka import subscribe

pytestmark = pytest.mark.kafka


async def committed(bootstrap: str, group: str, topic: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(topic, 0))
    return found.offset if found else None


async def new_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


def closed_event() -> CaseClosed:
    return CaseClosed(correlation_id="c", case_id="c1", reference="HX-1", closed_at=utcnow())


async def test_the_offset_is_committed_only_after_handling(kafka_bootstrap: str):
    topic, dead, group = f"test.commits.{uuid4().hex}", f"test.dead.{uuid4().hex}", f"g-{uuid4().hex}"
    await new_topics(kafka_bootstrap, topic, dead)
    handling, release, handled = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_handler(event) -> None:  # type: ignore[no-untyped-def]
        handling.set()
        await release.wait()
        handled.set()

    broker = KafkaBroker(kafka_bootstrap, logger=None)
    subscribe(broker, topic, group_id=group, dead_letters=dead, wanted={"case.closed": slow_handler})  # type: ignore[arg-type]
    await broker.start()
    try:
        await broker.publish(serialize(closed_event()), topic, key=b"c1")
        await asyncio.wait_for(handling.wait(), 30)
        # Longer than aiokafka's auto-commit interval (5 s), which an ack-first consumer uses.
        await asyncio.sleep(5.5)
        assert await committed(kafka_bootstrap, group, topic) in (None, -1, 0)
        release.set()
        await asyncio.wait_for(handled.wait(), 10)
        async with asyncio.timeout(10):
            while await committed(kafka_bootstrap, group, topic) != 1:
                await asyncio.sleep(0.1)
    finally:
        await broker.stop()


async def test_a_poison_message_is_dead_lettered_and_the_consumer_moves_on(kafka_bootstrap: str):
    topic, dead, group = f"test.poison.{uuid4().hex}", f"test.dead.{uuid4().hex}", f"g-{uuid4().hex}"
    await new_topics(kafka_bootstrap, topic, dead)
    seen: list[str] = []

    async def handler(event) -> None:  # type: ignore[no-untyped-def]
        seen.append(event.case_id)

    broker = KafkaBroker(kafka_bootstrap, logger=None)
    subscribe(broker, topic, group_id=group, dead_letters=dead, wanted={"case.closed": handler})  # type: ignore[arg-type]
    letters: list[bytes] = []

    @broker.subscriber(dead, group_id=f"{group}-dead", auto_offset_reset="earliest")
    async def collect(body: bytes) -> None:
        letters.append(body)

    await broker.start()
    try:
        await broker.publish(b"\xff not json", topic, key=b"c0")
        await broker.publish(serialize(closed_event()), topic, key=b"c1")
        async with asyncio.timeout(30):
            while not (seen and letters):
                await asyncio.sleep(0.1)
        async with asyncio.timeout(10):
            while await committed(kafka_bootstrap, group, topic) != 2:
                await asyncio.sleep(0.1)
    finally:
        await broker.stop()
    assert seen == ["c1"]
    assert letters == [b"\xff not json"]
