"""CONFIRM to a gas check offer (or to a chaser) books the check on the morning that text
proposed, once, through booking's offers; fresh offers when that morning has filled; on the in-memory broker as
on direct call."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker
from sqlalchemy import Row, insert, select, update

from shared.calendar import default_calendar as calendar
from shared.events import serialize, utcnow
from shared.events.compliance import CertificateKind
from shared.events.notifications import Intent, Purpose, ReplyReceived
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.adapters.tables import appointments, contractors
from services.scheduler.app import create_app
from services.scheduler.domain.wording import spoken_date
from services.scheduler.visits import no_access
from services.scheduler.compliance.gas_replies import gas_check_confirmed
from services.scheduler.compliance.gas_sweep import GasRules, sweep_gas
from services.scheduler.compliance.programme import check_case_id, proposed_visit
from services.scheduler.compliance.recording import Certificate, record_certificate
from services.scheduler.compliance.tables import checks_due
from tests.component.timed_support import (
    add_contractor,
    add_homes,
    outbox_events,
    scheduler_runtime,
    sqlite_url,
)

LEAD = 10
RULES = GasRules(
    chase_after=timedelta(days=14), lead_working_days=LEAD, booking_link="https://example.org/gas"
)


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    runtime = await scheduler_runtime(sqlite_url(tmp_path))
    await add_contractor(runtime)
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(contractors).values(
                trades=["heating"], working_days=[1, 2, 3, 4, 5, 6], capacity_per_slot=1
            )
        )
    yield runtime
    await runtime.engine.dispose()


async def offered(runtime: Runtime) -> str:
    """A home whose check is due in a month, offered by today's sweep: its case id."""
    [home] = await add_homes(runtime, 1)
    today = date.today()
    await record_certificate(
        runtime, Certificate(CertificateKind.GAS_SAFETY, home, today - timedelta(days=330))
    )
    await sweep_gas(runtime, RULES, today)
    async with runtime.sessions() as session:
        due = await session.scalar(select(checks_due.c.due_on).where(checks_due.c.subject_id == home))
    return check_case_id(CertificateKind.GAS_SAFETY, home, due)


def reply(case_id: str, intent: Intent = Intent.CONFIRM) -> ReplyReceived:
    return ReplyReceived(correlation_id=case_id, case_id=case_id, intent=intent, received_at=utcnow())


async def visits(runtime: Runtime, case_id: str) -> list[Row]:
    async with runtime.sessions() as session:
        return list(
            (await session.execute(select(appointments).where(appointments.c.case_id == case_id))).all()
        )


async def requested(runtime: Runtime, purpose: Purpose, case_id: str) -> list:  # type: ignore[type-arg]
    events = await outbox_events(runtime, "notification.requested")
    return [e for e in events if e.purpose is purpose and e.case_id == case_id]


async def test_confirm_books_the_morning_proposed_once(runtime: Runtime):
    case_id = await offered(runtime)
    await gas_check_confirmed(runtime, reply(case_id), LEAD)
    await gas_check_confirmed(runtime, reply(case_id), LEAD)
    [visit] = await visits(runtime, case_id)
    assert (visit.kind, visit.status) == ("gas_check", "booked")
    assert visit.starts_at == proposed_visit(date.today(), LEAD)[0]
    assert len(await requested(runtime, Purpose.APPOINTMENT_CONFIRMATION, case_id)) == 1


async def test_a_morning_taken_since_brings_fresh_offers(runtime: Runtime):
    case_id = await offered(runtime)
    starts, ends = proposed_visit(date.today(), LEAD)
    taken = {"case_id": "someone-else", "reference": "HX-1", "kind": "repair", "status": "booked", "place": 1}
    async with runtime.sessions.begin() as session:
        await session.execute(
            insert(appointments).values(
                id="other", starts_at=starts, ends_at=ends, contractor_id="C1", booked_at=utcnow(), **taken
            )
        )
    await gas_check_confirmed(runtime, reply(case_id), LEAD)
    assert await visits(runtime, case_id) == []
    assert len(await requested(runtime, Purpose.APPOINTMENT_OFFERS, case_id)) == 1


async def test_other_replies_and_other_cases_are_left_to_booking(runtime: Runtime):
    case_id = await offered(runtime)
    await gas_check_confirmed(runtime, reply(case_id, Intent.REARRANGE), LEAD)
    await gas_check_confirmed(runtime, reply("case-of-a-repair"), LEAD)
    await gas_check_confirmed(runtime, reply("gas-00000000000000000000000000000000"), LEAD)  # no such check
    assert await visits(runtime, case_id) == []


async def test_the_reply_arrives_through_the_service_subscriber(runtime: Runtime):
    case_id = await offered(runtime)
    create_app(runtime)
    confirm = reply(case_id)
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(serialize(confirm), str(Topic.NOTIFICATIONS_OUTCOMES), key=confirm.key())
    assert len(await visits(runtime, case_id)) == 1


async def test_confirm_to_a_chaser_books_the_morning_the_chaser_proposed(runtime: Runtime):
    case_id = await offered(runtime)
    await gas_check_confirmed(runtime, reply(case_id), LEAD)
    [first] = await visits(runtime, case_id)
    await no_access(runtime, first.id)
    chased_on = date.today() + timedelta(days=1)
    await sweep_gas(runtime, RULES, chased_on)
    [chaser] = await requested(runtime, Purpose.GAS_CHECK_CHASER, case_id)
    proposal = proposed_visit(chased_on, LEAD)
    assert chaser.personalisation["appointment_date"] == spoken_date(proposal[0], calendar)

    await gas_check_confirmed(runtime, reply(case_id), LEAD)
    second = [v for v in await visits(runtime, case_id) if v.id != first.id]
    assert [(v.status, v.starts_at) for v in second] == [("booked", proposal[0])]
