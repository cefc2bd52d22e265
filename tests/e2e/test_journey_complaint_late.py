"""Journey 3, answered late: a complaint by email is acknowledged in time, but the Stage 1
response is not sent by its deadline (10 working days from the acknowledgement, the
Complaint Handling Code). The whole system is moved past that deadline by starting it
again on the same folder later; the monitor breaches the statutory clock exactly once,
with that deadline, and the late response meets it with the time it was late by. The
tenant escalates by web form, Stage 2 is acknowledged, more time is agreed through the
staff API and the Stage 2 response meets the agreed date. Driven through SMTP and HTTP;
checked on doorstep.cases, .sla.breaches, .sla.outcomes and the monitor's API."""

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared.events import parse_event
from shared.topics import Topic
from tests.e2e.complaints import act, clock, complain_by_email
from tests.e2e.system import running_system
from tests.e2e.working_days import LONDON, within_working_days
from tests.kafka_reader import Seen, TopicReader, event_is

pytestmark = pytest.mark.kafka

TENANT = "late.answer@example.org"
# A Tuesday morning in February 2027: no bank holiday for the weeks that follow.
RECEIVED_AROUND = datetime(2027, 2, 2, 10, 0, tzinfo=LONDON)
STAGE1 = "complaint_stage1_response"


def breaches_of(reader: TopicReader, case_id: str) -> list[Seen]:
    return [s for s in reader.seen if s.json().get("event_type") == "sla.breached" and s.json().get("subject_id") == case_id]


async def test_a_stage_1_response_sent_late_is_breached_once_then_met_late_and_stage_2_kept_with_more_time(
    kafka_bootstrap: str, tmp_path: Path
):
    workdir = tmp_path / "late-complaint"

    # -- the first days: the complaint comes in and is acknowledged in time -----------------
    with running_system(kafka_bootstrap, workdir, at=RECEIVED_AROUND) as system:
        reference = complain_by_email(system, TENANT, "Formal complaint", "I want to complain: my repair was cancelled three times and nobody told me why.")
        async with TopicReader(kafka_bootstrap, Topic.CASES) as cases:
            case = (await cases.wait_for(event_is("case.opened", reference=reference), timeout=60)).json()
            case_id = case["case_id"]
            assert case["kind"] == "complaint"
            acknowledgement = await clock(system, case_id, "complaint_stage1_acknowledgement", "statutory", state="running")
            act(system, reference, "acknowledge", stage="1")
            acknowledged = (await cases.wait_for(
                event_is("complaint.acknowledged", case_id=case_id, stage="1"), timeout=30
            )).json()
        acknowledged_at = datetime.fromisoformat(acknowledged["acknowledged_at"])
        assert acknowledged_at.astimezone(LONDON).date() == RECEIVED_AROUND.date()
        async with TopicReader(kafka_bootstrap, Topic.SLA_OUTCOMES) as outcomes:
            ack_met = await outcomes.wait_for(event_is("sla.met", clock_id=acknowledgement["id"]), timeout=60)
        assert ack_met.json()["late_by"] is None
        due = within_working_days(acknowledged_at, 10)
        stage1 = await clock(system, case_id, STAGE1, "statutory", state="running", deadline=due)
        assert datetime.fromisoformat(stage1["started_at"]) == acknowledged_at

    # -- a day past the deadline, with nothing sent: the breach ----------------------------
    the_day_after = (due + timedelta(hours=17)).astimezone(LONDON)  # 10:00 the next morning
    with running_system(kafka_bootstrap, workdir, at=the_day_after) as system:
        async with TopicReader(kafka_bootstrap, Topic.SLA_BREACHES) as breaches:
            breach = (await breaches.wait_for(event_is("sla.breached", clock_id=stage1["id"]), timeout=60)).json()
            assert breach["obligation"] == "statutory" and breach["clock"] == STAGE1
            assert datetime.fromisoformat(breach["deadline"]) == within_working_days(acknowledged_at, 10)
            assert datetime.fromisoformat(breach["started_at"]) == acknowledged_at
            await clock(system, case_id, STAGE1, "statutory", state="breached")

            async with TopicReader(kafka_bootstrap, Topic.SLA_OUTCOMES) as outcomes:
                # The response goes now, late: met, with how late.
                act(system, reference, "respond", stage="1")
                late = parse_event((await outcomes.wait_for(event_is("sla.met", clock_id=stage1["id"]), timeout=60)).value)
                assert late.obligation == "statutory"
                assert late.late_by is not None
                assert late.late_by == late.stopped_at - due and timedelta(hours=16) < late.late_by < timedelta(hours=19)

                # Stage 2, asked for by web form.
                escalation = httpx.post(system.url("intake", "/forms/escalation"), json={
                    "reference": reference, "name": "Lee Tenant", "email": TENANT,
                    "reason": "The answer came late and did not explain the cancellations.",
                }, timeout=15)
                assert escalation.status_code in (200, 201), escalation.text
                stage2_ack = await clock(system, case_id, "complaint_stage2_acknowledgement", "statutory", state="running")
                act(system, reference, "acknowledge", stage="2")
                assert (await outcomes.wait_for(event_is("sla.met", clock_id=stage2_ack["id"]), timeout=60)).json()["late_by"] is None

                stage2 = await clock(system, case_id, "complaint_stage2_response", "statutory", state="running")
                started = datetime.fromisoformat(stage2["started_at"])
                first_deadline = within_working_days(started, 20)
                assert datetime.fromisoformat(stage2["deadline"]) == first_deadline
                agreed = within_working_days(started, 30)  # 10 more, within the Code's 20
                act(system, reference, "extend", clock="complaint_stage2_response", new_deadline=agreed.isoformat(),
                    reason="An independent surveyor's report is needed; agreed with the tenant in writing.")
                extended = await clock(system, case_id, "complaint_stage2_response", "statutory", deadline=agreed)
                assert datetime.fromisoformat(extended["extended_from"]) == first_deadline

                act(system, reference, "respond", stage="2")
                stage2_met = await outcomes.wait_for(event_is("sla.met", clock_id=stage2["id"]), timeout=60)
                assert stage2_met.json()["late_by"] is None

            # Exactly one breach of the statutory clock; the landlord's own Stage 1 clock,
            # counted from receipt, was missed too; nothing else.
            await breaches.poll(3000)
            await breaches.poll(500)
            seen = [b.json() for b in breaches_of(breaches, case_id)]
            assert [b["clock_id"] for b in seen if b["clock_id"] == stage1["id"]] == [stage1["id"]]
            assert sorted((b["obligation"], b["clock"]) for b in seen) == [("internal", STAGE1), ("statutory", STAGE1)]
