"""The programme's queries: set-based, so a sweep over every home is a few statements."""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Row, Select, and_, case, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.compliance import CertificateKind
from services.scheduler.adapters.tables import appointments, blocks, properties, tenancies
from services.scheduler.compliance.tables import check_progress, checks_due

GAS_CHECK = "gas_check"  # the appointment kind of a gas safety check


def subjects_of(kind: CertificateKind) -> Select:
    """Whatever a kind of check is owed by: homes with gas, every home, every block."""
    if kind is CertificateKind.GAS_SAFETY:
        return select(properties.c.id).where(properties.c.has_gas)
    if kind is CertificateKind.ELECTRICAL_INSTALLATION:
        return select(properties.c.id)
    return select(blocks.c.id)


async def add_missing_due(session: AsyncSession, kind: CertificateKind, today: date) -> None:
    """A subject with no certificate of this kind on record is due today."""
    subject = subjects_of(kind).subquery()
    known = exists().where(checks_due.c.subject_id == subject.c.id, checks_due.c.kind == kind)
    missing = select(
        subject.c.id, literal(str(kind), checks_due.c.kind.type), literal(today, checks_due.c.due_on.type)
    ).where(~known)
    await session.execute(insert(checks_due).from_select(["subject_id", "kind", "due_on"], missing))


def _visits() -> Select:
    """Per gas-check case: visits still to come, done, and failed for no access."""
    a = appointments.c
    pending = and_(
        a.arrived_at.is_(None),
        a.completed_at.is_(None),
        a.no_access_at.is_(None),
        a.missed_at.is_(None),
        a.cancelled_at.is_(None),
    )
    return (
        select(
            a.case_id,
            func.sum(case((pending, 1), else_=0)).label("visits_open"),
            func.sum(case((a.completed_at.is_not(None), 1), else_=0)).label("visits_done"),
            func.sum(case((a.no_access_at.is_not(None), 1), else_=0)).label("no_access"),
        )
        .where(a.kind == GAS_CHECK)
        .group_by(a.case_id)
    )


async def gas_candidates(session: AsyncSession, horizon: date) -> Sequence[Row]:
    """Homes with gas whose check falls due by `horizon`, with their progress so far."""
    visits = _visits().subquery()
    p = check_progress.c
    query = (
        select(
            checks_due.c.subject_id,
            checks_due.c.due_on,
            p.attempts,
            p.last_attempt_on,
            p.escalated_on,
            visits.c.visits_open,
            visits.c.visits_done,
            visits.c.no_access,
        )
        .select_from(
            checks_due.join(properties, properties.c.id == checks_due.c.subject_id)
            .outerjoin(
                check_progress,
                and_(
                    p.subject_id == checks_due.c.subject_id,
                    p.kind == checks_due.c.kind,
                    p.due_on == checks_due.c.due_on,
                ),
            )
            .outerjoin(visits, visits.c.case_id == p.case_id)
        )
        .where(
            checks_due.c.kind == CertificateKind.GAS_SAFETY,
            checks_due.c.due_on <= horizon,
            properties.c.has_gas,
            p.escalated_on.is_(None),
        )
    )
    return (await session.execute(query)).all()


async def notice_candidates(session: AsyncSession, kind: CertificateKind, horizon: date) -> Sequence[Row]:
    """Subjects whose check of `kind` falls due by `horizon`, with what was raised."""
    p = check_progress.c
    query = (
        select(checks_due.c.subject_id, checks_due.c.due_on, p.case_id, p.raised_on, p.escalated_on)
        .select_from(
            checks_due.outerjoin(
                check_progress,
                and_(
                    p.subject_id == checks_due.c.subject_id,
                    p.kind == checks_due.c.kind,
                    p.due_on == checks_due.c.due_on,
                ),
            )
        )
        .where(
            checks_due.c.kind == kind,
            checks_due.c.due_on <= horizon,
            p.escalated_on.is_(None),
        )
    )
    return (await session.execute(query)).all()


async def contacts(session: AsyncSession, property_ids: Iterable[str]) -> dict[str, Row]:
    """Each home's current tenancy: how to reach the tenant (personal data, never logged)."""
    rows = await session.execute(
        select(tenancies.c.property_id, tenancies.c.id, tenancies.c.mobile, tenancies.c.email)
        .where(tenancies.c.property_id.in_(list(property_ids)), tenancies.c.active)
        .order_by(tenancies.c.property_id, tenancies.c.id)
    )
    found: dict[str, Row] = {}
    for row in rows:
        if row.mobile or row.email:
            found.setdefault(row.property_id, row)
    return found
