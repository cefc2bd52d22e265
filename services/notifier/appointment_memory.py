"""What the notifier knows of each appointment, so a reminder or "on the way" text for
one since cancelled or moved is dropped, never sent."""

from datetime import datetime

from sqlalchemy import select, update

from shared.events.notifications import NotificationRequested
from shared.service import Runtime
from services.notifier.adapters.tables import appointments
from services.notifier.adapters.writing import writing
from services.notifier.domain.staleness import why_stale


async def remember(runtime: Runtime, appointment_id: str, starts_at: datetime | None, cancelled: bool) -> None:
    async with writing(runtime) as session:
        known = (
            await session.execute(select(appointments).where(appointments.c.appointment_id == appointment_id))
        ).first()
        if known is None and starts_at is None:
            return  # cancelled before we heard it was booked: nothing is planned for it
        if known is None:
            await session.execute(
                appointments.insert().values(appointment_id=appointment_id, starts_at=starts_at, cancelled=cancelled)
            )
            return
        await session.execute(
            update(appointments)
            .where(appointments.c.appointment_id == appointment_id)
            .values(starts_at=starts_at or known.starts_at, cancelled=cancelled)
        )


async def stale_reason(runtime: Runtime, request: NotificationRequested) -> str | None:
    if request.appointment_id is None:
        return None
    async with runtime.sessions() as session:
        known = (
            await session.execute(select(appointments).where(appointments.c.appointment_id == request.appointment_id))
        ).first()
    return why_stale(request, known.starts_at if known else None, bool(known and known.cancelled))
