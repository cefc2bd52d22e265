"""Notification requests and their outcomes, keyed by case id."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events.envelope import Event


class Purpose(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"


class NotificationChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Recipient(BaseModel):
    """Where a message goes. Personal data: it travels in events, never in logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str | None = None
    phone: str | None = None


class NotificationRequested(Event):
    event_type: Literal["notification.requested"] = "notification.requested"
    case_id: str
    idempotency_key: str
    purpose: Purpose
    template: str
    recipient: Recipient
    personalisation: dict[str, str] = {}
    urgent: bool = False


class NotificationSent(Event):
    event_type: Literal["notification.sent"] = "notification.sent"
    case_id: str
    idempotency_key: str
    channel: NotificationChannel
    provider_ref: str


class NotificationFailed(Event):
    event_type: Literal["notification.failed"] = "notification.failed"
    case_id: str
    idempotency_key: str
    reason: str
    retryable: bool
