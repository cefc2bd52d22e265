"""Inbound SMTP for the published mailboxes, served inside the service's own event loop."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError

from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.events.cases import Mailbox

log = logging.getLogger(__name__)

# Given the mailbox and the raw bytes, store and handle the mail; return its reference
# (or None when the mail opened no case). Must not return before the raw mail is stored.
Accept = Callable[[Mailbox, str, bytes], Awaitable[str | None]]
Resolve = Callable[[str], Mailbox | None]

SERIOUSNESS = (Mailbox.COMPLAINTS, Mailbox.REPAIRS, Mailbox.CUSTOMER_DESK)


class MailboxHandler:
    def __init__(self, resolve: Resolve, accept: Accept) -> None:
        self.resolve = resolve
        self.accept = accept

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.resolve(address) is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        recipient, mailbox = self._most_serious(envelope.rcpt_tos)
        try:
            reference = await self.accept(mailbox, recipient, envelope.original_content or b"")
        except Exception as error:  # noqa: BLE001 - the sender must retry, not lose the mail
            log.exception("could not store inbound mail", extra={"reason": type(error).__name__})
            return "451 4.3.0 Temporary failure, please try again later"
        return f"250 2.0.0 Accepted{f' as {reference}' if reference else ''}"

    def _most_serious(self, recipients: list[str]) -> tuple[str, Mailbox]:
        """A mail to several of our mailboxes is handled by the most serious: a complaint
        copied to repairs must still start the complaint clocks."""
        found = [(address, self.resolve(address)) for address in recipients]
        ranked = [(a, m) for a, m in found if m is not None]  # RCPT refused all others
        return min(ranked, key=lambda pair: SERIOUSNESS.index(pair[1]))


class _SMTP(SMTP):
    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd 1.4's own, without the typing.Protocol class it defines at every call
        (twice a mail: MAIL and RCPT), which cost more than parsing the address."""
        if not arg:
            return "", ""
        try:
            address, rest = (get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec)(arg)
        except HeaderParseError:
            return None, None
        addr: str = address.addr_spec
        localpart = addr.rpartition("@")[0]
        if self.local_part_limit and len(localpart) > self.local_part_limit:
            return None, None
        return addr, rest


async def serve_smtp(
    handler: MailboxHandler, host: str, port: int, max_bytes: int
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: _SMTP(handler, data_size_limit=max_bytes, hostname="doorstep", enable_SMTPUTF8=True, decode_data=False),
        host=host,
        port=port,
    )
