"""Clocks in the monitor's database, and the events already applied to them."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from shared.calendar import Unit
from shared.events import utcnow
from shared.events.sla import Obligation, SubjectType
from shared.kafka import Origin
from services.sla_monitor.adapters.tables import clocks, processed_events
from services.sla_monitor.domain.clocks import Clock, ClockState, WarningPoint

Partition = tuple[str, int]  # topic, partition


def _row(clock: Clock) -> dict[str, object]:
    values = dict(clock.__dict__)
    values["warning_fractions"] = list(clock.warning_fractions)
    values["warnings"] = [
        {"label": w.label, "at": w.at.isoformat(), "fraction": w.fraction} for w in clock.warnings
    ]
    values["next_alert_at"] = clock.next_alert_at
    return values


def _clock(row: object) -> Clock:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    for column in ("topic", "partition", "next_alert_at"):
        values.pop(column)
    values["obligation"] = Obligation(values["obligation"])
    values["subject_type"] = SubjectType(values["subject_type"])
    values["state"] = ClockState(values["state"])
    values["unit"] = Unit(values["unit"])
    values["warning_fractions"] = tuple(values["warning_fractions"])
    values["warnings"] = tuple(
        WarningPoint(w["label"], datetime.fromisoformat(w["at"]), w["fraction"])
        for w in values["warnings"]
    )
    return Clock(**values)


async def first_time(session: AsyncSession, event_id: str) -> bool:
    """Record that an event is being applied; False if it already was."""
    seen = await session.scalar(
        select(processed_events.c.event_id).where(processed_events.c.event_id == event_id)
    )
    if seen:
        return False
    await session.execute(processed_events.insert().values(event_id=event_id, processed_at=utcnow()))
    return True


async def forget_processed(session: AsyncSession, before: datetime) -> int:
    """Drop the record of events applied before `before`: older than any redelivery."""
    result = await session.execute(
        delete(processed_events).where(processed_events.c.processed_at < before)
    )
    return result.rowcount


async def add_new(session: AsyncSession, new: Iterable[Clock], origin: Origin) -> list[Clock]:
    """Insert the clocks not already known (a redelivered start adds nothing)."""
    new = list(new)
    if not new:
        return []
    known = set(
        await session.scalars(select(clocks.c.id).where(clocks.c.id.in_([c.id for c in new])))
    )
    added = [clock for clock in new if clock.id not in known]
    for clock in added:
        await session.execute(
            clocks.insert().values(**_row(clock), topic=origin.topic, partition=origin.partition)
        )
    return added


async def for_subject(session: AsyncSession, subject_id: str) -> list[Clock]:
    rows = await session.execute(
        select(clocks).where(clocks.c.subject_id == subject_id).order_by(clocks.c.deadline)
    )
    return [_clock(row) for row in rows]


async def origin_of_subject(session: AsyncSession, subject_id: str) -> Partition | None:
    row = (
        await session.execute(
            select(clocks.c.topic, clocks.c.partition).where(clocks.c.subject_id == subject_id).limit(1)
        )
    ).first()
    return (row.topic, row.partition) if row else None


def _owned(partitions: Iterable[Partition] | None) -> ColumnElement[bool]:
    if partitions is None:
        return true()  # a single instance without Kafka owns every clock
    by_topic: dict[str, list[int]] = {}
    for topic, partition in partitions:
        by_topic.setdefault(topic, []).append(partition)
    if not by_topic:
        return clocks.c.id.is_(None)  # owns nothing
    return or_(
        *(and_(clocks.c.topic == t, clocks.c.partition.in_(ps)) for t, ps in by_topic.items())
    )


async def alerting(
    session: AsyncSession, now: datetime, partitions: Iterable[Partition] | None, limit: int = 1000
) -> list[tuple[Partition, Clock]]:
    """Running clocks in these partitions whose next warning or deadline has come."""
    rows = await session.execute(
        select(clocks)
        .where(_owned(partitions), clocks.c.next_alert_at <= now)
        .order_by(clocks.c.next_alert_at)
        .limit(limit)
    )
    return [((row.topic, row.partition), _clock(row)) for row in rows]


async def next_alert(session: AsyncSession, partitions: Iterable[Partition] | None) -> datetime | None:
    return await session.scalar(
        select(func.min(clocks.c.next_alert_at)).where(_owned(partitions))
    )


async def save(session: AsyncSession, clock: Clock, was: Clock) -> bool:
    """Save a change only if nobody changed the clock since it was read (another replica)."""
    changes = _row(clock)
    changes.pop("id")
    result = await session.execute(
        update(clocks)
        .where(
            clocks.c.id == clock.id,
            clocks.c.state == was.state,
            clocks.c.deadline == was.deadline,
            _same_alert(was.next_alert_at),
        )
        .values(**changes)
    )
    return result.rowcount == 1


def _same_alert(at: datetime | None) -> ColumnElement[bool]:
    return clocks.c.next_alert_at.is_(None) if at is None else clocks.c.next_alert_at == at
