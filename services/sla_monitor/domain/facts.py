"""What the monitor reads from each event: its facts for the standards' matching,
its subject, when it happened (event time, not arrival), and which instance of a
repeating clock it concerns (an appointment, a certificate)."""

from datetime import datetime
from functools import cache, lru_cache
from typing import NamedTuple

from shared.events import AnyEvent
from shared.events.appointments import AppointmentBooked
from shared.events.cases import CaseFlagged, CaseOpened, HazardInvestigated
from shared.events.compliance import CertificateRecorded
from shared.events.notifications import NotificationFailed, NotificationSent
from shared.events.sla import SubjectType
from shared.standards.models import EventFacts

# The field holding each event's business time; the envelope's occurred_at otherwise.
EVENT_TIME_FIELDS = (
    "received_at",
    "replied_at",
    "closed_at",
    "flagged_at",
    "requested_at",
    "made_at",
    "acknowledged_at",
    "responded_at",
    "escalated_at",
    "agreed_at",
    "investigated_at",
    "made_safe_at",
    "started_at",
    "booked_at",
    "cancelled_at",
    "at",
    "completed_at",
    "raised_at",
    "recorded_at",
    "due_at",
    "answered_at",
    "inspected_at",
    "offered_at",
)


class Subject(NamedTuple):  # a tuple: one is made for every event
    type: SubjectType
    id: str
    reference: str


def event_time(event: AnyEvent) -> datetime:
    for name in _time_fields(type(event)):
        value = getattr(event, name)
        if isinstance(value, datetime):
            return value
    return event.occurred_at


@cache
def _time_fields(event_type: type) -> tuple[str, ...]:
    """Looked up once per class: asking a pydantic model for a field it lacks is slow."""
    return tuple(name for name in EVENT_TIME_FIELDS if name in _fields_of(event_type))


@cache
def _fields_of(event_type: type) -> frozenset[str]:
    return frozenset(event_type.model_fields)  # type: ignore[attr-defined]


def _field(event: AnyEvent, name: str) -> object:
    return _get(event, _fields_of(type(event)), name)


def subject_of(event: AnyEvent) -> Subject:
    if isinstance(event, CertificateRecorded):
        return Subject(SubjectType.PROPERTY, event.property_id, event.property_reference)
    if event.key_field == "property_id":  # the gas programme's offers, escalations, due checks
        return Subject(SubjectType.PROPERTY, event.property_id, "")  # type: ignore[union-attr]
    reference = _field(event, "reference") or ""
    return Subject(SubjectType.CASE, event.case_id, reference)  # type: ignore[union-attr]


def instance_of(event: AnyEvent) -> str:
    """The appointment or certificate an event is about; "" when it is about the whole subject."""
    if isinstance(event, CertificateRecorded):
        return f"{event.kind}:{event.checked_on.isoformat()}"
    return _field(event, "appointment_id") or ""  # type: ignore[return-value]


def facts_of(event: AnyEvent) -> EventFacts:
    present = _fields_of(type(event))
    kind = event.purpose if isinstance(event, NotificationSent | NotificationFailed) else _get(event, present, "kind")
    return _facts(
        event.event_type,
        _get(event, present, "channel"),
        _get(event, present, "mailbox"),
        kind,
        _get(event, present, "priority"),
        _get(event, present, "stage"),
        _flags(event),
    )


def _get(event: AnyEvent, present: frozenset[str], name: str) -> object:
    return getattr(event, name) if name in present else None


@lru_cache(maxsize=4096)
def _facts(  # noqa: PLR0913
    event_type: str, channel: object, mailbox: object, kind: object, priority: object, stage: object,
    flags: frozenset[str],
) -> EventFacts:
    """One EventFacts per combination, made once: a batch's events share a few, and the
    standards' matching is remembered by them."""
    return EventFacts(
        event_type=event_type,
        channel=channel,  # type: ignore[arg-type]
        mailbox=mailbox,  # type: ignore[arg-type]
        kind=_str_or_none(kind),
        priority=_str_or_none(priority),
        stage=_str_or_none(stage),
        flags=flags,
    )


def _flags(event: AnyEvent) -> frozenset[str]:
    if isinstance(event, CaseOpened | HazardInvestigated):
        return frozenset(str(flag) for flag in event.flags) if event.flags else _NO_FLAGS
    if isinstance(event, CaseFlagged):
        return frozenset({event.flag})
    return _NO_FLAGS


_NO_FLAGS: frozenset[str] = frozenset()


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def due_reference(event: AnyEvent, happened: datetime) -> datetime:
    """What a 'before the previous working day' target counts back from: the appointment,
    for a booking; otherwise when the event happened."""
    if isinstance(event, AppointmentBooked):
        return event.starts_at
    return happened

