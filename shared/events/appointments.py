"""Appointments and works orders, on doorstep.appointments, keyed by case id."""

from enum import StrEnum
from typing import Literal

from shared.events.cases import Priority
from shared.events.envelope import AwareDatetime, Event, Id, Reference


class AppointmentKind(StrEnum):
    REPAIR = "repair"
    INSPECTION = "inspection"
    HOME_VISIT = "home_visit"
    GAS_CHECK = "gas_check"


class AppointmentBooked(Event):
    event_type: Literal["appointment.booked"] = "appointment.booked"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    booked_at: AwareDatetime
    contractor_id: str | None = None
    # The case's priority: an emergency is attended within hours, with no reminder due.
    priority: Priority | None = None


class AppointmentCancelled(Event):
    event_type: Literal["appointment.cancelled"] = "appointment.cancelled"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    cancelled_at: AwareDatetime


class AppointmentNoAccess(Event):
    """The contractor came but could not get in: a repair clock pauses."""

    event_type: Literal["appointment.no_access"] = "appointment.no_access"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    at: AwareDatetime


class AppointmentCompleted(Event):
    event_type: Literal["appointment.completed"] = "appointment.completed"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    completed_at: AwareDatetime
    fixed_first_time: bool = True
    high_value_or_complex: bool = False


class WorksOrderRaised(Event):
    event_type: Literal["works_order.raised"] = "works_order.raised"
    case_id: Id
    reference: Reference
    works_order_id: Id
    raised_at: AwareDatetime
    # What the tenant's confirmation says (002): the contractor and the job.
    contractor_id: str | None = None
    contractor_name: str = ""
    contractor_phone: str = ""
    job_description: str = ""
    priority: str | None = None


class WorksOrderCancelled(Event):
    event_type: Literal["works_order.cancelled"] = "works_order.cancelled"
    case_id: Id
    reference: Reference
    works_order_id: Id
    cancelled_at: AwareDatetime


class AppointmentRescheduled(Event):
    """The appointment moved to another slot: reminders planned for the old time are void."""

    event_type: Literal["appointment.rescheduled"] = "appointment.rescheduled"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    rescheduled_at: AwareDatetime
    # A move may go to another contractor: the works order is theirs from now on.
    contractor_id: str | None = None


class ContractorEnRoute(Event):
    """The contractor pressed "on the way": the tenant is texted at once."""

    event_type: Literal["appointment.contractor_en_route"] = "appointment.contractor_en_route"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    starts_at: AwareDatetime
    contractor_name: str
    at: AwareDatetime


class ContractorArrived(Event):
    event_type: Literal["appointment.contractor_arrived"] = "appointment.contractor_arrived"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    at: AwareDatetime


class ContractorMissed(Event):
    """The contractor did not attend: the slot ended with no arrival, or staff said so."""

    event_type: Literal["appointment.contractor_missed"] = "appointment.contractor_missed"
    case_id: Id
    reference: Reference
    appointment_id: Id
    kind: AppointmentKind
    missed_at: AwareDatetime


class WorksInspectionRequested(Event):
    """A completed job picked for post-inspection: every high-value or complex job, and a
    random 5% of the rest."""

    event_type: Literal["works.inspection_requested"] = "works.inspection_requested"
    case_id: Id
    reference: Reference
    appointment_id: Id
    high_value_or_complex: bool
    requested_at: AwareDatetime
