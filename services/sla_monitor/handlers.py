"""The monitor's use cases: apply each event to the clocks it concerns; at each
clock's next warning or deadline, say so on Kafka."""

import heapq
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import AnyEvent, Event, utcnow
from shared.kafka import Origin
from shared.service import Runtime
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.sla_monitor.adapters import clock_store
from services.sla_monitor.adapters.ownership import Ownership
from services.sla_monitor.domain import clocks as rules
from services.sla_monitor.domain.applying import ClockRules
from services.sla_monitor.domain.batch import ClockBatch
from services.sla_monitor.domain.clocks import Clock
from services.sla_monitor.domain.facts import event_time, subject_of
from services.sla_monitor.reporting import facts as reporting_facts
from services.sla_monitor.timer import Alarm

log = logging.getLogger(__name__)

# Far longer than the topics keep records (7 days), so no redelivery can be older.
REMEMBER_EVENTS_FOR = timedelta(days=30)


@dataclass
class Monitor:
    runtime: Runtime
    book: StandardsBook
    ownership: Ownership
    # Told each batch's soonest new alert: the timer wakes if it is sooner than its own.
    alarm: Alarm

    def __post_init__(self) -> None:
        self.rules = ClockRules(self.book)

    async def apply(self, event: AnyEvent, origin: Origin) -> None:
        await self.apply_many([(event, origin)])

    async def apply_many(self, events: list[tuple[AnyEvent, Origin]]) -> None:
        """Apply a batch of events in one transaction: the clocks they concern are read
        once, changed in memory and written once. A batch holds records of several topics
        one partition after another, so a case's no-access visit may come before the
        opening of the case it pauses: the partitions are merged by event time, each
        keeping its own order."""
        ids = [str(event.event_id) for event, _ in events]
        async with self.runtime.sessions.begin() as session:
            fresh = await clock_store.not_yet_applied(session, ids)
            todo = _merged_by_time(_first_of_each(ids, events, fresh))
            soonest = await self._apply_all(session, todo) if todo else None
        self.runtime.outbox.wake()
        self.alarm.by(soonest)

    async def _apply_all(
        self, session: AsyncSession, events: list[tuple[AnyEvent, Origin]]
    ) -> datetime | None:
        """Read, work out, then write: on SQLite the write lock is taken by the first
        write, so another replica (or the relay, or the timer) writes while this one
        works the batch out; a clock changed meanwhile fails the write (StaleClocks).
        Returns the soonest warning or deadline among the clocks started or changed."""
        subjects = [subject_of(event).id for event, _ in events]
        batch = ClockBatch(await clock_store.for_subjects(session, set(subjects)))
        outcomes: dict[Topic, list[Event]] = {}
        for (event, origin), subject in zip(events, subjects, strict=True):
            applied = self.rules.apply(event, batch.clocks_of(subject))
            batch.change(applied.changed)
            batch.start(applied.started, origin)
            for topic, outcome in applied.outcomes:
                outcomes.setdefault(topic, []).append(outcome)
        await clock_store.record_applied(session, (str(event.event_id) for event, _ in events))
        await clock_store.write(session, batch)
        for topic, emitted in outcomes.items():
            await self.runtime.outbox.add(session, topic, *emitted)
        await reporting_facts.record_many(session, [event for event, _ in events])
        return batch.soonest_alert()

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


def _first_of_each(
    ids: list[str], events: list[tuple[AnyEvent, Origin]], fresh: set[str]
) -> list[tuple[AnyEvent, Origin]]:
    """The events not applied before, each once: a batch may hold the same event twice
    (a redelivery)."""
    todo = []
    for event_id, item in zip(ids, events, strict=True):
        if event_id in fresh:
            fresh.discard(event_id)
            todo.append(item)
    return todo


def _merged_by_time(events: list[tuple[AnyEvent, Origin]]) -> list[tuple[AnyEvent, Origin]]:
    """Each partition's events in their own order, the partitions interleaved by when
    their events happened."""
    by_partition: dict[tuple[str, int], list[tuple[AnyEvent, Origin]]] = {}
    for event, origin in events:
        by_partition.setdefault((origin.topic, origin.partition), []).append((event, origin))
    return list(heapq.merge(*by_partition.values(), key=_happened))


def _happened(item: tuple[AnyEvent, Origin]) -> datetime:
    return event_time(item[0])
