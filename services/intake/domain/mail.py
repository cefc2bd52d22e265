"""Reading an inbound email: which mailbox, who from, what it says (pure)."""

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from html.parser import HTMLParser

from shared.events.cases import Mailbox

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


def mailbox_for(address: str, domain: str) -> Mailbox | None:
    local, _, host = address.strip("<>").rpartition("@")
    if host.lower() != domain.lower():
        return None
    return MAILBOX_ADDRESSES.get(local.lower())


def read_mail(raw: bytes) -> InboundMail:
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as error:  # noqa: BLE001 - the parser raises many kinds
        raise UnreadableMail(f"cannot parse message: {type(error).__name__}") from None
    if not isinstance(message, EmailMessage) or not message.keys():
        raise UnreadableMail("no headers")
    _, sender = parseaddr(str(message.get("From", "")))
    return InboundMail(
        sender=sender if "@" in sender else None,
        subject=str(message.get("Subject", "")).strip(),
        text=_plain_text(message),
        automatic=_is_automatic(message),
        message_id=str(message.get("Message-ID", "")).strip()[:300] or None,
    )


def _plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return _html_to_text(content) if part.get_content_subtype() == "html" else content


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style") and self._hidden > 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)


def _html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.chunks).replace("\xa0", " ").split())


def _is_automatic(message: EmailMessage) -> bool:
    auto_submitted = str(message.get("Auto-Submitted", "no")).lower()
    precedence = str(message.get("Precedence", "")).lower()
    return auto_submitted != "no" or precedence in {"bulk", "junk", "list", "auto_reply"}
