"""What a provider's status report means (pure). Reports arrive out of order and twice:
only a step further along counts, and each outcome is said once."""

from enum import StrEnum

# How far along each status is. The two failures are as far as delivery.
PROGRESS = {
    "accepted": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
}


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"


def is_further(known: str | None, reported: str) -> bool:
    if reported not in PROGRESS:
        return False
    return known is None or PROGRESS[reported] > PROGRESS.get(known, -1)


def outcome_of(status: str) -> Outcome | None:
    if status == "delivered":
        return Outcome.DELIVERED
    if status in ("undelivered", "failed"):
        return Outcome.FAILED
    return None


class DeliveryStatus(StrEnum):
    """Where one request stands in the notifier's delivery log."""

    QUEUED = "queued"  # claimed, waiting for its turn to send
    HELD = "held"  # waiting out quiet hours, or a pause before trying again
    SENDING = "sending"  # the provider call has begun
    SENT = "sent"
    FAILED = "failed"
