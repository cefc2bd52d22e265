"""Booking, moving and cancelling appointments, each one transaction with its events."""

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import default_calendar as calendar
from shared.events import utcnow
from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentKind,
    AppointmentRescheduled,
    WorksOrderRaised,
)
from shared.events.cases import Channel, Priority
from shared.events.notifications import Recipient
from shared.ids import time_ordered_id
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.adapters import store
from services.scheduler.adapters.tables import appointments, works_orders
from services.scheduler.adapters.transactions import in_transaction
from services.scheduler.domain.appointments import OPEN, ActionRefused, Appointment, AppointmentStatus, require
from services.scheduler.domain.contractors import SURVEYOR, Contractor, postcode_district
from services.scheduler.domain.messages import confirmation_request, offers_request, works_order_request
from services.scheduler.domain.offers import MAX_OFFERS, Need, Offer, able_for, find_offers
from services.scheduler.adapters.standards import due_by
from services.scheduler.domain.policy import (
    earliest_start,
    offers_by_message,
    pattern_for,
    trade_for,
    works_order_number,
)
from services.scheduler.domain.reminders import remind_at
from services.scheduler.domain.slots import EMERGENCY_WINDOW

log = logging.getLogger(__name__)

# When nothing is free inside the target, later offers are still better than none.
LATE_HORIZON = timedelta(days=90)
# How far ahead is read first when looking for offers.
FIRST_LOOK = timedelta(days=7)


class UnknownCase(LookupError):
    """No booking is waiting for this case."""


class UnknownOffer(LookupError):
    """The case has no offer of that number (offers are replaced each time they are made)."""


class SlotFull(Exception):
    """The offer's last place went to someone else; `offers` are fresh ones."""

    def __init__(self, offers: list[Offer]) -> None:
        super().__init__("that appointment was just taken; here are fresh offers")
        self.offers = offers


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    contractor: Contractor


# -- offers ------------------------------------------------------------------------------


async def make_offers(
    session: AsyncSession, case_id: str, now: datetime, avoid: tuple[datetime, ...] = ()
) -> list[Offer]:
    """Fresh offers for a case, stored (numbered 1..3) so a reply or a click can name one."""
    booking = await store.booking(session, case_id)
    if booking is None:
        raise UnknownCase(case_id)
    pattern = pattern_for(AppointmentKind(booking.kind), Priority(booking.priority))
    earliest = earliest_start(now, pattern)
    need = Need(
        booking.trade,
        postcode_district(booking.postcode) if booking.postcode else None,
        pattern,
        earliest,
        max(booking.book_by, earliest),
    )
    everyone = await store.contractors_for_offers(session)
    made = await search(session, need, everyone, avoid)
    if not made:
        log.warning("no slot inside the target; offering later ones", extra={"case_id": case_id})
        made = await search(
            session,
            Need(need.trade, need.district, pattern, earliest, earliest + LATE_HORIZON),
            everyone,
            avoid,
        )
    await store.replace_offers(session, case_id, made, now)
    return made


async def search(
    session: AsyncSession, need: Need, everyone: list[Contractor], avoid: tuple[datetime, ...] = ()
) -> list[Offer]:
    """Reads the places taken by the able contractors only, over the first week first: the
    earliest offers are nearly always there, and the rest of the window is read only if not."""
    able = able_for(need, everyone)
    if not able:
        return []
    until = min(need.latest, need.earliest + FIRST_LOOK)
    # An emergency may be offered the two-hour window already under way, which began
    # before `earliest`: its places taken must be counted too.
    since = need.earliest - EMERGENCY_WINDOW if need.emergency else need.earliest
    while True:
        taken = await store.taken_places(session, since, until, [c.id for c in able])
        made = find_offers(replace(need, latest=until), able, taken, calendar, avoid=avoid)
        if len(made) == MAX_OFFERS or until >= need.latest:
            return made
        until = need.latest


async def send_offers(
    session: AsyncSession, runtime: Runtime, case_id: str, now: datetime, avoid: tuple[datetime, ...] = ()
) -> list[Offer]:
    """Offers made and sent to the tenant (written and online reports, a wish to move)."""
    made = await make_offers(session, case_id, now, avoid)
    booking = await store.booking(session, case_id)
    recipient = await store.recipient_for(session, booking)
    if not made or recipient is None:
        log.warning(
            "offers not sent: staff to contact the tenant",
            extra={"case_id": case_id, "reason": "no slots" if not made else "no contact"},
        )
        await store.set_booking_status(session, case_id, "to_contact")
        return made
    request = offers_request(
        case_id, booking.reference, made, recipient, now, calendar, bool(booking.safeguarding)
    )
    await runtime.outbox.add(session, Topic.NOTIFICATIONS_REQUESTED, request)
    await store.set_booking_status(session, case_id, "offered")
    return made


async def book_next_visit(
    session: AsyncSession, runtime: Runtime, case_id: str, now: datetime, *, after_inspection: bool
) -> None:
    """The repair after its pre-work inspection, or a follow-on visit: offered like the first
    (sent to a tenant who wrote or reported online; left for staff to book during a call)."""
    booking = await store.booking(session, case_id)
    if booking is None:
        return
    if after_inspection:
        clock = f"repair_completion_{booking.priority}"
        await store.update_booking(
            session,
            case_id,
            kind=AppointmentKind.REPAIR,
            trade=trade_for(booking.description or ""),
            book_by=due_by(clock, booking.received_at),
        )
    await store.set_booking_status(session, case_id, "to_book")
    if booking.channel and offers_by_message(Channel(booking.channel)):
        await send_offers(session, runtime, case_id, now)


async def book_first_free(session: AsyncSession, runtime: Runtime, case_id: str, now: datetime) -> bool:
    """An emergency: booked at once in the first free slot (no offers to wait on). False,
    and the booking left `unbooked` for staff, when nobody is free."""
    first = (await make_offers(session, case_id, now))[:1]
    if not first:
        await store.set_booking_status(session, case_id, "unbooked")
        return False
    await book_or_move(session, runtime, case_id, first[0], now)
    return True


async def rebook_after_missed(session: AsyncSession, runtime: Runtime, case_id: str, now: datetime) -> None:
    """The contractor did not come: the visit is arranged again straight away, as it was
    at first. An emergency is booked in the first free slot; a tenant who wrote or
    reported online is sent fresh offers; one who phoned is left for staff to book."""
    booking = await store.booking(session, case_id)
    if booking is None:
        return
    if booking.priority == Priority.EMERGENCY and booking.kind == AppointmentKind.REPAIR:
        if not await book_first_free(session, runtime, case_id, now):
            log.error("no emergency contractor free to rebook: staff to arrange", extra={"case_id": case_id})
        return
    await book_next_visit(session, runtime, case_id, now, after_inspection=False)


async def inspect_first(session: AsyncSession, runtime: Runtime, case_id: str, flagged_at: datetime) -> bool:
    """A repair found to need a pre-work inspection before it is booked: the surveyor's visit
    is offered instead, within the inspection standard from when it was flagged. False when
    there is nothing to change (no such repair, already booked, already an inspection)."""
    booking = await store.booking(session, case_id)
    if booking is None or booking.kind != AppointmentKind.REPAIR or booking.status in ("booked", "completed"):
        return False
    await store.update_booking(
        session,
        case_id,
        kind=AppointmentKind.INSPECTION,
        trade=SURVEYOR,
        book_by=due_by("pre_work_inspection", flagged_at),
        status="to_book",
    )
    if booking.channel and offers_by_message(Channel(booking.channel)):
        await send_offers(session, runtime, case_id, utcnow())
    return True


async def offers_now(runtime: Runtime, case_id: str) -> list[Offer]:
    """Fresh offers for staff on the telephone; the current appointment's slot is left out."""

    async def work(session: AsyncSession) -> list[Offer]:
        current = await store.open_appointment_of_case(session, case_id)
        return await make_offers(session, case_id, utcnow(), (current.starts_at,) if current else ())

    return await in_transaction(runtime, work)


# -- booking and moving ----------------------------------------------------------------


async def accept_offer(runtime: Runtime, case_id: str, number: int) -> Booked:
    """Book the case's offer `number` (or move its appointment there). Raises SlotFull,
    with fresh offers, when the place has just gone."""

    async def work(session: AsyncSession) -> Booked:
        chosen = await store.offer(session, case_id, number)
        if chosen is None:
            raise UnknownOffer(f"case has no offer {number}")
        return await book_or_move(session, runtime, case_id, chosen, utcnow())

    try:
        return await in_transaction(runtime, work)
    except store.SlotTaken:
        raise SlotFull(await offers_now(runtime, case_id)) from None


async def book_or_move(
    session: AsyncSession, runtime: Runtime, case_id: str, chosen: Offer, now: datetime
) -> Booked:
    booking = await store.booking(session, case_id)
    if booking is None:
        raise UnknownCase(case_id)
    who = await store.contractor(session, chosen.contractor_id)
    if who is None:
        raise UnknownOffer(f"contractor {chosen.contractor_id} is no longer known")
    # Two bookers of one case can both read "none" here; the unique index on the case's
    # open appointment lets one insert, and in_transaction reruns the other, which then
    # reads that appointment and moves it (or sees the same choice made again).
    current = await store.open_appointment_of_case(session, case_id)
    if current is None:
        if await store.visit_under_way(session, case_id):
            raise ActionRefused("the contractor is at the home: nothing can be booked until the visit ends")
        return Booked(await _book(session, runtime, booking, who, chosen, now), who)
    if (current.contractor_id, current.starts_at) == (who.id, chosen.starts_at):
        return Booked(current, who)  # the same choice made again
    return Booked(await _move(session, runtime, booking, current, who, chosen, now), who)


async def _book(
    session: AsyncSession, runtime: Runtime, booking: Row, who: Contractor, chosen: Offer, now: datetime
) -> Appointment:
    place = await store.free_place(session, who, chosen.starts_at)
    booked = Appointment(
        id=str(time_ordered_id()),
        case_id=booking.case_id,
        reference=booking.reference,
        kind=AppointmentKind(booking.kind),
        status=AppointmentStatus.BOOKED,
        starts_at=chosen.starts_at,
        ends_at=chosen.ends_at,
        contractor_id=who.id,
        property_id=booking.property_id,
        tenancy_id=booking.tenancy_id,
    )
    reminder_due = _remind_at(runtime, booked, now)
    await session.execute(
        appointments.insert().values(
            id=booked.id,
            case_id=booked.case_id,
            reference=booked.reference,
            kind=booked.kind,
            status=booked.status,
            starts_at=booked.starts_at,
            ends_at=booked.ends_at,
            contractor_id=who.id,
            property_id=booked.property_id,
            tenancy_id=booked.tenancy_id,
            place=place,
            booked_at=now,
            remind_at=reminder_due,
        )
    )
    await session.flush()  # the place's unique constraint is checked here, not at commit
    await store.set_booking_status(session, booking.case_id, "booked")
    await runtime.outbox.add(
        session,
        Topic.APPOINTMENTS,
        AppointmentBooked(
            **booked.identity(),
            kind=booked.kind,
            starts_at=booked.starts_at,
            ends_at=booked.ends_at,
            booked_at=now,
            contractor_id=who.id,
            priority=booking.priority,
        ),
    )
    recipient = await store.recipient_for(session, booking)
    if booked.kind is AppointmentKind.REPAIR:
        await _raise_works_order(session, runtime, booking, booked, who, recipient, now)
    await _confirm(session, runtime, booking, booked, who, recipient, reminder_due is not None)
    log.info("appointment booked", extra={"case_id": booked.case_id, "appointment_id": booked.id})
    return booked


async def _move(
    session: AsyncSession,
    runtime: Runtime,
    booking: Row,
    current: Appointment,
    who: Contractor,
    chosen: Offer,
    now: datetime,
) -> Appointment:
    require(current, OPEN, "move")
    place = await store.free_place(session, who, chosen.starts_at)
    moved = Appointment(
        **{
            **current.__dict__,
            "starts_at": chosen.starts_at,
            "ends_at": chosen.ends_at,
            "contractor_id": who.id,
            "status": AppointmentStatus.BOOKED,
        }
    )
    reminder_due = _remind_at(runtime, moved, now)
    await store.update_appointment(
        session,
        current.id,
        starts_at=moved.starts_at,
        ends_at=moved.ends_at,
        contractor_id=who.id,
        place=place,
        status=moved.status,
        en_route_at=None,
        remind_at=reminder_due,
        reminded_at=None,
    )
    await session.flush()
    await session.execute(
        works_orders.update().where(works_orders.c.case_id == current.case_id).values(contractor_id=who.id)
    )
    await runtime.outbox.add(
        session,
        Topic.APPOINTMENTS,
        AppointmentRescheduled(
            **moved.identity(),
            kind=moved.kind,
            starts_at=moved.starts_at,
            ends_at=moved.ends_at,
            rescheduled_at=now,
            contractor_id=who.id,
        ),
    )
    recipient = await store.recipient_for(session, booking)
    await _confirm(session, runtime, booking, moved, who, recipient, reminder_due is not None)
    log.info("appointment moved", extra={"case_id": moved.case_id, "appointment_id": moved.id})
    return moved


async def cancel(runtime: Runtime, appointment_id: str) -> Appointment:
    """Cancel an appointment: its place is freed and its reminder dropped."""

    async def work(session: AsyncSession) -> Appointment:
        current = await store.appointment(session, appointment_id)
        if current is None:
            raise LookupError(appointment_id)
        if current.status is AppointmentStatus.CANCELLED:
            return current
        require(current, OPEN, "cancel")
        now = utcnow()
        await store.update_appointment(
            session,
            current.id,
            status=AppointmentStatus.CANCELLED,
            place=None,
            cancelled_at=now,
            remind_at=None,
            reminded_at=None,
        )
        await store.set_booking_status(session, current.case_id, "to_book")
        await runtime.outbox.add(
            session,
            Topic.APPOINTMENTS,
            AppointmentCancelled(
                **current.identity(),
                kind=current.kind,
                cancelled_at=now,
            ),
        )
        return Appointment(**{**current.__dict__, "status": AppointmentStatus.CANCELLED})

    return await in_transaction(runtime, work)


# -- what goes with a booking ----------------------------------------------------------


def _remind_at(runtime: Runtime, appointment: Appointment, now: datetime) -> datetime | None:
    return remind_at(appointment.starts_at, now, calendar, runtime.settings.reminder_time)  # type: ignore[attr-defined]


async def _raise_works_order(
    session: AsyncSession,
    runtime: Runtime,
    booking: Row,
    booked: Appointment,
    who: Contractor,
    recipient: Recipient | None,
    now: datetime,
) -> None:
    number = works_order_number(booking.case_id)
    if await session.scalar(select(works_orders.c.id).where(works_orders.c.id == number)):
        await session.execute(
            works_orders.update()
            .where(works_orders.c.id == number)
            .values(appointment_id=booked.id, contractor_id=who.id)
        )
        return
    description = booking.description or ""
    await session.execute(
        works_orders.insert().values(
            id=number,
            case_id=booking.case_id,
            appointment_id=booked.id,
            contractor_id=who.id,
            priority=booking.priority,
            trade=booking.trade,
            description=description,
            raised_at=now,
        )
    )
    await runtime.outbox.add(
        session,
        Topic.APPOINTMENTS,
        WorksOrderRaised(
            correlation_id=booking.case_id,
            case_id=booking.case_id,
            reference=booking.reference,
            works_order_id=number,
            raised_at=now,
            contractor_id=who.id,
            contractor_name=who.name,
            contractor_phone=who.phone,
            job_description=description[:500],
            priority=booking.priority,
        ),
    )
    if recipient is not None:
        await runtime.outbox.add(
            session,
            Topic.NOTIFICATIONS_REQUESTED,
            works_order_request(
                booking.case_id,
                booking.reference,
                number,
                who.name,
                who.phone,
                description[:200],
                booking.book_by,
                recipient,
                calendar,
                bool(booking.safeguarding),
            ),
        )


async def _confirm(
    session: AsyncSession,
    runtime: Runtime,
    booking: Row,
    appointment: Appointment,
    who: Contractor,
    recipient: Recipient | None,
    reminded: bool,
) -> None:
    if recipient is None:
        log.warning("no way to reach the tenant: staff to confirm", extra={"case_id": appointment.case_id})
        return
    await runtime.outbox.add(
        session,
        Topic.NOTIFICATIONS_REQUESTED,
        confirmation_request(
            appointment,
            recipient,
            who.name,
            calendar,
            bool(booking.safeguarding),
            urgent=booking.priority == Priority.EMERGENCY,
            reminded=reminded,
        ),
    )
