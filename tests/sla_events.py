"""Events about one case, as the SLA monitor's tests need them."""

from datetime import UTC, datetime, timedelta

from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentKind,
    AppointmentNoAccess,
)
from shared.events.notifications import NotificationChannel, NotificationSent, Purpose

CASE_ID = "5b0f6a3e-8f0e-4c1e-9d43-1c2b3a4d5e6f"
REFERENCE = "HX-ABCD2345"
CASE = {"correlation_id": CASE_ID, "case_id": CASE_ID, "reference": REFERENCE}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def booked(appointment_id: str, starts_at: datetime, booked_at: datetime) -> AppointmentBooked:
    return AppointmentBooked(
        appointment_id=appointment_id,
        kind=AppointmentKind.REPAIR,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        booked_at=booked_at,
        **CASE,
    )


def no_access(appointment_id: str, at: datetime) -> AppointmentNoAccess:
    return AppointmentNoAccess(appointment_id=appointment_id, kind=AppointmentKind.REPAIR, at=at, **CASE)


def cancelled(appointment_id: str, at: datetime) -> AppointmentCancelled:
    return AppointmentCancelled(
        appointment_id=appointment_id, kind=AppointmentKind.REPAIR, cancelled_at=at, **CASE
    )


def reminder_sent(appointment_id: str, at: datetime) -> NotificationSent:
    return NotificationSent(
        correlation_id=CASE_ID,
        case_id=CASE_ID,
        appointment_id=appointment_id,
        idempotency_key=f"{appointment_id}:appointment_reminder",
        purpose=Purpose.APPOINTMENT_REMINDER,
        channel=NotificationChannel.SMS,
        provider_ref=f"sms:{appointment_id}",
        occurred_at=at,
    )
