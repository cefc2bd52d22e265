"""Recording a certificate: its row, the subject's next due date, and
`compliance.certificate_recorded` (which the SLA monitor's property clocks follow),
in one transaction. Recording the same check again changes nothing."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import local_date
from shared.events import stable_event_id, utcnow
from shared.events.compliance import CertificateKind, CertificateRecorded
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.compliance.periods import period_months
from services.scheduler.compliance.programme import due_after
from services.scheduler.compliance.tables import certificates, checks_due


@dataclass(frozen=True)
class Certificate:
    kind: CertificateKind
    subject_id: str  # the property; the block for a fire risk assessment
    checked_on: date
    review_on: date | None = None
    certificate_id: str | None = None

    @property
    def id(self) -> str:
        return self.certificate_id or f"{self.kind}-{self.subject_id}-{self.checked_on.isoformat()}"[:64]


async def record_certificate(runtime: Runtime, certificate: Certificate) -> bool:
    """True when newly recorded; False when this check was already on record."""
    async with runtime.sessions.begin() as session:
        recorded = await _record(runtime, session, certificate)
    if recorded:
        runtime.outbox.wake()
    return recorded


async def _record(runtime: Runtime, session: AsyncSession, certificate: Certificate) -> bool:
    c = certificates.c
    known = await session.scalar(
        select(c.id).where(
            (c.id == certificate.id)
            | (
                (c.subject_id == certificate.subject_id)
                & (c.kind == certificate.kind)
                & (c.checked_on == certificate.checked_on)
            )
        )
    )
    if known is not None:
        return False
    current = (
        await session.execute(
            select(checks_due.c.due_on, checks_due.c.checked_on).where(
                checks_due.c.subject_id == certificate.subject_id,
                checks_due.c.kind == certificate.kind,
            )
        )
    ).first()
    previous_due = current.due_on if current is not None and current.checked_on is not None else None
    now = utcnow()
    months = period_months(certificate.kind, local_date(now))
    due_on = due_after(certificate.kind, certificate.checked_on, previous_due, certificate.review_on, months)
    await session.execute(
        certificates.insert().values(
            id=certificate.id,
            subject_id=certificate.subject_id,
            kind=certificate.kind,
            checked_on=certificate.checked_on,
            review_on=certificate.review_on,
            due_on=due_on,
            recorded_at=now,
        )
    )
    newest = current is None or current.checked_on is None or certificate.checked_on > current.checked_on
    if newest:
        await _set_due(session, certificate, due_on, exists=current is not None)
    await runtime.outbox.add(session, Topic.COMPLIANCE, _recorded(certificate, now))
    return True


async def _set_due(session: AsyncSession, certificate: Certificate, due_on: date, exists: bool) -> None:
    values = {"due_on": due_on, "checked_on": certificate.checked_on}
    if exists:
        await session.execute(
            update(checks_due)
            .where(checks_due.c.subject_id == certificate.subject_id, checks_due.c.kind == certificate.kind)
            .values(**values)
        )
    else:
        await session.execute(
            checks_due.insert().values(subject_id=certificate.subject_id, kind=certificate.kind, **values)
        )


def _recorded(certificate: Certificate, now: datetime) -> CertificateRecorded:
    return CertificateRecorded(
        event_id=stable_event_id(
            "certificate_recorded",
            certificate.kind,
            certificate.subject_id,
            certificate.checked_on.isoformat(),
        ),
        correlation_id=certificate.subject_id,
        property_id=certificate.subject_id,
        property_reference=certificate.subject_id,
        kind=certificate.kind,
        checked_on=certificate.checked_on,
        review_on=certificate.review_on,
        recorded_at=now,
    )
