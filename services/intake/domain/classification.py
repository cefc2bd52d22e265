"""First classification of an inbound contact: by mailbox, then by its words.

Pure: no I/O. Every decision carries the rule and the words that made it.
"""

import re
from dataclasses import dataclass

from shared.events.cases import CaseKind, Channel, Flag, Mailbox, Priority, Reason

KIND_BY_MAILBOX = {
    Mailbox.REPAIRS: CaseKind.REPAIR_REQUEST,
    Mailbox.CUSTOMER_DESK: CaseKind.GENERAL_ENQUIRY,
    Mailbox.COMPLAINTS: CaseKind.COMPLAINT,
}

EMERGENCY_PHRASES = (
    "smell of gas",
    "smell gas",
    "gas leak",
    "no heating",
    "no hot water",
    "flooding",
    "flooded",
    "water through the ceiling",
    "water coming through",
    "dangerous electrics",
    "sparking",
    "exposed wires",
    "door won't lock",
    "cannot lock",
    "can't lock",
    "broken window",
)
URGENT_PHRASES = ("leak", "blocked toilet", "blocked drain", "no power", "broken boiler")
DAMP_PHRASES = ("damp", "mould", "mold", "condensation")


@dataclass(frozen=True)
class Contact:
    channel: Channel
    mailbox: Mailbox | None
    text: str


@dataclass(frozen=True)
class Classification:
    kind: CaseKind
    priority: Priority | None
    flags: tuple[Flag, ...]
    reasons: tuple[Reason, ...]


def classify(contact: Contact) -> Classification:
    kind, kind_reason = _kind(contact)
    reasons = [kind_reason]
    priority = None
    if kind is CaseKind.REPAIR_REQUEST:
        priority, priority_reason = _priority(contact.text)
        reasons.append(priority_reason)
    flags = []
    if damp := _matches(contact.text, DAMP_PHRASES):
        flags.append(Flag.DAMP_AND_MOULD)
        reasons.append(Reason(rule="damp-and-mould", words=damp))
    return Classification(kind, priority, tuple(flags), tuple(reasons))


def _kind(contact: Contact) -> tuple[CaseKind, Reason]:
    if contact.mailbox is not None:
        return KIND_BY_MAILBOX[contact.mailbox], Reason(rule=f"mailbox:{contact.mailbox}")
    if contact.channel is Channel.LETTER:
        return CaseKind.LETTER, Reason(rule="channel:letter")
    # A call or a visit has no mailbox: a repair if it names one, an enquiry otherwise.
    if words := _matches(contact.text, EMERGENCY_PHRASES + URGENT_PHRASES):
        return CaseKind.REPAIR_REQUEST, Reason(rule=f"channel:{contact.channel}:repair", words=words)
    return CaseKind.GENERAL_ENQUIRY, Reason(rule=f"channel:{contact.channel}")


def _priority(text: str) -> tuple[Priority, Reason]:
    if words := _matches(text, EMERGENCY_PHRASES):
        return Priority.EMERGENCY, Reason(rule="emergency-repair", words=words)
    if words := _matches(text, URGENT_PHRASES):
        return Priority.URGENT, Reason(rule="urgent-repair", words=words)
    return Priority.ROUTINE, Reason(rule="routine-repair")


def _matches(text: str, phrases: tuple[str, ...]) -> tuple[str, ...]:
    """Phrases found at the start of a word: "leak" finds "leaking", "damp" finds "dampness"."""
    lowered = " ".join(text.lower().split())
    return tuple(p for p in phrases if re.search(rf"\b{re.escape(p)}", lowered))
