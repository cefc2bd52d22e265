"""A new case from a classified contact (pure)."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from shared.calendar import default_calendar
from shared.events.cases import CaseKind, CaseOpened, Channel, Flag, Mailbox, Reason
from shared.standards.models import PackKind, StandardsBook
from shared.events.notifications import NotificationRequested, Purpose, Recipient
from services.intake.domain.classification import Contact, classify

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read out over the phone


def new_reference() -> str:
    # One read of the system's randomness, not eight; 256 is a multiple of 32, so each
    # letter is still equally likely.
    return "HX-" + "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in secrets.token_bytes(8))


@dataclass(frozen=True)
class ReceivedContact:
    channel: Channel
    mailbox: Mailbox | None
    text: str
    received_at: datetime
    subject: str = ""
    sender_email: str | None = None
    sender_phone: str | None = None
    property_id: str | None = None
    tenancy_id: str | None = None
    # What the contact says of itself (a web form: which form, a box the tenant ticked),
    # with the reasons staff see. A stated kind wins over the kind classification gives;
    # stated flags are added to the ones it finds.
    kind: CaseKind | None = None
    flags: tuple[Flag, ...] = ()
    reasons: tuple[Reason, ...] = ()

    def recipient(self) -> Recipient | None:
        if not (self.sender_email or self.sender_phone):
            return None
        return Recipient(email=self.sender_email, phone=self.sender_phone)


DESCRIPTION_MAX = 2000


def description_of(contact: ReceivedContact) -> str:
    """What the tenant said, for the works order: the subject line, then the words."""
    said = "\n".join(part for part in (contact.subject.strip(), contact.text.strip()) if part)
    return said if len(said) <= DESCRIPTION_MAX else said[: DESCRIPTION_MAX - 1].rstrip() + "…"


def open_case(case_id: str, reference: str, contact: ReceivedContact) -> CaseOpened:
    result = classify(
        Contact(contact.channel, contact.mailbox, f"{contact.subject}\n{contact.text}", contact.kind)
    )
    return CaseOpened(
        correlation_id=case_id,
        case_id=case_id,
        reference=reference,
        channel=contact.channel,
        mailbox=contact.mailbox,
        kind=result.kind,
        priority=result.priority,
        flags=tuple(dict.fromkeys(result.flags + contact.flags)),
        reasons=contact.reasons + result.reasons,
        received_at=contact.received_at,
        property_id=contact.property_id,
        tenancy_id=contact.tenancy_id,
        contact=contact.recipient(),
        description=description_of(contact),
    )


# The clock an acknowledgement quotes: the reply promised for each published mailbox.
REPLY_CLOCKS = {
    Mailbox.REPAIRS: "email_reply_repairs",
    Mailbox.CUSTOMER_DESK: "email_reply_customer_desk",
    Mailbox.COMPLAINTS: "email_reply_complaints",
}


# A web form promises what the standards promise for its kind of case, not what they
# promise for an email to the matching mailbox.
WEB_PROMISE_CLOCKS = {
    CaseKind.REPAIR_REQUEST: "repair_booking_contact",
    CaseKind.COMPLAINT: "complaint_acknowledgement",
    CaseKind.HOME_VISIT: "home_visit",
}


def reply_promise(book: StandardsBook, case: CaseOpened) -> str:
    """The landlord's own sentence for the reply this contact is owed, from the internal
    standards in force when it arrived ("" when none applies)."""
    if case.channel is Channel.WEB:
        clock_id = WEB_PROMISE_CLOCKS.get(case.kind)
    else:
        clock_id = REPLY_CLOCKS.get(case.mailbox) if case.mailbox else None
    return standard_promise(book, clock_id, case.received_at) if clock_id else ""


def standard_promise(book: StandardsBook, clock_id: str, at: datetime) -> str:
    """The sentence of the internal standard in force at `at` that sets `clock_id`."""
    day = default_calendar.local_date(at)
    for standard in book.standards_on(day):
        if standard.pack_kind is PackKind.INTERNAL:
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
        safeguarding=Flag.SAFEGUARDING in case.flags,
    )
