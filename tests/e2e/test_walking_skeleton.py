"""The thinnest real path through all four services, driven only through their doors:
SMTP and HTTP in; Kafka, HTTP and the outbox folder out."""

import asyncio
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest

from shared.topics import Topic
from tests.e2e.system import MIME_TOKEN, STAFF_TOKEN, System, running_system
from tests.kafka_reader import TopicReader, event_is
from tests.mail_sender import send_mail as send_mail_to

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def system(kafka_bootstrap, tmp_path_factory):
    with running_system(kafka_bootstrap, tmp_path_factory.mktemp("e2e")) as running:
        yield running


def send_mail(system: System, to: str, subject: str, body: str, message_id: str | None = None) -> str:
    """Send over SMTP; return the case reference from the server's 250 reply."""
    return send_mail_to(system.smtp_port, "tenant.e2e@example.org", to, subject, body, message_id)


async def eventually(check, timeout: float = 45):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.2)
    return result


async def test_an_email_becomes_a_case_an_acknowledgement_and_a_running_clock(
    system: System, kafka_bootstrap: str
):
    reference = send_mail(
        system, "repairs_reporting@hexagon.org.uk", "Kitchen", "There is a smell of gas in the kitchen."
    )
    assert reference.startswith("HX-")

    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        opened = await cases.wait_for(event_is("case.opened", reference=reference), timeout=60)
    case = opened.json()
    assert opened.key == case["case_id"].encode()
    assert case["mailbox"] == "repairs"
    assert case["kind"] == "repair_request"
    assert case["priority"] == "emergency"
    assert {"rule": "emergency-repair", "words": ["smell of gas"]} in case["reasons"]

    ack = system.outbox_dir / f"{case['case_id']}_acknowledgement.eml"
    await eventually(lambda: asyncio.sleep(0, ack.exists()))
    text = ack.read_text()
    assert case["reference"] in text
    assert "within 3 working days" in text

    async def clock():
        response = httpx.get(system.url("sla_monitor", "/clocks"), params={"subject_id": case["case_id"]})
        return [c for c in response.json() if c["definition"] == "email_reply_repairs"]

    reply_clock = (await eventually(clock))[0]
    assert reply_clock["state"] == "running"
    assert datetime.fromisoformat(reply_clock["deadline"]) > datetime.now(UTC)

    async def booking():
        response = httpx.get(system.url("scheduler", "/bookings-to-make"))
        return [b for b in response.json() if b["case_id"] == case["case_id"]]

    assert (await eventually(booking))[0]["priority"] == "emergency"


async def test_a_letter_logged_30_days_late_is_breached_within_seconds(
    system: System, kafka_bootstrap: str
):
    received = datetime.now(UTC) - timedelta(days=30)
    response = httpx.post(
        system.url("intake", "/staff/letters"),
        json={"received_at": received.isoformat(), "text": "Please fix my garden fence."},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    async with TopicReader(kafka_bootstrap, Topic.SLA_BREACHES) as breaches:
        breach = (
            await breaches.wait_for(event_is("sla.breached", subject_id=case_id), timeout=30)
        )
    event = breach.json()
    assert breach.key == case_id.encode()
    assert event["clock"] == "letter_reply"
    assert event["obligation"] == "internal"
    assert datetime.fromisoformat(event["deadline"]) < datetime.now(UTC)
    assert event["reference"] == response.json()["reference"]


async def test_the_staff_api_refuses_without_a_token(system: System):
    body = {"received_at": datetime.now(UTC).isoformat(), "text": "hello"}
    assert httpx.post(system.url("intake", "/staff/letters"), json=body).status_code == 401
    wrong = {"Authorization": "Bearer not-a-token"}
    assert httpx.post(system.url("intake", "/staff/letters"), json=body, headers=wrong).status_code == 401


async def test_unknown_recipients_are_refused_at_rcpt(system: System):
    with smtplib.SMTP("127.0.0.1", system.smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail("tenant.e2e@example.org")
        code, _ = smtp.rcpt("nobody@hexagon.org.uk")
    assert code == 550


async def test_a_poison_message_lands_on_the_dead_letter_topic_with_its_reason(
    system: System, kafka_bootstrap: str
):
    from aiokafka import AIOKafkaProducer

    marker = f"poison-{datetime.now(UTC).timestamp()}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(Topic.NOTIFICATIONS_REQUESTED, b"{not json " + marker, key=marker)
    finally:
        await producer.stop()

    async with TopicReader(kafka_bootstrap, Topic.DLQ_NOTIFIER) as dead:
        letter = await dead.wait_for(lambda s: s.key == marker, timeout=40)
    assert letter.headers["dlq_topic"] == Topic.NOTIFICATIONS_REQUESTED
    assert letter.headers["dlq_reason"].startswith("unreadable event")
    assert marker in letter.value


@pytest.mark.parametrize("service", ["intake", "scheduler", "notifier", "sla_monitor"])
async def test_every_service_publishes_its_doors(system: System, service: str):
    assert httpx.get(system.url(service, "/healthz")).json() == {"status": "alive"}
    ready = httpx.get(system.url(service, "/readyz"))
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "broker": "ok"}
    openapi = httpx.get(system.url(service, "/openapi.json")).json()
    assert {"/healthz", "/readyz"} <= set(openapi["paths"])
    asyncapi = httpx.get(system.url(service, "/asyncapi.json"))
    assert asyncapi.status_code == 200
    assert asyncapi.json()["asyncapi"].startswith("3.")


async def test_the_asyncapi_documents_name_the_topics_each_service_consumes(system: System):
    def channels(service: str) -> str:
        return str(httpx.get(system.url(service, "/asyncapi.json")).json()["channels"])

    assert Topic.NOTIFICATIONS_REQUESTED in channels("notifier")
    assert Topic.CASES in channels("sla_monitor")
    assert Topic.CASES in channels("scheduler")


async def test_the_asyncapi_documents_give_the_schema_of_what_each_service_publishes(system: System):
    intake = httpx.get(system.url("intake", "/asyncapi.json")).json()
    assert f"{Topic.CASES}:publish" in intake["channels"]
    assert "received_at" in intake["components"]["schemas"]["CaseOpened"]["properties"]
    monitor = httpx.get(system.url("sla_monitor", "/asyncapi.json")).json()
    assert f"{Topic.SLA_BREACHES}:publish" in monitor["channels"]
    assert "deadline" in monitor["components"]["schemas"]["SlaBreached"]["properties"]


async def test_a_mail_sent_again_by_a_retrying_client_opens_one_case(system: System, kafka_bootstrap: str):
    message_id = f"<retry-{datetime.now(UTC).timestamp()}@example.org>"
    first = send_mail(system, "customer_desk@hexagon.org.uk", "Rent", "About my rent.", message_id)
    again = send_mail(system, "customer_desk@hexagon.org.uk", "Rent", "About my rent.", message_id)
    assert again == first

    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        await cases.wait_for(event_is("case.opened", reference=first), timeout=60)
        await asyncio.sleep(2)
        await cases.poll()
    opened = [s for s in cases.seen if event_is("case.opened", reference=first)(s)]
    assert len(opened) == 1


async def test_a_complaint_by_web_form_opens_a_complaint_case(system: System, kafka_bootstrap: str):
    page = httpx.get(system.url("intake", "/forms/complaint"))
    assert page.status_code == 200 and "<form" in page.text
    response = httpx.post(
        system.url("intake", "/forms/complaint"),
        json={
            "name": "Jo Tenant",
            "details": "Nobody has answered my emails about the broken lift for three weeks.",
            "email": "tenant.e2e@example.org",
        },
    )
    assert response.status_code == 201, response.text
    reference = response.json()["reference"]
    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        opened = await cases.wait_for(event_is("case.opened", reference=reference), timeout=60)
    assert (opened.json()["channel"], opened.json()["kind"]) == ("web", "complaint")


async def test_a_reply_logged_by_staff_meets_the_letter_clock(system: System, kafka_bootstrap: str):
    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    received = datetime.now(UTC) - timedelta(days=1)
    letter = httpx.post(
        system.url("intake", "/staff/letters"),
        json={"received_at": received.isoformat(), "text": "Please tell me when my rent review is."},
        headers=staff,
    ).json()
    reply = httpx.post(system.url("intake", f"/staff/cases/{letter['reference']}/reply"), json={}, headers=staff)
    assert reply.status_code == 202, reply.text
    assert reply.json()["event_type"] == "case.replied"

    async with TopicReader(kafka_bootstrap, Topic.SLA_OUTCOMES) as outcomes:
        met = await outcomes.wait_for(event_is("sla.met", subject_id=letter["case_id"], clock="letter_reply"), timeout=60)
    assert met.json()["late_by"] is None

    not_a_complaint = httpx.post(
        system.url("intake", f"/staff/cases/{letter['reference']}/acknowledge"), json={"stage": "1"}, headers=staff
    )
    assert not_a_complaint.status_code == 409
    unknown = httpx.post(system.url("intake", "/staff/cases/HX-NOSUCH00/close"), json={}, headers=staff)
    assert unknown.status_code == 404
    assert httpx.post(system.url("intake", f"/staff/cases/{letter['reference']}/close"), json={}).status_code == 401


async def test_a_phone_call_logged_by_staff_opens_a_classified_case(system: System, kafka_bootstrap: str):
    response = httpx.post(
        system.url("intake", "/staff/contacts"),
        json={"channel": "phone", "received_at": datetime.now(UTC).isoformat(), "text": "There is water coming through the ceiling."},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        opened = await cases.wait_for(event_is("case.opened", reference=response.json()["reference"]), timeout=60)
    assert opened.json()["channel"] == "phone"


async def test_raw_mime_from_a_mail_provider_opens_a_case_once(system: System, kafka_bootstrap: str):
    mail = EmailMessage()
    mail["From"] = "tenant.e2e@example.org"
    mail["To"] = "repairs_reporting@hexagon.org.uk"
    mail["Subject"] = "Boiler"
    mail["Message-ID"] = f"<mime-{datetime.now(UTC).timestamp()}@example.org>"
    mail.set_content("The boiler is making a loud banging noise.")
    url = system.url("intake", "/inbound/mime/repairs")
    provider = {"Authorization": f"Bearer {MIME_TOKEN}", "Content-Type": "message/rfc822"}

    first = httpx.post(url, content=mail.as_bytes(), headers=provider)
    again = httpx.post(url, content=mail.as_bytes(), headers=provider)
    assert first.status_code == 200, first.text
    assert again.json()["reference"] == first.json()["reference"]
    assert httpx.post(url, content=mail.as_bytes()).status_code == 401
    wrong = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    assert httpx.post(url, content=mail.as_bytes(), headers=wrong).status_code == 403

    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        opened = await cases.wait_for(event_is("case.opened", reference=first.json()["reference"]), timeout=60)
    assert (opened.json()["mailbox"], opened.json()["channel"]) == ("repairs", "email")
