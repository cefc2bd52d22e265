"""Clocks in the monitor's database, and the events already applied to them."""

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Select, and_, bindparam, delete, func, or_, select, true, union_all, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from shared.calendar import Unit
from shared.db import UtcDateTime
from shared.events import utcnow
from shared.events.sla import Obligation, SubjectType
from shared.kafka import Origin
from services.sla_monitor.adapters.tables import clocks, processed_events
from services.sla_monitor.domain.batch import ClockBatch
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


def _new_row(clock: Clock, origin: Origin) -> dict[str, object]:
    """A new clock's row for _insert_prepared: its warnings already JSON."""
    values = dict(clock.__dict__)
    values["warnings"] = warnings_json(clock.warnings)
    values["next_alert_at"] = clock.next_alert_at
    values["topic"], values["partition"] = origin.topic, origin.partition
    return values


def warnings_json(warnings: Iterable[WarningPoint]) -> str:
    """The warnings column as json.dumps writes it, built directly: encoding them was a
    fifth of writing a batch's new clocks."""
    return "[" + ", ".join(
        f'{{"label": {_json_text(w.label)}, "at": "{w.at.isoformat()}", "fraction": {_json_number(w.fraction)}}}'
        for w in warnings
    ) + "]"


@lru_cache(maxsize=64)
def _json_text(text: str) -> str:
    return json.dumps(text)


def _json_number(value: float | None) -> str:
    return "null" if value is None else repr(value)  # a fraction: finite, as json.dumps writes it


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


async def not_yet_applied(session: AsyncSession, event_ids: list[str]) -> set[str]:
    """The events among these not applied before."""
    unique = list(dict.fromkeys(event_ids))
    seen = set(
        await session.scalars(
            select(processed_events.c.event_id).where(processed_events.c.event_id.in_(unique))
        )
    )
    return {event_id for event_id in unique if event_id not in seen}


async def record_applied(session: AsyncSession, event_ids: Iterable[str]) -> None:
    """Remember events as applied (a second recording of one fails the transaction)."""
    now = utcnow()
    rows = [{"event_id": event_id, "processed_at": now} for event_id in event_ids]
    if rows:
        await session.execute(processed_events.insert(), rows)


async def forget_processed(session: AsyncSession, before: datetime) -> int:
    """Drop the record of events applied before `before`: older than any redelivery."""
    result = await session.execute(
        delete(processed_events).where(processed_events.c.processed_at < before)
    )
    return result.rowcount


async def for_subjects(session: AsyncSession, subject_ids: Iterable[str]) -> list[Clock]:
    """Every clock of these subjects, locked until the transaction ends (PostgreSQL;
    SQLite has one writer, and a stale read there fails the write, which is retried)."""
    rows = await session.execute(
        select(clocks).where(clocks.c.subject_id.in_(list(subject_ids))).with_for_update()
    )
    return [_clock(row) for row in rows]


class StaleClocks(Exception):
    """A clock changed in the database after the batch read it (another replica, in the
    moment a partition moves): nothing of the batch is written."""


async def write(session: AsyncSession, batch: ClockBatch) -> None:
    """Insert a batch's new clocks in one statement, and save only the columns that
    changed of the others, one statement per set of columns, each only if the clock is
    still as it was read."""
    if new := batch.new():
        await _insert_prepared(session, [_new_row(clock, origin) for clock, origin in new])
    by_columns: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for clock, was in batch.changed():
        row, before = _row(clock), _row(was)
        columns = tuple(name for name, value in row.items() if value != before[name])
        by_columns.setdefault(columns, []).append(
            {"clock_id": clock.id, **_as_read(was), **{c: row[c] for c in columns}}
        )
    for columns, rows in by_columns.items():
        result = await session.execute(
            update(clocks)
            .where(
                clocks.c.id == bindparam("clock_id"),
                clocks.c.state == bindparam("read_state"),
                clocks.c.deadline == bindparam("read_deadline"),
                clocks.c.next_alert_at.is_not_distinct_from(bindparam("read_alert")),
            )
            .values({name: bindparam(name) for name in columns}),
            rows,
        )
        if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
            raise StaleClocks(f"{len(rows) - result.rowcount} of {len(rows)} clocks changed meanwhile")


def _as_read(clock: Clock) -> dict[str, object]:
    return {"read_state": clock.state, "read_deadline": clock.deadline, "read_alert": clock.next_alert_at}


async def _insert_prepared(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Many clocks in one statement, each row's values converted straight to the
    driver's: SQLAlchemy's per-row parameter building was a fifth of ingest's time."""
    connection = await session.connection()
    prepared = _prepared_insert(connection.dialect)
    if prepared is None:  # a driver with named parameters: the ordinary way
        await session.execute(clocks.insert(), rows)
        return
    sql, converters = prepared
    await connection.exec_driver_sql(
        sql,
        [tuple([convert(row[name]) if convert else row[name] for name, convert in converters]) for row in rows],
    )


_PREPARED: dict[str, tuple[str, list[tuple[str, Callable[[object], object] | None]]] | None] = {}


def _prepared_insert(dialect: Dialect) -> tuple[str, list[tuple[str, Callable[[object], object] | None]]] | None:
    """The INSERT for every column, as the dialect writes it, and each parameter's
    converter (a UTC timestamp, JSON), in the order the statement takes them."""
    key = f"{dialect.name}+{dialect.driver}"
    if key not in _PREPARED:
        compiled = clocks.insert().compile(dialect=dialect)
        order = compiled.positiontup
        _PREPARED[key] = None if order is None else (
            compiled.string,
            [(name, _converter(name, clocks.c[name].type, dialect)) for name in order],
        )
    return _PREPARED[key]


def _converter(name: str, column_type: object, dialect: Dialect) -> Callable[[object], object] | None:
    if dialect.name == "sqlite" and isinstance(column_type, UtcDateTime):
        return sqlite_utc_text
    if name == "warnings":
        return None  # already JSON (_new_row)
    to_json = column_type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[attr-defined]
    if name == "warning_fractions" and to_json is not None:
        return _once_per_value(to_json)  # one definition's fractions, the same for each clock
    return to_json


def _once_per_value(convert: Callable[[object], object]) -> Callable[[object], object]:
    known: dict[tuple[object, ...], object] = {}

    def converted(value: object) -> object:
        key = tuple(value)  # type: ignore[call-overload]
        if key not in known:
            known[key] = convert(value)
        return known[key]

    return converted


def sqlite_utc_text(value: object) -> str | None:
    """A UTC timestamp as SQLAlchemy's SQLite dialect stores it ("2026-12-01
    09:30:00.000000"), in one C call rather than its two Python steps (a tenth of
    the time spent writing new clocks)."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("refusing to store a timestamp without a UTC offset")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


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
    """The soonest warning or deadline in these partitions. Asked after every batch, so
    each partition's soonest is one index seek; a min() over all of them at once would
    read every running clock's index entry."""
    if partitions is None:
        return await session.scalar(select(func.min(clocks.c.next_alert_at)))
    owned = sorted(partitions)
    if not owned:
        return None
    soonest = union_all(*(_soonest_in(partition).subquery().select() for partition in owned))
    return await session.scalar(select(func.min(soonest.subquery().c.at)))


def _soonest_in(partition: Partition) -> Select[tuple[datetime]]:
    topic, number = partition
    return (
        select(clocks.c.next_alert_at.label("at"))
        .where(clocks.c.topic == topic, clocks.c.partition == number, clocks.c.next_alert_at.is_not(None))
        .order_by(clocks.c.next_alert_at)
        .limit(1)
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
