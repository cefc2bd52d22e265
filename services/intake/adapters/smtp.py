"""Inbound SMTP for the published mailboxes, served inside the service's own event loop."""

import asyncio
import logging
import re
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

# The address of nearly every MAIL and RCPT: <dot-atom@host.name>, in ASCII. Read with this
# expression it comes out as the standard library's address parser gives it, for a
# fiftieth of the CPU; anything else (quoted local parts, address literals, UTF-8,
# comments, spaces, encoded words) is left to that parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# A local part that starts "=?" is left to the parser too: it reads an RFC 2047 encoded word there.
PLAIN_ANGLE_ADDR = re.compile(rf"<(?!=\?)({_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})*)>")


def plain_address(arg: str) -> tuple[str, str] | None:
    """The address and the rest of a MAIL or RCPT argument (its parameters), as
    `get_angle_addr` reads them, when the address is a plain one; None otherwise."""
    if not (plain := PLAIN_ANGLE_ADDR.match(arg)):
        return None
    rest = arg[plain.end():]
    if rest[:1] in (" ", "\t"):  # the parser takes the white space after the address
        rest = rest.lstrip()
    if rest.startswith("("):  # and a comment, which is its to read
        return None
    return plain[1], rest


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
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._held: list[bytes] = []

    async def push(self, status: str | bytes) -> None:
        """A 250 while the client's next command is already here waits to go out with the
        next reply (RFC 2920: replies to pipelined commands may be sent together), so
        MAIL and RCPT sent together cost one write, not two. Every other reply, and any
        reply with nothing more to read, goes at once with whatever was held."""
        response = status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii") if isinstance(status, str) else status
        self._held.append(response + b"\r\n")
        if response.startswith(b"250") and b"\n" in self._reader._buffer:  # aiosmtpd reads it too
            return
        held, self._held = b"".join(self._held), []
        self._writer.write(held)
        await self._writer.drain()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd 1.4's own, without the typing.Protocol class it defines at every call
        (twice a mail: MAIL and RCPT), which cost more than parsing the address, and with
        a plain address read without the full parser."""
        if not arg:
            return "", ""
        if plain := plain_address(arg):
            addr, rest = plain
        else:
            try:
                address, rest = (get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec)(arg)
            except HeaderParseError:
                return None, None
            addr = address.addr_spec
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
