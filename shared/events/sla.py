"""Clock events from the SLA monitor, keyed by their subject (case or property)."""

from datetime import timedelta
from enum import StrEnum
from typing import ClassVar, Literal

from shared.events.envelope import AwareDatetime, Event, Id, Reference


class Obligation(StrEnum):
    INTERNAL = "internal"
    STATUTORY = "statutory"


class SubjectType(StrEnum):
    CASE = "case"
    PROPERTY = "property"


class ClockEvent(Event):
    key_field: ClassVar[str] = "subject_id"

    clock_id: str
    clock: str
    clock_name: str
    subject_type: SubjectType
    subject_id: Id
    reference: Reference
    standard: str
    obligation: Obligation
    source: str
    started_at: AwareDatetime
    deadline: AwareDatetime


class SlaWarning(ClockEvent):
    event_type: Literal["sla.warning"] = "sla.warning"
    point: str  # "50%", "75%", "1 working day before"
    at_fraction: float | None = None


class SlaBreached(ClockEvent):
    event_type: Literal["sla.breached"] = "sla.breached"


class SlaMet(ClockEvent):
    event_type: Literal["sla.met"] = "sla.met"
    stopped_at: AwareDatetime
    working_time_used: timedelta
    late_by: timedelta | None = None
