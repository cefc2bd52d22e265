"""Twilio's status callbacks replayed by the fake to the notifier process, shuffled and
each sent twice, signed as Twilio signs them, on the real broker: exactly one
notification.delivered or notification.failed per message, and the furthest status kept."""

import asyncio
from pathlib import Path
from urllib.parse import urlencode
from uuid import uuid4

import httpx
import pytest

from shared.events import parse_event
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.kafka import ensure_topics
from shared.topics import Topic
from tests.fakes.twilio_api import FakeTwilio, StatusCallback, fake_twilio  # noqa: F401 - the fixture
from tests.integration.notifier_process import NotifierProcess, fields_of, publish
from tests.kafka_reader import TopicReader

pytestmark = pytest.mark.kafka

MESSAGES = 12


def reminder(run: str, n: int) -> NotificationRequested:
    case_id = f"case-{run}-{n}"
    return NotificationRequested(
        correlation_id=case_id,
        case_id=case_id,
        idempotency_key=f"{case_id}:reminder",
        purpose=Purpose.APPOINTMENT_REMINDER,
        template="appointment_reminder",
        recipient=Recipient(phone=f"07700 9{n:05d}"),
        personalisation={
            "reference": f"HX-{run[:4].upper()}{n:04d}",
            "appointment_date": "Monday 7 December",
            "appointment_time": "8am to 12pm",
        },
    )


async def test_shuffled_and_repeated_callbacks_give_one_outcome_each_and_keep_the_furthest(
    kafka_bootstrap: str, fake_twilio: FakeTwilio, tmp_path: Path  # noqa: F811
):
    await ensure_topics(kafka_bootstrap)
    run = uuid4().hex[:8]
    wanted = [reminder(run, n) for n in range(MESSAGES)]
    keys = {request.idempotency_key for request in wanted}
    notifier = NotifierProcess(kafka_bootstrap, fake_twilio, tmp_path)
    await notifier.start()
    try:
        async with TopicReader(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES) as outcomes:
            await publish(kafka_bootstrap, Topic.NOTIFICATIONS_REQUESTED, wanted)
            sids = {}
            for request in wanted:
                seen = await outcomes.wait_for(
                    lambda s, key=request.idempotency_key: fields_of(s).get("idempotency_key") == key
                    and fields_of(s)["event_type"] == "notification.sent",
                    timeout=60,
                )
                sids[request.idempotency_key] = seen.json()["provider_ref"]

            # Even messages are delivered, odd ones undelivered (30003: unreachable handset).
            statuses = {
                sid: ["queued", "sending", "sent", "delivered"] if n % 2 == 0 else ["queued", "sent", ("undelivered", 30003)]
                for n, sid in enumerate(sids[request.idempotency_key] for request in wanted)
            }
            answers = await fake_twilio.replay_status_callbacks(statuses, copies=2, seed=5)
            assert set(answers) == {204}
            forged = fake_twilio.status_callback(next(iter(statuses)), "failed")
            forged_answer = await _post_forged(forged)
            assert forged_answer == 403

            finals = await _outcomes_settled(outcomes, keys, expected=MESSAGES)
    finally:
        notifier.stop()

    by_key: dict[str, list[str]] = {}
    for event in finals:
        by_key.setdefault(event.idempotency_key, []).append(event.event_type)
    for n, request in enumerate(wanted):
        expected = "notification.delivered" if n % 2 == 0 else "notification.failed"
        assert by_key[request.idempotency_key] == [expected], request.idempotency_key
    kept = dict(notifier.rows("SELECT provider_ref, provider_status FROM deliveries"))
    for n, request in enumerate(wanted):
        assert kept[sids[request.idempotency_key]] == ("delivered" if n % 2 == 0 else "undelivered")


async def _post_forged(callback: StatusCallback) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            callback.url,
            content=urlencode(callback.form),
            headers={"X-Twilio-Signature": "Zm9yZ2Vk", "Content-Type": "application/x-www-form-urlencoded"},
        )
    return answer.status_code


async def _outcomes_settled(outcomes: TopicReader, keys: set[str], expected: int, quiet_for: float = 3.0) -> list:
    """Delivered or failed outcomes for `keys`: once `expected` have come, read on for
    `quiet_for` seconds so that any extra one would be seen."""

    def finals() -> list:
        events = [parse_event(seen.value) for seen in outcomes.seen if fields_of(seen).get("idempotency_key") in keys]
        return [
            e for e in events
            if getattr(e, "idempotency_key", None) in keys
            and e.event_type in ("notification.delivered", "notification.failed")
        ]

    async with asyncio.timeout(60):
        while len(finals()) < expected:
            await outcomes.poll()
    deadline = asyncio.get_running_loop().time() + quiet_for
    while asyncio.get_running_loop().time() < deadline:
        await outcomes.poll()
    return finals()
