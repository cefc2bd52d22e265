"""The scheduler's use cases."""

import logging

from sqlalchemy import select

from shared.events.cases import CaseOpened
from shared.service import Runtime
from services.scheduler.adapters.tables import bookings_to_make
from services.scheduler.domain.booking import booking_priority, needs_booking

log = logging.getLogger(__name__)


async def case_opened(runtime: Runtime, case: CaseOpened) -> None:
    if not needs_booking(case):
        return
    async with runtime.sessions.begin() as session:
        known = await session.scalar(
            select(bookings_to_make.c.case_id).where(bookings_to_make.c.case_id == case.case_id)
        )
        if known:
            return
        await session.execute(
            bookings_to_make.insert().values(
                case_id=case.case_id,
                reference=case.reference,
                priority=booking_priority(case),
                received_at=case.received_at,
                status="to_book",
            )
        )
    log.info("booking to make", extra={"case_id": case.case_id, "priority": booking_priority(case)})
