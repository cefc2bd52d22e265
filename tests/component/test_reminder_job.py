"""The reminder job over a real SQLite database: due reminders requested through the
outbox with reminded_at set in the same transaction, once each."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from shared.events import utcnow
from shared.events.notifications import Purpose
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.adapters.tables import appointments, bookings_to_make, outbox
from services.scheduler.timed.reminders import send_due_reminders
from tests.component.timed_support import (
    add_appointment,
    add_contractor,
    add_homes,
    outbox_events,
    scheduler_runtime,
    sqlite_url,
)


@pytest.fixture
async def runtime(tmp_path: Path) -> Runtime:
    runtime = await scheduler_runtime(sqlite_url(tmp_path))
    await add_homes(runtime, 1)
    await add_contractor(runtime)
    yield runtime
    await runtime.engine.dispose()


async def reminded_at(runtime: Runtime, appointment_id: str):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return await session.scalar(
            select(appointments.c.reminded_at).where(appointments.c.id == appointment_id)
        )


async def test_a_due_reminder_is_requested_once_with_the_appointment_start(runtime: Runtime):
    starts = utcnow() + timedelta(hours=20)
    await add_appointment(runtime, "A1", starts, remind_at=utcnow() - timedelta(minutes=1))
    assert await send_due_reminders(runtime) == 1
    assert await send_due_reminders(runtime) == 0
    [request] = await outbox_events(runtime, "notification.requested")
    assert request.purpose is Purpose.APPOINTMENT_REMINDER
    assert request.appointment_id == "A1" and request.appointment_starts_at == starts
    assert request.idempotency_key == f"reminder:A1:{starts.isoformat()}"
    assert request.case_id == "case-A1" and request.recipient.phone == "+447700900123"
    assert request.personalisation["contractor_name"] == "Ace Plumbing"
    assert await reminded_at(runtime, "A1") is not None
    async with runtime.sessions() as session:
        topics = set(await session.scalars(select(outbox.c.topic)))
    assert topics == {str(Topic.NOTIFICATIONS_REQUESTED)}


async def test_reminders_not_yet_due_cancelled_or_past_are_left_alone(runtime: Runtime):
    now = utcnow()
    await add_appointment(runtime, "later", now + timedelta(days=3), remind_at=now + timedelta(days=2))
    await add_appointment(
        runtime,
        "cancelled",
        now + timedelta(hours=5),
        remind_at=now - timedelta(hours=1),
        status="cancelled",
        place=2,
    )
    await add_appointment(
        runtime, "over", now - timedelta(hours=5), remind_at=now - timedelta(days=1), place=3
    )
    await add_appointment(runtime, "unplanned", now + timedelta(hours=5), remind_at=None, place=4)
    assert await send_due_reminders(runtime) == 0
    assert await outbox_events(runtime) == []


async def test_a_moved_appointment_is_reminded_again_for_its_new_time(runtime: Runtime):
    first = utcnow() + timedelta(hours=20)
    await add_appointment(runtime, "A1", first, remind_at=utcnow() - timedelta(minutes=1))
    await send_due_reminders(runtime)
    moved = first + timedelta(days=1)
    async with runtime.sessions.begin() as session:  # what a reschedule does to the row
        await session.execute(
            update(appointments)
            .where(appointments.c.id == "A1")
            .values(
                starts_at=moved,
                ends_at=moved + timedelta(hours=4),
                remind_at=utcnow() - timedelta(seconds=1),
                reminded_at=None,
            )
        )
    assert await send_due_reminders(runtime) == 1
    keys = [e.idempotency_key for e in await outbox_events(runtime, "notification.requested")]
    assert keys == [f"reminder:A1:{first.isoformat()}", f"reminder:A1:{moved.isoformat()}"]


async def test_a_safeguarding_case_is_reminded_with_the_neutral_message_only(runtime: Runtime):
    async with runtime.sessions.begin() as session:
        await session.execute(
            insert(bookings_to_make).values(
                case_id="case-A1",
                reference="HX-A1",
                priority="routine",
                received_at=utcnow(),
                status="booked",
                safeguarding=True,
            )
        )
    await add_appointment(
        runtime, "A1", utcnow() + timedelta(hours=20), remind_at=utcnow() - timedelta(minutes=1)
    )
    await send_due_reminders(runtime)
    [request] = await outbox_events(runtime, "notification.requested")
    assert request.safeguarding is True


async def test_the_reminder_goes_to_the_case_contact_before_the_tenancy_record(runtime: Runtime):
    # A case reported with a safe number (or by an advocate): every message of the case,
    # the reminder included, goes there and not to the number on the tenancy.
    async with runtime.sessions.begin() as session:
        await session.execute(
            insert(bookings_to_make).values(
                case_id="case-A1",
                reference="HX-A1",
                priority="routine",
                received_at=utcnow(),
                status="booked",
                contact_phone="+447700900999",
            )
        )
    await add_appointment(
        runtime, "A1", utcnow() + timedelta(hours=20), remind_at=utcnow() - timedelta(minutes=1)
    )
    await send_due_reminders(runtime)
    [request] = await outbox_events(runtime, "notification.requested")
    assert request.recipient.phone == "+447700900999"
    assert request.recipient.email is None
