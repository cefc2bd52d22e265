"""Notification requests and their outcomes, keyed by case id."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import AwareDatetime, Event, Id, IdempotencyKey


class Purpose(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    COMPLAINT_ACKNOWLEDGEMENT = "complaint_acknowledgement"
    WORKS_ORDER_CONFIRMATION = "works_order_confirmation"
    APPOINTMENT_OFFERS = "appointment_offers"
    APPOINTMENT_CONFIRMATION = "appointment_confirmation"
    APPOINTMENT_REMINDER = "appointment_reminder"
    ON_THE_WAY = "on_the_way"
    MISSED_APPOINTMENT = "missed_appointment"
    NO_ACCESS = "no_access"
    SATISFACTION_SURVEY = "satisfaction_survey"
    GAS_CHECK_OFFER = "gas_check_offer"
    GAS_CHECK_CHASER = "gas_check_chaser"
    INSPECTION_CONFIRMATION = "inspection_confirmation"
    HOME_VISIT_CONFIRMATION = "home_visit_confirmation"
    INVESTIGATION_SUMMARY = "investigation_summary"


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
    case_id: Id
    appointment_id: str | None = None
    # For a reminder or "on the way": the appointment's time when this was asked for, so
    # a message about an appointment since moved or cancelled is dropped, never sent.
    appointment_starts_at: AwareDatetime | None = None
    idempotency_key: IdempotencyKey
    purpose: Purpose
    template: str
    recipient: Recipient
    personalisation: dict[str, str] = {}
    urgent: bool = False
    # The case is flagged for safeguarding: only a neutral message may go, never its content.
    safeguarding: bool = False


class NotificationOutcome(Event):
    """What became of one requested message: which request, about what."""

    case_id: Id
    appointment_id: str | None = None
    idempotency_key: IdempotencyKey
    purpose: Purpose


class NotificationSent(NotificationOutcome):
    event_type: Literal["notification.sent"] = "notification.sent"
    channel: NotificationChannel
    provider_ref: str


class NotificationDelivered(NotificationOutcome):
    """The provider reports the message reached the tenant's phone (SMS)."""

    event_type: Literal["notification.delivered"] = "notification.delivered"
    channel: NotificationChannel
    provider_ref: str


class Intent(StrEnum):
    CONFIRM = "confirm"
    REARRANGE = "rearrange"
    CHOOSE_OFFER = "choose_offer"  # replied with the number of one of the offers made
    CANCEL = "cancel"  # no longer wants the appointment


class ReplyReceived(Event):
    """A tenant texted back about an appointment: for the scheduler to act on."""

    event_type: Literal["reply.received"] = "reply.received"
    case_id: Id
    appointment_id: str | None = None
    intent: Intent
    received_at: AwareDatetime
    offer: int | None = Field(default=None, ge=1, le=9)  # with CHOOSE_OFFER


class NotificationFailed(NotificationOutcome):
    event_type: Literal["notification.failed"] = "notification.failed"
    reason: str
    retryable: bool


class StaffTask(StrEnum):
    CONTACT_TENANT = "contact_tenant"  # no way to reach the tenant for a promised message
    OPT_OUT_REQUESTED = "opt_out_requested"  # asked in their own words to stop texts
    CHECK_CONTACT_DETAILS = "check_contact_details"  # texts to the mobile keep failing


class StaffTaskRaised(Event):
    """Something about reaching a tenant that a person must look at. The reason names
    what happened, never the number, the address or what the tenant wrote."""

    event_type: Literal["staff_task.raised"] = "staff_task.raised"
    case_id: Id
    appointment_id: str | None = None
    task: StaffTask
    reason: str
    raised_at: AwareDatetime
