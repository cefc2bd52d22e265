"""Safety certificates per property, on doorstep.compliance, keyed by property id."""

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.envelope import AwareDatetime, Event, Id, Reference


class CertificateKind(StrEnum):
    GAS_SAFETY = "gas_safety"
    ELECTRICAL_INSTALLATION = "electrical_installation"
    FIRE_RISK_ASSESSMENT = "fire_risk_assessment"


class CertificateRecorded(Event):
    event_type: Literal["compliance.certificate_recorded"] = "compliance.certificate_recorded"
    key_field: ClassVar[str] = "property_id"

    property_id: Id
    property_reference: Reference
    kind: CertificateKind
    checked_on: date
    # Set by the assessor for fire risk assessments; other kinds follow the rules in
    # shared/compliance.py.
    review_on: date | None = None
    recorded_at: AwareDatetime


class GasCheckOffered(Event):
    """The tenant was offered a gas safety check appointment (attempt 1) or chased for
    one (attempts 2 and 3) before the certificate runs out."""

    event_type: Literal["compliance.gas_check_offered"] = "compliance.gas_check_offered"
    key_field: ClassVar[str] = "property_id"

    property_id: Id
    case_id: Id
    due_on: date
    attempt: int = Field(ge=1, le=3)
    proposed_starts_at: AwareDatetime
    offered_at: AwareDatetime


class EscalationReason(StrEnum):
    NO_ACCESS = "no_access"  # three offers, none of them let the engineer in
    NO_CONTACT = "no_contact"  # nobody to offer an appointment to


class GasCheckEscalated(Event):
    """Handed to staff: the gas check cannot be arranged with the tenant by offers."""

    event_type: Literal["compliance.gas_check_escalated"] = "compliance.gas_check_escalated"
    key_field: ClassVar[str] = "property_id"

    property_id: Id
    case_id: Id
    due_on: date
    attempts: int = Field(ge=0, le=3)
    reason: EscalationReason
    escalated_at: AwareDatetime


class SafetyCheckDue(Event):
    """A staff task: an electrical inspection (per home) or a fire risk assessment (per
    block; `property_id` is then the block id) is coming due."""

    event_type: Literal["compliance.safety_check_due"] = "compliance.safety_check_due"
    key_field: ClassVar[str] = "property_id"

    property_id: Id
    case_id: Id
    kind: CertificateKind
    due_on: date
    raised_at: AwareDatetime


class SafetyCheckOverdue(Event):
    """The due date passed with no new certificate recorded."""

    event_type: Literal["compliance.safety_check_overdue"] = "compliance.safety_check_overdue"
    key_field: ClassVar[str] = "property_id"

    property_id: Id
    case_id: Id
    kind: CertificateKind
    due_on: date
    raised_at: AwareDatetime
