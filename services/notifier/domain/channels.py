"""Which channels a message may go by, in the order to try them (pure).

Texts suit what is short and timely (reminders, "on the way", confirmations); email
suits replies to what came by email. A channel is used only where the tenant can be
reached on it and a template for it exists; when the first fails for good, the next is
tried; when none is left, staff must make contact.
"""

from collections.abc import Callable
from dataclasses import dataclass

from shared.events.notifications import NotificationChannel, NotificationRequested, Purpose, Recipient
from services.notifier.domain.phones import InvalidPhoneNumber, normalise_mobile

SMS, EMAIL = NotificationChannel.SMS, NotificationChannel.EMAIL

TEXT_FIRST = frozenset(
    {
        Purpose.WORKS_ORDER_CONFIRMATION,
        Purpose.APPOINTMENT_OFFERS,
        Purpose.APPOINTMENT_CONFIRMATION,
        Purpose.APPOINTMENT_REMINDER,
        Purpose.ON_THE_WAY,
        Purpose.MISSED_APPOINTMENT,
        Purpose.NO_ACCESS,
        Purpose.SATISFACTION_SURVEY,
        Purpose.GAS_CHECK_OFFER,
        Purpose.GAS_CHECK_CHASER,
        Purpose.INSPECTION_CONFIRMATION,
        Purpose.HOME_VISIT_CONFIRMATION,
    }
)

# Promised within hours, and as good by email: when quiet hours would hold the text (a
# repair finished in the night before a Sunday), the email goes now instead.
EMAIL_RATHER_THAN_WAIT = frozenset({Purpose.SATISFACTION_SURVEY})


@dataclass(frozen=True)
class Reach:
    """Where a tenant can be reached: a valid mobile in E.164, an email address."""

    mobile: str | None
    email: str | None


def reach_of(recipient: Recipient) -> Reach:
    try:
        mobile = normalise_mobile(recipient.phone) if recipient.phone else None
    except InvalidPhoneNumber:
        mobile = None  # refused before any call; email, if any, is tried instead
    email = recipient.email if recipient.email and "@" in recipient.email else None
    return Reach(mobile, email)


def plan(
    purpose: Purpose,
    reach: Reach,
    has_template: Callable[[NotificationChannel], bool],
    texts_wait: bool = False,
) -> list[NotificationChannel]:
    """`texts_wait`: quiet hours would hold a text of this purpose now."""
    text_first = purpose in TEXT_FIRST and not (texts_wait and purpose in EMAIL_RATHER_THAN_WAIT)
    order = [SMS, EMAIL] if text_first else [EMAIL, SMS]
    usable = {SMS: reach.mobile is not None, EMAIL: reach.email is not None}
    return [channel for channel in order if usable[channel] and has_template(channel)]


def by_email_instead(undelivered: NotificationRequested) -> NotificationRequested | None:
    """The same message by email, once the provider has reported its text undelivered
    (a failure for good, after it had taken the text); None when there is no email. It
    has a key of its own, so however often the report comes it is sent once."""
    email = undelivered.recipient.email
    if not email:
        return None
    return undelivered.model_copy(
        update={
            "idempotency_key": f"{undelivered.idempotency_key[:194]}:email",
            "recipient": Recipient(email=email),
        }
    )
