"""The words of an inbound mail, as far as they can be read (pure): the plain text part,
else the HTML one without its markup, else the body inside an Outlook winmail.dat, else
the names of the attachments. Wrong or unknown charsets fall back rather than fail, and
control characters (NUL among them, which PostgreSQL cannot store) are dropped."""

from email.message import Message
from functools import cache
from html.parser import HTMLParser

import tnefparse

# Tried in order when the declared charset is missing, unknown or wrong: most mail is
# UTF-8; Windows-1252 reads every byte, so it is the last word.
FALLBACK_CHARSETS = ("utf-8", "cp1252")
TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
# Unicode's control characters (category Cc): C0, DEL and C1.
CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0)]


def text_of(message: Message) -> str:
    part = _body_part(message)
    if part is not None:
        content = decoded(part)
        text = html_to_text(content) if part.get_content_subtype() == "html" else content
        if text.strip():
            return clean(text)
    return clean(_winmail_body(message) or _attachments_named(message))


def clean(text: str, keep: str = "\n\t") -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_dropping(keep)).strip()


@cache
def _dropping(keep: str) -> dict[int, None]:
    return {c: None for c in CONTROLS if chr(c) not in keep}


def one_line(text: str) -> str:
    """A header value as one line: nothing a sender folds in can start another header."""
    return " ".join(clean(text, keep="\n\t").split())


def decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return payload if isinstance(payload, str) else ""
    return text_in(payload, part.get_content_charset())


def text_in(data: bytes, declared: str | None) -> str:
    """Bytes as text by the charset they declare, else the fallbacks that fit."""
    for charset in ((declared,) if declared else ()) + FALLBACK_CHARSETS:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # every byte is Latin-1; cp1252 above leaves five out


def _body_part(message: Message) -> Message | None:
    """The first plain text part that is not an attachment, else the first HTML one."""
    html = None
    for part in message.walk():
        if part.is_multipart() or _disposition(part) == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            return part
        if kind == "text/html" and html is None:
            html = part
    if html is None and message.get_content_maintype() == "multipart" and isinstance(message.get_payload(), str):
        return _as_plain(message)  # "multipart" without a boundary: the text is all there is
    return html


def _disposition(part: Message) -> str:
    return str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()


def _as_plain(message: Message) -> Message:
    plain = Message()
    plain.set_payload(message.get_payload())
    return plain


def _winmail_body(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() in TNEF_TYPES or (part.get_filename() or "").lower() == "winmail.dat":
            try:
                tnef = tnefparse.TNEF(part.get_payload(decode=True) or b"", do_checksum=False)
            except Exception:  # noqa: BLE001 - a corrupt winmail.dat is kept raw, unread
                continue
            if tnef.body:
                return tnef.body if isinstance(tnef.body, str) else tnef.body.decode(tnef.codepage or "cp1252", "replace")
            if tnef.htmlbody:
                return html_to_text(tnef.htmlbody if isinstance(tnef.htmlbody, str) else tnef.htmlbody.decode("utf-8", "replace"))
    return ""


def _attachments_named(message: Message) -> str:
    names = [one_line(p.get_filename() or "") for p in message.walk() if p.get_filename()]
    return f"Attachments only: {', '.join(n for n in names if n)}" if names else ""


class _TextOfHtml(HTMLParser):
    HIDDEN = ("script", "style", "head", "title", "noscript", "template")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in self.HIDDEN and self._hidden > 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.chunks).replace("\xa0", " ").split())
