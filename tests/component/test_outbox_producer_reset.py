"""The outbox relay after its producer says it can never send again (an idempotent
producer whose sequence numbers the broker no longer accepts, as after a broker restart):
the producer is replaced and every row still goes out; other failures are only retried."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RequestTimedOutError,
    UnknownProducerId,
)
from faststream.exceptions import IncorrectState
from sqlalchemy import Table, select

from shared.events.cases import CaseKind, CaseOpened, Channel
from shared.kafka import producer_is_broken
from shared.outbox import Outbox
from shared.topics import Topic


def case_opened(n: int) -> CaseOpened:
    return CaseOpened(
        correlation_id=f"test-{n}",
        case_id=str(uuid4()),
        reference=f"DS-{n:06d}",
        channel=Channel.EMAIL,
        kind=CaseKind.GENERAL_ENQUIRY,
        received_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    )


class Producer:
    """Stands in for an idempotent producer: once `broken` with an error it fails every
    send with it (as aiokafka does), until it is replaced."""

    def __init__(self) -> None:
        self.broken: BaseException | None = None
        self.resets = 0
        self.sent: list[str] = []

    async def publish(self, topic: str, payload: bytes, key: bytes, headers: dict[str, str]) -> asyncio.Future[None]:
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.broken is not None:
            confirmed.set_exception(self.broken)
        else:
            self.sent.append(headers["event_id"])
            confirmed.set_result(None)
        return confirmed

    async def reset(self) -> None:
        self.resets += 1
        self.broken = None


async def add_events(outbox: Outbox, count: int) -> list[str]:
    events = [case_opened(n) for n in range(count)]
    async with outbox.sessions() as session:
        await outbox.add(session, Topic.CASES, *events)
        await session.commit()
    outbox.wake()
    return [str(event.event_id) for event in events]


async def unpublished(outbox: Outbox, table: Table) -> int:
    async with outbox.sessions() as session:
        rows = await session.execute(select(table.c.id).where(table.c.published_at.is_(None)))
        return len(rows.all())


async def settle(outbox: Outbox, table: Table, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while await unpublished(outbox, table):
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    "error", [OutOfOrderSequenceNumber(), UnknownProducerId(), InvalidProducerEpoch(), ProducerFenced()]
)
async def test_a_broken_producer_is_replaced_and_every_row_goes_out(
    outbox_parts: tuple[Table, object], error: KafkaError
) -> None:
    table, sessions = outbox_parts
    producer = Producer()
    producer.broken = error
    outbox = Outbox(
        table, sessions, producer.publish, poll_seconds=0.05,
        reset_producer=producer.reset, producer_is_broken=producer_is_broken,
    )
    outbox.start()
    try:
        ids = await add_events(outbox, 5)
        await settle(outbox, table)
    finally:
        await outbox.stop()
    assert producer.resets == 1
    assert producer.sent == ids


async def test_a_failure_the_producer_recovers_from_is_retried_without_a_reset(
    outbox_parts: tuple[Table, object],
) -> None:
    table, sessions = outbox_parts
    producer = Producer()
    producer.broken = KafkaTimeoutError()
    outbox = Outbox(
        table, sessions, producer.publish, poll_seconds=0.05,
        reset_producer=producer.reset, producer_is_broken=producer_is_broken,
    )
    outbox.start()
    try:
        ids = await add_events(outbox, 3)
        await asyncio.sleep(0.3)
        assert await unpublished(outbox, table) == 3
        producer.broken = None  # the broker is back
        await settle(outbox, table)
    finally:
        await outbox.stop()
    assert producer.resets == 0
    assert producer.sent == ids


async def test_a_replacement_that_fails_is_tried_again(outbox_parts: tuple[Table, object]) -> None:
    table, sessions = outbox_parts
    producer = Producer()
    producer.broken = OutOfOrderSequenceNumber()
    attempts = 0

    async def reset_failing_once() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise KafkaConnectionError("broker away")
        await producer.reset()

    outbox = Outbox(
        table, sessions, producer.publish, poll_seconds=0.05,
        reset_producer=reset_failing_once, producer_is_broken=producer_is_broken,
    )
    outbox.start()
    try:
        ids = await add_events(outbox, 2)
        await settle(outbox, table)
    finally:
        await outbox.stop()
    assert attempts == 2
    assert producer.sent == ids


@pytest.mark.parametrize(
    ("error", "broken"),
    [
        (OutOfOrderSequenceNumber(), True),
        (UnknownProducerId(), True),
        (InvalidProducerEpoch(), True),
        (ProducerFenced(), True),
        (KafkaError("Unexpected error during batch delivery"), True),
        (IncorrectState("not connected"), True),
        (KafkaConnectionError(), False),
        (KafkaTimeoutError(), False),
        (RequestTimedOutError(), False),
        (RuntimeError("database"), False),
    ],
)
def test_which_errors_mean_the_producer_must_be_replaced(error: BaseException, broken: bool) -> None:
    assert producer_is_broken(error) is broken
