"""What the scheduler's HTTP APIs take and give."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events.appointments import AppointmentKind
from services.scheduler.domain.appointments import Appointment, AppointmentStatus
from services.scheduler.domain.offers import Offer


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class OfferOut(_Out):
    number: int
    contractor_id: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of(cls, offer: Offer) -> "OfferOut":
        return cls(
            number=offer.number,
            contractor_id=offer.contractor_id,
            starts_at=offer.starts_at,
            ends_at=offer.ends_at,
        )


class Offers(_Out):
    case_id: str
    offers: list[OfferOut]


class AppointmentOut(_Out):
    appointment_id: str
    case_id: str
    reference: str
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    contractor_id: str

    @classmethod
    def of(cls, appointment: Appointment) -> "AppointmentOut":
        return cls(
            appointment_id=appointment.id,
            case_id=appointment.case_id,
            reference=appointment.reference,
            kind=appointment.kind,
            status=appointment.status,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            contractor_id=appointment.contractor_id,
        )


class Job(AppointmentOut):
    """One of a contractor's jobs, with where to go."""

    address: str | None
    postcode: str | None


class Conflict(_Out):
    detail: str
    offers: list[OfferOut]


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer: int = Field(ge=1, le=9, description="the number of one of the offers just listed")


class Completion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fixed_first_time: bool = Field(description="false when a follow-on visit is needed")
    high_value_or_complex: bool = False


class MissedReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reported_by: str = Field(default="staff", min_length=1, max_length=40)
