"""The scheduler's subscribers on FastStream's in-memory broker: what arrives on
doorstep.cases and doorstep.notifications.outcomes reaches its handler, and what cannot be
read goes to doorstep.dlq.scheduler with the reason."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker

from shared.events import serialize, utcnow
from shared.events.cases import Channel, Priority
from shared.events.notifications import Intent, ReplyReceived
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.app import create_app
from tests.component.conftest import record
from tests.scheduler_world import emitted, opened, scheduler_runtime, seed


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await scheduler_runtime(f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}")
    await seed(runtime)
    yield runtime
    await runtime.engine.dispose()


async def test_a_case_opened_on_the_topic_is_booked(runtime: Runtime):
    create_app(runtime)
    case = opened(priority=Priority.EMERGENCY)
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(serialize(case), str(Topic.CASES), key=case.key())
    assert await emitted(runtime, "appointment.booked", case.case_id)


async def test_a_texted_digit_on_the_outcomes_topic_books_the_offer(runtime: Runtime):
    create_app(runtime)
    case = opened(channel=Channel.WEB)
    choice = ReplyReceived(
        correlation_id=case.case_id,
        case_id=case.case_id,
        intent=Intent.CHOOSE_OFFER,
        offer=1,
        received_at=utcnow(),
    )
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(serialize(case), str(Topic.CASES), key=case.key())
        await broker.publish(serialize(choice), str(Topic.NOTIFICATIONS_OUTCOMES), key=choice.key())
    assert await emitted(runtime, "appointment.booked", case.case_id)


async def test_an_unreadable_case_is_dead_lettered_with_its_reason_and_nothing_is_booked(runtime: Runtime):
    create_app(runtime)
    dead = record(runtime.broker, Topic.DLQ_SCHEDULER)
    broken = serialize(opened()).replace(b'"priority":"routine"', b'"priority":"whenever"')
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(broken, str(Topic.CASES), key=b"case-broken")
    [letter] = dead.records
    assert letter.body == broken and letter.key == b"case-broken"
    assert letter.headers["dlq_topic"] == Topic.CASES
    assert "priority" in letter.headers["dlq_reason"]
    assert "whenever" not in letter.headers["dlq_reason"]
    assert not await emitted(runtime)
