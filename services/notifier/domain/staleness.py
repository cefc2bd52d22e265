"""Whether a message about an appointment still holds (pure)."""

from datetime import datetime

from shared.events.notifications import NotificationRequested, Purpose

CHECKED = frozenset({Purpose.APPOINTMENT_REMINDER, Purpose.ON_THE_WAY})


def why_stale(
    request: NotificationRequested, starts_at: datetime | None, cancelled: bool
) -> str | None:
    """None when the message may go; else why it must be dropped. An appointment the
    notifier has not heard of is taken as it was asked for."""
    if request.purpose not in CHECKED or request.appointment_id is None:
        return None
    if cancelled:
        return "dropped: the appointment was cancelled"
    if starts_at and request.appointment_starts_at and starts_at != request.appointment_starts_at:
        return "dropped: the appointment was moved"
    return None
