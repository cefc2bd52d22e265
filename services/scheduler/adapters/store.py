"""Reading and writing the scheduler's records inside a caller's transaction."""

import time
import weakref
from collections import Counter
from datetime import datetime

from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.appointments import AppointmentKind
from shared.events.notifications import Recipient
from services.scheduler.adapters.tables import (
    appointments,
    bookings_to_make,
    contractors,
    handled_events,
    offers,
    properties,
    tenancies,
)
from services.scheduler.domain.appointments import Appointment, AppointmentStatus
from services.scheduler.domain.contractors import Contractor
from services.scheduler.domain.offers import Offer, Taken
from services.scheduler.domain.tenants import normal_email, normal_mobile, recipient_of, the_one_tenancy


class SlotTaken(Exception):
    """Every place in the slot is booked: someone else took the last one."""


# -- contractors -------------------------------------------------------------------------


def contractor_from(row: Row) -> Contractor:
    return Contractor(
        id=row.id,
        name=row.name,
        phone=row.phone,
        trades=frozenset(row.trades),
        areas=frozenset(row.areas),
        working_days=frozenset(row.working_days),
        capacity_per_slot=row.capacity_per_slot,
        emergency_rota=row.emergency_rota,
    )


async def all_contractors(session: AsyncSession) -> list[Contractor]:
    rows = await session.execute(select(contractors).order_by(contractors.c.id))
    return [contractor_from(row) for row in rows]


# Offers are searched over every contractor for each repair; the list changes only when the
# landlord imports a new one, so it is read again at most this often. A booking always
# reads its contractor afresh, so a stale list can only make an offer, never a booking.
CONTRACTORS_FOR_OFFERS_TTL = 30.0
_contractors_read: weakref.WeakKeyDictionary[object, tuple[float, list[Contractor]]] = (
    weakref.WeakKeyDictionary()
)


async def contractors_for_offers(session: AsyncSession) -> list[Contractor]:
    engine = session.bind
    known = _contractors_read.get(engine)
    if known is None or time.monotonic() - known[0] > CONTRACTORS_FOR_OFFERS_TTL:
        known = (time.monotonic(), await all_contractors(session))
        _contractors_read[engine] = known
    return known[1]


async def contractor(session: AsyncSession, contractor_id: str) -> Contractor | None:
    row = (await session.execute(select(contractors).where(contractors.c.id == contractor_id))).first()
    return contractor_from(row) if row else None


async def contractor_id_for_token(session: AsyncSession, token_sha256: str) -> str | None:
    return await session.scalar(select(contractors.c.id).where(contractors.c.token_sha256 == token_sha256))


async def taken_places(
    session: AsyncSession, earliest: datetime, latest: datetime, contractor_ids: list[str] | None = None
) -> Taken:
    """Places booked per (contractor, slot start) for slots starting in [earliest, latest)."""
    query = (
        select(appointments.c.contractor_id, appointments.c.starts_at, func.count())
        .where(appointments.c.place.is_not(None))
        .where(appointments.c.starts_at >= earliest, appointments.c.starts_at < latest)
        .group_by(appointments.c.contractor_id, appointments.c.starts_at)
    )
    if contractor_ids is not None:
        query = query.where(appointments.c.contractor_id.in_(contractor_ids))
    rows = await session.execute(query)
    return Counter({(cid, starts): count for cid, starts, count in rows})


async def free_place(session: AsyncSession, booked_by: Contractor, starts_at: datetime) -> int:
    """The lowest free place in the contractor's slot. Two bookings reading the same free
    place both try it; the unique constraint lets exactly one of them commit."""
    used = set(
        await session.scalars(
            select(appointments.c.place).where(
                appointments.c.contractor_id == booked_by.id,
                appointments.c.starts_at == starts_at,
                appointments.c.place.is_not(None),
            )
        )
    )
    for place in range(1, booked_by.capacity_per_slot + 1):
        if place not in used:
            return place
    raise SlotTaken(f"no place left with contractor {booked_by.id} at {starts_at.isoformat()}")


# -- homes and tenants -----------------------------------------------------------------


async def recipient_for(session: AsyncSession, booking: Row) -> Recipient | None:
    """How to reach the tenant: what the case said, else (or, for what it lacks, when it
    is the tenant's own) the tenancy's record."""
    tenancy = None
    if booking.tenancy_id is not None:
        tenancy = (await session.execute(select(tenancies).where(tenancies.c.id == booking.tenancy_id))).first()
    return recipient_of(booking.contact_email, booking.contact_phone, tenancy)


async def tenancy_of_contact(session: AsyncSession, email: str | None, phone: str | None) -> Row | None:
    """The one active tenancy whose email or mobile is exactly the case's; None when none
    is, or more than one."""
    email, mobile = normal_email(email), normal_mobile(phone)
    if not (email or mobile):
        return None
    t = tenancies.c
    matches = []
    if email:
        matches.append(func.lower(t.email) == email)
    if mobile:
        matches.append(t.mobile == mobile)
    rows = await session.execute(select(tenancies).where(t.active.is_(True), or_(*matches)).limit(3))
    return the_one_tenancy(email, mobile, list(rows))


# -- bookings, offers, appointments ----------------------------------------------------


async def booking(session: AsyncSession, case_id: str) -> Row | None:
    """What the case needs booked, with the postcode of its home (None when not known)."""
    query = (
        select(bookings_to_make, properties.c.postcode)
        .outerjoin(properties, properties.c.id == bookings_to_make.c.property_id)
        .where(bookings_to_make.c.case_id == case_id)
    )
    return (await session.execute(query)).first()


async def set_booking_status(session: AsyncSession, case_id: str, status: str) -> None:
    await update_booking(session, case_id, status=status)


async def update_booking(session: AsyncSession, case_id: str, **values: object) -> None:
    await session.execute(
        update(bookings_to_make).where(bookings_to_make.c.case_id == case_id).values(**values)
    )


async def replace_offers(session: AsyncSession, case_id: str, made: list[Offer], now: datetime) -> None:
    await session.execute(delete(offers).where(offers.c.case_id == case_id))
    if made:
        await session.execute(
            offers.insert(),
            [
                {
                    "case_id": case_id,
                    "number": o.number,
                    "contractor_id": o.contractor_id,
                    "starts_at": o.starts_at,
                    "ends_at": o.ends_at,
                    "made_at": now,
                }
                for o in made
            ],
        )


async def offer(session: AsyncSession, case_id: str, number: int) -> Offer | None:
    row = (
        await session.execute(select(offers).where(offers.c.case_id == case_id, offers.c.number == number))
    ).first()
    return Offer(row.number, row.contractor_id, row.starts_at, row.ends_at) if row else None


def appointment_from(row: Row) -> Appointment:
    return Appointment(
        id=row.id,
        case_id=row.case_id,
        reference=row.reference,
        kind=AppointmentKind(row.kind),
        status=AppointmentStatus(row.status),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        contractor_id=row.contractor_id,
        property_id=row.property_id,
        tenancy_id=row.tenancy_id,
    )


async def appointment(session: AsyncSession, appointment_id: str) -> Appointment | None:
    row = (await session.execute(select(appointments).where(appointments.c.id == appointment_id))).first()
    return appointment_from(row) if row else None


async def open_appointment_of_case(session: AsyncSession, case_id: str) -> Appointment | None:
    row = (
        await session.execute(
            select(appointments)
            .where(appointments.c.case_id == case_id)
            .where(appointments.c.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.EN_ROUTE]))
            .order_by(appointments.c.starts_at)
        )
    ).first()
    return appointment_from(row) if row else None


async def visit_under_way(session: AsyncSession, case_id: str) -> bool:
    """The contractor has arrived and the visit is not over: the case's one open appointment."""
    found = await session.scalar(
        select(appointments.c.id)
        .where(appointments.c.case_id == case_id, appointments.c.status == AppointmentStatus.ARRIVED)
        .limit(1)
    )
    return found is not None


async def update_appointment(session: AsyncSession, appointment_id: str, **values: object) -> None:
    await session.execute(update(appointments).where(appointments.c.id == appointment_id).values(**values))


async def contractors_day(
    session: AsyncSession, contractor_id: str, start: datetime, end: datetime
) -> list[Row]:
    rows = await session.execute(
        select(appointments)
        .where(appointments.c.contractor_id == contractor_id)
        .where(appointments.c.starts_at >= start, appointments.c.starts_at < end)
        .where(appointments.c.status != AppointmentStatus.CANCELLED)
        .order_by(appointments.c.starts_at)
    )
    return list(rows)


async def was_handled(session: AsyncSession, event_id: str) -> bool:
    found = await session.scalar(
        select(handled_events.c.event_id).where(handled_events.c.event_id == event_id)
    )
    return found is not None


async def mark_handled(session: AsyncSession, event_id: str, now: datetime) -> None:
    if not await was_handled(session, event_id):
        await session.execute(handled_events.insert().values(event_id=event_id, handled_at=now))
