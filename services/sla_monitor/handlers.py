"""The monitor's use cases: start clocks, stop them, breach them at their deadline."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import utcnow
from shared.events.cases import CaseClosed, CaseOpened, CaseReplied
from shared.service import Runtime
from shared.standards.models import EventFacts, StandardsBook
from shared.topics import Topic
from services.sla_monitor.adapters import clock_store
from services.sla_monitor.domain.clocks import (
    Clock,
    ClockState,
    breach_event,
    breached,
    cancelled,
    clocks_for_new_case,
    definition_of,
    facts_of,
    met_event,
    stopped,
)

log = logging.getLogger(__name__)


@dataclass
class Monitor:
    runtime: Runtime
    book: StandardsBook
    # Set whenever a deadline may have moved: the timer then looks again at once.
    deadlines_changed: asyncio.Event

    async def case_opened(self, case: CaseOpened) -> None:
        async with self.runtime.sessions.begin() as session:
            added = await clock_store.add_new(session, clocks_for_new_case(self.book, case))
        for clock in added:
            log.info("clock started", extra={"clock_id": clock.id, "case_id": case.case_id, "deadline": clock.deadline.isoformat()})
        self.deadlines_changed.set()

    async def case_progressed(self, event: CaseReplied | CaseClosed) -> None:
        facts = facts_of(event)
        stopped_at = event.replied_at if isinstance(event, CaseReplied) else event.closed_at
        async with self.runtime.sessions.begin() as session:
            for clock in await clock_store.for_subject(session, event.case_id):
                await self._progress(session, clock, facts, stopped_at)
        self.runtime.outbox.wake()
        self.deadlines_changed.set()

    async def _progress(
        self, session: AsyncSession, clock: Clock, facts: EventFacts, at: datetime
    ) -> None:
        """Stop a running or breached clock (sla.met), or cancel a running one (no event)."""
        if clock.state in (ClockState.MET, ClockState.CANCELLED):
            return
        definition = definition_of(self.book, clock)
        if definition.is_stopped_by(facts):
            if await clock_store.move(session, stopped(clock, at), clock.state):
                await self.runtime.outbox.add(session, Topic.SLA_OUTCOMES, met_event(clock, at))
        elif definition.is_cancelled_by(facts) and clock.state is ClockState.RUNNING:
            await clock_store.move(session, cancelled(clock, at), clock.state)

    async def breach_due(self) -> None:
        now = utcnow()
        async with self.runtime.sessions.begin() as session:
            for clock in await clock_store.due(session, now):
                if await clock_store.move(session, breached(clock, now), ClockState.RUNNING):
                    await self.runtime.outbox.add(session, Topic.SLA_BREACHES, breach_event(clock))
                    log.warning("clock breached", extra={"clock_id": clock.id, "case_id": clock.subject_id})
        self.runtime.outbox.wake()

    async def next_deadline(self) -> datetime | None:
        async with self.runtime.sessions() as session:
            return await clock_store.next_deadline(session)
