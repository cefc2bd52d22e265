"""What one event does to a subject's clocks (pure): which stop, cancel, pause, resume
or move, which start, and what the monitor says about it."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.calendar import Unit, default_calendar as calendar
from shared.events import AnyEvent, Event
from shared.events.cases import ExtensionAgreed
from shared.events.compliance import CertificateRecorded
from shared.events.sla import SubjectType
from shared.standards.loader import clocks_started_by
from shared.standards.models import ApplicableClock, ClockDefinition, EventFacts, StandardsBook
from shared.topics import Topic
from services.sla_monitor.domain import clocks as rules
from services.sla_monitor.domain.clocks import FINAL, Clock, ClockState
from services.sla_monitor.domain.facts import (
    Subject,
    due_reference,
    event_time,
    facts_of,
    instance_of,
    subject_of,
)

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """What one event did: clocks changed, clocks started, events to emit."""

    changed: list[Clock] = field(default_factory=list)
    started: list[Clock] = field(default_factory=list)
    outcomes: list[tuple[Topic, Event]] = field(default_factory=list)


@dataclass(frozen=True)
class ClockRules:
    book: StandardsBook
    _known_effects: dict[tuple[str, str, EventFacts], tuple[bool, bool, bool, bool]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def apply(self, event: AnyEvent, existing: list[Clock]) -> Applied:
        facts, at = facts_of(event), event_time(event)
        # A new certificate ends the previous certificate's clocks: it concerns them all.
        instance = "" if isinstance(event, CertificateRecorded) else instance_of(event)
        applied = Applied()
        for clock in existing:
            if clock.state in FINAL or not clock.concerns(instance):
                continue
            definition = self.definition(clock)
            if definition is not None:
                self._progress(applied, clock, definition, event, facts, at)
        applied.started += self._started(event, facts, existing, at)
        return applied

    def _progress(  # noqa: PLR0913
        self,
        applied: Applied,
        clock: Clock,
        definition: ClockDefinition,
        event: AnyEvent,
        facts: EventFacts,
        at: datetime,
    ) -> None:
        stops, cancels, pauses, resumes = self._effects(clock, definition, facts)
        if stops:
            applied.changed.append(rules.stopped(clock, at))
            applied.outcomes.append((Topic.SLA_OUTCOMES, rules.met_event(clock, at)))
            applied.started += self._chained(clock, at)
        elif cancels:
            applied.changed.append(rules.cancelled(clock, at))
        elif pauses and clock.state is ClockState.RUNNING:
            applied.changed.append(rules.paused(clock, at))
        elif resumes and clock.state is ClockState.PAUSED:
            applied.changed.append(rules.resumed(clock, at))
        elif isinstance(event, ExtensionAgreed) and clock.definition == event.clock:
            moved, over_limit = rules.extended(clock, definition.extension, event.new_deadline, event.agreed_at)
            if moved != clock:
                applied.changed.append(moved)
            if over_limit:
                log.warning("extension beyond the standard's limit", extra={"clock_id": clock.id})

    def _effects(
        self, clock: Clock, definition: ClockDefinition, facts: EventFacts
    ) -> tuple[bool, bool, bool, bool]:
        """Whether events with these facts stop, cancel, pause or resume such a clock;
        remembered, since a batch asks the same question many times."""
        key = (clock.standard, clock.definition, facts)
        if key not in self._known_effects:
            self._known_effects[key] = (
                definition.is_stopped_by(facts),
                definition.is_cancelled_by(facts),
                definition.is_paused_by(facts),
                definition.is_resumed_by(facts),
            )
        return self._known_effects[key]

    def _started(
        self, event: AnyEvent, facts: EventFacts, existing: list[Clock], at: datetime
    ) -> list[Clock]:
        subject = subject_of(event)
        starting = clocks_started_by(self.book, facts, _standards_date(subject, existing, at))
        started = [self._start(applicable, event, subject, existing, at) for applicable in starting]
        return [clock for clock in started if not _already_out_of_reach(clock)]

    def _start(  # noqa: PLR0913
        self, applicable: ApplicableClock, event: AnyEvent, subject: Subject, existing: list[Clock], at: datetime
    ) -> Clock:
        due_on = None
        if isinstance(event, CertificateRecorded):
            due_on = rules.certificate_due(applicable.clock, event, _previous_due(existing, applicable))
        return rules.start(
            applicable, subject, instance_of(event), at, due_reference(event, at), due_on
        )

    def _chained(self, stopped: Clock, at: datetime) -> list[Clock]:
        standard = self.book.pack(stopped.pack_id).standard_on(stopped.effective_from)
        if standard is None:
            return []
        subject = Subject(stopped.subject_type, stopped.subject_id, stopped.reference)
        source = (standard.pack_id, standard.pack_kind, standard.effective_from)
        return [
            rules.start(ApplicableClock(*source, definition), subject, stopped.instance, at, at)
            for definition in standard.chained_from(stopped.definition)
        ]

    def definition(self, clock: Clock) -> ClockDefinition | None:
        """The clock's definition in the standard it started under; None (and a log line)
        if the packs no longer have it, so one stale clock cannot block a case's others."""
        try:
            standard = self.book.pack(clock.pack_id).standard_on(clock.effective_from)
            return standard.clock(clock.definition)  # type: ignore[union-attr]
        except (KeyError, AttributeError):
            log.error("clock has no definition in the standards", extra={"clock_id": clock.id})
            return None


def _already_out_of_reach(clock: Clock) -> bool:
    """A promise to act before a future date (a reminder the working day before the
    appointment) that had passed when it began: an appointment booked after its
    previous working day is told in its confirmation, and no reminder is owed."""
    return clock.unit is Unit.BEFORE_PREVIOUS_WORKING_DAY and clock.deadline <= clock.started_at


def _standards_date(subject: Subject, existing: list[Clock], at: datetime) -> date:
    """A case keeps the standards in force when it opened; each certificate starts afresh."""
    if subject.type is SubjectType.CASE and existing:
        return calendar.local_date(min(c.started_at for c in existing))
    return calendar.local_date(at)


def _previous_due(existing: list[Clock], applicable: ApplicableClock) -> date | None:
    """The due date the previous certificate of this kind set, if there was one."""
    same = [c for c in existing if c.definition == applicable.clock.id and c.pack_id == applicable.pack_id]
    return rules.due_date(max(same, key=lambda c: c.started_at)) if same else None
