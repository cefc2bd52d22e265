"""Booking on case.opened, tenant replies, the staff API, moves and cancellations: the
scheduler's handlers over a real SQLite database, events read back from its outbox."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.calendar import default_calendar as calendar
from shared.events import utcnow
from shared.events.appointments import AppointmentKind
from shared.events.cases import CaseFlagged, CaseKind, Channel, Flag, Priority
from shared.events.notifications import Intent, Purpose, ReplyReceived
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler import booking, handlers
from services.scheduler.adapters.tables import appointments, bookings_to_make, contractors, works_orders
from services.scheduler.adapters.tables import offers as offers_table
from services.scheduler.domain.reminders import remind_at
from services.scheduler.app import create_app
from tests.scheduler_world import STAFF_TOKEN, TENANT, emitted, opened, scheduler_runtime, seed, topics_of

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await scheduler_runtime(f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}")
    await seed(runtime)
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def staff_api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://scheduler") as client:
        yield client


async def rows(runtime: Runtime, table, **where):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return list(await session.execute(query))


def reply(case_id: str, intent: Intent, offer: int | None = None) -> ReplyReceived:
    return ReplyReceived(
        correlation_id=case_id, case_id=case_id, intent=intent, offer=offer, received_at=utcnow()
    )


# -- emergencies -------------------------------------------------------------------------


async def test_an_emergency_is_booked_at_once_with_a_works_order_and_both_confirmations(runtime: Runtime):
    case = opened(priority=Priority.EMERGENCY, description="Water pouring through the ceiling")
    await handlers.case_opened(runtime, case)

    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    assert booked.contractor_id == "c-rota"
    assert booked.starts_at < case.received_at + timedelta(hours=24)
    [order] = await emitted(runtime, "works_order.raised", case.case_id)
    assert (order.contractor_name, order.contractor_phone) == ("Night Response", "020 7946 0123")
    assert order.job_description == "Water pouring through the ceiling"
    requests = await emitted(runtime, "notification.requested", case.case_id)
    by_purpose = {r.purpose: r for r in requests}
    assert set(by_purpose) == {Purpose.WORKS_ORDER_CONFIRMATION, Purpose.APPOINTMENT_CONFIRMATION}
    confirmation = by_purpose[Purpose.WORKS_ORDER_CONFIRMATION]
    assert confirmation.recipient == TENANT
    assert confirmation.personalisation["works_order"] == order.works_order_id
    assert by_purpose[Purpose.APPOINTMENT_CONFIRMATION].appointment_id == booked.appointment_id
    assert await topics_of(runtime, "works_order.raised") == {Topic.APPOINTMENTS}
    assert await topics_of(runtime, "notification.requested") == {Topic.NOTIFICATIONS_REQUESTED}


async def test_a_redelivered_case_books_nothing_more(runtime: Runtime):
    case = opened(priority=Priority.EMERGENCY)
    await handlers.case_opened(runtime, case)
    before = len(await emitted(runtime))
    await handlers.case_opened(runtime, case)
    assert len(await emitted(runtime)) == before
    assert len(await rows(runtime, appointments, case_id=case.case_id)) == 1
    assert len(await rows(runtime, works_orders, case_id=case.case_id)) == 1


async def test_an_emergency_with_nobody_on_the_rota_is_left_for_staff(runtime: Runtime):
    async with runtime.sessions.begin() as session:
        await session.execute(
            contractors.update().where(contractors.c.id == "c-rota").values(emergency_rota=False)
        )
    case = opened(priority=Priority.EMERGENCY)
    await handlers.case_opened(runtime, case)
    assert not await emitted(runtime, "appointment.booked", case.case_id)
    [booking] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert booking.status == "unbooked"


async def test_an_emergency_is_not_offered_a_window_under_way_that_is_already_full(runtime: Runtime):
    from datetime import UTC

    from services.scheduler.adapters import store
    from services.scheduler.domain.offers import Need
    from services.scheduler.domain.slots import Pattern

    now = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)  # half an hour into the 12:00-14:00 window
    window = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    async with runtime.sessions.begin() as session:
        await session.execute(appointments.insert().values(
            id="earlier-emergency", case_id="case-earlier", reference="HX-EARLIER1", kind="repair",
            status="booked", starts_at=window, ends_at=window + timedelta(hours=2), contractor_id="c-rota",
            place=1, booked_at=now - timedelta(minutes=20),
        ))
    async with runtime.sessions() as session:
        need = Need("plumbing", "SE15", Pattern.EMERGENCY, now, now + timedelta(hours=24))
        made = await booking.search(session, need, await store.contractors_for_offers(session))
    assert made and (made[0].contractor_id, made[0].starts_at) != ("c-rota", window)


# -- written and online reports get offers ---------------------------------------------


async def test_a_written_report_is_sent_three_numbered_offers_and_nothing_is_booked_yet(runtime: Runtime):
    case = opened(priority=Priority.ROUTINE, channel=Channel.EMAIL)
    await handlers.case_opened(runtime, case)

    [offers] = await emitted(runtime, "notification.requested", case.case_id)
    assert offers.purpose is Purpose.APPOINTMENT_OFFERS
    assert offers.recipient == TENANT
    assert {"offer_1", "offer_2", "offer_3"} <= set(offers.personalisation)
    assert offers.key() == case.case_id.encode()
    assert not await emitted(runtime, "appointment.booked")
    [booking] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert booking.status == "offered"


async def test_the_tenant_replying_2_books_the_second_offer(runtime: Runtime):
    case = opened(channel=Channel.WEB)
    await handlers.case_opened(runtime, case)
    [offers] = await emitted(runtime, "notification.requested", case.case_id)

    answer = reply(case.case_id, Intent.CHOOSE_OFFER, 2)
    await handlers.reply_received(runtime, answer)
    await handlers.reply_received(runtime, answer)  # redelivered

    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    local = calendar.local(booked.starts_at)
    assert offers.personalisation["offer_2"].startswith(f"{local:%A} {local.day} {local:%B}")
    [confirmation] = [
        r
        for r in await emitted(runtime, "notification.requested", case.case_id)
        if r.purpose is Purpose.APPOINTMENT_CONFIRMATION
    ]
    assert confirmation.recipient == TENANT and confirmation.appointment_starts_at == booked.starts_at
    assert len(await emitted(runtime, "works_order.raised", case.case_id)) == 1


async def test_a_reply_about_an_unknown_case_or_offer_changes_nothing(runtime: Runtime):
    await handlers.reply_received(runtime, reply("no-such-case", Intent.CHOOSE_OFFER, 1))
    case = opened()
    await handlers.case_opened(runtime, case)
    await handlers.reply_received(runtime, reply(case.case_id, Intent.CHOOSE_OFFER, 7))
    assert not await emitted(runtime, "appointment.booked")


async def test_a_tenant_with_no_contact_is_left_for_staff_to_call(runtime: Runtime):
    case = opened(contact=None).model_copy(update={"tenancy_id": None})
    await handlers.case_opened(runtime, case)
    assert not await emitted(runtime, "notification.requested", case.case_id)
    [booking] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert booking.status == "to_contact"


async def test_the_tenancy_record_is_used_when_the_case_has_no_contact(runtime: Runtime):
    case = opened(contact=None)
    await handlers.case_opened(runtime, case)
    [offers] = await emitted(runtime, "notification.requested", case.case_id)
    assert offers.recipient.phone == "+447700900555"


# -- inspections and home visits ---------------------------------------------------------


async def test_a_pre_work_inspection_is_offered_with_a_surveyor_in_office_hours_within_10_working_days(
    runtime: Runtime,
):
    case = opened(flags=(Flag.INSPECTION_REQUIRED,))
    await handlers.case_opened(runtime, case)
    await handlers.reply_received(runtime, reply(case.case_id, Intent.CHOOSE_OFFER, 1))
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    assert booked.kind is AppointmentKind.INSPECTION and booked.contractor_id == "c-survey"
    assert calendar.is_office_hours(booked.starts_at)
    assert booked.ends_at <= calendar.deadline(case.received_at, 10, "working_days")
    assert not await emitted(runtime, "works_order.raised", case.case_id)  # the order follows the survey


async def test_a_safeguarding_home_visit_is_within_one_working_day(runtime: Runtime):
    case = opened(kind=CaseKind.HOME_VISIT, priority=None, flags=(Flag.SAFEGUARDING,))
    await handlers.case_opened(runtime, case)
    [offers] = await emitted(runtime, "notification.requested", case.case_id)
    assert offers.safeguarding
    [booking] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert booking.book_by == calendar.deadline(case.received_at, 1, "working_days")


# -- the staff API during a call ---------------------------------------------------------


async def test_staff_list_offers_and_book_one_during_the_call(runtime: Runtime, staff_api: httpx.AsyncClient):
    case = opened(channel=Channel.PHONE)
    await handlers.case_opened(runtime, case)
    assert not await emitted(runtime, "notification.requested", case.case_id)  # spoken: no offers sent

    listed = await staff_api.get(f"/staff/cases/{case.case_id}/offers", headers=STAFF)
    assert listed.status_code == 200
    offers = listed.json()["offers"]
    assert [o["number"] for o in offers] == [1, 2, 3]

    booked = await staff_api.post(
        f"/staff/cases/{case.case_id}/appointment", json={"offer": 3}, headers=STAFF
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["starts_at"] == offers[2]["starts_at"]
    assert booked.json()["status"] == "booked"
    assert await emitted(runtime, "appointment.booked", case.case_id)


async def test_the_staff_api_wants_a_staff_token(staff_api: httpx.AsyncClient):
    assert (await staff_api.get("/staff/cases/x/offers")).status_code == 401
    wrong = {"Authorization": "Bearer not-a-staff-token"}
    assert (await staff_api.get("/staff/cases/x/offers", headers=wrong)).status_code == 403


async def test_the_staff_api_names_what_is_missing_or_wrong(staff_api: httpx.AsyncClient, runtime: Runtime):
    assert (await staff_api.get("/staff/cases/nope/offers", headers=STAFF)).status_code == 404
    case = opened(channel=Channel.PHONE)
    await handlers.case_opened(runtime, case)
    bad = await staff_api.post(
        f"/staff/cases/{case.case_id}/appointment", json={"offer": "first"}, headers=STAFF
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "offer"]
    assert "first" not in bad.text
    unlisted = await staff_api.post(
        f"/staff/cases/{case.case_id}/appointment", json={"offer": 1}, headers=STAFF
    )
    assert unlisted.status_code == 404  # offers are listed before one is taken
    assert (await staff_api.post("/staff/appointments/nope/cancel", headers=STAFF)).status_code == 404


async def test_the_last_place_taken_by_someone_else_is_a_409_with_fresh_offers(
    runtime: Runtime, staff_api: httpx.AsyncClient
):
    async with runtime.sessions.begin() as session:  # only the plumber, one place per slot, does taps
        await session.execute(
            contractors.update()
            .where(contractors.c.trades.is_not(None))
            .where(contractors.c.id != "c-plumb")
            .values(trades=["roofing"])
        )
    first, second = opened(channel=Channel.PHONE), opened(channel=Channel.PHONE)
    for case in (first, second):
        await handlers.case_opened(runtime, case)
    offers_a = (await staff_api.get(f"/staff/cases/{first.case_id}/offers", headers=STAFF)).json()["offers"]
    offers_b = (await staff_api.get(f"/staff/cases/{second.case_id}/offers", headers=STAFF)).json()["offers"]
    assert offers_a[0] == offers_b[0]  # the plumber's one place at the earliest slot, offered to both

    won = await staff_api.post(f"/staff/cases/{first.case_id}/appointment", json={"offer": 1}, headers=STAFF)
    lost = await staff_api.post(
        f"/staff/cases/{second.case_id}/appointment", json={"offer": 1}, headers=STAFF
    )
    assert won.status_code == 201
    assert lost.status_code == 409
    body = lost.json()
    assert "taken" in body["detail"]
    assert body["offers"] and offers_a[0]["starts_at"] not in [o["starts_at"] for o in body["offers"]]
    retry = await staff_api.post(
        f"/staff/cases/{second.case_id}/appointment", json={"offer": 1}, headers=STAFF
    )
    assert retry.status_code == 201


# -- moving and cancelling ---------------------------------------------------------------


async def booked_case(runtime: Runtime) -> tuple[str, str]:
    case = opened()
    await handlers.case_opened(runtime, case)
    await handlers.reply_received(runtime, reply(case.case_id, Intent.CHOOSE_OFFER, 1))
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    return case.case_id, booked.appointment_id


async def test_rearrange_sends_fresh_offers_and_choosing_one_moves_the_appointment_and_its_reminder(
    runtime: Runtime,
):
    case_id, appointment_id = await booked_case(runtime)
    [before] = await rows(runtime, appointments, id=appointment_id)
    async with runtime.sessions.begin() as session:
        await session.execute(appointments.update().values(reminded_at=utcnow()))

    await handlers.reply_received(runtime, reply(case_id, Intent.REARRANGE))
    offers = [
        r
        for r in await emitted(runtime, "notification.requested", case_id)
        if r.purpose is Purpose.APPOINTMENT_OFFERS
    ]
    assert len(offers) == 2
    fresh = await rows(runtime, offers_table, case_id=case_id)
    assert len(fresh) == 3 and before.starts_at not in [o.starts_at for o in fresh]
    await handlers.reply_received(runtime, reply(case_id, Intent.CHOOSE_OFFER, 1))

    [moved] = await emitted(runtime, "appointment.rescheduled", case_id)
    [after] = await rows(runtime, appointments, id=appointment_id)
    assert moved.appointment_id == appointment_id
    assert moved.contractor_id == after.contractor_id is not None
    assert after.starts_at == moved.starts_at != before.starts_at
    assert after.reminded_at is None
    # The reminder follows the new time (which may fall on the same day as the old one).
    assert after.remind_at == remind_at(after.starts_at, moved.rescheduled_at, calendar)
    confirmations = [
        r
        for r in await emitted(runtime, "notification.requested", case_id)
        if r.purpose is Purpose.APPOINTMENT_CONFIRMATION
    ]
    assert [c.appointment_starts_at for c in confirmations] == [before.starts_at, moved.starts_at]


async def test_cancelling_frees_the_place_and_drops_the_reminder(
    runtime: Runtime, staff_api: httpx.AsyncClient
):
    case_id, appointment_id = await booked_case(runtime)
    response = await staff_api.post(f"/staff/appointments/{appointment_id}/cancel", headers=STAFF)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    [row] = await rows(runtime, appointments, id=appointment_id)
    assert (row.place, row.remind_at, row.reminded_at) == (None, None, None)
    [cancelled] = await emitted(runtime, "appointment.cancelled", case_id)
    assert cancelled.appointment_id == appointment_id
    again = await staff_api.post(f"/staff/appointments/{appointment_id}/cancel", headers=STAFF)
    assert again.status_code == 200
    assert len(await emitted(runtime, "appointment.cancelled", case_id)) == 1
    # The freed place can be booked again.
    listed = (await staff_api.get(f"/staff/cases/{case_id}/offers", headers=STAFF)).json()["offers"]
    assert datetime.fromisoformat(listed[0]["starts_at"]) == row.starts_at


async def test_staff_move_an_appointment_by_booking_another_offer(
    runtime: Runtime, staff_api: httpx.AsyncClient
):
    case_id, appointment_id = await booked_case(runtime)
    [before] = await rows(runtime, appointments, id=appointment_id)
    listed = (await staff_api.get(f"/staff/cases/{case_id}/offers", headers=STAFF)).json()["offers"]
    assert before.starts_at not in [datetime.fromisoformat(o["starts_at"]) for o in listed]

    moved = await staff_api.post(f"/staff/cases/{case_id}/appointment", json={"offer": 2}, headers=STAFF)
    assert moved.status_code == 201
    assert moved.json()["appointment_id"] == appointment_id
    assert moved.json()["starts_at"] == listed[1]["starts_at"]
    [rescheduled] = await emitted(runtime, "appointment.rescheduled", case_id)
    assert rescheduled.starts_at == datetime.fromisoformat(listed[1]["starts_at"])
    [after] = await rows(runtime, appointments, id=appointment_id)
    assert after.place is not None and len(await rows(runtime, appointments, case_id=case_id)) == 1


async def test_a_cancelled_appointment_cannot_be_moved_but_the_case_can_be_booked_again(
    runtime: Runtime, staff_api: httpx.AsyncClient
):
    case_id, appointment_id = await booked_case(runtime)
    await staff_api.post(f"/staff/appointments/{appointment_id}/cancel", headers=STAFF)
    await staff_api.get(f"/staff/cases/{case_id}/offers", headers=STAFF)
    rebooked = await staff_api.post(f"/staff/cases/{case_id}/appointment", json={"offer": 1}, headers=STAFF)
    assert rebooked.status_code == 201 and rebooked.json()["appointment_id"] != appointment_id
    assert (
        len(await emitted(runtime, "works_order.raised", case_id)) == 1
    )  # the same order, now for the new visit
    [order] = await rows(runtime, works_orders, case_id=case_id)
    assert order.appointment_id == rebooked.json()["appointment_id"]


async def test_the_tenant_cancels_by_text_and_the_case_is_to_book_again(runtime: Runtime):
    case_id, appointment_id = await booked_case(runtime)
    await handlers.reply_received(runtime, reply(case_id, Intent.CANCEL))
    [cancelled] = await emitted(runtime, "appointment.cancelled", case_id)
    assert cancelled.appointment_id == appointment_id
    [row] = await rows(runtime, appointments, id=appointment_id)
    assert (row.status, row.place, row.remind_at) == ("cancelled", None, None)
    [booking] = await rows(runtime, bookings_to_make, case_id=case_id)
    assert booking.status == "to_book"
    await handlers.reply_received(runtime, reply(case_id, Intent.CANCEL))  # nothing left to cancel
    assert len(await emitted(runtime, "appointment.cancelled", case_id)) == 1


def flagged(case_id: str, flag: str = Flag.INSPECTION_REQUIRED) -> CaseFlagged:
    return CaseFlagged(
        correlation_id=case_id, case_id=case_id, reference="HX-1", flag=flag, flagged_at=utcnow()
    )


async def test_a_repair_flagged_for_inspection_before_booking_is_offered_a_surveyor_instead(runtime: Runtime):
    case = opened(channel=Channel.WEB)
    await handlers.case_opened(runtime, case)
    await handlers.case_flagged(runtime, flagged(case.case_id))
    await handlers.case_flagged(runtime, flagged(case.case_id))  # said twice: offered once more only

    [booking] = await rows(runtime, bookings_to_make, case_id=case.case_id)
    assert (booking.kind, booking.trade, booking.status) == ("inspection", "surveyor", "offered")
    offers = [r for r in await emitted(runtime, "notification.requested", case.case_id)]
    assert len(offers) == 2  # the repair's first, then the inspection's
    await handlers.reply_received(runtime, reply(case.case_id, Intent.CHOOSE_OFFER, 1))
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    assert booked.kind is AppointmentKind.INSPECTION and booked.contractor_id == "c-survey"


async def test_other_flags_and_booked_repairs_are_left_alone(runtime: Runtime):
    case_id, _ = await booked_case(runtime)
    before = len(await emitted(runtime))
    await handlers.case_flagged(runtime, flagged(case_id))
    await handlers.case_flagged(runtime, flagged(case_id, Flag.DAMP_AND_MOULD))
    await handlers.case_flagged(runtime, flagged("no-such-case"))
    assert len(await emitted(runtime)) == before
    [booking] = await rows(runtime, bookings_to_make, case_id=case_id)
    assert booking.kind == "repair"


async def test_two_concurrent_bookings_of_one_case_leave_it_one_open_appointment(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    # The tenant's text and a member of staff on the telephone book the same case at once,
    # into different slots: both read "no appointment yet" before either has inserted one.
    case = opened(channel=Channel.WEB)
    await handlers.case_opened(runtime, case)
    read = booking.store.open_appointment_of_case
    both_read = asyncio.Barrier(2)
    racing = 2

    async def read_together(session, case_id):  # type: ignore[no-untyped-def]
        nonlocal racing
        current = await read(session, case_id)
        if racing:
            racing -= 1
            await asyncio.wait_for(both_read.wait(), 5)
        return current

    monkeypatch.setattr(booking.store, "open_appointment_of_case", read_together)
    first, second = await asyncio.gather(
        booking.accept_offer(runtime, case.case_id, 1), booking.accept_offer(runtime, case.case_id, 2)
    )

    open_ones = [r for r in await rows(runtime, appointments, case_id=case.case_id) if r.status == "booked"]
    assert len(open_ones) == 1
    assert first.appointment.id == second.appointment.id == open_ones[0].id
    assert len(await emitted(runtime, "appointment.booked", case.case_id)) == 1
