"""The missed-slot job: a booked appointment whose slot ended a while ago with no
arrival is a contractor who did not attend. Each is handed once to the booking side's
`contractor_missed`, which records it (so it is not found again), credits the rent and
apologises."""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from shared.events import utcnow
from shared.service import Runtime
from services.scheduler.adapters.tables import appointments
from services.scheduler.domain.appointments import OPEN

log = logging.getLogger(__name__)

REPORTED_BY = "slot_ended"
BATCH = 500

ReportMissed = Callable[[Runtime, str, str], Awaitable[object]]


async def unattended(runtime: Runtime, ended_before: datetime) -> list[str]:
    a = appointments.c
    async with runtime.sessions() as session:
        found = await session.scalars(
            select(a.id)
            .where(
                a.status.in_([str(status) for status in OPEN]),
                a.ends_at <= ended_before,
                a.arrived_at.is_(None),
                a.missed_at.is_(None),
            )
            .order_by(a.ends_at)
            .limit(BATCH)
        )
        return list(found)


async def report_missed_slots(runtime: Runtime, grace: timedelta, report: ReportMissed) -> int:
    """Report every unattended slot; the number reported."""
    reported = 0
    for appointment_id in await unattended(runtime, utcnow() - grace):
        try:
            await report(runtime, appointment_id, REPORTED_BY)
            reported += 1
        except Exception as error:  # noqa: BLE001 - the others still go; this one is tried next run
            log.warning("missed slot not reported", extra={"reason": type(error).__name__})
    return reported
