"""Journey 5: damp and mould mentioned in passing, in a message about something else, starts
the Awaab's Law investigation clock from that message, whatever the channel: an email to
the customer desk, a web enquiry, a letter logged late by staff (which is breached, with the
deadline counted from the day the letter came). Driven through SMTP and HTTP only; checked
on the SLA monitor's API and on doorstep.sla.breaches."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.topics import Topic
from tests.e2e.system import STAFF_TOKEN, System, running_system
from tests.e2e.working_days import within_working_days
from tests.kafka_reader import TopicReader, event_is
from tests.mail_sender import send_mail as send_mail_to

pytestmark = pytest.mark.kafka

AWAAB = "awaab_damp_and_mould_investigation"


@pytest.fixture(scope="module")
def system(kafka_bootstrap, tmp_path_factory):
    with running_system(kafka_bootstrap, tmp_path_factory.mktemp("damp")) as running:
        yield running


def send_mail(system: System, to: str, body: str) -> str:
    return send_mail_to(system.smtp_port, "tenant.damp@example.org", to, "A question", body)


async def opened(kafka_bootstrap: str, reference: str) -> dict:
    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        return (await cases.wait_for(event_is("case.opened", reference=reference), timeout=60)).json()


async def clocks_of(system: System, case_id: str, wanted: set[str], timeout: float = 45) -> dict[str, dict]:
    async with asyncio.timeout(timeout):
        while True:
            clocks = httpx.get(system.url("sla_monitor", "/clocks"), params={"subject_id": case_id}, timeout=10).json()
            found = {c["definition"]: c for c in clocks}
            if wanted <= set(found):
                return found
            await asyncio.sleep(0.3)


def assert_awaab_clock_from(clock: dict, received_at: datetime) -> None:
    assert clock["obligation"] == "statutory"
    assert datetime.fromisoformat(clock["started_at"]) == received_at
    assert datetime.fromisoformat(clock["deadline"]) == within_working_days(received_at, 10)
    assert "10 working days" in clock["source"]


async def test_mould_mentioned_in_an_email_about_rent_starts_the_awaab_clock_from_that_email(
    system: System, kafka_bootstrap: str
):
    reference = send_mail(
        system, "customer_desk@hexagon.org.uk",
        "Could you send me my rent statement for last year? Also, the black mould behind the "
        "wardrobe is back, but that is not why I am writing.",
    )
    case = await opened(kafka_bootstrap, reference)
    assert case["kind"] == "general_enquiry" and "damp_and_mould" in case["flags"]
    clocks = await clocks_of(system, case["case_id"], {AWAAB, "email_reply_customer_desk"})
    assert_awaab_clock_from(clocks[AWAAB], datetime.fromisoformat(case["received_at"]))
    assert clocks[AWAAB]["state"] == "running"
    # the reply the customer desk promised runs beside it, from the same message
    assert clocks["email_reply_customer_desk"]["started_at"] == clocks[AWAAB]["started_at"]


async def test_condensation_mentioned_in_a_web_enquiry_starts_the_awaab_clock(system: System, kafka_bootstrap: str):
    response = httpx.post(system.url("intake", "/forms/enquiry"), json={
        "name": "Sam Tenant", "email": "tenant.damp@example.org", "subject": "Parking",
        "message": "How do I get a parking permit? The condensation on the bedroom windows is bad this winter too.",
    }, timeout=10)
    assert response.status_code == 201, response.text
    case = await opened(kafka_bootstrap, response.json()["reference"])
    clocks = await clocks_of(system, case["case_id"], {AWAAB})
    assert_awaab_clock_from(clocks[AWAAB], datetime.fromisoformat(case["received_at"]))


async def test_a_letter_logged_late_starts_the_clock_from_its_day_and_is_breached_with_that_deadline(
    system: System, kafka_bootstrap: str
):
    received = (datetime.now(UTC) - timedelta(days=20)).replace(hour=10, minute=0, second=0, microsecond=0)
    response = httpx.post(system.url("intake", "/staff/letters"), json={
        "received_at": received.isoformat(),
        "text": "I would like to change the name on my tenancy. There is a damp patch on the ceiling as well.",
    }, headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=10)
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    async with TopicReader(kafka_bootstrap, Topic.SLA_BREACHES) as breaches:
        breach = (await breaches.wait_for(event_is("sla.breached", subject_id=case_id, clock=AWAAB), timeout=60)).json()
    assert breach["obligation"] == "statutory"
    assert datetime.fromisoformat(breach["started_at"]) == received
    assert datetime.fromisoformat(breach["deadline"]) == within_working_days(received, 10)
    clocks = await clocks_of(system, case_id, {AWAAB})
    assert clocks[AWAAB]["state"] == "breached"


async def test_a_message_without_damp_or_mould_starts_no_awaab_clock(system: System, kafka_bootstrap: str):
    reference = send_mail(system, "customer_desk@hexagon.org.uk", "Could you send me my rent statement for last year?")
    case = await opened(kafka_bootstrap, reference)
    clocks = await clocks_of(system, case["case_id"], {"email_reply_customer_desk"})
    assert AWAAB not in clocks
    assert "damp_and_mould" not in case["flags"]
