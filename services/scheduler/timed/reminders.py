"""The reminder job: every booked appointment whose reminder is due and not yet sent
gets an `appointment_reminder` request, and `reminded_at` is set in the same
transaction. The request carries the appointment's start, so the notifier drops it if
the appointment has moved or been cancelled since; its key is the appointment and that
start, so a redelivery is the same request."""

from datetime import datetime

from sqlalchemy import Row, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import default_calendar as calendar
from shared.events import stable_event_id, utcnow
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.adapters.tables import appointments, bookings_to_make, contractors, tenancies
from services.scheduler.domain.appointments import AppointmentStatus
from services.scheduler.domain.tenants import recipient_of
from services.scheduler.domain.wording import spoken_date, spoken_window

BOOKED = str(AppointmentStatus.BOOKED)
BATCH = 500


def _due(now: datetime) -> Select:
    a = appointments.c
    return (
        select(
            a.id,
            a.case_id,
            a.reference,
            a.starts_at,
            a.ends_at,
            contractors.c.name.label("contractor_name"),
            bookings_to_make.c.contact_phone,
            bookings_to_make.c.contact_email,
            tenancies.c.mobile,
            tenancies.c.email,
            tenancies.c.preferred_channel,
            bookings_to_make.c.safeguarding,
        )
        .select_from(
            appointments.outerjoin(contractors, contractors.c.id == a.contractor_id)
            .outerjoin(tenancies, tenancies.c.id == a.tenancy_id)
            .outerjoin(bookings_to_make, bookings_to_make.c.case_id == a.case_id)
        )
        .where(
            a.status == BOOKED,
            a.remind_at <= now,
            a.reminded_at.is_(None),
            a.starts_at > now,
        )
        .order_by(a.remind_at)
        .limit(BATCH)
    )


async def send_due_reminders(runtime: Runtime) -> int:
    """Request every reminder that is due; the number requested."""
    now = utcnow()
    async with runtime.sessions() as session:
        due = (await session.execute(_due(now))).all()
    sent = 0
    for row in due:
        async with runtime.sessions.begin() as session:
            sent += await _remind(runtime, session, row, now)
    if sent:
        runtime.outbox.wake()
    return sent


async def _remind(runtime: Runtime, session: AsyncSession, row: Row, now: datetime) -> int:
    a = appointments.c
    claimed = await session.execute(
        update(appointments)
        # Only if it is still booked at the time read: a move in between wins.
        .where(a.id == row.id, a.reminded_at.is_(None), a.starts_at == row.starts_at, a.status == BOOKED)
        .values(reminded_at=now)
    )
    if claimed.rowcount != 1:
        return 0
    await runtime.outbox.add(session, Topic.NOTIFICATIONS_REQUESTED, reminder(row))
    return 1


def _recipient(row: Row) -> Recipient:
    """The same precedence as every other message of the case: its own contact first."""
    tenancy = row if row.mobile or row.email else None
    return recipient_of(row.contact_email, row.contact_phone, tenancy) or Recipient(email=None, phone=None)


def reminder(row: Row) -> NotificationRequested:
    key = f"reminder:{row.id}:{row.starts_at.isoformat()}"
    personalisation = {
        "reference": row.reference,
        "appointment_date": spoken_date(row.starts_at, calendar),
        "appointment_time": spoken_window(row.starts_at, row.ends_at, calendar),
    }
    if row.contractor_name:
        personalisation["contractor_name"] = row.contractor_name
    return NotificationRequested(
        event_id=stable_event_id(key),
        correlation_id=row.case_id,
        case_id=row.case_id,
        appointment_id=row.id,
        appointment_starts_at=row.starts_at,
        idempotency_key=key,
        purpose=Purpose.APPOINTMENT_REMINDER,
        template=str(Purpose.APPOINTMENT_REMINDER),
        recipient=_recipient(row),
        personalisation=personalisation,
        safeguarding=bool(row.safeguarding),
    )
