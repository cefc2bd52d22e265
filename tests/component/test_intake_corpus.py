"""The robustness corpus (tests/corpus/): every awkward mail and form submission gets a
clear error or a safe best effort, what is accepted is kept raw byte for byte, and the
service keeps answering. One test per kind, then the whole mail corpus over a real SMTP
conversation with the intake's own SMTP server."""

import asyncio
import base64
import json
import smtplib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from shared.events.cases import Mailbox
from shared.service import Runtime
from shared.standards.loader import load_all
from services.intake import handlers
from services.intake.adapters.smtp import MailboxHandler, serve_smtp
from services.intake.adapters.tables import cases, raw_messages
from services.intake.domain.mail import mailbox_for
from services.intake.web import add_form_routes

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
BOOK = load_all()
REPAIRS = "repairs_reporting@hexagon.org.uk"
TENANT = "jo.tenant@example.org"


@pytest.fixture
async def client(intake: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    add_form_routes(app, intake, BOOK)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://intake.test") as client:
        yield client


def sample(name: str) -> bytes:
    return (CORPUS / "mail" / name).read_bytes()


async def receive(runtime: Runtime, raw: bytes) -> str | None:
    return await handlers.receive_mail(runtime, BOOK, Mailbox.REPAIRS, REPAIRS, raw)


async def opened(runtime: Runtime) -> dict[str, Any]:
    events = await outbox(runtime, "case.opened")
    assert len(events) == 1, events
    return events[0]


async def outbox(runtime: Runtime, event_type: str) -> list[dict[str, Any]]:
    table = runtime.outbox.table
    async with runtime.sessions() as session:
        rows = (await session.execute(select(table).where(table.c.event_type == event_type))).all()
    return [json.loads(r.payload) for r in rows]


async def kept(runtime: Runtime) -> list[bytes]:
    async with runtime.sessions() as session:
        return list((await session.scalars(select(raw_messages.c.raw))).all())


# -- mail, one test per kind -------------------------------------------------------------


async def test_an_unterminated_multipart_is_read_up_to_where_it_breaks(intake: Runtime):
    raw = sample("malformed-unterminated-multipart.eml")
    assert await receive(intake, raw)
    case = await opened(intake)
    assert "The bath tap is leaking" in case["description"]
    assert case["priority"] == "urgent"
    assert await kept(intake) == [raw]


async def test_a_multipart_without_a_boundary_is_read_as_its_text(intake: Runtime):
    assert await receive(intake, sample("malformed-no-boundary.eml"))
    assert "banging noise" in (await opened(intake))["description"]


async def test_bad_base64_still_opens_a_case_from_what_can_be_read(intake: Runtime):
    raw = sample("malformed-bad-base64.eml")
    assert await receive(intake, raw)
    assert (await opened(intake))["description"].startswith("Radiator")
    assert await kept(intake) == [raw]


async def test_an_unknown_charset_falls_back_and_is_still_classified(intake: Runtime):
    assert await receive(intake, sample("charset-unknown.eml"))
    case = await opened(intake)
    assert "We have no heating since Friday" in case["description"]
    assert case["priority"] == "emergency"


async def test_a_wrong_charset_is_read_by_the_next_that_fits(intake: Runtime):
    assert await receive(intake, sample("charset-wrong.eml"))
    case = await opened(intake)
    assert case["description"].startswith("Café downstairs\nThe café downstairs has black mould")
    assert "£200" in case["description"]
    assert "damp_and_mould" in case["flags"]


async def test_html_only_mail_gives_its_words_and_none_of_its_code(intake: Runtime):
    assert await receive(intake, sample("html-only.eml"))
    case = await opened(intake)
    assert "The socket is sparking & smells of burning" in case["description"]
    for code in ("<", "alert", "steal", "tracker", "color:red", "javascript"):
        assert code not in case["description"]
    assert case["priority"] == "emergency"


async def test_a_winmail_dat_is_read_for_its_body(intake: Runtime):
    raw = sample("winmail-dat-only.eml")
    assert await receive(intake, raw)
    case = await opened(intake)
    assert "water coming through the kitchen ceiling – please come today" in case["description"]
    assert case["priority"] == "emergency"
    assert await kept(intake) == [raw]


async def test_an_empty_body_opens_a_case_from_its_subject(intake: Runtime):
    assert await receive(intake, sample("empty-body.eml"))
    case = await opened(intake)
    assert case["description"] == "Broken window"
    assert case["priority"] == "emergency"


async def test_a_mail_with_nothing_but_a_sender_still_opens_a_case_for_staff(intake: Runtime):
    assert await receive(intake, sample("empty-everything.eml"))
    case = await opened(intake)
    assert (case["description"], case["priority"]) == ("", "routine")
    (ack,) = await outbox(intake, "notification.requested")
    assert ack["recipient"]["email"] == TENANT


async def test_attachments_only_opens_a_case_naming_them_and_keeps_them(intake: Runtime):
    raw = sample("attachments-only.eml")
    assert await receive(intake, raw)
    assert (await opened(intake))["description"] == "Attachments only: ceiling.jpg, letter.pdf"
    assert await kept(intake) == [raw]


async def test_header_injection_stays_in_one_header(intake: Runtime):
    raw = sample("header-injection.eml")
    assert await receive(intake, raw)
    case = await opened(intake)
    subject = case["description"].split("\n")[0]
    assert subject == "Boiler Bcc: victim@example.com fake body"
    (ack,) = await outbox(intake, "notification.requested")
    assert ack["recipient"] == {"email": TENANT, "phone": None}
    async with intake.sessions() as session:
        stored = await session.scalar(select(cases.c.subject))
    assert "\r" not in stored and "\n" not in stored


async def test_nul_bytes_are_dropped_from_what_is_stored_and_said(intake: Runtime):
    raw = sample("nul-bytes.eml")
    assert await receive(intake, raw)
    case = await opened(intake)
    assert case["description"] == "Nul bytes\nThe door won't lock"
    assert await kept(intake) == [raw]  # the raw mail itself is bytes, kept as sent


async def test_bytes_that_are_not_a_mail_are_kept_and_open_nothing(intake: Runtime):
    raw = sample("not-a-mail.bin")
    assert await receive(intake, raw) is None
    assert await outbox(intake, "case.opened") == []
    assert await kept(intake) == [raw]


async def test_a_huge_body_is_classified_whole_and_described_in_2000_characters(intake: Runtime):
    body = ("The kitchen cupboard door is loose. " * 140_000) + "And there is mould behind it."
    raw = f"From: {TENANT}\r\nTo: {REPAIRS}\r\nSubject: Cupboard\r\n\r\n{body}\r\n".encode()
    assert len(raw) > 5_000_000
    assert await receive(intake, raw)
    case = await opened(intake)
    assert len(case["description"]) == 2000
    assert "damp_and_mould" in case["flags"]  # found at the very end
    assert await kept(intake) == [raw]


# -- forms, one test per kind ------------------------------------------------------------


def submission(name: str) -> tuple[str, str, bytes]:
    spec = json.loads((CORPUS / "forms" / name).read_text())
    body = base64.b64decode(spec["body_base64"]) if "body_base64" in spec else spec["body"].encode()
    if append := spec.get("append"):
        body += (append["text"] * append["times"]).encode()
    return spec["form"], spec["content_type"], body


async def post(client: httpx.AsyncClient, name: str, accept: str = "application/json") -> httpx.Response:
    form, content_type, body = submission(name)
    headers = {"Content-Type": content_type, "Accept": accept}
    return await client.post(f"/forms/{form}", content=body, headers=headers)


def fields_named(response: httpx.Response) -> set[str]:
    return {d["loc"][1] for d in response.json()["detail"] if len(d["loc"]) > 1}


async def still_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/forms")).status_code == 200


async def test_a_form_with_missing_answers_names_each(client: httpx.AsyncClient):
    response = await post(client, "missing-fields.json")
    assert response.status_code == 422
    assert {"address", "postcode", "description"} <= fields_named(response)
    await still_answers(client)


async def test_answers_of_the_wrong_type_are_named_without_echoing_them(client: httpx.AsyncClient):
    response = await post(client, "wrong-types.json")
    assert response.status_code == 422
    assert {"name", "address", "postcode", "harassment_or_domestic_violence"} <= fields_named(response)
    for typed in ("12345", "Anerley", "perhaps"):
        assert typed not in response.text


async def test_an_oversized_answer_is_refused_with_its_limit(client: httpx.AsyncClient):
    response = await post(client, "oversized-field.json")
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "message"]
    assert "5,000 characters or fewer" in problem["msg"]


async def test_an_oversized_body_is_refused_before_it_is_read_whole(client: httpx.AsyncClient, intake: Runtime):
    response = await post(client, "oversized-body.json")
    assert response.status_code == 413
    assert await kept(intake) == []
    await still_answers(client)


async def test_hostile_html_in_an_accepted_form_is_kept_as_typed_and_shown_escaped(
    client: httpx.AsyncClient, intake: Runtime
):
    response = await post(client, "hostile-html.json", accept="text/html")
    assert response.status_code == 201
    assert "<script" not in response.text and "onerror" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    case = await opened(intake)
    assert "The tap drips <script>steal()</script>" in case["description"]  # data, never markup
    (raw,) = await kept(intake)
    assert b"<script>steal()</script>" in raw


async def test_hostile_html_in_a_refused_form_comes_back_escaped_in_its_fields(client: httpx.AsyncClient):
    response = await post(client, "hostile-html-refused.json", accept="text/html")
    assert response.status_code == 422
    for live in ("<script", "<svg", "</textarea><"):
        assert live not in response.text
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in response.text


async def test_line_breaks_typed_into_one_line_answers_cannot_make_headers(client: httpx.AsyncClient, intake: Runtime):
    response = await post(client, "header-injection.json")
    assert response.status_code == 201
    async with intake.sessions() as session:
        subject = await session.scalar(select(cases.c.subject))
    assert subject == "Parking Bcc: victim@example.com Injected body"


async def test_an_email_address_with_a_header_folded_in_is_refused(client: httpx.AsyncClient, intake: Runtime):
    response = await post(client, "header-injection-email.json")
    assert response.status_code == 422
    assert fields_named(response) == {"email"}
    assert "victim" not in response.text
    assert await outbox(intake, "notification.requested") == []


async def test_a_form_that_is_not_utf_8_is_refused_clearly(client: httpx.AsyncClient):
    response = await post(client, "invalid-utf8.json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "The form must be sent as UTF-8"


@pytest.mark.parametrize(
    ("name", "message"),
    [("not-a-json-object.json", "The body must be a JSON object"), ("broken-json.json", "The body is not valid JSON")],
)
async def test_json_that_is_not_a_form_is_refused_clearly(client: httpx.AsyncClient, name: str, message: str):
    response = await post(client, name)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == message


async def test_a_field_the_form_does_not_ask_is_refused(client: httpx.AsyncClient):
    response = await post(client, "unknown-field.json")
    assert response.status_code == 422
    assert fields_named(response) == {"is_admin", "kind"}


async def test_a_body_of_another_type_is_415(client: httpx.AsyncClient):
    assert (await post(client, "wrong-content-type.json")).status_code == 415


# -- the whole mail corpus over SMTP -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_whole_mail_corpus_over_smtp_is_accepted_and_the_server_keeps_answering(intake: Runtime):
    async def accept(mailbox: Mailbox, recipient: str, raw: bytes) -> str | None:
        return await handlers.receive_mail(intake, BOOK, mailbox, recipient, raw)

    port = free_port()
    handler = MailboxHandler(lambda address: mailbox_for(address, "hexagon.org.uk"), accept)
    server = await serve_smtp(handler, "127.0.0.1", port, 25 * 1024 * 1024)
    samples = sorted((CORPUS / "mail").iterdir())

    def send_all() -> list[tuple[int, bytes]]:
        replies = []
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.ehlo()
            for path in samples:
                smtp.mail(TENANT)
                smtp.rcpt(REPAIRS)
                replies.append(smtp.data(path.read_bytes()))
            replies.append(smtp.noop())
        return replies

    try:
        replies = await asyncio.to_thread(send_all)
    finally:
        server.close()
        await server.wait_closed()
    assert [code for code, _ in replies] == [250] * (len(samples) + 1), replies
    assert len(await kept(intake)) == len(samples)
    # every one but the bytes that are not a mail opened a case
    assert len(await outbox(intake, "case.opened")) == len(samples) - 1
