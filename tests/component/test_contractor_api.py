"""The contractor API and the contractor's day, over a real SQLite database: tokens,
own jobs only, on the way, arrived, completed, no access, did not attend."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shared.calendar import default_calendar as calendar
from shared.events import utcnow
from shared.events.cases import Channel, Flag, Priority
from shared.events.notifications import Intent, ReplyReceived
from shared.events.finance import CreditReason
from shared.events.notifications import Purpose
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler import booking, handlers, visits
from services.scheduler.adapters.standards import due_by
from services.scheduler.adapters.tables import appointments, bookings_to_make, rent_credits
from services.scheduler.app import create_app
from services.scheduler.domain.appointments import AppointmentStatus
from tests.scheduler_world import STAFF_TOKEN, TOKENS, emitted, opened, scheduler_runtime, seed, topics_of


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ROTA, PLUMBER = bearer(TOKENS["c-rota"]), bearer(TOKENS["c-plumb"])


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await scheduler_runtime(
        f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}", inspection_share=0.05
    )
    await seed(runtime)
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://scheduler") as client:
        yield client


@pytest.fixture
async def job(runtime: Runtime) -> tuple[str, str]:
    """An emergency booked now with the rota contractor: (case id, appointment id)."""
    case = opened(priority=Priority.EMERGENCY)
    await handlers.case_opened(runtime, case)
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    return case.case_id, booked.appointment_id


async def rows(runtime: Runtime, table, **where):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return list(await session.execute(query))


async def visits_accept_first(runtime: Runtime, case_id: str) -> None:
    await handlers.reply_received(
        runtime,
        ReplyReceived(
            correlation_id=case_id, case_id=case_id, intent=Intent.CHOOSE_OFFER, offer=1, received_at=utcnow()
        ),
    )


async def status_of(runtime: Runtime, appointment_id: str) -> str:
    async with runtime.sessions() as session:
        return await session.scalar(select(appointments.c.status).where(appointments.c.id == appointment_id))


async def purposes(runtime: Runtime, case_id: str) -> list[Purpose]:
    return [r.purpose for r in await emitted(runtime, "notification.requested", case_id)]


# -- who may do what ---------------------------------------------------------------------


async def test_no_token_or_an_unknown_token_is_401(api: httpx.AsyncClient, job: tuple[str, str]):
    assert (await api.get("/contractor/jobs")).status_code == 401
    assert (await api.get("/contractor/jobs", headers=bearer("guessed"))).status_code == 401
    assert (
        await api.post(f"/contractor/jobs/{job[1]}/arrived", headers=bearer("guessed"))
    ).status_code == 401


async def test_another_contractors_job_is_403_and_unchanged(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    response = await api.post(f"/contractor/jobs/{job[1]}/on-the-way", headers=PLUMBER)
    assert response.status_code == 403
    assert await status_of(runtime, job[1]) == AppointmentStatus.BOOKED
    assert not await emitted(runtime, "appointment.contractor_en_route")


async def test_no_such_job_is_404(api: httpx.AsyncClient):
    assert (await api.post("/contractor/jobs/no-such-job/arrived", headers=ROTA)).status_code == 404


async def test_a_contractor_sees_only_its_own_jobs_of_the_day(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    async with runtime.sessions() as session:
        starts_at = await session.scalar(select(appointments.c.starts_at).where(appointments.c.id == job[1]))
    mine = await api.get(
        "/contractor/jobs", headers=ROTA, params={"day": calendar.local_date(starts_at).isoformat()}
    )
    assert mine.status_code == 200
    assert [j["appointment_id"] for j in mine.json()] == [job[1]]
    assert mine.json()[0]["address"] == "1 Rye Lane" and mine.json()[0]["postcode"] == "SE15 4AB"
    assert (await api.get("/contractor/jobs", headers=PLUMBER)).json() == []
    another_day = await api.get("/contractor/jobs", headers=ROTA, params={"day": "2020-01-01"})
    assert another_day.json() == []


# -- the day's buttons -------------------------------------------------------------------


async def test_on_the_way_emits_en_route_once_for_the_notifier(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    first = await api.post(f"/contractor/jobs/{appointment_id}/on-the-way", headers=ROTA)
    again = await api.post(f"/contractor/jobs/{appointment_id}/on-the-way", headers=ROTA)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "en_route"
    [en_route] = await emitted(runtime, "appointment.contractor_en_route", case_id)
    assert en_route.contractor_name == "Night Response"
    assert await topics_of(runtime, "appointment.contractor_en_route") == {Topic.APPOINTMENTS}
    assert Purpose.ON_THE_WAY not in await purposes(runtime, case_id)  # the notifier's to send


async def test_arrived_then_completed_asks_for_the_survey(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    assert (await api.post(f"/contractor/jobs/{appointment_id}/arrived", headers=ROTA)).status_code == 200
    done = await api.post(
        f"/contractor/jobs/{appointment_id}/completed", headers=ROTA, json={"fixed_first_time": True}
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"
    [arrived] = await emitted(runtime, "appointment.contractor_arrived", case_id)
    [completed] = await emitted(runtime, "appointment.completed", case_id)
    assert completed.fixed_first_time is True and completed.high_value_or_complex is False
    assert Purpose.SATISFACTION_SURVEY in await purposes(runtime, case_id)
    [booking] = await rows(runtime, bookings_to_make, case_id=case_id)
    assert booking.status == "completed"
    async with runtime.sessions() as session:
        row = (await session.execute(select(appointments).where(appointments.c.id == appointment_id))).one()
    assert row.arrived_at == arrived.at


async def test_a_follow_on_visit_is_offered_and_no_survey_is_sent_yet(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    response = await api.post(
        f"/contractor/jobs/{appointment_id}/completed", headers=ROTA, json={"fixed_first_time": False}
    )
    assert response.status_code == 200
    [completed] = await emitted(runtime, "appointment.completed", case_id)
    assert completed.fixed_first_time is False
    assert Purpose.APPOINTMENT_OFFERS in await purposes(runtime, case_id)  # the case came from the web
    assert Purpose.SATISFACTION_SURVEY not in await purposes(runtime, case_id)
    assert not await emitted(runtime, "works.inspection_requested", case_id)


async def test_after_a_pre_work_inspection_the_repair_itself_is_offered(
    api: httpx.AsyncClient, runtime: Runtime
):
    case = opened(flags=(Flag.INSPECTION_REQUIRED,), description="Damp patch spreading on the bedroom wall")
    await handlers.case_opened(runtime, case)
    await visits_accept_first(runtime, case.case_id)
    [inspection] = await emitted(runtime, "appointment.booked", case.case_id)
    response = await api.post(
        f"/contractor/jobs/{inspection.appointment_id}/completed",
        headers=bearer(TOKENS["c-survey"]),
        json={"fixed_first_time": True},
    )
    assert response.status_code == 200
    [booking] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert (booking.kind, booking.status) == ("repair", "offered")
    assert booking.book_by == due_by("repair_completion_routine", case.received_at)
    offers = [
        r
        for r in await emitted(runtime, "notification.requested", case.case_id)
        if r.purpose is Purpose.APPOINTMENT_OFFERS
    ]
    assert len(offers) == 2  # the inspection's, then the repair's
    assert Purpose.SATISFACTION_SURVEY not in await purposes(runtime, case.case_id)
    await visits_accept_first(runtime, case.case_id)
    repair = [b for b in await emitted(runtime, "appointment.booked", case.case_id) if b.kind == "repair"]
    assert len(repair) == 1 and repair[0].contractor_id != "c-survey"
    assert await emitted(runtime, "works_order.raised", case.case_id)


async def test_a_high_value_or_complex_job_is_always_flagged_for_post_inspection(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    response = await api.post(
        f"/contractor/jobs/{appointment_id}/completed",
        headers=ROTA,
        json={"fixed_first_time": True, "high_value_or_complex": True},
    )
    assert response.status_code == 200
    [requested] = await emitted(runtime, "works.inspection_requested", case_id)
    assert requested.appointment_id == appointment_id and requested.high_value_or_complex


async def test_the_sampled_share_is_the_configured_one(tmp_path: Path):
    runtime = await scheduler_runtime(f"sqlite+aiosqlite:///{tmp_path / 'all.db'}", inspection_share=1.0)
    await seed(runtime)
    case = opened(priority=Priority.EMERGENCY)
    await handlers.case_opened(runtime, case)
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    await visits.completed(runtime, booked.appointment_id, fixed_first_time=True, high_value_or_complex=False)
    [requested] = await emitted(runtime, "works.inspection_requested", case.case_id)
    assert not requested.high_value_or_complex
    await runtime.engine.dispose()


async def test_no_access_records_the_abortive_call_pauses_the_clock_and_leaves_a_card(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    response = await api.post(f"/contractor/jobs/{appointment_id}/no-access", headers=ROTA)
    assert response.status_code == 200 and response.json()["status"] == "no_access"
    [no_access] = await emitted(runtime, "appointment.no_access", case_id)
    assert no_access.appointment_id == appointment_id
    assert Purpose.NO_ACCESS in await purposes(runtime, case_id)
    async with runtime.sessions() as session:
        row = (await session.execute(select(appointments).where(appointments.c.id == appointment_id))).one()
    assert row.no_access_at is not None and row.remind_at is None


async def test_a_finished_job_cannot_be_finished_another_way(api: httpx.AsyncClient, job: tuple[str, str]):
    appointment_id = job[1]
    await api.post(f"/contractor/jobs/{appointment_id}/no-access", headers=ROTA)
    refused = await api.post(
        f"/contractor/jobs/{appointment_id}/completed", headers=ROTA, json={"fixed_first_time": True}
    )
    assert refused.status_code == 409
    assert "no_access" in refused.json()["detail"]


async def test_a_completion_without_its_outcome_is_422(api: httpx.AsyncClient, job: tuple[str, str]):
    response = await api.post(f"/contractor/jobs/{job[1]}/completed", headers=ROTA, json={})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "fixed_first_time"]


# -- did not attend ----------------------------------------------------------------------


async def test_a_missed_appointment_gives_exactly_one_10_pound_credit_and_one_apology(
    runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    await handlers.contractor_missed(runtime, appointment_id, "slot_ended")
    await handlers.contractor_missed(runtime, appointment_id, "slot_ended")
    await handlers.contractor_missed(runtime, appointment_id, "staff")

    [credit] = await emitted(runtime, "rent_credit.due", case_id)
    assert (credit.amount_pence, credit.reason, credit.appointment_id) == (
        1000,
        CreditReason.MISSED_APPOINTMENT,
        appointment_id,
    )
    assert await topics_of(runtime, "rent_credit.due") == {Topic.FINANCE_RENT_CREDITS}
    assert len(await emitted(runtime, "appointment.contractor_missed", case_id)) == 1
    apologies = [p for p in await purposes(runtime, case_id) if p is Purpose.MISSED_APPOINTMENT]
    assert len(apologies) == 1
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(rent_credits)) == 1
    assert await status_of(runtime, appointment_id) == AppointmentStatus.MISSED


async def test_after_a_missed_appointment_a_tenant_who_reported_online_is_sent_fresh_offers(runtime: Runtime):
    case = opened()  # routine, from the web
    await handlers.case_opened(runtime, case)
    await visits_accept_first(runtime, case.case_id)
    [first] = await emitted(runtime, "appointment.booked", case.case_id)

    await handlers.contractor_missed(runtime, first.appointment_id, "slot_ended")
    await handlers.contractor_missed(runtime, first.appointment_id, "slot_ended")

    offered = [r for r in await emitted(runtime, "notification.requested", case.case_id)
               if r.purpose is Purpose.APPOINTMENT_OFFERS]
    assert len(offered) == 2  # the first offers, then one set after the missed visit
    [waiting] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert waiting.status == "offered"
    await visits_accept_first(runtime, case.case_id)
    booked = await emitted(runtime, "appointment.booked", case.case_id)
    assert len(booked) == 2 and booked[1].appointment_id != first.appointment_id
    assert await status_of(runtime, booked[1].appointment_id) == AppointmentStatus.BOOKED
    assert len(await emitted(runtime, "rent_credit.due", case.case_id)) == 1
    assert len(await emitted(runtime, "works_order.raised", case.case_id)) == 1  # the same order


async def test_a_missed_emergency_is_booked_again_at_once(runtime: Runtime, job: tuple[str, str]):
    case_id, appointment_id = job
    await handlers.contractor_missed(runtime, appointment_id, "slot_ended")
    booked = await emitted(runtime, "appointment.booked", case_id)
    assert [b.appointment_id for b in booked][0] == appointment_id and len(booked) == 2
    assert await status_of(runtime, booked[1].appointment_id) == AppointmentStatus.BOOKED
    assert Purpose.APPOINTMENT_OFFERS not in await purposes(runtime, case_id)


async def test_after_a_missed_appointment_a_tenant_who_phoned_is_left_for_staff_to_book(runtime: Runtime):
    case = opened(channel=Channel.PHONE)
    await handlers.case_opened(runtime, case)
    offers = await booking.offers_now(runtime, case.case_id)  # staff, during the call
    await booking.accept_offer(runtime, case.case_id, offers[0].number)
    [first] = await emitted(runtime, "appointment.booked", case.case_id)
    await handlers.contractor_missed(runtime, first.appointment_id, "slot_ended")
    [waiting] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert waiting.status == "to_book"
    assert Purpose.APPOINTMENT_OFFERS not in await purposes(runtime, case.case_id)


async def test_staff_report_a_missed_appointment_through_the_api(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    staff = bearer(STAFF_TOKEN)
    assert (
        await api.post(f"/staff/appointments/{appointment_id}/missed", headers=staff, json={})
    ).status_code == 204
    assert (
        await api.post(f"/staff/appointments/{appointment_id}/missed", headers=staff, json={})
    ).status_code == 204
    assert len(await emitted(runtime, "rent_credit.due", case_id)) == 1
    assert (await api.post("/staff/appointments/nope/missed", headers=staff, json={})).status_code == 404
    assert (await api.post(f"/staff/appointments/{appointment_id}/missed", json={})).status_code == 401


async def test_a_job_the_contractor_arrived_at_cannot_be_reported_missed(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    await api.post(f"/contractor/jobs/{appointment_id}/arrived", headers=ROTA)
    response = await api.post(
        f"/staff/appointments/{appointment_id}/missed", headers=bearer(STAFF_TOKEN), json={}
    )
    assert response.status_code == 409
    assert not await emitted(runtime, "rent_credit.due", case_id)


# -- an emergency made safe ----------------------------------------------------------------


async def test_an_emergency_visit_completed_makes_the_hazard_safe_once(
    api: httpx.AsyncClient, runtime: Runtime, job: tuple[str, str]
):
    case_id, appointment_id = job
    for _ in range(2):  # pressed twice
        done = await api.post(
            f"/contractor/jobs/{appointment_id}/completed", headers=ROTA, json={"fixed_first_time": True}
        )
        assert done.status_code == 200
    [completed] = await emitted(runtime, "appointment.completed", case_id)
    [made_safe] = await emitted(runtime, "hazard.made_safe", case_id)
    assert made_safe.made_safe_at == completed.completed_at
    assert made_safe.reference == completed.reference
    assert await topics_of(runtime, "hazard.made_safe") == {Topic.APPOINTMENTS}


async def test_a_routine_repair_completed_says_nothing_of_a_hazard(api: httpx.AsyncClient, runtime: Runtime):
    case = opened(priority=Priority.ROUTINE)
    await handlers.case_opened(runtime, case)
    await visits_accept_first(runtime, case.case_id)
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    await visits.completed(runtime, booked.appointment_id, fixed_first_time=True, high_value_or_complex=False)
    assert await emitted(runtime, "appointment.completed", case.case_id)
    assert not await emitted(runtime, "hazard.made_safe", case.case_id)
