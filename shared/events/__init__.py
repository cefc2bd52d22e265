"""Every Doorstep event, one discriminated union on `event_type`."""

from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCompleted,
    AppointmentNoAccess,
    AppointmentRescheduled,
    ContractorArrived,
    ContractorEnRoute,
    ContractorMissed,
    WorksOrderCancelled,
    WorksOrderRaised,
    WorksInspectionRequested,
)
from shared.events.cases import (
    CallbackMade,
    CallbackRequested,
    CaseClosed,
    CaseFlagged,
    CaseMessageReceived,
    CaseOpened,
    CaseReplied,
    ComplaintAcknowledged,
    ComplaintEscalated,
    ComplaintResponded,
    ExtensionAgreed,
    HazardInvestigated,
    HazardMadeSafe,
    WorksStarted,
)
from shared.events.compliance import (
    CertificateRecorded,
    GasCheckEscalated,
    GasCheckOffered,
    SafetyCheckDue,
    SafetyCheckOverdue,
)
from shared.events.envelope import Event, stable_event_id, utcnow
from shared.events.feedback import SurveyAnswered, WorksInspected
from shared.events.finance import RentCreditDue
from shared.events.notifications import (
    NotificationDelivered,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
    ReplyReceived,
    StaffTaskRaised,
)
from shared.events.sla import SlaBreached, SlaMet, SlaWarning

AnyEvent = Annotated[
    CaseOpened
    | CaseReplied
    | CaseClosed
    | CaseFlagged
    | CallbackRequested
    | CallbackMade
    | ComplaintAcknowledged
    | ComplaintResponded
    | ComplaintEscalated
    | ExtensionAgreed
    | HazardInvestigated
    | HazardMadeSafe
    | WorksStarted
    | AppointmentBooked
    | AppointmentCancelled
    | AppointmentNoAccess
    | AppointmentCompleted
    | AppointmentRescheduled
    | ContractorEnRoute
    | ContractorArrived
    | ContractorMissed
    | WorksOrderRaised
    | WorksOrderCancelled
    | WorksInspectionRequested
    | CertificateRecorded
    | GasCheckOffered
    | GasCheckEscalated
    | SafetyCheckDue
    | SafetyCheckOverdue
    | RentCreditDue
    | SurveyAnswered
    | WorksInspected
    | NotificationRequested
    | NotificationSent
    | NotificationDelivered
    | NotificationFailed
    | ReplyReceived
    | StaffTaskRaised
    | SlaWarning
    | SlaBreached
    | SlaMet
    | CaseMessageReceived,
    Field(discriminator="event_type"),
]

_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

EVENT_TYPES = frozenset(
    model.model_fields["event_type"].default
    for model in AnyEvent.__origin__.__args__  # type: ignore[attr-defined]
)


class UnreadableEvent(ValueError):
    """A message that is not a valid Doorstep event; it belongs on a dead-letter topic."""


def parse_event(raw: bytes | str) -> AnyEvent:
    try:
        return _adapter.validate_json(raw)
    except ValidationError as error:
        raise UnreadableEvent(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    """What is wrong, by field, without echoing any value (it may be personal data)."""
    problems = (
        f"{'.'.join(str(p) for p in e['loc']) or '<message>'}: {_message(e)}"
        for e in error.errors(include_input=False, include_url=False)
    )
    return "; ".join(problems)


def _message(error: ErrorDetails) -> str:
    if error["type"] == "union_tag_invalid":
        return f"unknown event_type; expected one of {', '.join(sorted(EVENT_TYPES))}"
    return error["msg"]


def serialize(event: Event) -> bytes:
    return event.model_dump_json().encode()


__all__ = [
    "AnyEvent",
    "EVENT_TYPES",
    "Event",
    "UnreadableEvent",
    "parse_event",
    "serialize",
    "stable_event_id",
    "utcnow",
]
