"""Reading an inbound email: which mailbox, who from, what it says (pure)."""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.header import Header, decode_header
from email.message import Message
from email.utils import parseaddr

from shared.events.cases import Mailbox
from services.intake.domain import mime_boundaries  # noqa: F401 - the parser's boundaries, made cheap
from services.intake.domain.mime_text import one_line, text_in, text_of

# The local part of each published address (repairs_reporting@, customer_desk@, complaints@).
MAILBOX_ADDRESSES = {
    "repairs_reporting": Mailbox.REPAIRS,
    "customer_desk": Mailbox.CUSTOMER_DESK,
    "complaints": Mailbox.COMPLAINTS,
}


class UnreadableMail(ValueError):
    """A message that cannot be read as an email."""


@dataclass(frozen=True)
class InboundMail:
    sender: str | None
    subject: str
    text: str
    automatic: bool
    message_id: str | None = None  # a client that retries sends the same one
    # The Message-IDs this mail answers (In-Reply-To, then References), newest first.
    replies_to: tuple[str, ...] = ()

    @property
    def case_reference(self) -> str | None:
        """A case reference quoted in the subject ("Re: HX-7KQ2M9PZ ..."), if any."""
        found = CASE_REFERENCE.search(self.subject.upper())
        return found[0] if found else None


# A case reference as intake makes them (domain/cases.py): HX- and 8 of its 32 characters.
CASE_REFERENCE = re.compile(r"\bHX-[A-HJ-NP-Z2-9]{8}\b")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,298}>")
SUBJECT_MAX = 998  # RFC 5322's longest line


def mailbox_for(address: str, domain: str) -> Mailbox | None:
    local, _, host = address.strip("<>").rpartition("@")
    if host.lower() != domain.lower():
        return None
    return MAILBOX_ADDRESSES.get(local.lower())


def read_mail(raw: bytes) -> InboundMail:
    # compat32 parses a dozen times faster than the default policy's header objects; the
    # few headers read are decoded here, each with the charset fallbacks of the body.
    try:
        message = message_from_bytes(raw, policy=policy.compat32)
    except Exception as error:  # noqa: BLE001 - the parser raises many kinds
        raise UnreadableMail(f"cannot parse message: {type(error).__name__}") from None
    headers = _first_of_each(message)
    if not headers or message.defects and not headers.get("from") and not headers.get("subject"):
        raise UnreadableMail("no headers")
    return InboundMail(
        sender=_sender(one_line(str(headers.get("from", "")))),
        subject=one_line(_header(headers, "Subject"))[:SUBJECT_MAX],
        text=text_of(message),
        automatic=_is_automatic(headers),
        message_id=one_line(_header(headers, "Message-ID"))[:300] or None,
        replies_to=_replies_to(headers),
    )


Headers = dict[str, object]


def _first_of_each(message: Message) -> Headers:
    """Each header's first value by its lower-case name, as `message.get` finds it: a
    dozen headers are read, and each `get` scans them all."""
    headers: Headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), value)
    return headers


ANGLE_ADDRESS = re.compile(r"<([^<>@\s]+@[^<>@\s]+)>\s*$")


def _sender(from_header: str) -> str | None:
    """The address in angle brackets at the end, read before any encoded word is decoded,
    so a display name cannot smuggle in another address."""
    if found := ANGLE_ADDRESS.search(from_header):
        return found[1]
    _, address = parseaddr(from_header)
    return address if "@" in address else None


def _replies_to(headers: Headers) -> tuple[str, ...]:
    in_reply_to = MESSAGE_ID.findall(_header(headers, "In-Reply-To"))
    references = MESSAGE_ID.findall(_header(headers, "References"))
    return tuple(dict.fromkeys(in_reply_to + references[::-1]))[:50]


def _header(headers: Headers, name: str) -> str:
    """A header's text with its encoded words decoded ("" when absent or unreadable)."""
    value = headers.get(name.lower())
    if value is None:
        return ""
    try:
        # 8-bit bytes sent unencoded come as a Header, which decode_header reads as it is.
        chunks = decode_header(value if isinstance(value, Header) else str(value))
        return "".join(_words(chunk, charset) for chunk, charset in chunks)
    except Exception:  # noqa: BLE001 - a malformed header is read as absent
        return ""


def _words(chunk: str | bytes, charset: str | None) -> str:
    if isinstance(chunk, str):
        chunk = chunk.encode("ascii", "surrogateescape")  # 8-bit bytes sent unencoded
    return text_in(chunk, charset)


# Subjects that out-of-office and other automatic replies give themselves, in the
# languages tenants' mail systems most often answer in.
AUTOMATIC_SUBJECTS = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto[- ]?reply|auto[- ]?response|autoresponse"
    r"|away from (the )?office|undeliverable|delivery status notification"
    r"|mail delivery failed|returned mail|abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[áa]tica)",
    re.IGNORECASE,
)
AUTOMATIC_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autogenerated")
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


def _is_automatic(headers: Headers) -> bool:
    """Robots answering robots would loop: none of these opens a case or gets an answer."""
    auto_submitted = _header(headers, "Auto-Submitted").strip().lower() or "no"
    precedence = _header(headers, "Precedence").strip().lower()
    sender = _header(headers, "From").lower()
    return (
        auto_submitted != "no"
        or precedence in BULK_PRECEDENCE
        or any(_header(headers, name) for name in AUTOMATIC_HEADERS)
        or bool(AUTOMATIC_SUBJECTS.match(_header(headers, "Subject")))
        or "mailer-daemon@" in sender
    )
