"""First classification of an inbound contact: by mailbox, then by its words.

Pure: no I/O. Table-driven: every rule is a name and the phrases it looks for, and every
decision carries the rule and the words that made it, for staff and for the event.
"""

from dataclasses import dataclass

from shared.events.cases import CaseKind, Channel, Flag, Mailbox, Priority, Reason

KIND_BY_MAILBOX = {
    Mailbox.REPAIRS: CaseKind.REPAIR_REQUEST,
    Mailbox.CUSTOMER_DESK: CaseKind.GENERAL_ENQUIRY,
    Mailbox.COMPLAINTS: CaseKind.COMPLAINT,
}


@dataclass(frozen=True)
class Rule:
    """A rule by its name (shown to staff) and the phrases that trigger it. A phrase
    matches at the start of a word: "leak" finds "leaking", "damp" finds "dampness"."""

    name: str
    phrases: tuple[str, ...]

    def words_in(self, text: str) -> tuple[str, ...]:
        """`text` lower-cased with its whitespace folded to single spaces."""
        # `in` first: most phrases are absent, and it answers in C without a call here.
        return tuple(p for p in self.phrases if p in text and _starts_a_word_in(p, text))


def _starts_a_word_in(phrase: str, text: str) -> bool:
    # str.find is a fast substring search in C; a regex \b search over a 25 MB mail is
    # a hundred times slower. Only hits in the middle of a word ("asbestos") loop here.
    at = text.find(phrase)
    while at != -1:
        if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):
            return True
        at = text.find(phrase, at + 1)
    return False


EMERGENCY = Rule(
    "emergency-repair",
    (
        # gas and fumes
        "smell of gas", "smell gas", "smells of gas", "gas smell", "gas leak", "leaking gas",
        "carbon monoxide",
        # heating and hot water
        "no heating", "no hot water", "boiler has stopped", "boiler not working",
        # water
        "flooding", "flooded", "water through the ceiling", "water coming through",
        "water pouring", "burst pipe", "ceiling has collapsed", "ceiling collapsed",
        # electrics
        "dangerous electrics", "sparking", "exposed wires", "bare wires", "electric shock",
        "burning smell", "smoke from", "no electricity",
        # security
        "door won't lock", "door will not lock", "cannot lock", "can't lock", "won't close",
        "broken window", "smashed window", "smashed the window", "window is broken",
        "insecure", "front door is broken", "locked out",
    ),
)
URGENT = Rule(
    "urgent-repair",
    ("leak", "blocked toilet", "blocked drain", "blocked sink", "no power", "broken boiler",
     "toilet not flushing", "broken toilet", "fridge freezer"),
)
DAMP_AND_MOULD = Rule(
    "damp-and-mould",
    ("damp", "mould", "mold", "condensation", "black spots on the wall", "fungus"),
)
ANTI_SOCIAL_BEHAVIOUR = Rule(
    "anti-social-behaviour",
    (
        "anti-social", "antisocial", "anti social", "noisy neighbour", "noise from next door",
        "loud music", "vandalism", "vandalised", "graffiti", "drug dealing", "drugs being",
        "fly-tipping", "fly tipping", "intimidating", "intimidation", "threatening behaviour",
    ),
)
HARASSMENT_OR_DOMESTIC_VIOLENCE = Rule(
    "harassment-or-domestic-violence",
    (
        "harassment", "harassing", "harassed", "domestic violence", "domestic abuse",
        "abusive partner", "abusive ex", "hate crime", "racial abuse", "racially abused",
        "stalking", "stalked", "threatened to kill", "coercive control", "afraid for my safety",
        "scared for my safety",
    ),
)
# The Housing Ombudsman's code: an expression of dissatisfaction is a complaint, wherever
# it is sent. Staff can reclassify; missing one would be worse than one too many.
COMPLAINT_LANGUAGE = Rule(
    "complaint-language",
    (
        "complaint", "complain about", "want to complain", "wish to complain", "like to complain",
        "dissatisfied", "unhappy with the service", "not happy with the service", "poor service",
        "appalling service", "disgraceful service", "unacceptable service",
    ),
)
REPAIR_WORDS = Rule("repair", EMERGENCY.phrases + URGENT.phrases + ("repair", "broken", "not working"))


@dataclass(frozen=True)
class Contact:
    channel: Channel
    mailbox: Mailbox | None
    text: str
    # The kind the contact says it is (which web form), when it says one.
    stated_kind: CaseKind | None = None


@dataclass(frozen=True)
class Classification:
    kind: CaseKind
    priority: Priority | None
    flags: tuple[Flag, ...]
    reasons: tuple[Reason, ...]


def classify(contact: Contact) -> Classification:
    text = " ".join(contact.text.lower().split())
    kind, reasons = _base_kind(contact, text)
    flags: list[Flag] = []
    kind = _by_content(kind, text, flags, reasons, fixed=contact.stated_kind is not None)
    priority = None
    emergency = EMERGENCY.words_in(text)
    if kind is CaseKind.REPAIR_REQUEST:
        priority, reason = _priority(text, emergency)
        reasons.append(reason)
    if emergency and kind in (CaseKind.REPAIR_REQUEST, CaseKind.HOME_VISIT):
        flags.append(Flag.EMERGENCY_HAZARD)  # Awaab's Law: made safe within 24 hours
    if words := DAMP_AND_MOULD.words_in(text):
        flags.append(Flag.DAMP_AND_MOULD)
        reasons.append(Reason(rule=DAMP_AND_MOULD.name, words=words))
    return Classification(kind, priority, tuple(dict.fromkeys(flags)), tuple(reasons))


def _base_kind(contact: Contact, text: str) -> tuple[CaseKind, list[Reason]]:
    if contact.stated_kind is not None:
        return contact.stated_kind, []
    if contact.mailbox is not None:
        return KIND_BY_MAILBOX[contact.mailbox], [Reason(rule=f"mailbox:{contact.mailbox}")]
    # A letter, a call or a visit has no mailbox: a repair if it names one.
    if words := REPAIR_WORDS.words_in(text):
        return CaseKind.REPAIR_REQUEST, [Reason(rule=f"channel:{contact.channel}:repair", words=words)]
    if contact.channel is Channel.LETTER:
        return CaseKind.LETTER, [Reason(rule="channel:letter")]
    return CaseKind.GENERAL_ENQUIRY, [Reason(rule=f"channel:{contact.channel}")]


def _by_content(
    kind: CaseKind, text: str, flags: list[Flag], reasons: list[Reason], fixed: bool
) -> CaseKind:
    """What the words say beyond the door they came in by, most serious first. A kind the
    contact states (a web form) stays; the flags its words raise are added all the same."""
    if words := HARASSMENT_OR_DOMESTIC_VIOLENCE.words_in(text):
        # The 1-working-day visit; the flag keeps the content out of texts and shared inboxes.
        flags.append(Flag.SAFEGUARDING)
        reasons.append(Reason(rule=HARASSMENT_OR_DOMESTIC_VIOLENCE.name, words=words))
        kind = kind if fixed else CaseKind.HOME_VISIT
    elif not fixed and kind is not CaseKind.COMPLAINT and (words := COMPLAINT_LANGUAGE.words_in(text)):
        reasons.append(Reason(rule=COMPLAINT_LANGUAGE.name, words=words))
        kind = CaseKind.COMPLAINT
    if words := ANTI_SOCIAL_BEHAVIOUR.words_in(text):
        flags.append(Flag.ANTI_SOCIAL_BEHAVIOUR)
        reasons.append(Reason(rule=ANTI_SOCIAL_BEHAVIOUR.name, words=words))
        # A repair still needs booking and a complaint its clocks; anything else is an ASB case.
        if not fixed and kind in (CaseKind.GENERAL_ENQUIRY, CaseKind.LETTER):
            kind = CaseKind.ANTI_SOCIAL_BEHAVIOUR
    return kind


def _priority(text: str, emergency: tuple[str, ...]) -> tuple[Priority, Reason]:
    if emergency:
        return Priority.EMERGENCY, Reason(rule=EMERGENCY.name, words=emergency)
    if words := URGENT.words_in(text):
        return Priority.URGENT, Reason(rule=URGENT.name, words=words)
    return Priority.ROUTINE, Reason(rule="routine-repair")
