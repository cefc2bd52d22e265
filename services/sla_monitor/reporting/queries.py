"""Reading one period's facts and clocks from the monitor's database.

Each query narrows to the rows that can matter for the period; the figures decide
exactly what falls in it, so a little more than needed is harmless.
"""

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import utcnow
from shared.events.cases import CaseKind, Priority
from shared.events.feedback import Aspect
from shared.events.sla import Obligation
from services.sla_monitor.adapters.tables import clocks
from services.sla_monitor.reporting import facts as tables
from services.sla_monitor.reporting.figures import build_report
from services.sla_monitor.reporting.periods import Period
from services.sla_monitor.reporting.report import Report
from services.sla_monitor.reporting.rows import (
    CANCELLED,
    MET,
    ClockRow,
    Escalation,
    Facts,
    GasCheck,
    Inspection,
    OpenedCase,
    RentCredit,
    RepairVisit,
    SurveyScore,
)


def _within(column, period: Period):  # type: ignore[no-untyped-def]
    return and_(column >= period.start, column < period.end)


async def load(session: AsyncSession, period: Period) -> Facts:
    return Facts(
        cases=await cases(session, period),
        escalations=await escalations(session, period),
        repair_visits=await repair_visits(session, period),
        gas_checks=await gas_checks(session, period),
        rent_credits=await rent_credits(session, period),
        inspections=await inspections(session, period),
        survey_scores=await survey_scores(session, period),
        clocks=await clock_rows(session, period),
    )


def _jobs_with_recent_visits(period: Period):  # type: ignore[no-untyped-def]
    """The repair jobs with a visit completed since the period began: a job's last
    visit decides its period, so only these can have completed in it."""
    visits = tables.repair_visits
    return select(visits.c.case_id).where(visits.c.completed_at >= period.start)


async def cases(session: AsyncSession, period: Period) -> tuple[OpenedCase, ...]:
    """Cases received in the period, and the repair jobs that may have completed in it
    (for their end-to-end time), whenever received."""
    table = tables.cases_opened
    wanted = or_(
        _within(table.c.received_at, period), table.c.case_id.in_(_jobs_with_recent_visits(period))
    )
    rows = await session.execute(
        select(table.c.case_id, table.c.kind, table.c.priority, table.c.received_at).where(wanted)
    )
    return tuple(
        OpenedCase(case_id, CaseKind(kind), Priority(priority) if priority else None, received_at)
        for case_id, kind, priority, received_at in rows
    )


async def escalations(session: AsyncSession, period: Period) -> tuple[Escalation, ...]:
    table = tables.complaint_escalations
    rows = await session.execute(
        select(table.c.case_id, table.c.escalated_at).where(_within(table.c.escalated_at, period))
    )
    return tuple(Escalation(*row) for row in rows)


async def repair_visits(session: AsyncSession, period: Period) -> tuple[RepairVisit, ...]:
    """Every visit of the jobs that may have completed in the period."""
    table = tables.repair_visits
    rows = await session.execute(
        select(table.c.case_id, table.c.appointment_id, table.c.completed_at, table.c.fixed_first_time)
        .where(table.c.case_id.in_(_jobs_with_recent_visits(period)))
    )
    return tuple(RepairVisit(*row) for row in rows)


async def gas_checks(session: AsyncSession, period: Period) -> tuple[GasCheck, ...]:
    table = tables.gas_checks
    rows = await session.execute(
        select(table.c.property_id, table.c.checked_on).where(table.c.checked_on <= period.last_day)
    )
    return tuple(GasCheck(*row) for row in rows)


async def rent_credits(session: AsyncSession, period: Period) -> tuple[RentCredit, ...]:
    table = tables.rent_credits
    rows = await session.execute(
        select(table.c.case_id, table.c.appointment_id, table.c.amount_pence, table.c.due_at)
        .where(_within(table.c.due_at, period))
    )
    return tuple(RentCredit(*row) for row in rows)


async def inspections(session: AsyncSession, period: Period) -> tuple[Inspection, ...]:
    table = tables.inspections
    rows = await session.execute(
        select(table.c.case_id, table.c.inspected_at, table.c.high_value_or_complex, table.c.passed)
        .where(_within(table.c.inspected_at, period))
    )
    return tuple(Inspection(*row) for row in rows)


async def survey_scores(session: AsyncSession, period: Period) -> tuple[SurveyScore, ...]:
    table = tables.survey_scores
    rows = await session.execute(
        select(table.c.event_id, table.c.aspect, table.c.score, table.c.answered_at)
        .where(_within(table.c.answered_at, period))
    )
    return tuple(
        SurveyScore(event_id, Aspect(aspect), score, answered_at)
        for event_id, aspect, score, answered_at in rows
    )


async def clock_rows(session: AsyncSession, period: Period) -> tuple[ClockRow, ...]:
    """Clocks stopped in the period, and clocks breached in it that are still open."""
    stopped = and_(clocks.c.state == MET, _within(clocks.c.stopped_at, period))
    breached_open = and_(clocks.c.state.not_in([MET, CANCELLED]), _within(clocks.c.breached_at, period))
    rows = await session.execute(
        select(
            clocks.c.definition,
            clocks.c.name,
            clocks.c.obligation,
            clocks.c.deadline,
            clocks.c.state,
            clocks.c.stopped_at,
            clocks.c.breached_at,
        ).where(or_(stopped, breached_open))
    )
    return tuple(
        ClockRow(definition, name, Obligation(obligation), deadline, state, stopped_at, breached_at)
        for definition, name, obligation, deadline, state, stopped_at, breached_at in rows
    )


async def report_for(
    session: AsyncSession, period: Period, homes: int, as_at: datetime | None = None
) -> Report:
    """The period's report, as the database stands now."""
    return build_report(await load(session, period), period, homes, as_at or utcnow())
