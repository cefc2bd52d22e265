"""A mobile that keeps failing gets no more texts: email instead, and staff are asked,
once, to check the tenant's contact details."""

import asyncio

import httpx
from faststream.kafka import TestKafkaBroker
from fastapi import FastAPI

from shared.events import parse_event
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.errors import PermanentSendError
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.handlers import Notifier
from services.notifier.webhooks import add_twilio_routes
from tests.component.conftest import record
from tests.privacy import shows_phone
from tests.component.test_notifier import RecordingSender
from tests.component.test_twilio_status import CALLBACK, INBOUND, TOKEN, text_in

LIMIT = 3


class FlakySms:
    """Refuses the number as unreachable while `refusing`; else takes the text."""

    def __init__(self) -> None:
        self.refusing = True
        self.tried = 0
        self.sent: list[str] = []

    async def send_sms(self, key: str, to_e164: str, body: str) -> str:
        self.tried += 1
        if self.refusing:
            raise PermanentSendError(21614, "the 'To' number is not a mobile number", recipient=True)
        self.sent.append(key)
        return f"SM{self.tried}"


def reminder(n: int, phone: str = "07700 900123") -> NotificationRequested:
    return NotificationRequested(
        correlation_id="case-1", case_id="case-1", idempotency_key=f"case-1:reminder:{n}",
        purpose=Purpose.APPOINTMENT_REMINDER, template="acknowledgement",
        recipient=Recipient(phone=phone, email="jo@example.org"),
        personalisation={"reference": "HX-ABCD2345", "promise": "See you soon."},
    )


async def send_all(notifier: Notifier, *requests: NotificationRequested) -> None:
    for wanted in requests:
        await notifier.handle_request(wanted)
        await notifier.settled()


async def test_after_the_limit_texts_stop_email_is_used_and_staff_are_told_once(notifier_runtime: Runtime):
    sms, email = FlakySms(), RecordingSender()
    notifier = Notifier(notifier_runtime, Templates(), email, sms, quiet=None, suppress_after=LIMIT)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async with TestKafkaBroker(notifier_runtime.broker):
        await send_all(notifier, *(reminder(n) for n in range(LIMIT + 2)))
        sms.refusing = False
        await send_all(notifier, reminder(99, phone="07700 900999"))  # another number is not affected
        await notifier_runtime.outbox.relay_pending()

    assert sms.tried == LIMIT + 1  # the first LIMIT refused; then only the other number
    assert sms.sent == ["case-1:reminder:99:sms"]
    assert [key for key, _ in email.sent] == [f"case-1:reminder:{n}" for n in range(LIMIT + 2)]
    tasks = [parse_event(r.body) for r in outcomes.of_type("staff_task.raised")]
    assert [(t.task, t.case_id) for t in tasks] == [("check_contact_details", "case-1")]
    assert not shows_phone(outcomes.of_type("staff_task.raised")[0].body.decode(), "07700 900123")


async def test_a_delivered_text_clears_the_count(notifier_runtime: Runtime):
    sms = FlakySms()
    notifier = Notifier(notifier_runtime, Templates(), RecordingSender(), sms, quiet=None, suppress_after=LIMIT)
    await send_all(notifier, *(reminder(n) for n in range(LIMIT - 1)))
    sms.refusing = False
    await send_all(notifier, reminder(10))
    await notifier.status_reported(f"SM{sms.tried}", "delivered", None)
    sms.refusing = True
    await send_all(notifier, *(reminder(n) for n in range(20, 20 + LIMIT - 1)))
    sms.refusing = False
    await send_all(notifier, reminder(30))

    assert sms.sent == ["case-1:reminder:10:sms", "case-1:reminder:30:sms"]


def webhooks(notifier: Notifier) -> FastAPI:
    app = FastAPI()
    add_twilio_routes(app, notifier, TOKEN, CALLBACK, INBOUND)
    return app


async def test_undelivered_reports_count_and_a_text_from_the_tenant_lifts_the_suppression(notifier_runtime: Runtime):
    sms = FlakySms()
    sms.refusing = False
    notifier = Notifier(notifier_runtime, Templates(), RecordingSender(), sms, quiet=None, suppress_after=2)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)
    transport = httpx.ASGITransport(app=webhooks(notifier))

    async with TestKafkaBroker(notifier_runtime.broker), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for n in range(2):
            await send_all(notifier, reminder(n))
            await notifier.status_reported(f"SM{sms.tried}", "undelivered", "30005")
            await notifier.status_reported(f"SM{sms.tried}", "undelivered", "30005")  # twice: counted once
        await send_all(notifier, reminder(2))
        assert sms.sent == ["case-1:reminder:0:sms", "case-1:reminder:1:sms"]  # suppressed: by email

        assert (await text_in(client, "thanks")).status_code == 200
        await send_all(notifier, reminder(3))
        await notifier_runtime.outbox.relay_pending()

    assert sms.sent[-1] == "case-1:reminder:3:sms"
    assert [parse_event(r.body).task for r in outcomes.of_type("staff_task.raised")] == ["check_contact_details"]


async def test_failures_reported_at_once_for_one_mobile_are_all_counted_and_staff_told_once(notifier_runtime: Runtime):
    """Status callbacks for the same number arriving together, each in its own transaction."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from services.notifier import suppression
    from services.notifier.adapters.tables import failing_mobiles

    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    outcomes = record(notifier_runtime.broker, Topic.NOTIFICATIONS_OUTCOMES)

    async def fail() -> None:
        async with notifier_runtime.sessions.begin() as session:
            await suppression.failed(notifier_runtime, session, "+447700900123", "case-1", now, 2)

    async with TestKafkaBroker(notifier_runtime.broker):
        await asyncio.gather(*(fail() for _ in range(4)))
        await notifier_runtime.outbox.relay_pending()

    async with notifier_runtime.sessions() as session:
        row = (await session.execute(select(failing_mobiles))).one()
    assert (row.failures, row.suppressed_since is not None) == (4, True)
    assert len(outcomes.of_type("staff_task.raised")) == 1
