"""Clocks: started, stopped and breached by events, timed by the standards (pure)."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from shared.calendar import default_calendar
from shared.events import stable_event_id
from shared.events.cases import CaseClosed, CaseOpened, CaseReplied
from shared.events.sla import Obligation, SlaBreached, SlaMet, SubjectType
from shared.standards.loader import clocks_started_by
from shared.standards.models import ApplicableClock, ClockDefinition, EventFacts, StandardsBook


class ClockState(StrEnum):
    RUNNING = "running"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"  # ended with no result: the case closed before it mattered


@dataclass(frozen=True)
class Clock:
    id: str
    definition: str
    standard: str  # pack id and the effective date of the version in force at the start
    obligation: Obligation
    name: str
    source: str
    subject_type: SubjectType
    subject_id: str
    reference: str
    started_at: datetime
    deadline: datetime
    state: ClockState = ClockState.RUNNING
    stopped_at: datetime | None = None
    breached_at: datetime | None = None

    @property
    def pack_id(self) -> str:
        return self.standard.split("@")[0]


def facts_of(event: CaseOpened | CaseReplied | CaseClosed) -> EventFacts:
    if isinstance(event, CaseOpened):
        return EventFacts(
            event_type=event.event_type,
            channel=event.channel,
            mailbox=event.mailbox,
            kind=event.kind,
            priority=event.priority,
            flags=frozenset(event.flags),
        )
    return EventFacts(event_type=event.event_type)


def clocks_for_new_case(book: StandardsBook, case: CaseOpened) -> list[Clock]:
    """Every clock, internal and statutory, that this case starts; the standards in
    force on the day it was received apply for the life of the clock."""
    received_day = default_calendar.local_date(case.received_at)
    started = clocks_started_by(book, facts_of(case), received_day)
    return [_start(applicable, case) for applicable in started]


def _start(applicable: ApplicableClock, case: CaseOpened) -> Clock:
    definition = applicable.clock
    standard = f"{applicable.pack_id}@{applicable.effective_from.isoformat()}"
    return Clock(
        id=f"{applicable.pack_id}:{definition.id}:{case.case_id}",
        definition=definition.id,
        standard=standard,
        obligation=Obligation(applicable.pack_kind),
        name=definition.name,
        source=f"{definition.source.document}: {definition.source.text}",
        subject_type=SubjectType.CASE,
        subject_id=case.case_id,
        reference=case.reference,
        started_at=case.received_at,
        deadline=definition.target.due(case.received_at),
    )


def definition_of(book: StandardsBook, clock: Clock) -> ClockDefinition:
    pack = book.pack(clock.pack_id)
    effective = datetime.fromisoformat(clock.standard.split("@")[1]).date()
    standard = pack.standard_on(effective)
    assert standard is not None  # the clock was started under this version
    return standard.clock(clock.definition)


def stopped(clock: Clock, at: datetime) -> Clock:
    return replace(clock, state=ClockState.MET, stopped_at=at)


def cancelled(clock: Clock, at: datetime) -> Clock:
    return replace(clock, state=ClockState.CANCELLED, stopped_at=at)


def breached(clock: Clock, at: datetime) -> Clock:
    return replace(clock, state=ClockState.BREACHED, breached_at=at)


def breach_event(clock: Clock) -> SlaBreached:
    return SlaBreached(
        event_id=stable_event_id(clock.id, "breached"),
        correlation_id=clock.subject_id,
        **_clock_fields(clock),
    )


def met_event(clock: Clock, stopped_at: datetime) -> SlaMet:
    late_by = stopped_at - clock.deadline if stopped_at > clock.deadline else None
    return SlaMet(
        event_id=stable_event_id(clock.id, "met"),
        correlation_id=clock.subject_id,
        stopped_at=stopped_at,
        # A stop recorded before the start (a reply dated before the letter) used no time.
        working_time_used=default_calendar.working_time_between(
            clock.started_at, max(clock.started_at, stopped_at)
        ),
        late_by=late_by,
        **_clock_fields(clock),
    )


def _clock_fields(clock: Clock) -> dict[str, object]:
    return {
        "clock_id": clock.id,
        "clock": clock.definition,
        "clock_name": clock.name,
        "subject_type": clock.subject_type,
        "subject_id": clock.subject_id,
        "reference": clock.reference,
        "standard": clock.standard,
        "obligation": clock.obligation,
        "source": clock.source,
        "started_at": clock.started_at,
        "deadline": clock.deadline,
    }
