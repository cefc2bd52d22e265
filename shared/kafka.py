"""Kafka plumbing every service shares: the broker, the topics, and consumers that
commit after handling and send what they cannot handle to a dead-letter topic."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    TopicAlreadyExistsError,
    UnknownProducerId,
)
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from shared.events import AnyEvent, UnreadableEvent, parse_event
from shared.topics import Topic, partitions_for

log = logging.getLogger(__name__)

Handler = Callable[[AnyEvent], Awaitable[None]]

# How long a consumer waits, when its database is away, before the message comes back.
UNAVAILABLE_PAUSE = 2.0


class ServerUnavailable(RuntimeError):
    """A server the handler needs (its database) did not answer. The message is not at
    fault: it is not dead-lettered but left uncommitted, and comes back until it is handled."""


DATABASE_DRIVERS = ("sqlalchemy.", "asyncpg.", "aiosqlite.")


def server_unavailable(error: BaseException) -> bool:
    """The database did not answer: a lost or refused connection, or a server that is
    starting or locked. A refused SMTP relay is the handler's own business, not this."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, ConnectionError | TimeoutError) and _raised_by_database_driver(error)


def _raised_by_database_driver(error: BaseException) -> bool:
    frame = error.__traceback__
    while frame is not None:
        if frame.tb_frame.f_globals.get("__name__", "").startswith(DATABASE_DRIVERS):
            return True
        frame = frame.tb_next
    return False


def make_broker(bootstrap_servers: str, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15_000,
        logger=None,
    )


async def ensure_topics(bootstrap_servers: str, topics: Iterable[Topic] = Topic) -> None:
    """Create Doorstep's topics if they are missing (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(str(t), partitions_for(t), 1) for t in topics if t not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def publisher(broker: KafkaBroker):  # type: ignore[no-untyped-def]
    """Hands a record to the producer, in order, without waiting for the broker: the
    returned awaitable is done when the broker has it (acks=all).

    The record goes to the broker's aiokafka producer as it is, without FastStream's
    publish machinery (middlewares, codec, a correlation id of its own per record), which
    cost more CPU than the send itself. The producer is looked up at each send, so one
    replaced by restart_producer is used at once. Under FastStream's TestKafkaBroker,
    whose producer is a fake with no aiokafka producer inside, records go through
    `broker.publish` as before."""

    async def publish(
        topic: str, payload: bytes, key: bytes, headers: dict[str, str]
    ) -> Awaitable[object] | None:
        state = getattr(broker.config.producer, "_producer", None)
        if state is None:
            return await broker.publish(payload, topic, key=key, headers=headers, no_confirm=True)
        # IncorrectState when none is connected, as FastStream's own publish raises.
        return await state.producer.send(
            topic, payload, key=key, headers=[(name, value.encode()) for name, value in headers.items()]
        )

    return publish


# Errors after which an idempotent producer never sends again: its producer id and
# sequence numbers no longer match the broker's (or its sender task has died and every
# send raises a copy of what killed it). Only a new producer, with a new id, gets out.
BROKEN_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    ProducerClosed,
    # FastStream's producer left unconnected, when a replacement failed to start.
    IncorrectState,
)


def producer_is_broken(error: BaseException) -> bool:
    """The producer must be replaced before anything is published again. A bare
    KafkaError is what aiokafka raises for ever once its sender task has died."""
    return isinstance(error, BROKEN_PRODUCER_ERRORS) or type(error) is KafkaError


async def restart_producer(broker: KafkaBroker, stop_timeout: float = 10.0) -> None:
    """Close the broker's producer and start a new one (a new producer id) in its place;
    the broker's consumers are left running. What it publishes next goes through the new one."""
    producer = broker.config.producer
    try:
        async with asyncio.timeout(stop_timeout):
            await producer.disconnect()
    except TimeoutError:
        # Batches the old producer still retries are abandoned with it; what they held
        # is still in the outbox and is sent again.
        log.warning("old producer did not stop in time")
    await producer.connect(
        AIOKafkaProducer(**broker._connection_kwargs),  # noqa: SLF001 - what the broker built its own from
        serializer=producer.serializer,  # type: ignore[attr-defined]
        codec=producer.codec,  # type: ignore[attr-defined]
    )


@dataclass(frozen=True)
class Origin:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int


def origin_of(record: ConsumerRecord) -> Origin:
    return Origin(record.topic, record.partition, record.offset)


Route = Callable[[AnyEvent], Handler | None]


def subscribe(
    broker: KafkaBroker,
    topic: Topic,
    *,
    group_id: str,
    dead_letters: Topic,
    wanted: dict[str, Handler],
    attempts: int = 3,
) -> None:
    """Consume `topic`, dispatching each wanted event type to its handler.

    The offset is committed only after handling. A message that is not a valid
    event, or whose handler still fails after `attempts` tries, is copied to the
    dead-letter topic with its reason, and the consumer moves on. If even the
    dead-letter publish fails, or the handler failed because its database did not
    answer, the message is not committed and comes back.
    """

    async def consume(message: KafkaMessage) -> None:
        await consume_one(broker, message, dead_letters, lambda e: wanted.get(e.event_type), attempts)

    broker.subscriber(
        str(topic),
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        # The body is parsed by consume_one; FastStream's own JSON decoding raises on some
        # poison (nesting past the recursion limit) before any handler runs, and a nacked
        # record comes back for ever.
        decoder=_undecoded,
        title=f"{group_id}:{topic}",
        description=f"Handles {', '.join(sorted(wanted))}",
    )(consume)


async def _undecoded(message: KafkaMessage) -> None:
    return None


async def consume_one(
    broker: KafkaBroker,
    message: KafkaMessage,
    dead_letters: Topic,
    route: Route,
    attempts: int,
) -> None:
    """Parse one record and hand it to its handler: bounded retries, then the dead-letter topic."""
    await consume_record(broker, message.raw_message, dead_letters, route, attempts)


async def consume_record(
    broker: KafkaBroker,
    record: ConsumerRecord,
    dead_letters: Topic,
    route: Route,
    attempts: int,
) -> None:
    event = await parse_or_dead_letter(broker, record, dead_letters)
    if event is None:
        return
    handler = route(event)
    if handler is not None:
        await handle_with_retries(broker, dead_letters, record, handler, event, attempts)


async def parse_or_dead_letter(
    broker: KafkaBroker, record: ConsumerRecord, dead_letters: Topic
) -> AnyEvent | None:
    try:
        return parse_event(record.value or b"")
    except UnreadableEvent as problem:
        await _dead_letter(broker, dead_letters, record, f"unreadable event: {problem}")
        return None


async def handle_with_retries(  # noqa: PLR0913
    broker: KafkaBroker,
    dead_letters: Topic,
    record: ConsumerRecord,
    handler: Handler,
    event: AnyEvent,
    attempts: int,
) -> None:
    ids = {"event_id": str(event.event_id), "event_type": event.event_type}
    for attempt in range(1, attempts + 1):
        try:
            await handler(event)
            return
        except Exception as error:  # noqa: BLE001 - every failure is retried, then dead-lettered
            failure, last = error, type(error).__name__
            log.warning("handler failed", extra={**ids, "attempt": attempt, "reason": last})
            if attempt < attempts:
                await asyncio.sleep(0.2 * attempt)
    if server_unavailable(failure):
        log.warning("database unavailable; the message will come back", extra={**ids, "reason": last})
        await asyncio.sleep(UNAVAILABLE_PAUSE)
        raise ServerUnavailable(last) from failure
    await _dead_letter(broker, dead_letters, record, f"handler failed {attempts} times: {last}")


async def _dead_letter(
    broker: KafkaBroker, dead_letters: Topic, record: ConsumerRecord, reason: str
) -> None:
    headers = {
        "dlq_reason": reason,
        "dlq_topic": record.topic,
        "dlq_partition": str(record.partition),
        "dlq_offset": str(record.offset),
    }
    await broker.publish(record.value or b"", str(dead_letters), key=record.key, headers=headers)
    log.error(
        "message dead-lettered",
        extra={"topic": record.topic, "partition": record.partition, "offset": record.offset, "reason": reason},
    )


def declare_publications(broker: KafkaBroker, publications: dict[Topic, object]) -> None:
    """Name what a service publishes (through its outbox) and the schema of each topic,
    so its AsyncAPI document, generated from the code, lists them."""
    for topic, schema in publications.items():
        broker.publisher(str(topic), schema=schema, title=f"{topic}:publish")
