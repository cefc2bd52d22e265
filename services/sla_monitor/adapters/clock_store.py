"""Clocks in the monitor's database."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.sla import Obligation, SubjectType
from services.sla_monitor.adapters.tables import clocks
from services.sla_monitor.domain.clocks import Clock, ClockState


def _clock(row: object) -> Clock:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["obligation"] = Obligation(values["obligation"])
    values["subject_type"] = SubjectType(values["subject_type"])
    values["state"] = ClockState(values["state"])
    return Clock(**values)


async def add_new(session: AsyncSession, new: list[Clock]) -> list[Clock]:
    """Insert the clocks not already known (a redelivered start adds nothing)."""
    if not new:
        return []
    known = set(
        await session.scalars(select(clocks.c.id).where(clocks.c.id.in_([c.id for c in new])))
    )
    added = [clock for clock in new if clock.id not in known]
    for clock in added:
        await session.execute(clocks.insert().values(**clock.__dict__))
    return added


async def for_subject(session: AsyncSession, subject_id: str) -> list[Clock]:
    rows = await session.execute(
        select(clocks).where(clocks.c.subject_id == subject_id).order_by(clocks.c.deadline)
    )
    return [_clock(row) for row in rows]


async def due(session: AsyncSession, now: datetime) -> list[Clock]:
    rows = await session.execute(
        select(clocks).where(clocks.c.state == ClockState.RUNNING, clocks.c.deadline <= now)
    )
    return [_clock(row) for row in rows]


async def next_deadline(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(clocks.c.deadline)).where(clocks.c.state == ClockState.RUNNING)
    )


async def move(session: AsyncSession, clock: Clock, expected: ClockState) -> bool:
    """Save a state change only if nobody changed the clock first (another replica)."""
    result = await session.execute(
        update(clocks)
        .where(clocks.c.id == clock.id, clocks.c.state == expected)
        .values(state=clock.state, stopped_at=clock.stopped_at, breached_at=clock.breached_at)
    )
    return result.rowcount == 1
