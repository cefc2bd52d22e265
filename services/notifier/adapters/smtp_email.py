"""Email over a real SMTP conversation (aiosmtplib): one connection per message.

The conversation: connect, EHLO, STARTTLS when the server offers it ("auto"), or
insist on it ("always"), or never ("never"); AUTH when credentials are configured;
MAIL, RCPT, DATA; QUIT. Every step has the same explicit timeout.

The Message-ID is derived from the idempotency key, so a resend of the same key
(the one window in which a message may go twice) carries the same Message-ID and
a receiving system can recognise the duplicate.

Failures become `RetryableSendError` (4xx replies, refused or dropped connections,
timeouts) or `PermanentSendError` (5xx replies, an invalid address, a server that
cannot meet the configured security). Their reasons name the step and the reply
code, never the address, the server's free text (which often echoes the address)
or the message.
"""

import hashlib
import re
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, parseaddr
from typing import Literal

import aiosmtplib

from services.notifier.adapters.errors import (
    PermanentSendError,
    RetryableSendError,
    SenderAuthError,
    SendError,
)
from services.notifier.domain.messages import EmailMessageText

StartTls = Literal["auto", "always", "never"]

_SAFE = re.compile(r"[A-Za-z0-9_-]")
_ENHANCED_STATUS = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_LONGEST_READABLE_ID = 100


class SmtpEmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: StartTls = "auto",
        timeout: float = 15,
        *,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if starttls not in ("auto", "always", "never"):
            raise ValueError(f"starttls must be 'auto', 'always' or 'never', not {starttls!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        envelope_from = parseaddr(sender)[1]
        if "@" not in envelope_from:
            raise ValueError("sender must be an email address, optionally with a display name")
        self.host = host
        self.port = port
        self.sender = sender
        self.envelope_from = envelope_from
        self.domain = envelope_from.rpartition("@")[2]
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
        self.tls_context = tls_context
        # The EHLO name. Left to aiosmtplib it would be socket.getfqdn(), a blocking
        # lookup that can stall the event loop for seconds on a badly configured host.
        self.local_hostname = local_hostname or self.domain

    async def send_email(self, key: str, to: str, message: EmailMessageText) -> str:
        message_id = message_id_for(key, self.domain)
        mail = self._build(key, to, message, message_id)
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            start_tls=False,  # decided in _secure, after reading the EHLO reply
            tls_context=self.tls_context,
            local_hostname=self.local_hostname,
        )
        try:
            await client.connect()
            await self._secure(client)
            if self.username is not None:
                await client.login(self.username, self.password or "")
            await client.send_message(mail, sender=self.envelope_from, recipients=[to])
        except SendError:
            client.close()
            raise
        except Exception as error:  # noqa: BLE001 - every failure is classified
            client.close()
            raise _classify(error) from None
        # The server has taken the message: whatever happens to QUIT, it is sent, and
        # reporting a failure now would make the caller send it a second time.
        try:
            await client.quit()
        except Exception:  # noqa: BLE001 - see above
            client.close()
        return message_id

    def _build(self, key: str, to: str, message: EmailMessageText, message_id: str) -> EmailMessage:
        _check_recipient(to)
        mail = EmailMessage(policy=SMTP_POLICY)
        try:
            mail["From"] = self.sender
            mail["To"] = to
            mail["Subject"] = message.subject
            mail["Date"] = formatdate(usegmt=True)
            mail["Message-ID"] = message_id
            mail["X-Doorstep-Key"] = key
        except (ValueError, IndexError, TypeError):
            raise PermanentSendError(
                code="invalid-header",
                reason="the message headers are not valid (subject or key)",
            ) from None
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def _secure(self, client: aiosmtplib.SMTP) -> None:
        if self.starttls == "never":
            return
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            if self.starttls == "always":
                raise
            await client.helo()  # an ESMTP-less server offers no STARTTLS either
            return
        if client.supports_extension("starttls"):
            await client.starttls()
        elif self.starttls == "always":
            raise PermanentSendError(
                code="starttls-unavailable",
                reason="the SMTP server does not offer STARTTLS and starttls is 'always'",
            )


def message_id_for(key: str, domain: str) -> str:
    """`<{key}@{domain}>`, the key escaped so that distinct keys never share an id.

    Letters, digits, "-" and "_" stay as they are; every other character becomes
    "=" and its UTF-8 bytes in hex ("case-1:ack" -> "case-1=3Aack"). A key too long
    to stay readable is replaced by "h." and its SHA-256; no escaped key contains
    a ".", so the two forms cannot collide.
    """
    local = "".join(
        ch if _SAFE.fullmatch(ch) else "".join(f"={b:02X}" for b in ch.encode()) for ch in key
    )
    if not local or len(local) > _LONGEST_READABLE_ID:
        local = "h." + hashlib.sha256(key.encode()).hexdigest()
    return f"<{local}@{domain}>"


def _check_recipient(to: str) -> None:
    try:
        address = Address(addr_spec=to)
    except (ValueError, IndexError, TypeError):
        address = None
    if address is None or not address.username or "." not in address.domain:
        raise _invalid_address()


def _invalid_address() -> PermanentSendError:
    return PermanentSendError(
        code="invalid-address", reason="the recipient address is not valid", recipient=True
    )


_STEP = {
    aiosmtplib.SMTPConnectResponseError: "greeting",
    aiosmtplib.SMTPHeloError: "EHLO",
    aiosmtplib.SMTPAuthenticationError: "login",
    aiosmtplib.SMTPSenderRefused: "sender (MAIL FROM)",
    aiosmtplib.SMTPRecipientRefused: "recipient (RCPT TO)",
    aiosmtplib.SMTPDataError: "message (DATA)",
}
# 530 authentication required, 534 mechanism too weak, 535 credentials invalid,
# 538 encryption required for the mechanism: our configuration, not the message.
_AUTH_REFUSED = frozenset({530, 534, 535, 538})


def _classify(error: Exception) -> SendError:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _from_reply(error)
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return RetryableSendError(code="timeout", reason="the SMTP server did not answer in time")
    if isinstance(error, ssl.SSLCertVerificationError):
        return PermanentSendError(
            code="tls-certificate", reason="the SMTP server's TLS certificate is not trusted"
        )
    if isinstance(error, ssl.SSLError):
        return RetryableSendError(
            code="tls", reason="the TLS handshake with the SMTP server failed"
        )
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return RetryableSendError(
            code="connection",
            reason="could not connect to the SMTP server, or it closed the connection",
        )
    if isinstance(error, OSError):
        return RetryableSendError(
            code="connection", reason="network error talking to the SMTP server"
        )
    if isinstance(error, ValueError):  # aiosmtplib's own address checks
        return _invalid_address()
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return PermanentSendError(
            code="not-supported",
            reason="the SMTP server does not support what this message needs (SMTPUTF8)",
        )
    if isinstance(error, aiosmtplib.SMTPException):
        # Raised by aiosmtplib itself rather than by a reply, e.g. no AUTH on offer.
        if "AUTH" in str(error):
            return SenderAuthError(
                code="auth-unavailable", reason="the SMTP server does not offer AUTH"
            )
        return PermanentSendError(code="smtp", reason="the SMTP conversation failed")
    return RetryableSendError(
        code="unexpected", reason=f"unexpected failure sending email: {type(error).__name__}"
    )


def _from_reply(error: aiosmtplib.SMTPResponseException) -> SendError:
    step = next((name for kind, name in _STEP.items() if isinstance(error, kind)), "command")
    enhanced = _ENHANCED_STATUS.match(error.message or "")
    status = enhanced.group(1) if enhanced else ""
    reason = f"the SMTP server refused the {step}: {error.code} {status}".rstrip()
    if 400 <= error.code < 500:
        return RetryableSendError(code=error.code, reason=reason)
    if error.code in _AUTH_REFUSED:
        return SenderAuthError(code=error.code, reason=reason)
    if 500 <= error.code < 600:
        # A refused recipient is about the address (5.1.x no such mailbox, 5.2.x
        # disabled...), unless the server says it is its policy (5.7.x, e.g. relaying).
        about_address = isinstance(
            error, aiosmtplib.SMTPRecipientRefused
        ) and not status.startswith("5.7.")
        return PermanentSendError(code=error.code, reason=reason, recipient=about_address)
    return RetryableSendError(
        code=error.code, reason=f"unexpected SMTP reply to the {step}: {error.code}"
    )
