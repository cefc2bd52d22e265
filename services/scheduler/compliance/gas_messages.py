"""What the gas sweep asks for when it offers a check: the tenant's message, and the
check's place among the bookings to make (pure)."""

from datetime import date, datetime

from sqlalchemy import Row

from shared.calendar import default_calendar as calendar
from shared.events import stable_event_id
from shared.events.appointments import AppointmentKind
from shared.events.cases import Priority
from shared.events.compliance import CertificateKind
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from services.scheduler.compliance.programme import check_reference
from services.scheduler.domain.wording import spoken_date, spoken_window

GAS = CertificateKind.GAS_SAFETY
GAS_TRADE = "heating"  # the contractors' trade that covers gas appliances


def booking_to_make(row: Row, case_id: str, contact: Row, now: datetime) -> dict[str, object]:
    """The check joins the bookings to make, so a tenant's reply or staff can book it like
    any other visit, under the check's own case."""
    return {
        "case_id": case_id,
        "reference": check_reference(GAS, row.subject_id, row.due_on),
        "priority": str(Priority.ROUTINE),
        "received_at": now,
        "status": "to_book",
        "kind": str(AppointmentKind.GAS_CHECK),
        "channel": None,
        "trade": GAS_TRADE,
        "property_id": row.subject_id,
        "tenancy_id": contact.id,
        "contact_email": contact.email,
        "contact_phone": contact.mobile,
        "description": "Annual gas safety check",
        "safeguarding": False,
        "book_by": calendar.close_of(row.due_on),
    }


def offer_notification(
    row: Row,
    case_id: str,
    attempt: int,
    recipient: Recipient,
    when: dict[str, str],
    booking_link: str,
) -> NotificationRequested:
    first = attempt == 1
    purpose = Purpose.GAS_CHECK_OFFER if first else Purpose.GAS_CHECK_CHASER
    personalisation = {
        "reference": check_reference(GAS, row.subject_id, row.due_on),
        "certificate_expires": _day(row.due_on),
        "link": f"{booking_link}/{case_id}",
        **when,  # the morning proposed, by the first offer and by each chaser
    }
    return NotificationRequested(
        event_id=stable_event_id("gas_check_notification", case_id, str(attempt)),
        correlation_id=case_id,
        case_id=case_id,
        idempotency_key=f"{case_id}:offer:{attempt}",
        purpose=purpose,
        template=str(purpose),
        recipient=recipient,
        personalisation=personalisation,
    )


def visit_wording(slot: tuple[datetime, datetime]) -> dict[str, str]:
    """The proposed visit as the offer's text gives it."""
    return {
        "appointment_date": spoken_date(slot[0], calendar),
        "appointment_time": spoken_window(*slot, calendar),
    }


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"
