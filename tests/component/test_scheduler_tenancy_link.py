"""A case that came with only the sender's email or phone is linked to the one tenancy
those belong to: its home chooses the contractors who cover it, its mobile lets the works
order be texted; the case's own details still win, and the details never reach the log.
An emergency's confirmations are urgent, so neither waits out the night."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from shared.events import utcnow
from shared.events.cases import Channel, Mailbox, Priority
from shared.events.notifications import Intent, Purpose, Recipient, ReplyReceived
from shared.service import Runtime
from services.scheduler import handlers
from services.scheduler.adapters.tables import bookings_to_make, contractors, properties, tenancies
from tests.privacy import shows_phone
from tests.scheduler_world import emitted, opened, scheduler_runtime, seed

JO_EMAIL, JO_MOBILE = "jo.tenant@example.org", "+447700900321"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """The shared world, plus Jo's home in SE22 with a rota contractor of its own there
    (listed before the SE15 one, so a case with no home would go to it)."""
    runtime = await scheduler_runtime(f"sqlite+aiosqlite:///{tmp_path / 'scheduler.db'}")
    await seed(runtime)
    async with runtime.sessions.begin() as session:
        await session.execute(properties.insert().values(
            id="p-jo", address="7 Lordship Lane", postcode="SE22 8HN", block_id=None, has_gas=True, year_built=1972,
        ))
        await session.execute(tenancies.insert().values(
            id="t-jo", property_id="p-jo", tenant_name="Jo Tenant", mobile=JO_MOBILE, email=JO_EMAIL,
            preferred_channel="sms", active=True,
        ))
        await session.execute(contractors.insert().values(
            id="c-a-rota-se22", name="Dulwich Response", phone="020 7946 0999", trades=["general"],
            areas=["SE22"], working_days=[1, 2, 3, 4, 5], capacity_per_slot=1, emergency_rota=True,
        ))
    yield runtime
    await runtime.engine.dispose()


def emailed(sender: str | None, phone: str | None = None, priority: Priority = Priority.EMERGENCY):  # type: ignore[no-untyped-def]
    """A case as intake opens it from a mail: the sender's address and nothing else."""
    return opened(
        priority=priority, channel=Channel.EMAIL, description="I can smell gas in the kitchen",
        contact=Recipient(email=sender, phone=phone),
    ).model_copy(update={"property_id": None, "tenancy_id": None, "mailbox": Mailbox.REPAIRS})


async def booking_row(runtime: Runtime, case_id: str):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return (await session.execute(select(bookings_to_make).where(bookings_to_make.c.case_id == case_id))).one()


async def requested(runtime: Runtime, case_id: str, purpose: Purpose):  # type: ignore[no-untyped-def]
    [found] = [r for r in await emitted(runtime, "notification.requested", case_id) if r.purpose is purpose]
    return found


async def test_an_email_from_the_address_on_a_tenancy_is_booked_for_that_home_and_texted(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
):
    case = emailed("Jo.Tenant@example.org")
    with caplog.at_level(logging.INFO):
        await handlers.case_opened(runtime, case)

    row = await booking_row(runtime, case.case_id)
    assert (row.tenancy_id, row.property_id) == ("t-jo", "p-jo")
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    assert booked.contractor_id == "c-a-rota-se22"  # the one covering SE22
    order = await requested(runtime, case.case_id, Purpose.WORKS_ORDER_CONFIRMATION)
    assert order.recipient == Recipient(email="Jo.Tenant@example.org", phone=JO_MOBILE)
    assert (await requested(runtime, case.case_id, Purpose.APPOINTMENT_CONFIRMATION)).recipient == order.recipient
    assert "tenancy found from the sender" in caplog.text
    logged = caplog.text.lower()
    assert JO_EMAIL not in logged and not shows_phone(logged, JO_MOBILE)


async def test_a_phone_given_with_the_case_wins_over_the_tenancy_s_mobile(runtime: Runtime):
    case = emailed(None, phone="07700 900321")
    await handlers.case_opened(runtime, case)
    assert (await booking_row(runtime, case.case_id)).tenancy_id == "t-jo"
    order = await requested(runtime, case.case_id, Purpose.WORKS_ORDER_CONFIRMATION)
    assert order.recipient == Recipient(email=JO_EMAIL, phone="07700 900321")


async def test_an_address_on_two_tenancies_or_none_links_nothing(runtime: Runtime):
    async with runtime.sessions.begin() as session:
        await session.execute(tenancies.insert().values(
            id="t-jo-joint", property_id="p-1", tenant_name="Jo's partner", mobile=None, email=JO_EMAIL,
            preferred_channel="email", active=True,
        ))
    for sender in (JO_EMAIL, "stranger@example.org"):
        case = emailed(sender)
        await handlers.case_opened(runtime, case)
        row = await booking_row(runtime, case.case_id)
        assert (row.tenancy_id, row.property_id) == (None, None)
        order = await requested(runtime, case.case_id, Purpose.WORKS_ORDER_CONFIRMATION)
        assert order.recipient == Recipient(email=sender)  # by email: no mobile known


async def test_an_ended_tenancy_is_not_linked(runtime: Runtime):
    async with runtime.sessions.begin() as session:
        await session.execute(tenancies.update().where(tenancies.c.id == "t-jo").values(active=False))
    case = emailed(JO_EMAIL)
    await handlers.case_opened(runtime, case)
    assert (await booking_row(runtime, case.case_id)).tenancy_id is None


async def test_a_case_that_names_its_tenancy_keeps_it(runtime: Runtime):
    case = opened(priority=Priority.EMERGENCY, contact=Recipient(email=JO_EMAIL))  # t-1, p-1 in SE15
    await handlers.case_opened(runtime, case)
    row = await booking_row(runtime, case.case_id)
    assert (row.tenancy_id, row.property_id) == ("t-1", "p-1")
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    assert booked.contractor_id == "c-rota"
    order = await requested(runtime, case.case_id, Purpose.WORKS_ORDER_CONFIRMATION)
    assert order.recipient == Recipient(email=JO_EMAIL)  # t-1's mobile is not this sender's


async def test_an_emergency_booking_says_it_is_one(runtime: Runtime):
    case = emailed(JO_EMAIL)
    await handlers.case_opened(runtime, case)
    [booked] = await emitted(runtime, "appointment.booked", case.case_id)
    assert booked.priority is Priority.EMERGENCY


async def test_an_emergency_s_confirmations_go_at_once_a_routine_one_waits_for_a_decent_hour(runtime: Runtime):
    case = emailed(JO_EMAIL)
    await handlers.case_opened(runtime, case)
    assert (await requested(runtime, case.case_id, Purpose.APPOINTMENT_CONFIRMATION)).urgent
    assert (await requested(runtime, case.case_id, Purpose.WORKS_ORDER_CONFIRMATION)).urgent

    routine = emailed(JO_EMAIL, priority=Priority.ROUTINE)
    await handlers.case_opened(runtime, routine)
    await handlers.reply_received(runtime, ReplyReceived(
        correlation_id=routine.case_id, case_id=routine.case_id, intent=Intent.CHOOSE_OFFER, offer=1, received_at=utcnow(),
    ))
    assert not (await requested(runtime, routine.case_id, Purpose.APPOINTMENT_CONFIRMATION)).urgent
