"""The daily gas sweep over a real SQLite database: offers in the window, once a day;
chasers after no access; staff after the third; certificates move the due date."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from shared.events import utcnow
from shared.events.compliance import CertificateKind, EscalationReason
from shared.events.notifications import Purpose
from shared.service import Runtime
from services.scheduler import booking
from services.scheduler.adapters.tables import appointments, bookings_to_make, contractors
from services.scheduler.compliance import gas_sweep
from services.scheduler.compliance.gas_sweep import GasRules, sweep_gas
from services.scheduler.compliance.programme import check_case_id
from services.scheduler.compliance.recording import Certificate, record_certificate
from services.scheduler.compliance.tables import checks_due
from tests.component.timed_support import (
    add_appointment,
    add_contractor,
    add_homes,
    outbox_events,
    scheduler_runtime,
    sqlite_url,
)

GAS = CertificateKind.GAS_SAFETY
RULES = GasRules(chase_after=timedelta(days=14), lead_working_days=10, booking_link="https://example.org/gas")
TODAY = date(2026, 8, 3)


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    runtime = await scheduler_runtime(sqlite_url(tmp_path))
    await add_contractor(runtime)
    yield runtime
    await runtime.engine.dispose()


async def certify(runtime: Runtime, home: str, checked_on: date) -> None:
    await record_certificate(runtime, Certificate(GAS, home, checked_on))


async def test_homes_in_the_window_are_offered_once_and_others_wait(runtime: Runtime):
    inside, outside = await add_homes(runtime, 2)
    await certify(runtime, inside, date(2025, 9, 1))  # due 2026-09-01: window opened 07-01
    await certify(runtime, outside, date(2025, 12, 1))  # due 2026-12-01: window opens 10-01
    first = await sweep_gas(runtime, RULES, TODAY)
    again = await sweep_gas(runtime, RULES, TODAY)
    assert (first.offered, again.offered, again.chased) == (1, 0, 0)
    [offer] = await outbox_events(runtime, "compliance.gas_check_offered")
    case_id = check_case_id(GAS, inside, date(2026, 9, 1))
    assert (offer.property_id, offer.case_id, offer.attempt) == (inside, case_id, 1)
    assert offer.key() == inside.encode()
    [request] = await outbox_events(runtime, "notification.requested")
    assert request.purpose is Purpose.GAS_CHECK_OFFER and request.case_id == case_id
    assert request.personalisation["certificate_expires"] == "Tuesday 1 September 2026"
    assert request.personalisation["link"].endswith(case_id)
    assert {"appointment_date", "appointment_time", "reference"} <= set(request.personalisation)


async def test_a_home_with_gas_and_no_certificate_is_due_now_and_without_gas_never(runtime: Runtime):
    [home] = await add_homes(runtime, 1)
    counts = await sweep_gas(runtime, RULES, TODAY)
    assert counts.offered == 1
    async with runtime.sessions() as session:
        due = await session.scalar(select(checks_due.c.due_on).where(checks_due.c.subject_id == home))
    assert due == TODAY


async def record_visit(runtime: Runtime, case_id: str, n: int, **outcome: object) -> None:
    starts = utcnow() - timedelta(days=30 - n)
    await add_appointment(
        runtime, f"{case_id[:20]}-{n}", starts, case_id=case_id, kind="gas_check", place=n, **outcome
    )


async def test_no_access_brings_a_chaser_then_a_third_offer_then_staff(runtime: Runtime):
    [home] = await add_homes(runtime, 1)
    await certify(runtime, home, date(2025, 9, 1))
    case_id = check_case_id(GAS, home, date(2026, 9, 1))
    await sweep_gas(runtime, RULES, TODAY)
    for attempt in (1, 2, 3):
        await record_visit(runtime, case_id, attempt, status="no_access", no_access_at=utcnow())
        day = TODAY + timedelta(days=attempt)
        counts = await sweep_gas(runtime, RULES, day)
        assert (await sweep_gas(runtime, RULES, day)).as_dict() | {"looked_at": 0} == {
            "looked_at": 0,
            "offered": 0,
            "chased": 0,
            "escalated": 0,
        }
        if attempt < 3:
            assert counts.chased == 1
        else:
            assert counts.escalated == 1
    offers = await outbox_events(runtime, "compliance.gas_check_offered")
    assert [o.attempt for o in offers] == [1, 2, 3]
    purposes = [r.purpose for r in await outbox_events(runtime, "notification.requested")]
    assert purposes == [Purpose.GAS_CHECK_OFFER, Purpose.GAS_CHECK_CHASER, Purpose.GAS_CHECK_CHASER]
    [escalated] = await outbox_events(runtime, "compliance.gas_check_escalated")
    assert (escalated.case_id, escalated.attempts, escalated.reason) == (
        case_id,
        3,
        EscalationReason.NO_ACCESS,
    )
    assert (await sweep_gas(runtime, RULES, TODAY + timedelta(days=30))).escalated == 0


async def test_a_booked_visit_holds_the_chasers_back(runtime: Runtime):
    [home] = await add_homes(runtime, 1)
    await certify(runtime, home, date(2025, 9, 1))
    case_id = check_case_id(GAS, home, date(2026, 9, 1))
    await sweep_gas(runtime, RULES, TODAY)
    await add_appointment(runtime, "G1", utcnow() + timedelta(days=5), case_id=case_id, kind="gas_check")
    assert (await sweep_gas(runtime, RULES, TODAY + timedelta(days=20))).chased == 0
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(appointments)
            .where(appointments.c.id == "G1")
            .values(no_access_at=utcnow(), status="no_access")
        )
    assert (await sweep_gas(runtime, RULES, TODAY + timedelta(days=20))).chased == 1


async def test_nobody_to_offer_to_goes_straight_to_staff(runtime: Runtime):
    [home] = await add_homes(runtime, 1, tenant=False)
    counts = await sweep_gas(runtime, RULES, TODAY)
    assert (counts.offered, counts.escalated) == (0, 1)
    [escalated] = await outbox_events(runtime, "compliance.gas_check_escalated")
    assert (escalated.property_id, escalated.reason, escalated.attempts) == (
        home,
        EscalationReason.NO_CONTACT,
        0,
    )
    assert await outbox_events(runtime, "notification.requested") == []
    assert (await sweep_gas(runtime, RULES, TODAY + timedelta(days=1))).escalated == 0


async def test_a_new_certificate_ends_the_offers_and_keeps_or_resets_the_due_date(runtime: Runtime):
    kept, reset = await add_homes(runtime, 2)
    for home in (kept, reset):
        await certify(runtime, home, date(2025, 9, 1))
    await sweep_gas(runtime, RULES, TODAY)
    await certify(runtime, kept, date(2026, 8, 10))  # inside the window: keeps 1 September
    await certify(runtime, reset, date(2026, 6, 30))  # before it: resets to 30 June
    await certify(runtime, reset, date(2026, 6, 30))  # the same check again changes nothing
    async with runtime.sessions() as session:
        due = dict((await session.execute(select(checks_due.c.subject_id, checks_due.c.due_on))).all())
    assert due == {kept: date(2027, 9, 1), reset: date(2027, 6, 30)}
    recorded = await outbox_events(runtime, "compliance.certificate_recorded")
    assert len(recorded) == 4 and {r.key() for r in recorded} == {kept.encode(), reset.encode()}
    assert (await sweep_gas(runtime, RULES, TODAY + timedelta(days=30))).as_dict() == {
        "looked_at": 0,
        "offered": 0,
        "chased": 0,
        "escalated": 0,
    }


async def test_an_offered_check_is_booked_like_any_visit_and_then_waits(runtime: Runtime):
    [home] = await add_homes(runtime, 1)
    await certify(runtime, home, date(2025, 9, 1))
    async with runtime.sessions.begin() as session:
        await session.execute(
            update(contractors)
            .where(contractors.c.id == "C1")
            .values(trades=["heating"], working_days=[1, 2, 3, 4, 5, 6])
        )
    await sweep_gas(runtime, RULES, TODAY)
    case_id = check_case_id(GAS, home, date(2026, 9, 1))
    async with runtime.sessions.begin() as session:
        offers = await booking.make_offers(session, case_id, utcnow())
    assert offers, "the check found no offers among the bookings to make"
    booked = await booking.accept_offer(runtime, case_id, 1)
    assert booked.appointment.kind == "gas_check" and booked.appointment.case_id == case_id
    assert (await sweep_gas(runtime, RULES, TODAY + timedelta(days=20))).chased == 0


async def test_a_conflicting_home_in_one_chunk_does_not_stop_the_others_being_offered(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(gas_sweep, "CHUNK", 2)
    homes = await add_homes(runtime, 5)
    for home in homes:
        await certify(runtime, home, date(2025, 9, 1))  # all due 2026-09-01, in the window
    # The second home's check already has its booking (another sweep got there first), so
    # inserting it again breaks the unique case id in the first chunk.
    taken = check_case_id(GAS, homes[1], date(2026, 9, 1))
    async with runtime.sessions.begin() as session:
        await session.execute(
            insert(bookings_to_make).values(
                case_id=taken, reference="GAS-X", priority="routine", received_at=utcnow(), status="offered"
            )
        )

    counts = await sweep_gas(runtime, RULES, TODAY)

    assert counts.offered == 4
    offered = {o.property_id for o in await outbox_events(runtime, "compliance.gas_check_offered")}
    assert offered == set(homes) - {homes[1]}
    requests = await outbox_events(runtime, "notification.requested")
    assert {r.case_id for r in requests} == {check_case_id(GAS, h, date(2026, 9, 1)) for h in offered}
