"""The notifier as its own process on the real broker, sending email over a real SMTP
conversation and texts through the real Twilio SDK to a local fake of Twilio's API."""

import asyncio
import os
import socket
from email import message_from_bytes, policy
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller

from shared.events import parse_event, serialize
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.kafka import ensure_topics
from shared.topics import Topic
from services.cli.processes import start, stop_all, wait_ready
from tests.fakes.twilio_api import FakeTwilio, fake_twilio  # noqa: F401 - the fixture
from tests.integration.notifier_process import fields_of
from tests.kafka_reader import TopicReader

pytestmark = pytest.mark.kafka

TENANT = "jo.tenant@example.org"
MOBILE = "07700 900123"


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 2.0.0 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


REFERENCE = f"HX-{uuid4().hex[:8].upper()}"


def request(purpose: Purpose, recipient: Recipient) -> NotificationRequested:
    case_id = f"case-{uuid4().hex[:12]}"
    return NotificationRequested(
        correlation_id=case_id,
        case_id=case_id,
        idempotency_key=f"{case_id}:{purpose}",
        purpose=purpose,
        template="acknowledgement",
        recipient=recipient,
        personalisation={"reference": REFERENCE, "promise": "We will reply within 3 working days."},
    )


async def test_email_goes_over_smtp_and_texts_through_twilio(
    kafka_bootstrap: str, fake_twilio: FakeTwilio, tmp_path: Path  # noqa: F811
):
    await ensure_topics(kafka_bootstrap)
    inbox, smtp_port, http_port = Inbox(), free_port(), free_port()
    mail_server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    mail_server.start()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "NOTIFIER_HTTP_PORT": str(http_port),
        "NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        "NOTIFIER_SMTP_HOST": "127.0.0.1",
        "NOTIFIER_SMTP_PORT": str(smtp_port),
        "NOTIFIER_SMTP_STARTTLS": "never",
        "NOTIFIER_QUIET_HOURS": "false",  # the reminder must go whatever the hour of the run
        "NOTIFIER_TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
        "NOTIFIER_TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
        "NOTIFIER_TWILIO_BASE_URL": fake_twilio.base_url,
        "NOTIFIER_STATUS_CALLBACK_URL": "http://127.0.0.1:8083/v1/twilio/status",
    }
    acknowledgement = request(Purpose.ACKNOWLEDGEMENT, Recipient(email=TENANT, phone=MOBILE))
    reminder = request(Purpose.APPOINTMENT_REMINDER, Recipient(email=TENANT, phone=MOBILE))
    with (tmp_path / "notifier.log").open("wb") as log:
        notifier = {"notifier": start("notifier", env, log)}
        try:
            await asyncio.to_thread(wait_ready, notifier, {"notifier": http_port}, 60)
            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
            await producer.start()
            for wanted in (acknowledgement, reminder):
                await producer.send_and_wait(Topic.NOTIFICATIONS_REQUESTED, serialize(wanted), key=wanted.key())
            await producer.stop()
            async with TopicReader(kafka_bootstrap, Topic.NOTIFICATIONS_OUTCOMES) as outcomes:
                sent = {}
                for wanted in (acknowledgement, reminder):
                    seen = await outcomes.wait_for(
                        lambda s, key=wanted.idempotency_key: fields_of(s).get("idempotency_key") == key, timeout=60
                    )
                    sent[wanted.purpose] = parse_event(seen.value)
        finally:
            stop_all(notifier)
            mail_server.stop()

    assert sent[Purpose.ACKNOWLEDGEMENT].channel == "email"
    assert sent[Purpose.APPOINTMENT_REMINDER].channel == "sms"
    # The group may also pick up requests other tests left on the topic: look at ours.
    mails = [(to, message_from_bytes(data, policy=policy.default)) for to, data in inbox.received]
    [(recipients, mail)] = [(to, m) for to, m in mails if REFERENCE in m["Subject"]]
    assert recipients == [TENANT]
    [text] = [m for m in fake_twilio.messages.values() if REFERENCE in str(m["body"])]
    assert text["to"] == "+447700900123"
    assert text["status_callback"] == "http://127.0.0.1:8083/v1/twilio/status"
    assert sent[Purpose.APPOINTMENT_REMINDER].provider_ref == text["sid"]
