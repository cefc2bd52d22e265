"""The notification requests the scheduler sends, built from its records (pure).

Each has an idempotency key naming what it is about, so the notifier sends it once
however often it is requested.
"""

from datetime import datetime

from shared.calendar import WorkingCalendar
from shared.events.finance import MISSED_APPOINTMENT_CREDIT_PENCE
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from services.scheduler.domain.appointments import Appointment
from services.scheduler.domain.offers import Offer
from services.scheduler.domain.wording import spoken_date, spoken_offer, spoken_window


def request(
    purpose: Purpose,
    key: str,
    case_id: str,
    recipient: Recipient,
    personalisation: dict[str, str],
    *,
    appointment: Appointment | None = None,
    safeguarding: bool = False,
    urgent: bool = False,
) -> NotificationRequested:
    return NotificationRequested(
        correlation_id=case_id,
        case_id=case_id,
        appointment_id=appointment.id if appointment else None,
        appointment_starts_at=appointment.starts_at if appointment else None,
        idempotency_key=f"{purpose}:{key}",
        purpose=purpose,
        template=str(purpose),
        recipient=recipient,
        personalisation=personalisation,
        safeguarding=safeguarding,
        urgent=urgent,
    )


def offers_request(
    case_id: str,
    reference: str,
    offers: list[Offer],
    recipient: Recipient,
    made_at: datetime,
    calendar: WorkingCalendar,
    safeguarding: bool,
) -> NotificationRequested:
    wording = {f"offer_{o.number}": spoken_offer(o.starts_at, o.ends_at, calendar) for o in offers}
    return request(
        Purpose.APPOINTMENT_OFFERS,
        f"{case_id}:{made_at.isoformat()}",
        case_id,
        recipient,
        {"reference": reference, **wording},
        safeguarding=safeguarding,
    )


def confirmation_request(
    appointment: Appointment,
    recipient: Recipient,
    contractor_name: str,
    calendar: WorkingCalendar,
    safeguarding: bool,
    urgent: bool = False,
    reminded: bool = True,
) -> NotificationRequested:
    """Sent on booking and on every move; the notifier remembers the recipient for the
    appointment's later texts (the reminder, "on the way"). `urgent` for an emergency,
    attended within hours: it must not wait out the night. `reminded`: a reminder will
    follow (not when its day has passed already, nor for an emergency)."""
    return request(
        Purpose.APPOINTMENT_CONFIRMATION,
        f"{appointment.id}:{appointment.starts_at.isoformat()}",
        appointment.case_id,
        recipient,
        {**_when(appointment, calendar), "contractor_name": contractor_name, "reminder": "yes" if reminded else "no"},
        appointment=appointment,
        safeguarding=safeguarding,
        urgent=urgent,
    )


def works_order_request(
    case_id: str,
    reference: str,
    order_number: str,
    contractor_name: str,
    contractor_phone: str,
    job_description: str,
    complete_by: datetime,
    recipient: Recipient,
    calendar: WorkingCalendar,
    safeguarding: bool,
) -> NotificationRequested:
    return request(
        Purpose.WORKS_ORDER_CONFIRMATION,
        order_number,
        case_id,
        recipient,
        {
            "reference": reference,
            "works_order": order_number,
            "contractor_name": contractor_name,
            "contractor_phone": contractor_phone,
            "job_description": job_description or "Repair as reported",
            "complete_by": spoken_date(complete_by, calendar),
        },
        safeguarding=safeguarding,
        urgent=True,
    )


def missed_request(
    appointment: Appointment, recipient: Recipient, calendar: WorkingCalendar, safeguarding: bool
) -> NotificationRequested:
    """The apology, telling the tenant of the £10 credit."""
    pounds = MISSED_APPOINTMENT_CREDIT_PENCE // 100
    return request(
        Purpose.MISSED_APPOINTMENT,
        appointment.id,
        appointment.case_id,
        recipient,
        {
            "reference": appointment.reference,
            "appointment_date": spoken_date(appointment.starts_at, calendar),
            "credit": f"£{pounds}",
        },
        appointment=appointment,
        safeguarding=safeguarding,
    )


def no_access_request(
    appointment: Appointment,
    recipient: Recipient,
    contractor_name: str,
    calendar: WorkingCalendar,
    safeguarding: bool,
) -> NotificationRequested:
    """The card left at the door, also sent as a message: call us to rebook."""
    return request(
        Purpose.NO_ACCESS,
        appointment.id,
        appointment.case_id,
        recipient,
        {
            "reference": appointment.reference,
            "appointment_date": spoken_date(appointment.starts_at, calendar),
            "contractor_name": contractor_name,
        },
        appointment=appointment,
        safeguarding=safeguarding,
    )


def survey_request(
    appointment: Appointment, recipient: Recipient, safeguarding: bool
) -> NotificationRequested:
    return request(
        Purpose.SATISFACTION_SURVEY,
        appointment.id,
        appointment.case_id,
        recipient,
        {"reference": appointment.reference},
        appointment=appointment,
        safeguarding=safeguarding,
    )


def _when(appointment: Appointment, calendar: WorkingCalendar) -> dict[str, str]:
    return {
        "reference": appointment.reference,
        "appointment_date": spoken_date(appointment.starts_at, calendar),
        "appointment_time": spoken_window(appointment.starts_at, appointment.ends_at, calendar),
    }
