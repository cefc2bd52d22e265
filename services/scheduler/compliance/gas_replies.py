"""A tenant who replies CONFIRM to a gas check offer (or to a chaser) gets the check booked
on the morning that text proposed, with a contractor free then, through booking's own offers (so the place is held
by the same constraint as every other booking). When that morning has filled up since,
the tenant is sent fresh offers instead. Replayed replies book nothing more."""

import logging
from datetime import datetime

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import utcnow
from shared.events.appointments import AppointmentKind
from shared.events.cases import Priority
from shared.events.compliance import CertificateKind
from shared.events.notifications import Intent, ReplyReceived
from shared.service import Runtime
from services.scheduler import booking
from services.scheduler.adapters import store as booking_store
from services.scheduler.adapters.transactions import in_transaction
from services.scheduler.compliance.programme import CASE_PREFIX, proposed_visit
from services.scheduler.compliance.tables import check_progress
from services.scheduler.domain.contractors import postcode_district
from services.scheduler.domain.offers import Need
from services.scheduler.domain.policy import pattern_for

log = logging.getLogger(__name__)

GAS_CASE = f"{CASE_PREFIX[CertificateKind.GAS_SAFETY]}-"


async def gas_check_confirmed(runtime: Runtime, reply: ReplyReceived, lead_working_days: int) -> None:
    if reply.intent is not Intent.CONFIRM or not reply.case_id.startswith(GAS_CASE):
        return
    booked = await in_transaction(
        runtime, lambda session: booking_store.open_appointment_of_case(session, reply.case_id)
    )
    if booked is not None:
        return  # a redelivered reply

    async def hold_proposal(session: AsyncSession) -> bool:
        offered_on = await session.scalar(
            select(func.coalesce(check_progress.c.last_attempt_on, check_progress.c.raised_on)).where(
                check_progress.c.case_id == reply.case_id
            )
        )
        wanted = await booking_store.booking(session, reply.case_id)
        if offered_on is None or wanted is None:
            raise booking.UnknownCase(reply.case_id)
        slot = proposed_visit(offered_on, lead_working_days)  # the latest offer's, or chaser's
        if slot[0] <= utcnow():
            return False  # the morning proposed has passed
        found = await booking.search(
            session, proposal_need(wanted, slot), await booking_store.contractors_for_offers(session)
        )
        await booking_store.replace_offers(session, reply.case_id, found[:1], utcnow())
        return bool(found)

    try:
        if await in_transaction(runtime, hold_proposal):
            await booking.accept_offer(runtime, reply.case_id, 1)
            return
    except booking.SlotFull:
        pass
    except booking.UnknownCase:
        log.warning("gas check reply not acted on", extra={"case_id": reply.case_id, "reason": "UnknownCase"})
        return
    log.info("proposed gas check morning taken: fresh offers", extra={"case_id": reply.case_id})
    await in_transaction(
        runtime, lambda session: booking.send_offers(session, runtime, reply.case_id, utcnow())
    )


def proposal_need(wanted: Row, slot: tuple[datetime, datetime]) -> Need:
    """A place in exactly the proposed slot, with a contractor of the check's trade."""
    district = postcode_district(wanted.postcode) if wanted.postcode else None
    return Need(wanted.trade, district, pattern_for(AppointmentKind.GAS_CHECK, Priority.ROUTINE), *slot)
