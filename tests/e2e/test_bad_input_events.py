"""Poison on every topic a service consumes, on the real broker, with the four services as
processes: each message lands on the consuming service's dead-letter topic with its reason,
the consumer moves on to the valid event behind it, and no service stops.

The samples and what must become of them are in tests/corpus/events/manifest.toml. Which
topics each service consumes is read from its own AsyncAPI document, so a subscriber added
later is covered without editing this file."""

import asyncio
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from shared.events import serialize
from shared.events.appointments import AppointmentBooked
from shared.events.cases import CaseOpened
from shared.events.compliance import CertificateRecorded
from shared.events.finance import RentCreditDue
from shared.events.notifications import NotificationRequested, NotificationSent, Recipient
from shared.topics import Topic, partitions_for
from tests.e2e.system import System, running_system
from tests.kafka_reader import TopicReader, event_is

pytestmark = pytest.mark.kafka

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "events"
PERSONAL_DATA_IN_SAMPLES = ("+447700900123", "corpus.tenant@example.org")
SERVICES = ("intake", "scheduler", "notifier", "sla_monitor")
# What each service consumed when this was written; the AsyncAPI documents may add more.
KNOWN_CONSUMERS = {
    "scheduler": {Topic.CASES},
    "notifier": {Topic.NOTIFICATIONS_REQUESTED, Topic.APPOINTMENTS},
    "sla_monitor": {Topic.CASES, Topic.APPOINTMENTS, Topic.NOTIFICATIONS_OUTCOMES, Topic.COMPLIANCE},
}


@dataclass(frozen=True)
class Poison:
    name: str
    what: str
    body: bytes
    reason: str


def load_poison() -> list[Poison]:
    manifest = tomllib.loads((CORPUS / "manifest.toml").read_text())
    return [_poison(entry) for entry in manifest["sample"]]


def _poison(entry: dict) -> Poison:
    body = (CORPUS / entry["file"]).read_bytes()
    if grow := entry.get("expand"):
        filling = grow["prefix"] * grow["times"] + grow["suffix"] * grow["times"]
        body = body.replace(grow["placeholder"].encode(), filling.encode())
    assert entry["outcome"] == "dead_letter", entry
    return Poison(entry["file"], entry["what"], body, entry["reason"])


def dead_letter_topic(service: str) -> str:
    return f"doorstep.dlq.{service.replace('_', '-')}"


@dataclass(frozen=True)
class Consumer:
    service: str
    group: str
    topic: str


def consumers(system: System) -> list[Consumer]:
    """Every (service, consumer group, topic) from the services' AsyncAPI documents. A
    subscriber's title is `<group>:<topic>` (or `<group>:inputs` for one over several)."""
    found = []
    for service in SERVICES:
        spec = httpx.get(system.url(service, "/asyncapi.json"), timeout=10).json()
        for operation in spec.get("operations", {}).values():
            if operation["action"] != "receive":
                continue
            channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
            address = spec["channels"][channel]["address"]
            found.append(Consumer(service, channel.split(":", 1)[0], address))
    return found


def test_every_sample_in_the_folder_is_in_the_manifest():
    listed = {p.name for p in load_poison()}
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "manifest.toml"}
    assert listed == on_disk
    assert all(p.body or p.name == "empty.bin" for p in load_poison())


@pytest.fixture(scope="module")
def system(kafka_bootstrap, tmp_path_factory):
    with running_system(kafka_bootstrap, tmp_path_factory.mktemp("bad-input")) as running:
        yield running


@pytest.fixture(scope="module")
def run_id() -> str:
    return uuid4().hex[:10]


def valid_event_for(topic: str, run_id: str) -> tuple[bytes, bytes]:
    """A valid event of a type that belongs on `topic`."""
    case_id = f"poison-{run_id}-{topic.rsplit('.', 1)[-1]}"
    now, envelope = datetime.now(UTC), {"correlation_id": case_id}
    case = {**envelope, "case_id": case_id, "reference": f"HX-{run_id[:8].upper()}"}
    build = {
        Topic.CASES: lambda: CaseOpened(
            **case, channel="email", mailbox="repairs", kind="repair_request", priority="routine", received_at=now
        ),
        Topic.NOTIFICATIONS_REQUESTED: lambda: NotificationRequested(
            **envelope, case_id=case_id, idempotency_key=f"{case_id}:acknowledgement",
            purpose="acknowledgement", template="acknowledgement",
            recipient=Recipient(email="corpus.tenant@example.org"),
            personalisation={"reference": case["reference"], "promise": "We reply within 3 working days."},
        ),
        Topic.NOTIFICATIONS_OUTCOMES: lambda: NotificationSent(
            **envelope, case_id=case_id, idempotency_key=f"{case_id}:acknowledgement",
            purpose="acknowledgement", channel="email", provider_ref="poison-test",
        ),
        Topic.APPOINTMENTS: lambda: AppointmentBooked(
            **case, appointment_id=f"{case_id}-a", kind="repair",
            starts_at=now + timedelta(days=7), ends_at=now + timedelta(days=7, hours=2), booked_at=now,
        ),
        Topic.COMPLIANCE: lambda: CertificateRecorded(
            **envelope, property_id=case_id, property_reference="P-POISON",
            kind="gas_safety", checked_on=now.date(), recorded_at=now,
        ),
        Topic.FINANCE_RENT_CREDITS: lambda: RentCreditDue(
            **case, appointment_id=f"{case_id}-a", amount_pence=1000, reason="missed_appointment", due_at=now
        ),
    }
    event = build[Topic(topic)]()
    return event.key(), serialize(event)


@dataclass(frozen=True)
class Published:
    topic: str
    partition: int
    valid_key: bytes
    valid_offset: int
    poison_keys: dict[bytes, Poison]


async def publish_poison_then_valid(bootstrap: str, topics: set[str], run_id: str) -> list[Published]:
    """Per topic: every sample, then one valid event, all on the valid event's partition,
    so the valid event is read only once the consumer has got past the poison."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2_000_000)
    await producer.start()
    try:
        return [await _publish_to(producer, topic, run_id) for topic in sorted(topics)]
    finally:
        await producer.stop()


async def _publish_to(producer: AIOKafkaProducer, topic: str, run_id: str) -> Published:
    valid_key, valid_value = valid_event_for(topic, run_id)
    partitions = list(range(partitions_for(Topic(topic))))
    partition = DefaultPartitioner()(valid_key, partitions, partitions)
    keys = {}
    for poison in load_poison():
        key = f"{run_id}:{poison.name}:{topic}".encode()
        await producer.send_and_wait(topic, poison.body, key=key, partition=partition)
        keys[key] = poison
    sent = await producer.send_and_wait(topic, valid_value, key=valid_key, partition=partition)
    return Published(topic, partition, valid_key, sent.offset, keys)


@pytest.fixture(scope="module")
async def published(system: System, kafka_bootstrap: str, run_id: str) -> tuple[list[Consumer], list[Published]]:
    found = consumers(system)
    return found, await publish_poison_then_valid(kafka_bootstrap, {c.topic for c in found}, run_id)


def test_the_asyncapi_documents_name_every_known_consumer(published):
    found, _ = published
    by_service = {s: {c.topic for c in found if c.service == s} for s in SERVICES}
    for service, topics in KNOWN_CONSUMERS.items():
        assert topics <= by_service[service], service


async def test_every_poison_message_lands_on_each_consumers_dead_letter_topic_with_its_reason(
    published, kafka_bootstrap: str
):
    found, sent = published
    for service in sorted({c.service for c in found}):
        topics = {c.topic for c in found if c.service == service}
        expected = {k: (p.topic, poison) for p in sent if p.topic in topics for k, poison in p.poison_keys.items()}
        async with TopicReader(kafka_bootstrap, dead_letter_topic(service)) as dead:
            await _read_until(dead, set(expected), timeout=90)
        letters = {s.key: s for s in dead.seen if s.key in expected}
        for key, (topic, poison) in expected.items():
            letter = letters[key]
            assert letter.headers["dlq_topic"] == topic, (service, poison.name)
            assert letter.headers["dlq_reason"].startswith("unreadable event: "), (service, poison.name)
            assert poison.reason in letter.headers["dlq_reason"], (service, poison.name, letter.headers["dlq_reason"])
            assert letter.value == poison.body, (service, poison.name)
        copies = [s.key for s in dead.seen if s.key in expected]
        assert len(copies) == len(expected), f"{service} dead-lettered a poison message more than once"


async def _read_until(reader: TopicReader, keys: set[bytes], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not keys <= {s.key for s in reader.seen}:
            await reader.poll(500)
        await reader.poll(1000)  # anything doubled would have followed at once


async def test_every_consumer_moves_on_past_the_poison(published, kafka_bootstrap: str):
    await all_moved_on(*published, kafka_bootstrap)


async def all_moved_on(found: list[Consumer], sent: list[Published], kafka_bootstrap: str) -> None:
    offsets = {p.topic: p for p in sent}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        for consumer in found:
            where = offsets[consumer.topic]
            await _until_committed_past(admin, consumer, TopicPartition(where.topic, where.partition), where.valid_offset)
    finally:
        await admin.close()


async def _until_committed_past(admin: AIOKafkaAdminClient, consumer: Consumer, tp: TopicPartition, offset: int) -> None:
    committed = -1
    try:
        async with asyncio.timeout(90):
            while committed <= offset:
                answer = await admin.list_consumer_group_offsets(consumer.group, partitions=[tp])
                committed = answer[tp].offset if tp in answer else -1
                await asyncio.sleep(0.5)
    except TimeoutError:
        pytest.fail(f"{consumer} committed {committed}, not past the valid event at {offset}")


async def test_the_valid_events_behind_the_poison_are_handled(published, system: System, kafka_bootstrap: str):
    _, sent = published
    by_topic = {p.topic: p.valid_key.decode() for p in sent}
    case_id = by_topic[Topic.CASES]

    async def booked() -> bool:
        rows = httpx.get(system.url("scheduler", "/bookings-to-make"), timeout=10).json()
        return any(b["case_id"] == case_id for b in rows)

    await _eventually(booked)
    await _eventually(lambda: _has_clock(system, case_id, "email_reply_repairs"))
    await _eventually(lambda: _has_clock(system, by_topic[Topic.COMPLIANCE], None))
    async with TopicReader(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES) as outcomes:
        await outcomes.wait_for(event_is("notification.sent", case_id=by_topic[Topic.NOTIFICATIONS_REQUESTED]), timeout=60)


async def _has_clock(system: System, subject_id: str, definition: str | None) -> bool:
    clocks = httpx.get(system.url("sla_monitor", "/clocks"), params={"subject_id": subject_id}, timeout=10).json()
    return any(definition in (None, c["definition"]) for c in clocks)


async def _eventually(check, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.3)


@pytest.mark.parametrize("service", SERVICES)
async def test_no_service_stopped_and_none_logged_personal_data(published, system: System, kafka_bootstrap: str, service: str):
    found, sent = published
    await all_moved_on(found, sent, kafka_bootstrap)
    assert httpx.get(system.url(service, "/healthz"), timeout=10).json() == {"status": "alive"}
    assert httpx.get(system.url(service, "/readyz"), timeout=10).status_code == 200
    log = (system.logs / f"{service}.log").read_text(errors="replace")
    for personal in PERSONAL_DATA_IN_SAMPLES:
        assert personal not in log
    if any(c.service == service for c in found):
        assert "message dead-lettered" in log
