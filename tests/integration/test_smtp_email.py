"""SmtpEmailSender in a real SMTP conversation with an aiosmtpd server on 127.0.0.1.

The STARTTLS tests need a certificate. Neither `cryptography` nor `trustme` is a
dependency, so a self-signed one is made with the `openssl` command line tool; where
it is missing those tests skip (and fail in CI), while "always" against a server
without STARTTLS, and "auto" against one, run everywhere.
"""

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notifier.adapters.errors import (
    PermanentSendError,
    RetryableSendError,
    SenderAuthError,
)
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.smtp_email import SmtpEmailSender, message_id_for
from services.notifier.domain.messages import EmailMessageText
from tests.fixtures.servers import unavailable

SENDER = "Hexagon Housing <noreply@doorstep.hexagon.org.uk>"
TENANT = "jo.tenant@example.org"
KEY = "CASE-0001:acknowledgement"
PLAIN = EmailMessageText("Your repair", "Dear Jo,\nYour repair is booked.\n")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


class Recorder:
    """An aiosmtpd handler that keeps every message and can refuse recipients."""

    def __init__(self, rcpt_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.received: list[Received] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                data=envelope.original_content or envelope.content,
                tls=session.ssl is not None,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


Serve = Callable[..., tuple[Recorder, int]]


@pytest.fixture
def smtp_server() -> Iterator[Serve]:
    """Start an aiosmtpd server in its thread: `recorder, port = smtp_server(**options)`."""
    controllers: list[Controller] = []

    def serve(recorder: Recorder | None = None, **smtp_options) -> tuple[Recorder, int]:
        recorder = recorder or Recorder()
        port = free_port()
        controller = Controller(
            recorder, hostname="127.0.0.1", port=port, server_hostname="mail.test", **smtp_options
        )
        controller.start()
        controllers.append(controller)
        return recorder, port

    yield serve
    for controller in controllers:
        controller.stop()


def sender(port: int, **options) -> SmtpEmailSender:
    return SmtpEmailSender("127.0.0.1", port, SENDER, timeout=5, **options)


# --- one message, its envelope, headers and parts -----------------------------------


async def test_a_message_arrives_with_its_envelope_headers_and_both_parts(smtp_server: Serve):
    recorder, port = smtp_server()
    personalisation = {"reference": "HX-2041", "promise": "<script>alert('x')</script> & more"}
    rendered = Templates().email("acknowledgement", personalisation)

    message_id = await sender(port).send_email(KEY, TENANT, rendered)

    [received] = recorder.received
    assert received.mail_from == "noreply@doorstep.hexagon.org.uk"
    assert received.rcpt_tos == [TENANT]
    assert not received.tls  # the test server offers no STARTTLS; "auto" sends in plain
    mail = received.message
    assert mail["From"] == SENDER
    assert mail["To"] == TENANT
    assert mail["Subject"] == "We have received your message (HX-2041)"
    assert mail["Date"]
    assert mail["Message-ID"] == message_id
    assert message_id == "<CASE-0001=3Aacknowledgement@doorstep.hexagon.org.uk>"
    assert mail["X-Doorstep-Key"] == KEY

    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert "<script>alert('x')</script> & more" in text.get_content()
    assert "HX-2041" in text.get_content()
    html_body = html.get_content()
    assert "HX-2041" in html_body
    assert "<script>" not in html_body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html_body


async def test_a_message_without_html_is_plain_text(smtp_server: Serve):
    recorder, port = smtp_server()

    await sender(port).send_email(KEY, TENANT, PLAIN)

    mail = recorder.received[0].message
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().replace("\r\n", "\n") == PLAIN.text


async def test_the_same_key_twice_carries_the_same_message_id(smtp_server: Serve):
    recorder, port = smtp_server()
    email = sender(port)

    first = await email.send_email(KEY, TENANT, PLAIN)
    second = await email.send_email(KEY, TENANT, PLAIN)
    other = await email.send_email("CASE-0002:acknowledgement", TENANT, PLAIN)

    assert first == second != other
    assert [r.message["Message-ID"] for r in recorder.received] == [first, first, other]


# --- failures ------------------------------------------------------------------------


async def test_a_550_at_rcpt_is_permanent_and_its_reason_names_no_address(smtp_server: Serve):
    recorder, port = smtp_server(Recorder(rcpt_reply=f"550 5.1.1 <{TENANT}>: no such user"))

    with pytest.raises(PermanentSendError) as failure:
        await sender(port).send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == 550
    assert failure.value.recipient  # about the address: the caller may fall back
    assert "5.1.1" in failure.value.reason
    assert TENANT not in failure.value.reason and TENANT not in str(failure.value)
    assert "jo.tenant" not in failure.value.reason
    assert "repair" not in failure.value.reason.lower()
    assert recorder.received == []


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "452 4.2.2 Mailbox full"])
async def test_a_4xx_at_rcpt_is_retryable(smtp_server: Serve, reply: str):
    recorder, port = smtp_server(Recorder(rcpt_reply=reply))

    with pytest.raises(RetryableSendError) as failure:
        await sender(port).send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == int(reply[:3])
    assert recorder.received == []


async def test_nothing_listening_is_retryable():
    with pytest.raises(RetryableSendError) as failure:
        await sender(free_port()).send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == "connection"


async def test_a_server_that_never_answers_times_out_as_retryable():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # no greeting, ever
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RetryableSendError) as failure:
            email = SmtpEmailSender("127.0.0.1", port, SENDER, timeout=0.5)
            await asyncio.wait_for(email.send_email(KEY, TENANT, PLAIN), timeout=10)
    finally:
        server.close()
        await server.wait_closed()

    assert failure.value.code == "timeout"


async def test_an_invalid_recipient_is_refused_before_any_conversation():
    with pytest.raises(PermanentSendError) as failure:  # nothing listens: no call was made
        await sender(free_port()).send_email(KEY, "not an address", PLAIN)

    assert failure.value.code == "invalid-address"
    assert "not an address" not in failure.value.reason


async def test_a_key_that_would_break_the_headers_is_refused_before_any_conversation():
    with pytest.raises(PermanentSendError) as failure:
        await sender(free_port()).send_email("CASE-1\r\nBcc: x@example.org", TENANT, PLAIN)

    assert failure.value.code == "invalid-header"


def test_distinct_keys_never_share_a_message_id():
    domain = "doorstep.hexagon.org.uk"
    keys = ["a:b", "a_b", "a=3Ab", "a.b", "k\u00e9y", "x" * 200, "x" * 199, ""]
    ids = [message_id_for(key, domain) for key in keys]

    assert len(set(ids)) == len(keys)
    assert ids[0] == "<a=3Ab@doorstep.hexagon.org.uk>"
    assert ids[5].startswith("<h.") and len(ids[5]) < 100
    assert all(i.isascii() and " " not in i for i in ids)


# --- STARTTLS --------------------------------------------------------------------------


async def test_always_against_a_server_without_starttls_fails_clearly(smtp_server: Serve):
    recorder, port = smtp_server()

    with pytest.raises(PermanentSendError) as failure:
        await sender(port, starttls="always").send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == "starttls-unavailable"
    assert "STARTTLS" in failure.value.reason
    assert recorder.received == []


@dataclass
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("the openssl command is needed to make a test certificate for STARTTLS")
    folder = tmp_path_factory.mktemp("tls")
    made = Certificate(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(made.key),
            "-out",
            str(made.cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return made


@pytest.mark.parametrize("mode", ["auto", "always"])
async def test_starttls_is_used_when_offered(
    smtp_server: Serve, certificate: Certificate, mode: str
):
    recorder, port = smtp_server(tls_context=certificate.server_context(), require_starttls=True)

    message_id = await sender(
        port, starttls=mode, tls_context=certificate.client_context()
    ).send_email(KEY, TENANT, PLAIN)

    [received] = recorder.received
    assert received.tls
    assert received.message["Message-ID"] == message_id


async def test_never_does_not_upgrade(smtp_server: Serve, certificate: Certificate):
    recorder, port = smtp_server(tls_context=certificate.server_context())

    await sender(port, starttls="never").send_email(KEY, TENANT, PLAIN)

    assert not recorder.received[0].tls


async def test_an_untrusted_certificate_is_refused(smtp_server: Serve, certificate: Certificate):
    recorder, port = smtp_server(tls_context=certificate.server_context())

    with pytest.raises(PermanentSendError) as failure:  # the system's CAs do not know it
        await sender(port).send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == "tls-certificate"
    assert recorder.received == []


# --- AUTH ---------------------------------------------------------------------------------


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"doorstep", b"s3cret")
    return AuthResult(success=good, handled=False)


AUTH_WITHOUT_TLS = {
    "auth_required": True,
    "auth_require_tls": False,
    "authenticator": authenticator,
}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_login_with_the_configured_credentials(smtp_server: Serve):
    recorder, port = smtp_server(**AUTH_WITHOUT_TLS)

    await sender(port, username="doorstep", password="s3cret").send_email(KEY, TENANT, PLAIN)

    [received] = recorder.received
    assert received.authenticated


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_wrong_credentials_are_permanent(smtp_server: Serve):
    recorder, port = smtp_server(**AUTH_WITHOUT_TLS)

    with pytest.raises(PermanentSendError) as failure:
        await sender(port, username="doorstep", password="wrong").send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == 535
    assert isinstance(failure.value, SenderAuthError)
    assert "wrong" not in failure.value.reason
    assert recorder.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_no_credentials_for_a_server_that_requires_them_is_permanent(smtp_server: Serve):
    recorder, port = smtp_server(**AUTH_WITHOUT_TLS)

    with pytest.raises(PermanentSendError) as failure:
        await sender(port).send_email(KEY, TENANT, PLAIN)

    assert failure.value.code == 530
    assert isinstance(failure.value, SenderAuthError)
    assert recorder.received == []


async def test_login_after_starttls_where_the_server_offers_auth_only_over_tls(
    smtp_server: Serve, certificate: Certificate
):
    recorder, port = smtp_server(
        tls_context=certificate.server_context(), auth_required=True, authenticator=authenticator
    )

    await sender(
        port, username="doorstep", password="s3cret", tls_context=certificate.client_context()
    ).send_email(KEY, TENANT, PLAIN)

    [received] = recorder.received
    assert received.tls and received.authenticated
