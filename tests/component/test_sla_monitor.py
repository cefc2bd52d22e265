"""The SLA monitor on the in-memory broker: case events start and stop clocks, and a
missed deadline is published once.

`create_app` wires the real subscribers; the deadline timer it would start is stood in
for by calling `Monitor.breach_due()` on a Monitor over the same runtime (a Monitor
keeps no state of its own beyond the database)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import select

from shared.events import Event, parse_event, serialize
from shared.events.cases import CaseClosed, CaseKind, CaseOpened, CaseReplied, Channel, Mailbox
from shared.service import Runtime
from shared.standards.loader import load_all
from shared.topics import Topic
from services.sla_monitor.adapters.tables import clocks
from services.sla_monitor.app import create_app
from services.sla_monitor.handlers import Monitor
from tests.component.conftest import Recorder, record

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
REFERENCE = "HX-ABCD2345"
THIRTY_DAYS_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)


@pytest.fixture(scope="module")
def book():  # type: ignore[no-untyped-def]
    return load_all()


@pytest.fixture
def monitor(sla_monitor_runtime: Runtime, book) -> Monitor:  # type: ignore[no-untyped-def]
    create_app(sla_monitor_runtime, book)
    return Monitor(sla_monitor_runtime, book, asyncio.Event())


@pytest.fixture
def breaches(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.SLA_BREACHES)


@pytest.fixture
def outcomes(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.SLA_OUTCOMES)


@pytest.fixture
def dead(sla_monitor_runtime: Runtime, monitor: Monitor) -> Recorder:
    return record(sla_monitor_runtime.broker, Topic.DLQ_SLA_MONITOR)


def letter_opened(received_at: datetime = THIRTY_DAYS_AGO, kind: CaseKind = CaseKind.LETTER) -> CaseOpened:
    return CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.LETTER,
        kind=kind,
        received_at=received_at,
    )


def replied(at: datetime) -> CaseReplied:
    return CaseReplied(correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, replied_at=at)


async def publish(broker, event: Event) -> None:  # type: ignore[no-untyped-def]
    await broker.publish(serialize(event), str(Topic.CASES), key=event.key())


async def clock_states(runtime: Runtime) -> dict[str, str]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(clocks.c.definition, clocks.c.state))
    return {definition: state for definition, state in rows}


async def test_a_letter_received_30_days_ago_is_breached(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, dead: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        assert await clock_states(sla_monitor_runtime) == {"letter_reply": "running"}
        await monitor.breach_due()
        await sla_monitor_runtime.outbox.relay_pending()

    [record_] = breaches.records
    breach = parse_event(record_.body)
    assert breach.event_type == "sla.breached"
    assert breach.clock == "letter_reply"
    assert breach.subject_id == CASE_ID
    assert breach.reference == REFERENCE
    assert breach.obligation == "internal"
    assert breach.started_at == THIRTY_DAYS_AGO
    assert breach.deadline < datetime.now(UTC)
    assert record_.key == CASE_ID.encode()
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "breached"}
    assert dead.records == []


async def test_a_breach_is_published_once_however_often_it_is_looked_for(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    opened = letter_opened()
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, opened)
        await monitor.breach_due()
        await monitor.breach_due()
        await publish(broker, opened)  # redelivered after a rebalance
        await monitor.breach_due()
        await sla_monitor_runtime.outbox.relay_pending()
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(breaches.records) == 1


async def test_two_monitors_racing_publish_one_breach(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, book
):  # type: ignore[no-untyped-def]
    other_replica = Monitor(sla_monitor_runtime, book, asyncio.Event())
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await asyncio.gather(monitor.breach_due(), other_replica.breach_due())
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(breaches.records) == 1


async def test_a_reply_before_the_deadline_is_met_and_never_breached(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, outcomes: Recorder
):
    reply_at = THIRTY_DAYS_AGO + timedelta(days=1)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await publish(broker, replied(reply_at))
        await monitor.breach_due()  # the deadline has long passed: only "met" stops a breach
        await sla_monitor_runtime.outbox.relay_pending()

    [record_] = outcomes.records
    met = parse_event(record_.body)
    assert met.event_type == "sla.met"
    assert met.clock == "letter_reply"
    assert met.stopped_at == reply_at
    assert met.late_by is None
    assert breaches.records == []
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "met"}


async def test_a_redelivered_reply_is_met_once(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    reply = replied(THIRTY_DAYS_AGO + timedelta(days=1))
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await publish(broker, reply)
        await publish(broker, reply)
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(outcomes.records) == 1


async def test_a_reply_after_a_breach_is_met_late(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder, outcomes: Recorder
):
    reply_at = datetime.now(UTC).replace(microsecond=0)
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened())
        await monitor.breach_due()
        await publish(broker, replied(reply_at))
        await sla_monitor_runtime.outbox.relay_pending()

    assert len(breaches.records) == 1
    [record_] = outcomes.records
    met = parse_event(record_.body)
    assert met.late_by == reply_at - met.deadline
    assert met.late_by > timedelta(days=10)


async def test_a_case_received_now_is_not_breached_yet(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened(received_at=datetime.now(UTC)))
        await monitor.breach_due()
        await sla_monitor_runtime.outbox.relay_pending()

    assert breaches.records == []
    assert await monitor.next_deadline() > datetime.now(UTC)  # type: ignore[operator]


async def test_a_new_clock_wakes_the_deadline_timer(sla_monitor_runtime: Runtime, book):  # type: ignore[no-untyped-def]
    changed = asyncio.Event()
    watched = Monitor(sla_monitor_runtime, book, changed)
    await watched.case_opened(letter_opened())
    assert changed.is_set()


async def test_closing_a_complaint_cancels_its_clocks(
    sla_monitor_runtime: Runtime, monitor: Monitor, breaches: Recorder
):
    """Complaint clocks are cancelled by case.closed (cancels_on in both packs): a closed
    complaint must not be reported as a missed acknowledgement weeks later."""
    closed = CaseClosed(
        correlation_id=CASE_ID, case_id=CASE_ID, reference=REFERENCE, closed_at=THIRTY_DAYS_AGO + timedelta(hours=2)
    )
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, letter_opened(kind=CaseKind.COMPLAINT))
        await publish(broker, closed)
        await monitor.breach_due()
        await sla_monitor_runtime.outbox.relay_pending()

    assert [parse_event(r.body).clock for r in breaches.records] == []
    assert "running" not in (await clock_states(sla_monitor_runtime)).values()


async def test_an_email_to_repairs_replied_in_time_meets_the_reply_clock_only(
    sla_monitor_runtime: Runtime, monitor: Monitor, outcomes: Recorder
):
    received = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    email = CaseOpened(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        reference=REFERENCE,
        channel=Channel.EMAIL,
        mailbox=Mailbox.REPAIRS,
        kind=CaseKind.REPAIR_REQUEST,
        priority="routine",
        received_at=received,
    )
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await publish(broker, email)
        await publish(broker, replied(received + timedelta(hours=3)))
        await sla_monitor_runtime.outbox.relay_pending()

    met = sorted(parse_event(r.body).clock for r in outcomes.records)
    # a reply also counts as the contact to book (repair_booking_contact); completion runs on
    assert met == ["email_reply_repairs", "repair_booking_contact"]
    assert (await clock_states(sla_monitor_runtime))["repair_completion_routine"] == "running"


async def test_unreadable_case_events_are_dead_lettered(
    sla_monitor_runtime: Runtime, monitor: Monitor, dead: Recorder
):
    async with TestKafkaBroker(sla_monitor_runtime.broker) as broker:
        await broker.publish(b"not an event", str(Topic.CASES), key=b"poison")
        await publish(broker, letter_opened())

    [letter] = dead.records
    assert letter.headers["dlq_topic"] == str(Topic.CASES)
    assert await clock_states(sla_monitor_runtime) == {"letter_reply": "running"}
