"""The facts the performance figures need, recorded from the events the monitor
consumes, one row per event (per answered aspect, for surveys).

`record` stores a fact for an event it cares about and ignores the rest; a redelivered
event (same event_id) adds nothing. Only ids and references are kept, never personal data.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Boolean, Column, Date, Integer, String, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import UtcDateTime
from shared.events import Event
from shared.events.appointments import AppointmentCompleted, AppointmentKind
from shared.events.cases import CaseOpened, ComplaintEscalated
from shared.events.compliance import CertificateKind, CertificateRecorded
from shared.events.feedback import SurveyAnswered, WorksInspected
from shared.events.finance import RentCreditDue
from services.sla_monitor.adapters.tables import metadata

ID = 64  # case, appointment and property ids (shared.events.envelope.Id)
EVENT_ID = 36
REFERENCE = 64
WORD = 40  # kinds, priorities, reasons, aspects


def _event_id() -> Column:
    return Column("event_id", String(EVENT_ID), primary_key=True)


def _case() -> list[Column]:
    return [
        Column("case_id", String(ID), nullable=False, index=True),
        Column("reference", String(REFERENCE), nullable=False),
    ]


cases_opened = Table(
    "report_cases_opened",
    metadata,
    _event_id(),
    *_case(),
    Column("kind", String(WORD), nullable=False),
    Column("priority", String(WORD), nullable=True),
    Column("received_at", UtcDateTime, nullable=False, index=True),
)

complaint_escalations = Table(
    "report_complaint_escalations",
    metadata,
    _event_id(),
    *_case(),
    Column("escalated_at", UtcDateTime, nullable=False, index=True),
)

repair_visits = Table(
    "report_repair_visits",
    metadata,
    _event_id(),
    *_case(),
    Column("appointment_id", String(ID), nullable=False),
    Column("completed_at", UtcDateTime, nullable=False, index=True),
    Column("fixed_first_time", Boolean, nullable=False),
)

gas_checks = Table(
    "report_gas_checks",
    metadata,
    _event_id(),
    Column("property_id", String(ID), nullable=False, index=True),
    Column("checked_on", Date, nullable=False, index=True),
    Column("recorded_at", UtcDateTime, nullable=False),
)

rent_credits = Table(
    "report_rent_credits",
    metadata,
    _event_id(),
    *_case(),
    Column("appointment_id", String(ID), nullable=False),
    Column("amount_pence", Integer, nullable=False),
    Column("reason", String(WORD), nullable=False),
    Column("due_at", UtcDateTime, nullable=False, index=True),
)

inspections = Table(
    "report_inspections",
    metadata,
    _event_id(),
    *_case(),
    Column("inspected_at", UtcDateTime, nullable=False, index=True),
    Column("high_value_or_complex", Boolean, nullable=False),
    Column("passed", Boolean, nullable=False),
)

survey_scores = Table(
    "report_survey_scores",
    metadata,
    Column("event_id", String(EVENT_ID), primary_key=True),
    Column("aspect", String(WORD), primary_key=True),
    *_case(),
    Column("answered_at", UtcDateTime, nullable=False, index=True),
    Column("score", Integer, nullable=False),
)

Rows = list[dict[str, Any]]


def facts_of(event: Event) -> tuple[Table, Rows] | None:
    """The table and rows that record this event, or None when no figure needs it."""
    match event:
        case CaseOpened():
            return cases_opened, [_row(event, "kind", "priority", "received_at")]
        case ComplaintEscalated():
            return complaint_escalations, [_row(event, "escalated_at")]
        case AppointmentCompleted(kind=AppointmentKind.REPAIR):
            return repair_visits, [_row(event, "appointment_id", "completed_at", "fixed_first_time")]
        case CertificateRecorded(kind=CertificateKind.GAS_SAFETY):
            return gas_checks, [_gas_check(event)]
        case RentCreditDue():
            return rent_credits, [_row(event, "appointment_id", "amount_pence", "reason", "due_at")]
        case WorksInspected():
            return inspections, [_row(event, "inspected_at", "high_value_or_complex", "passed")]
        case SurveyAnswered():
            return survey_scores, list(_scores(event))
    return None


async def record(session: AsyncSession, event: Event) -> None:
    """Store the event's fact in the caller's transaction; once, however often it comes."""
    await record_many(session, [event])


async def record_many(session: AsyncSession, events: Iterable[Event]) -> None:
    """Store the facts of many events, one statement per table."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for event in events:
        if (found := facts_of(event)) is not None:
            table, rows = found
            by_table.setdefault(table, []).extend(rows)
    for table, rows in by_table.items():
        await session.execute(_insert_once(session, table), rows)


def _insert_once(session: AsyncSession, table: Table):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise RuntimeError(f"recording facts on {dialect} is not supported (SQLite or PostgreSQL)")


def _row(event: Event, *fields: str) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in ("case_id", "reference", *fields)}
    return {"event_id": str(event.event_id), **values}


def _gas_check(event: CertificateRecorded) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "property_id": event.property_id,
        "checked_on": event.checked_on,
        "recorded_at": event.recorded_at,
    }


def _scores(event: SurveyAnswered) -> Iterator[dict[str, Any]]:
    for aspect, score in event.scores.items():
        yield {**_row(event, "answered_at"), "aspect": str(aspect), "score": score}
