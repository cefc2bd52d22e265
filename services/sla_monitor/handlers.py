"""The monitor's use cases: apply each event to the clocks it concerns; at each
clock's next warning or deadline, say so on Kafka."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.calendar import default_calendar as calendar
from shared.events import AnyEvent, Event, utcnow
from shared.events.cases import ExtensionAgreed
from shared.events.compliance import CertificateRecorded
from shared.events.sla import SubjectType
from shared.kafka import Origin
from shared.service import Runtime
from shared.standards.loader import clocks_started_by
from shared.standards.models import ApplicableClock, ClockDefinition, EventFacts, StandardsBook
from shared.topics import Topic
from services.sla_monitor.adapters import clock_store
from services.sla_monitor.adapters.ownership import Ownership
from services.sla_monitor.domain import clocks as rules
from services.sla_monitor.domain.clocks import FINAL, Clock, ClockState
from services.sla_monitor.reporting import facts as reporting_facts
from services.sla_monitor.domain.facts import (
    Subject,
    due_reference,
    event_time,
    facts_of,
    instance_of,
    subject_of,
)

log = logging.getLogger(__name__)

# Far longer than the topics keep records (7 days), so no redelivery can be older.
REMEMBER_EVENTS_FOR = timedelta(days=30)


@dataclass
class Applied:
    """What one event did: clocks to add and events to emit."""

    started: list[Clock]
    outcomes: list[tuple[Topic, Event]]


@dataclass
class Monitor:
    runtime: Runtime
    book: StandardsBook
    ownership: Ownership
    # Set whenever a deadline may have moved: the timer then looks again at once.
    deadlines_changed: asyncio.Event

    async def apply(self, event: AnyEvent, origin: Origin) -> None:
        await self.apply_many([(event, origin)])

    async def apply_many(self, events: list[tuple[AnyEvent, Origin]]) -> None:
        """Apply events in order, all in one transaction: a batch from the consumer."""
        async with self.runtime.sessions.begin() as session:
            for event, origin in events:
                await self._apply_one(session, event, origin)
        self.runtime.outbox.wake()
        self.deadlines_changed.set()

    async def _apply_one(self, session: AsyncSession, event: AnyEvent, origin: Origin) -> None:
        if not await clock_store.first_time(session, str(event.event_id)):
            return
        await reporting_facts.record(session, event)
        existing = await clock_store.for_subject(session, subject_of(event).id)
        applied = await self._apply(session, event, existing)
        await clock_store.add_new(session, applied.started, origin)
        for topic, outcome in applied.outcomes:
            await self.runtime.outbox.add(session, topic, outcome)

    async def _apply(self, session: AsyncSession, event: AnyEvent, existing: list[Clock]) -> Applied:
        facts, at = facts_of(event), event_time(event)
        # A new certificate ends the previous certificate's clocks: it concerns them all.
        instance = "" if isinstance(event, CertificateRecorded) else instance_of(event)
        applied = Applied(started=[], outcomes=[])
        for clock in existing:
            if clock.state in FINAL or not clock.concerns(instance):
                continue
            definition = self._definition(clock)
            if definition is None:
                continue
            if definition.is_stopped_by(facts):
                if await clock_store.save(session, rules.stopped(clock, at), clock):
                    applied.outcomes.append((Topic.SLA_OUTCOMES, rules.met_event(clock, at)))
                    applied.started += self._chained(clock, at)
            elif definition.is_cancelled_by(facts):
                await clock_store.save(session, rules.cancelled(clock, at), clock)
            elif definition.is_paused_by(facts) and clock.state is ClockState.RUNNING:
                await clock_store.save(session, rules.paused(clock, at), clock)
            elif definition.is_resumed_by(facts) and clock.state is ClockState.PAUSED:
                await clock_store.save(session, rules.resumed(clock, at), clock)
            elif isinstance(event, ExtensionAgreed) and clock.definition == event.clock:
                await self._extend(session, clock, definition, event)
        applied.started += self._started(event, facts, existing)
        return applied

    async def _extend(
        self, session: AsyncSession, clock: Clock, definition: ClockDefinition, event: ExtensionAgreed
    ) -> None:
        moved, over_limit = rules.extended(clock, definition.extension, event.new_deadline, event.agreed_at)
        if moved != clock:
            await clock_store.save(session, moved, clock)
        if over_limit:
            log.warning("extension beyond the standard's limit", extra={"clock_id": clock.id})

    def _started(self, event: AnyEvent, facts: EventFacts, existing: list[Clock]) -> list[Clock]:
        subject, at = subject_of(event), event_time(event)
        starting = clocks_started_by(self.book, facts, self._standards_date(subject, existing, at))
        return [self._start(applicable, event, subject, existing) for applicable in starting]

    def _start(
        self, applicable: ApplicableClock, event: AnyEvent, subject: Subject, existing: list[Clock]
    ) -> Clock:
        due_on = None
        if isinstance(event, CertificateRecorded):
            previous = _latest(existing, applicable)
            due_on = rules.certificate_due(applicable.clock, event, previous)
        return rules.start(
            applicable, subject, instance_of(event), event_time(event), due_reference(event), due_on
        )

    def _chained(self, stopped: Clock, at: datetime) -> list[Clock]:
        standard = self.book.pack(stopped.pack_id).standard_on(stopped.effective_from)
        if standard is None:
            return []
        subject = Subject(stopped.subject_type, stopped.subject_id, stopped.reference)
        return [
            rules.start(
                ApplicableClock(standard.pack_id, standard.pack_kind, standard.effective_from, definition),
                subject,
                stopped.instance,
                at,
                at,
            )
            for definition in standard.chained_from(stopped.definition)
        ]

    def _definition(self, clock: Clock) -> ClockDefinition | None:
        """The clock's definition in the standard it started under; None (and a log line)
        if the packs no longer have it, so one stale clock cannot block a case's others."""
        try:
            standard = self.book.pack(clock.pack_id).standard_on(clock.effective_from)
            return standard.clock(clock.definition)  # type: ignore[union-attr]
        except (KeyError, AttributeError):
            log.error("clock has no definition in the standards", extra={"clock_id": clock.id})
            return None

    @staticmethod
    def _standards_date(subject: Subject, existing: list[Clock], at: datetime) -> date:
        """A case keeps the standards in force when it opened; each certificate starts afresh."""
        if subject.type is SubjectType.CASE and existing:
            return calendar.local_date(min(c.started_at for c in existing))
        return calendar.local_date(at)

    # -- the timer's side ------------------------------------------------------------

    async def alert_due(self) -> bool:
        """Warn and breach what is due in the partitions this instance owns, once its
        inputs are caught up (an event that happened in time may still be queued).
        Returns False when something due had to wait for the inputs."""
        now = utcnow()
        async with self.runtime.sessions() as session:
            due = await clock_store.alerting(session, now, self.ownership.partitions())
        if not due:
            return True
        ready = await self.ownership.caught_up({partition for partition, _ in due})
        async with self.runtime.sessions.begin() as session:
            for partition, clock in due:
                if partition in ready:
                    await self._alert(session, clock, now)
        self.runtime.outbox.wake()
        return len(ready) == len({partition for partition, _ in due})

    async def _alert(self, session: AsyncSession, clock: Clock, now: datetime) -> None:
        updated, warnings, breached = rules.due_alerts(clock, now)
        if not await clock_store.save(session, updated, clock):
            return  # moved meanwhile, by an event or another instance
        for point in warnings:
            await self.runtime.outbox.add(session, Topic.SLA_WARNINGS, rules.warning_event(updated, point))
        if breached:
            await self.runtime.outbox.add(session, Topic.SLA_BREACHES, rules.breach_event(updated))
            log.warning("clock breached", extra={"clock_id": clock.id, "deadline": clock.deadline.isoformat()})

    async def forget_old_events(self) -> None:
        async with self.runtime.sessions.begin() as session:
            await clock_store.forget_processed(session, utcnow() - REMEMBER_EVENTS_FOR)

    async def next_alert(self) -> datetime | None:
        async with self.runtime.sessions() as session:
            return await clock_store.next_alert(session, self.ownership.partitions())


def _latest(existing: list[Clock], applicable: ApplicableClock) -> date | None:
    """The due date the previous certificate of this kind set, if there was one."""
    same = [
        c for c in existing
        if c.definition == applicable.clock.id and c.pack_id == applicable.pack_id
    ]
    return rules.due_date(max(same, key=lambda c: c.started_at)) if same else None
