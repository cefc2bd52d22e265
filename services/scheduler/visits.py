"""The contractor's day: on the way, arrived, completed, no access, did not attend.

Each is one transaction with its events, and safe to repeat: pressing a button twice, or
the same report arriving twice, changes nothing the second time.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import default_calendar as calendar
from shared.events import stable_event_id, utcnow
from shared.events.appointments import (
    AppointmentKind,
    AppointmentCompleted,
    AppointmentNoAccess,
    ContractorArrived,
    ContractorEnRoute,
    ContractorMissed,
    WorksInspectionRequested,
)
from shared.events.cases import HazardMadeSafe, Priority
from shared.events.finance import MISSED_APPOINTMENT_CREDIT_PENCE, CreditReason, RentCreditDue
from shared.events.notifications import NotificationRequested, Recipient
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler import booking
from services.scheduler.adapters import store
from services.scheduler.adapters.tables import rent_credits
from services.scheduler.adapters.transactions import in_transaction
from services.scheduler.domain.appointments import (
    OPEN,
    Appointment,
    AppointmentStatus,
    require,
)
from services.scheduler.domain.completion import needs_post_inspection
from services.scheduler.domain.messages import missed_request, no_access_request, survey_request

log = logging.getLogger(__name__)

Step = Callable[[AsyncSession, Appointment, datetime], Awaitable[None]]
# Builds the message to the tenant, given where to send it and whether the case is safeguarded.
Message = Callable[[Recipient, bool], NotificationRequested]

AT_HOME = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.EN_ROUTE, AppointmentStatus.ARRIVED})


async def _step(runtime: Runtime, appointment_id: str, done: AppointmentStatus, step: Step) -> Appointment:
    async def work(session: AsyncSession) -> Appointment:
        current = await store.appointment(session, appointment_id)
        if current is None:
            raise LookupError(appointment_id)
        if current.status is done:
            return current  # said already
        await step(session, current, utcnow())
        return replace(current, status=done)

    return await in_transaction(runtime, work)


async def on_the_way(runtime: Runtime, appointment_id: str) -> Appointment:
    """The contractor finished the previous job: the notifier texts the tenant."""

    async def step(session: AsyncSession, current: Appointment, now: datetime) -> None:
        require(current, frozenset({AppointmentStatus.BOOKED}), "set off for")
        who = await store.contractor(session, current.contractor_id)
        await store.update_appointment(
            session, current.id, status=AppointmentStatus.EN_ROUTE, en_route_at=now
        )
        await runtime.outbox.add(
            session,
            Topic.APPOINTMENTS,
            ContractorEnRoute(
                **current.identity(),
                kind=current.kind,
                starts_at=current.starts_at,
                contractor_name=who.name if who else "",
                at=now,
            ),
        )

    return await _step(runtime, appointment_id, AppointmentStatus.EN_ROUTE, step)


async def arrived(runtime: Runtime, appointment_id: str) -> Appointment:
    async def step(session: AsyncSession, current: Appointment, now: datetime) -> None:
        require(current, OPEN, "arrive at")
        await store.update_appointment(session, current.id, status=AppointmentStatus.ARRIVED, arrived_at=now)
        await runtime.outbox.add(
            session,
            Topic.APPOINTMENTS,
            ContractorArrived(
                **current.identity(),
                kind=current.kind,
                at=now,
            ),
        )

    return await _step(runtime, appointment_id, AppointmentStatus.ARRIVED, step)


async def completed(
    runtime: Runtime, appointment_id: str, fixed_first_time: bool, high_value_or_complex: bool
) -> Appointment:
    """The visit is over. After a pre-work inspection the repair itself is offered; when a
    follow-on visit is needed, that is offered. A finished repair gets the survey at once
    (the promise is within 24 hours), and every high-value or complex one, plus a random
    share of the rest, is flagged for post-inspection."""

    async def step(session: AsyncSession, current: Appointment, now: datetime) -> None:
        require(current, AT_HOME, "complete")
        values = {
            "status": AppointmentStatus.COMPLETED,
            "completed_at": now,
            "fixed_first_time": fixed_first_time,
            "high_value_or_complex": high_value_or_complex,
        }
        if current.status is not AppointmentStatus.ARRIVED:
            values["arrived_at"] = now  # there, though "arrived" was never pressed
        await store.update_appointment(session, current.id, **values)
        await runtime.outbox.add(
            session,
            Topic.APPOINTMENTS,
            AppointmentCompleted(
                **current.identity(),
                kind=current.kind,
                completed_at=now,
                fixed_first_time=fixed_first_time,
                high_value_or_complex=high_value_or_complex,
            ),
        )
        await _made_safe_if_emergency(session, runtime, current, now)
        if current.kind is AppointmentKind.INSPECTION:
            await booking.book_next_visit(session, runtime, current.case_id, now, after_inspection=True)
        elif not fixed_first_time:
            await booking.book_next_visit(session, runtime, current.case_id, now, after_inspection=False)
        else:
            await _finished(session, runtime, current, high_value_or_complex, now)

    return await _step(runtime, appointment_id, AppointmentStatus.COMPLETED, step)


async def _made_safe_if_emergency(
    session: AsyncSession, runtime: Runtime, current: Appointment, now: datetime
) -> None:
    """An emergency repair visit is over: the emergency is made safe (Awaab's Law's 24
    hours for an emergency hazard), whether or not a follow-on visit is still needed."""
    if current.kind is not AppointmentKind.REPAIR:
        return
    needed = await store.booking(session, current.case_id)
    if needed is None or needed.priority != Priority.EMERGENCY:
        return
    await runtime.outbox.add(
        session,
        Topic.APPOINTMENTS,
        HazardMadeSafe(
            event_id=stable_event_id("made_safe", current.id),
            correlation_id=current.case_id,
            case_id=current.case_id,
            reference=current.reference,
            made_safe_at=now,
        ),
    )


async def _finished(
    session: AsyncSession, runtime: Runtime, current: Appointment, high_value_or_complex: bool, now: datetime
) -> None:
    """The repair is done: the survey, and the post-inspection sample."""
    await store.set_booking_status(session, current.case_id, "completed")
    share = runtime.settings.inspection_share  # type: ignore[attr-defined]
    sampled = current.kind is AppointmentKind.REPAIR and needs_post_inspection(
        current.id, high_value_or_complex, share
    )
    await store.update_appointment(session, current.id, inspection_flagged=sampled)
    if sampled:
        await runtime.outbox.add(
            session,
            Topic.APPOINTMENTS,
            WorksInspectionRequested(
                **current.identity(),
                high_value_or_complex=high_value_or_complex,
                requested_at=now,
            ),
        )
    await _tell_tenant(session, runtime, current, lambda to, sg: survey_request(current, to, sg))


async def no_access(runtime: Runtime, appointment_id: str) -> Appointment:
    """The contractor could not get in: an abortive call, the repair clock paused, a card."""

    async def step(session: AsyncSession, current: Appointment, now: datetime) -> None:
        require(current, AT_HOME, "report no access at")
        who = await store.contractor(session, current.contractor_id)
        await store.update_appointment(
            session, current.id, status=AppointmentStatus.NO_ACCESS, no_access_at=now, remind_at=None
        )
        await store.set_booking_status(session, current.case_id, "to_book")
        await runtime.outbox.add(
            session,
            Topic.APPOINTMENTS,
            AppointmentNoAccess(
                **current.identity(),
                kind=current.kind,
                at=now,
            ),
        )
        name = who.name if who else ""
        await _tell_tenant(
            session, runtime, current, lambda to, sg: no_access_request(current, to, name, calendar, sg)
        )

    return await _step(runtime, appointment_id, AppointmentStatus.NO_ACCESS, step)


async def contractor_missed(runtime: Runtime, appointment_id: str, reported_by: str) -> None:
    """The contractor did not attend (the slot ended with no arrival, or staff said so):
    exactly one £10 rent credit per appointment, an apology, `appointment.contractor_missed`,
    and the visit arranged again (`booking.rebook_after_missed`).

    Safe to call again for the same appointment: the credit's primary key is the
    appointment id, so a second call finds it and does nothing.
    """

    async def work(session: AsyncSession) -> None:
        current = await store.appointment(session, appointment_id)
        if current is None:
            raise LookupError(appointment_id)
        if await session.scalar(
            select(rent_credits.c.appointment_id).where(rent_credits.c.appointment_id == current.id)
        ):
            return
        require(current, OPEN, "report a missed")
        now = utcnow()
        await session.execute(
            rent_credits.insert().values(
                appointment_id=current.id,
                case_id=current.case_id,
                amount_pence=MISSED_APPOINTMENT_CREDIT_PENCE,
                due_at=now,
                reported_by=reported_by[:40],
            )
        )
        await store.update_appointment(
            session, current.id, status=AppointmentStatus.MISSED, missed_at=now, remind_at=None
        )
        await _announce_missed(session, runtime, current, now)
        await booking.rebook_after_missed(session, runtime, current.case_id, now)
        log.info(
            "contractor missed appointment", extra={"case_id": current.case_id, "appointment_id": current.id}
        )

    await in_transaction(runtime, work)


async def _announce_missed(
    session: AsyncSession, runtime: Runtime, current: Appointment, now: datetime
) -> None:
    ids = ("missed", current.id)
    await runtime.outbox.add(
        session,
        Topic.APPOINTMENTS,
        ContractorMissed(
            event_id=stable_event_id(*ids),
            **current.identity(),
            kind=current.kind,
            missed_at=now,
        ),
    )
    await runtime.outbox.add(
        session,
        Topic.FINANCE_RENT_CREDITS,
        RentCreditDue(
            event_id=stable_event_id("rent_credit", current.id),
            **current.identity(),
            amount_pence=MISSED_APPOINTMENT_CREDIT_PENCE,
            reason=CreditReason.MISSED_APPOINTMENT,
            due_at=now,
        ),
    )
    await _tell_tenant(session, runtime, current, lambda to, sg: missed_request(current, to, calendar, sg))


async def _tell_tenant(session: AsyncSession, runtime: Runtime, current: Appointment, build: Message) -> None:
    booking = await store.booking(session, current.case_id)
    recipient = await store.recipient_for(session, booking) if booking else None
    if recipient is None:
        log.warning("no way to reach the tenant: staff to contact", extra={"appointment_id": current.id})
        return
    await runtime.outbox.add(
        session, Topic.NOTIFICATIONS_REQUESTED, build(recipient, bool(booking.safeguarding))
    )
