"""A further message on a case already open (pure): the event that threads it in, and the
flags its words raise that the case did not have (damp and mould starts the Awaab clocks
from this message)."""

from dataclasses import dataclass
from datetime import datetime

from shared.events.cases import CaseFlagged, CaseMessageReceived, Flag
from services.intake.domain.cases import ReceivedContact, description_of
from services.intake.domain.classification import Contact, classify

# Flags a later message can add; a kind or priority is for staff to change, not a reply.
RAISED_BY_A_REPLY = (Flag.DAMP_AND_MOULD, Flag.SAFEGUARDING, Flag.EMERGENCY_HAZARD)


@dataclass(frozen=True)
class OpenCase:
    case_id: str
    reference: str
    flags: tuple[str, ...]


def thread_message(case: OpenCase, contact: ReceivedContact) -> tuple[CaseMessageReceived, list[CaseFlagged]]:
    ids = {"correlation_id": case.case_id, "case_id": case.case_id, "reference": case.reference}
    message = CaseMessageReceived(
        channel=contact.channel,
        mailbox=contact.mailbox,
        received_at=contact.received_at,
        description=description_of(contact),
        **ids,
    )
    found = classify(Contact(contact.channel, contact.mailbox, f"{contact.subject}\n{contact.text}")).flags
    raised = [f for f in RAISED_BY_A_REPLY if f in found and f not in case.flags]
    return message, [CaseFlagged(flag=f, flagged_at=contact.received_at, **ids) for f in raised]
