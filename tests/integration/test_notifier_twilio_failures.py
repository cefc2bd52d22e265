"""The notifier with the real Twilio SDK against the fake, its outcomes relayed to the
real broker: 429 and 500 are tried again after growing pauses up to a cap, an invalid
number (21211) fails at once, or falls back to email."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import select

from shared.events import parse_event
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime, running
from shared.topics import Topic
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.outbox_folder import OutboxFolderSender
from services.notifier.adapters.pacer import Pacer
from services.notifier.adapters.tables import deliveries
from services.notifier.adapters.twilio_sms import TwilioSmsSender
from services.notifier.bootstrap import bootstrap
from services.notifier.handlers import MAX_TRIES, Notifier, retry_pause
from services.notifier.settings import NotifierSettings
from tests.fakes.twilio_api import FakeTwilio, fake_twilio  # noqa: F401 - the fixture
from tests.integration.notifier_process import fields_of
from tests.kafka_reader import TopicReader

pytestmark = pytest.mark.kafka


@dataclass
class Rig:
    runtime: Runtime
    notifier: Notifier
    clock: dict[str, datetime]
    outcomes: TopicReader

    async def outcome_of(self, request: NotificationRequested):  # type: ignore[no-untyped-def]
        seen = await self.outcomes.wait_for(
            lambda s: fields_of(s).get("idempotency_key") == request.idempotency_key, timeout=30
        )
        return parse_event(seen.value)

    async def status(self, request: NotificationRequested) -> tuple[str, datetime | None]:
        async with self.runtime.sessions() as session:
            row = (
                await session.execute(
                    select(deliveries.c.status, deliveries.c.not_before).where(
                        deliveries.c.idempotency_key == request.idempotency_key
                    )
                )
            ).one()
        return row.status, row.not_before


@pytest.fixture
async def rig(kafka_bootstrap: str, fake_twilio: FakeTwilio, tmp_path: Path) -> AsyncIterator[Rig]:  # noqa: F811
    settings = NotifierSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        kafka_bootstrap_servers=kafka_bootstrap,
        outbox_dir=tmp_path / "outbox",
        quiet_hours=False,
    )
    runtime = bootstrap(settings)
    clock = {"now": datetime(2026, 12, 1, 12, tzinfo=UTC)}
    sms = TwilioSmsSender(
        fake_twilio.account_sid, fake_twilio.auth_token, "Hexagon", "http://127.0.0.1:9/status",
        base_url=fake_twilio.base_url, timeout=5,
    )
    notifier = Notifier(
        runtime, Templates(), OutboxFolderSender(settings.outbox_dir, settings.email_from), sms,
        quiet=None, now=lambda: clock["now"], pacer=Pacer(10),
    )
    async with running(runtime), TopicReader(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES) as outcomes:
        yield Rig(runtime, notifier, clock, outcomes)
        await notifier.stop(grace=5)
    await sms.aclose()


def reminder(phone: str, email: str | None = None) -> NotificationRequested:
    case_id = f"case-{uuid4().hex[:12]}"
    return NotificationRequested(
        correlation_id=case_id,
        case_id=case_id,
        idempotency_key=f"{case_id}:reminder",
        purpose=Purpose.APPOINTMENT_REMINDER,
        template="appointment_reminder",
        recipient=Recipient(phone=phone, email=email),
        personalisation={
            "reference": "HX-ABCD2345",
            "appointment_date": "Monday 7 December",
            "appointment_time": "8am to 12pm",
        },
    )


async def test_a_rate_limit_that_lasts_is_retried_with_growing_pauses_then_failed(
    rig: Rig, fake_twilio: FakeTwilio  # noqa: F811
):
    fake_twilio.rate_limited("+447700900101")
    wanted = reminder("07700 900101")

    await rig.notifier.handle_request(wanted)
    await rig.notifier.settled()
    for tries in range(1, MAX_TRIES):
        status, not_before = await rig.status(wanted)
        assert (status, not_before) == ("held", rig.clock["now"] + retry_pause(tries))
        assert len(fake_twilio.requests_to("+447700900101")) == tries
        rig.clock["now"] = not_before  # type: ignore[assignment]
        assert await rig.notifier.send_held() == 1
        await rig.notifier.settled()

    failed = await rig.outcome_of(wanted)
    assert failed.event_type == "notification.failed"
    assert failed.reason == f"gave up after {MAX_TRIES} tries: Twilio is rate limiting this account (HTTP 429)"
    assert len(fake_twilio.requests_to("+447700900101")) == MAX_TRIES


async def test_a_server_error_once_is_retried_after_thirty_seconds_and_sent(
    rig: Rig, fake_twilio: FakeTwilio  # noqa: F811
):
    fake_twilio.server_error("+447700900102", times=1)
    wanted = reminder("07700 900102")

    await rig.notifier.handle_request(wanted)
    await rig.notifier.settled()
    assert await rig.status(wanted) == ("held", rig.clock["now"] + timedelta(seconds=30))
    rig.clock["now"] += timedelta(seconds=29)
    assert await rig.notifier.send_held() == 0
    rig.clock["now"] += timedelta(seconds=1)
    assert await rig.notifier.send_held() == 1
    await rig.notifier.settled()

    sent = await rig.outcome_of(wanted)
    assert (sent.event_type, sent.channel) == ("notification.sent", "sms")
    [first, second] = fake_twilio.requests_to("+447700900102")
    assert first.body == second.body
    assert sent.provider_ref in fake_twilio.messages


async def test_an_invalid_number_fails_at_once_without_a_retry(rig: Rig, fake_twilio: FakeTwilio):  # noqa: F811
    fake_twilio.invalid_number("+447700900103")
    wanted = reminder("07700 900103")

    await rig.notifier.handle_request(wanted)
    await rig.notifier.settled()

    failed = await rig.outcome_of(wanted)
    assert failed.event_type == "notification.failed"
    assert "not a valid phone number" in failed.reason and "7700" not in failed.reason
    assert (await rig.status(wanted))[0] == "failed"
    assert len(fake_twilio.requests_to("+447700900103")) == 1
    assert await rig.notifier.send_held() == 0


async def test_an_invalid_number_falls_back_to_email_at_once(rig: Rig, fake_twilio: FakeTwilio, tmp_path: Path):  # noqa: F811
    fake_twilio.invalid_number("+447700900104")
    wanted = reminder("07700 900104", email="jo.tenant@example.org")

    await rig.notifier.handle_request(wanted)
    await rig.notifier.settled()

    sent = await rig.outcome_of(wanted)
    assert (sent.event_type, sent.channel) == ("notification.sent", "email")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert len(fake_twilio.requests_to("+447700900104")) == 1
