"""The daily sweep of staff-led checks: electrical inspections of every home and fire
risk assessments of every block. A task is raised once when the notice period opens and
once more if the due date passes with no new certificate."""

from datetime import date

from sqlalchemy import Row, bindparam, insert, update

from shared.calendar import add_months
from shared.events import Event, stable_event_id, utcnow
from shared.events.compliance import CertificateKind, SafetyCheckDue, SafetyCheckOverdue
from shared.service import Runtime
from shared.topics import Topic
from services.scheduler.compliance import store
from services.scheduler.compliance.programme import NoticeStep, check_case_id, notice_step
from services.scheduler.compliance.tables import check_progress

STAFF_LED = (CertificateKind.ELECTRICAL_INSTALLATION, CertificateKind.FIRE_RISK_ASSESSMENT)


async def sweep_notices(
    runtime: Runtime, kind: CertificateKind, notice_months: int, today: date
) -> dict[str, int]:
    async with runtime.sessions.begin() as session:
        await store.add_missing_due(session, kind, today)
        rows = await store.notice_candidates(session, kind, add_months(today, notice_months))
        steps = [
            (row, step)
            for row in rows
            if (
                step := notice_step(
                    today, row.due_on, notice_months, row.raised_on is not None, row.escalated_on is not None
                )
            )
            is not NoticeStep.NOTHING
        ]
        new, overdue, events = _plan(kind, steps, today)
        if new:
            await session.execute(insert(check_progress), new)
        if overdue:
            p = check_progress.c
            await session.execute(
                update(check_progress)
                .where(p.case_id == bindparam("b_case"), p.escalated_on.is_(None))
                .values(escalated_on=bindparam("b_on")),
                overdue,
            )
        if events:
            await runtime.outbox.add(session, Topic.COMPLIANCE, *events)
    runtime.outbox.wake()
    return {
        "looked_at": len(rows),
        "due": sum(step is NoticeStep.DUE for _, step in steps),
        "overdue": sum(step is NoticeStep.OVERDUE for _, step in steps),
    }


def _plan(
    kind: CertificateKind, steps: list[tuple[Row, NoticeStep]], today: date
) -> tuple[list[dict[str, object]], list[dict[str, object]], list[Event]]:
    now = utcnow()
    new: list[dict[str, object]] = []
    overdue: list[dict[str, object]] = []
    events: list[Event] = []
    for row, step in steps:
        case_id = check_case_id(kind, row.subject_id, row.due_on)
        late = step is NoticeStep.OVERDUE
        if row.case_id is None:
            new.append(
                {
                    "case_id": case_id,
                    "subject_id": row.subject_id,
                    "kind": kind,
                    "due_on": row.due_on,
                    "attempts": 0,
                    "last_attempt_on": None,
                    "raised_on": today,
                    "escalated_on": today if late else None,
                }
            )
        elif late:
            overdue.append({"b_case": case_id, "b_on": today})
        event_type = SafetyCheckOverdue if late else SafetyCheckDue
        events.append(
            event_type(
                event_id=stable_event_id(event_type.model_fields["event_type"].default, case_id),
                correlation_id=case_id,
                property_id=row.subject_id,
                case_id=case_id,
                kind=kind,
                due_on=row.due_on,
                raised_at=now,
            )
        )
    return new, overdue, events
