"""A new case from a classified contact (pure)."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from shared.calendar import default_calendar
from shared.events.cases import CaseOpened, Channel, Mailbox
from shared.standards.models import PackKind, StandardsBook
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from services.intake.domain.classification import Contact, classify

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read out over the phone


def new_reference() -> str:
    return "HX-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class ReceivedContact:
    channel: Channel
    mailbox: Mailbox | None
    text: str
    received_at: datetime
    subject: str = ""
    sender_email: str | None = None


def open_case(case_id: str, reference: str, contact: ReceivedContact) -> CaseOpened:
    result = classify(Contact(contact.channel, contact.mailbox, f"{contact.subject}\n{contact.text}"))
    return CaseOpened(
        correlation_id=case_id,
        case_id=case_id,
        reference=reference,
        channel=contact.channel,
        mailbox=contact.mailbox,
        kind=result.kind,
        priority=result.priority,
        flags=result.flags,
        reasons=result.reasons,
        received_at=contact.received_at,
    )


# The clock an acknowledgement quotes: the reply promised for each published mailbox.
REPLY_CLOCKS = {
    Mailbox.REPAIRS: "email_reply_repairs",
    Mailbox.CUSTOMER_DESK: "email_reply_customer_desk",
    Mailbox.COMPLAINTS: "email_reply_complaints",
}


def reply_promise(book: StandardsBook, case: CaseOpened) -> str:
    """The landlord's own sentence for the reply this contact is owed, from the internal
    standards in force when it arrived ("" when none applies)."""
    clock_id = REPLY_CLOCKS.get(case.mailbox) if case.mailbox else None
    day = default_calendar.local_date(case.received_at)
    for standard in book.standards_on(day):
        if clock_id and standard.pack_kind is PackKind.INTERNAL:
            try:
                return standard.clock(clock_id).source.text
            except KeyError:
                continue
    return ""


def acknowledgement(case: CaseOpened, sender_email: str, promise: str) -> NotificationRequested:
    return NotificationRequested(
        correlation_id=case.correlation_id,
        case_id=case.case_id,
        idempotency_key=f"{case.case_id}:acknowledgement",
        purpose=Purpose.ACKNOWLEDGEMENT,
        template="acknowledgement",
        recipient=Recipient(email=sender_email),
        personalisation={"reference": case.reference, "promise": promise},
    )
