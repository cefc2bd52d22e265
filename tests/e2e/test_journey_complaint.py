"""Journey 3, the part that needs no time travel: a complaint by email is acknowledged in
time through the staff API, the Stage 1 response clock runs from the acknowledgement (the
Complaint Handling Code), an extension is agreed and moves it, the response meets it; the
tenant escalates by web form, Stage 2 is acknowledged and answered in time. Driven through
SMTP and HTTP; checked on the SLA monitor's API and on doorstep.sla.outcomes."""

from datetime import UTC, datetime

import httpx
import pytest

from shared.topics import Topic
from tests.e2e.complaints import act, clock, complain_by_email
from tests.e2e.system import System, running_system
from tests.e2e.working_days import within_working_days
from tests.kafka_reader import TopicReader, event_is

pytestmark = pytest.mark.kafka

TENANT = "tenant.complaint@example.org"


@pytest.fixture(scope="module")
def system(kafka_bootstrap, tmp_path_factory):
    with running_system(kafka_bootstrap, tmp_path_factory.mktemp("complaint")) as running:
        yield running


async def met(outcomes: TopicReader, case_id: str, clock_id: str) -> dict:
    return (await outcomes.wait_for(event_is("sla.met", subject_id=case_id, clock_id=clock_id), timeout=45)).json()


async def test_a_complaint_acknowledged_extended_answered_and_escalated_in_time(system: System, kafka_bootstrap: str):
    reference = complain_by_email(system, TENANT, "Complaint", "I am making a complaint: nobody came to fix my boiler after three promises.")
    async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
        case = (await cases.wait_for(event_is("case.opened", reference=reference), timeout=60)).json()
    case_id = case["case_id"]
    assert case["kind"] == "complaint"
    received = datetime.fromisoformat(case["received_at"])
    ack_clock = await clock(system, case_id, "complaint_stage1_acknowledgement", "statutory", state="running")
    assert datetime.fromisoformat(ack_clock["deadline"]) == within_working_days(received, 5)

    async with TopicReader(kafka_bootstrap, Topic.SLA_OUTCOMES) as outcomes:
        acknowledged_at = datetime.now(UTC).replace(microsecond=0)
        act(system, reference, "acknowledge", stage="1", at=acknowledged_at.isoformat())
        assert (await met(outcomes, case_id, ack_clock["id"]))["late_by"] is None

        # The Code: respond within 10 working days of the acknowledgement, not of receipt.
        response_clock = await clock(system, case_id, "complaint_stage1_response", "statutory")
        assert datetime.fromisoformat(response_clock["started_at"]) == acknowledged_at
        first_deadline = within_working_days(acknowledged_at, 10)
        assert datetime.fromisoformat(response_clock["deadline"]) == first_deadline

        agreed = within_working_days(acknowledged_at, 20)  # the 10 more working days the Code allows
        act(system, reference, "extend", clock="complaint_stage1_response", new_deadline=agreed.isoformat(),
            reason="A surveyor must see the boiler first; agreed with the tenant in writing.")
        extended = await clock(system, case_id, "complaint_stage1_response", "statutory",
                               deadline=agreed)
        assert datetime.fromisoformat(extended["extended_from"]) == first_deadline

        act(system, reference, "respond", stage="1")
        stage1 = await met(outcomes, case_id, response_clock["id"])
        assert stage1["late_by"] is None and stage1["obligation"] == "statutory"

        escalation = httpx.post(system.url("intake", "/forms/escalation"), json={
            "reference": reference, "name": "Jo Tenant", "email": TENANT,
            "reason": "The answer did not deal with the missed appointments.",
        }, timeout=10)
        assert escalation.status_code in (200, 201), escalation.text
        stage2_ack = await clock(system, case_id, "complaint_stage2_acknowledgement", "statutory", state="running")
        act(system, reference, "acknowledge", stage="2")
        assert (await met(outcomes, case_id, stage2_ack["id"]))["late_by"] is None
        stage2 = await clock(system, case_id, "complaint_stage2_response", "statutory", state="running")
        started = datetime.fromisoformat(stage2["started_at"])
        assert datetime.fromisoformat(stage2["deadline"]) == within_working_days(started, 20)
        act(system, reference, "respond", stage="2")
        assert (await met(outcomes, case_id, stage2["id"]))["late_by"] is None

    async with TopicReader(kafka_bootstrap, Topic.SLA_BREACHES) as breaches:
        await breaches.poll(2000)
    assert not [b for b in breaches.seen if b.json().get("subject_id") == case_id]
