"""An appointment and what may happen to it next (pure)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.events.appointments import AppointmentKind


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    NO_ACCESS = "no_access"
    MISSED = "missed"
    CANCELLED = "cancelled"


# Still to happen: it can be moved, cancelled, or started by the contractor.
OPEN = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.EN_ROUTE})
# The visit is over, one way or another.
FINISHED = frozenset(
    {
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_ACCESS,
        AppointmentStatus.MISSED,
        AppointmentStatus.CANCELLED,
    }
)


class ActionRefused(Exception):
    """The appointment is not in a state that allows this (e.g. completing a cancelled one)."""


@dataclass(frozen=True)
class Appointment:
    id: str
    case_id: str
    reference: str
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    contractor_id: str
    property_id: str | None
    tenancy_id: str | None

    def identity(self) -> dict[str, str]:
        """What every event about this appointment carries (keyed and correlated by its case)."""
        return {
            "correlation_id": self.case_id,
            "case_id": self.case_id,
            "reference": self.reference,
            "appointment_id": self.id,
        }


def require(appointment: Appointment, allowed: frozenset[AppointmentStatus], action: str) -> None:
    if appointment.status not in allowed:
        raise ActionRefused(f"cannot {action} an appointment that is {appointment.status}")
