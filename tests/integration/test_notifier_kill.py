"""kill -9 the notifier between the provider call and the commit.

Twilio has taken the text; the notifier is waiting to commit "sent" (the test holds
SQLite's write lock) when it is killed. That is the one documented window
(`Notifier._claim`, `delivery_log`): after a restart, once the sending lease is over,
the text is sent a second time. Outside it, the same idempotency key sends once
across redeliveries and restarts."""

import asyncio
import time
from pathlib import Path
from uuid import uuid4

import pytest

from shared.events import parse_event
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.kafka import ensure_topics
from shared.topics import Topic
from tests.fakes.twilio_api import FakeTwilio, fake_twilio  # noqa: F401 - the fixture
from tests.integration.notifier_process import NotifierProcess, fields_of, publish
from tests.kafka_reader import TopicReader

pytestmark = pytest.mark.kafka

IN_THE_WINDOW = "+447700900201"
OUTSIDE = "+447700900202"
# The lease is 3 x the send timeout + 5 s: 11 s here.
SETTINGS = {"NOTIFIER_SEND_TIMEOUT_SECONDS": "2", "NOTIFIER_SWEEP_SECONDS": "0.5"}
LEASE = 11


def reminder(run: str, phone: str) -> NotificationRequested:
    case_id = f"case-{run}-{phone[-3:]}"
    return NotificationRequested(
        correlation_id=case_id,
        case_id=case_id,
        idempotency_key=f"{case_id}:reminder",
        purpose=Purpose.APPOINTMENT_REMINDER,
        template="appointment_reminder",
        recipient=Recipient(phone=phone),
        personalisation={
            "reference": "HX-KILL0001",
            "appointment_date": "Monday 7 December",
            "appointment_time": "8am to 12pm",
        },
    )


async def test_a_kill_between_the_provider_call_and_the_commit_is_the_only_duplicate(
    kafka_bootstrap: str, fake_twilio: FakeTwilio, tmp_path: Path  # noqa: F811
):
    await ensure_topics(kafka_bootstrap)
    run = uuid4().hex[:8]
    caught, outside = reminder(run, IN_THE_WINDOW), reminder(run, OUTSIDE)
    notifier = NotifierProcess(kafka_bootstrap, fake_twilio, tmp_path, **SETTINGS)
    await notifier.start()
    try:
        async with TopicReader(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES) as outcomes:
            # Outside the window: sent and recorded, then the process is killed.
            await publish(kafka_bootstrap, Topic.NOTIFICATIONS_REQUESTED, [outside])
            await outcomes.wait_for(_sent(outside), timeout=60)

            # In the window: Twilio has the text; the commit of "sent" waits; kill -9.
            held = fake_twilio.hold_answer(IN_THE_WINDOW)
            await publish(kafka_bootstrap, Topic.NOTIFICATIONS_REQUESTED, [caught])
            assert await asyncio.to_thread(held.accepted.wait, 60)
            with notifier.database_locked():
                held.release.set()
                await _until(lambda: _answered(fake_twilio, IN_THE_WINDOW))
                await asyncio.sleep(0.5)  # the answer is in; the notifier waits on the lock
                notifier.kill()
            killed_at = time.monotonic()
            assert notifier.rows("SELECT status FROM deliveries WHERE idempotency_key = ?", caught.idempotency_key) == [
                ("sending",)
            ]
            assert len(fake_twilio.requests_to(IN_THE_WINDOW)) == 1

            # Restarted, and both requests redelivered (a new event id, the same key).
            await notifier.start()
            await publish(kafka_bootstrap, Topic.NOTIFICATIONS_REQUESTED, [_again(caught), _again(outside)])
            await asyncio.sleep(max(0.0, LEASE - 3 - (time.monotonic() - killed_at)))
            assert len(fake_twilio.requests_to(IN_THE_WINDOW)) == 1  # within the lease: not yet
            sent = await outcomes.wait_for(_sent(caught), timeout=LEASE + 30)

            # And once more: a clean restart and another redelivery send nothing new.
            notifier.stop()
            await notifier.start()
            await publish(kafka_bootstrap, Topic.NOTIFICATIONS_REQUESTED, [_again(caught), _again(outside)])
            await asyncio.sleep(3)
            await outcomes.poll()
            ours = [
                parse_event(seen.value) for seen in outcomes.seen
                if fields_of(seen).get("idempotency_key") in (caught.idempotency_key, outside.idempotency_key)
            ]
    finally:
        notifier.stop()

    assert len(fake_twilio.requests_to(IN_THE_WINDOW)) == 2  # the one duplicate: the window
    assert len(fake_twilio.requests_to(OUTSIDE)) == 1
    assert sorted((e.idempotency_key, e.event_type) for e in ours) == sorted(
        [(caught.idempotency_key, "notification.sent"), (outside.idempotency_key, "notification.sent")]
    )
    second = [sid for sid, m in fake_twilio.messages.items() if m["to"] == IN_THE_WINDOW][-1]
    assert sent.json()["provider_ref"] == second
    assert notifier.rows("SELECT status FROM deliveries ORDER BY idempotency_key") == [("sent",), ("sent",)]


def _sent(request: NotificationRequested):  # type: ignore[no-untyped-def]
    return lambda seen: fields_of(seen).get("idempotency_key") == request.idempotency_key and (
        fields_of(seen)["event_type"] == "notification.sent"
    )


def _again(request: NotificationRequested) -> NotificationRequested:
    return request.model_copy(update={"event_id": uuid4()})


def _answered(fake: FakeTwilio, to: str) -> bool:
    return any(m["to"] == to for m in fake.messages.values())


async def _until(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)
