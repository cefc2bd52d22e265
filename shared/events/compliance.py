"""Safety certificates per property, on doorstep.compliance, keyed by property id."""

from datetime import date
from enum import StrEnum
from typing import ClassVar, Literal

from shared.events.envelope import AwareDatetime, Event


class CertificateKind(StrEnum):
    GAS_SAFETY = "gas_safety"
    ELECTRICAL_INSTALLATION = "electrical_installation"
    FIRE_RISK_ASSESSMENT = "fire_risk_assessment"


class CertificateRecorded(Event):
    event_type: Literal["compliance.certificate_recorded"] = "compliance.certificate_recorded"
    key_field: ClassVar[str] = "property_id"

    property_id: str
    property_reference: str
    kind: CertificateKind
    checked_on: date
    recorded_at: AwareDatetime
