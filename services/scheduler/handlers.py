"""The scheduler's use cases, one per event or request.

For the timed jobs: `contractor_missed(runtime, appointment_id, reported_by)` is the one
to call when a slot ends with no arrival; it is idempotent (one £10 credit, one apology,
one `appointment.contractor_missed` per appointment, however often it is called).
"""

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import utcnow
from shared.events.cases import CaseFlagged, CaseOpened, Flag
from shared.events.notifications import Intent, ReplyReceived
from shared.service import Runtime
from services.scheduler import booking, visits
from services.scheduler.adapters import store
from services.scheduler.adapters.standards import due_by
from services.scheduler.adapters.tables import bookings_to_make
from services.scheduler.adapters.transactions import in_transaction
from services.scheduler.domain.appointments import ActionRefused
from services.scheduler.domain.policy import Job, job_for, offers_by_message
from services.scheduler.domain.slots import Pattern

log = logging.getLogger(__name__)

contractor_missed = visits.contractor_missed


async def case_opened(runtime: Runtime, case: CaseOpened) -> None:
    """Emergencies are booked at once; written and online reports are sent offers; spoken
    ones wait for staff, who offer slots during the call."""
    job = job_for(case)
    if job is None:
        return

    async def work(session: AsyncSession) -> None:
        if await store.booking(session, case.case_id):
            return  # redelivered
        await _record(session, case, job)
        now = utcnow()
        if job.pattern is Pattern.EMERGENCY:
            await _book_emergency(session, runtime, case.case_id, now)
        elif offers_by_message(case.channel):
            await booking.send_offers(session, runtime, case.case_id, now)

    await in_transaction(runtime, work)
    log.info("booking to make", extra={"case_id": case.case_id, "priority": job.priority, "kind": job.kind})


async def _record(session: AsyncSession, case: CaseOpened, job: Job) -> None:
    contact_email = case.contact.email if case.contact else None
    contact_phone = case.contact.phone if case.contact else None
    property_id, tenancy_id = case.property_id, case.tenancy_id
    if tenancy_id is None and (linked := await store.tenancy_of_contact(session, contact_email, contact_phone)):
        property_id, tenancy_id = property_id or linked.property_id, linked.id
        log.info("tenancy found from the sender", extra={"case_id": case.case_id})
    await session.execute(
        bookings_to_make.insert().values(
            case_id=case.case_id,
            reference=case.reference,
            priority=job.priority,
            received_at=case.received_at,
            status="to_book",
            kind=job.kind,
            channel=case.channel,
            trade=job.trade,
            property_id=property_id,
            tenancy_id=tenancy_id,
            contact_email=contact_email,
            contact_phone=contact_phone,
            description=case.description,
            safeguarding=job.safeguarding,
            book_by=due_by(job.clock_id, case.received_at),
        )
    )


async def _book_emergency(session: AsyncSession, runtime: Runtime, case_id: str, now: datetime) -> None:
    if not await booking.book_first_free(session, runtime, case_id, now):
        log.error("no emergency contractor free: staff to arrange", extra={"case_id": case_id})


async def case_flagged(runtime: Runtime, flagged: CaseFlagged) -> None:
    """Only `inspection_required` matters here: a repair not yet booked is inspected first."""
    if flagged.flag != Flag.INSPECTION_REQUIRED:
        return
    changed = await in_transaction(
        runtime, lambda session: booking.inspect_first(session, runtime, flagged.case_id, flagged.flagged_at)
    )
    if changed:
        log.info("inspection first", extra={"case_id": flagged.case_id})


async def reply_received(runtime: Runtime, reply: ReplyReceived) -> None:
    """The tenant texted back: a digit chooses an offer, REARRANGE asks for new ones, CANCEL
    cancels the appointment.
    Marked handled only once acted on, so a crash in between means it is acted on again
    (choosing the same offer twice books it once)."""
    event_id = str(reply.event_id)
    if await in_transaction(runtime, lambda session: store.was_handled(session, event_id)):
        return
    try:
        if reply.intent is Intent.CHOOSE_OFFER and reply.offer is not None:
            await booking.accept_offer(runtime, reply.case_id, reply.offer)
        elif reply.intent is Intent.REARRANGE:
            await _send_fresh_offers(runtime, reply.case_id)
        elif reply.intent is Intent.CANCEL:
            await _cancel_for_tenant(runtime, reply)
    except booking.SlotFull:
        await _send_fresh_offers(runtime, reply.case_id)
    except (booking.UnknownCase, booking.UnknownOffer, ActionRefused) as problem:
        log.warning("reply not acted on", extra={"case_id": reply.case_id, "reason": type(problem).__name__})
    await in_transaction(runtime, lambda session: store.mark_handled(session, event_id, utcnow()))


async def _cancel_for_tenant(runtime: Runtime, reply: ReplyReceived) -> None:
    async def open_one(session: AsyncSession) -> str | None:
        current = await store.open_appointment_of_case(session, reply.case_id)
        return current.id if current else None

    appointment_id = reply.appointment_id or await in_transaction(runtime, open_one)
    if appointment_id is None:
        raise booking.UnknownCase(reply.case_id)
    await booking.cancel(runtime, appointment_id)


async def _send_fresh_offers(runtime: Runtime, case_id: str) -> None:
    async def work(session: AsyncSession) -> None:
        current = await store.open_appointment_of_case(session, case_id)
        await booking.send_offers(
            session, runtime, case_id, utcnow(), (current.starts_at,) if current else ()
        )

    await in_transaction(runtime, work)
