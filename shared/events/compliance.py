"""Safety certificates per property, on doorstep.compliance, keyed by property id."""

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

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
