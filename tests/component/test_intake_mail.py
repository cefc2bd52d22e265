"""Mail into intake: a reply to a case threads into it (reference in the subject,
In-Reply-To or References) as case.message_received; automatic replies open nothing and
are not answered; a new mail's case.opened carries who it is from and what it says.

Driven through `handlers.receive_mail` over a migrated SQLite intake; events are read
from the outbox table, as the relay would send them.
"""

import asyncio
import json
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import func, select

from shared.events.cases import Mailbox
from shared.service import Runtime
from shared.standards.loader import load_all
from services.intake import handlers
from services.intake.adapters.tables import cases, raw_messages

BOOK = load_all()
REPAIRS = "repairs_reporting@hexagon.org.uk"
TENANT = "jo.tenant@example.org"


def mail(subject: str, body: str, message_id: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Jo Tenant <{TENANT}>"
    message["To"] = REPAIRS
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


async def receive(runtime: Runtime, raw: bytes) -> str | None:
    return await handlers.receive_mail(runtime, BOOK, Mailbox.REPAIRS, REPAIRS, raw)


async def events(runtime: Runtime, event_type: str | None = None) -> list[dict[str, Any]]:
    table = runtime.outbox.table
    async with runtime.sessions() as session:
        rows = (await session.execute(select(table).order_by(table.c.id))).all()
    return [json.loads(r.payload) for r in rows if event_type is None or r.event_type == event_type]


async def count(runtime: Runtime, table) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


async def first_case(runtime: Runtime) -> str:
    reference = await receive(runtime, mail("Boiler", "The boiler is broken", "<first@example.org>"))
    assert reference
    return reference


# -- a new mail's case carries the tenant's contact and words ----------------------------


async def test_a_new_mail_opens_a_case_with_its_sender_and_its_words(intake: Runtime):
    await first_case(intake)
    (opened,) = await events(intake, "case.opened")
    assert opened["contact"] == {"email": TENANT, "phone": None}
    assert opened["description"] == "Boiler\nThe boiler is broken"


# -- threading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Re: your case {reference}", {}),
        ("RE: [{reference}] still broken", {}),
        ("Still broken", {"In_Reply_To": "<first@example.org>"}),
        ("Still broken", {"References": "<older@example.org> <first@example.org>"}),
    ],
    ids=["reference in subject", "reference in brackets", "In-Reply-To", "References"],
)
async def test_a_reply_threads_into_its_case_instead_of_opening_one(intake: Runtime, subject: str, headers: dict):  # type: ignore[type-arg]
    reference = await first_case(intake)
    raw = mail(subject.format(reference=reference), "It is still not working", "<second@example.org>", **headers)

    assert await receive(intake, raw) == reference

    assert await count(intake, cases) == 1
    (threaded,) = await events(intake, "case.message_received")
    assert threaded["reference"] == reference
    assert threaded["channel"] == "email" and threaded["mailbox"] == "repairs"
    assert "It is still not working" in threaded["description"]
    assert len(await events(intake, "notification.requested")) == 1  # the first mail's only


async def test_a_reply_delivered_twice_threads_once(intake: Runtime):
    reference = await first_case(intake)
    raw = mail(f"Re: {reference}", "Any news?", "<second@example.org>")
    assert await receive(intake, raw) == reference
    assert await receive(intake, raw) == reference
    assert len(await events(intake, "case.message_received")) == 1


async def test_the_same_mail_arriving_twice_at_once_opens_one_case(intake: Runtime):
    """Two deliveries of one mail at the same moment (a client retrying on a second
    connection) both ask whether it was seen before: one of them waits for the other."""
    raw = mail("Boiler", "The boiler is broken", "<first@example.org>")
    references = await asyncio.gather(*(receive(intake, raw) for _ in range(3)))
    assert len(set(references)) == 1 and references[0]
    assert await count(intake, cases) == 1
    assert len(await events(intake, "notification.requested")) == 1
    assert await count(intake, raw_messages) == 1


async def test_a_reply_to_a_reply_still_finds_the_case(intake: Runtime):
    reference = await first_case(intake)
    await receive(intake, mail("Still broken", "Any news?", "<second@example.org>", In_Reply_To="<first@example.org>"))
    third = mail("Hello?", "Third time", "<third@example.org>", In_Reply_To="<second@example.org>")
    assert await receive(intake, third) == reference
    assert len(await events(intake, "case.message_received")) == 2


async def test_an_unknown_reference_or_thread_opens_a_new_case(intake: Runtime):
    reference = await first_case(intake)
    other = await receive(
        intake, mail("Re: HX-ZZZZZZZZ", "A new problem", "<x@example.org>", In_Reply_To="<nobody@example.org>")
    )
    assert other and other != reference
    assert await count(intake, cases) == 2
    assert await events(intake, "case.message_received") == []


async def test_damp_in_a_reply_flags_the_case_once_from_that_message(intake: Runtime):
    reference = await first_case(intake)
    await receive(intake, mail(f"Re: {reference}", "Now there is black mould too", "<m1@example.org>"))
    await receive(intake, mail(f"Re: {reference}", "The mould is spreading", "<m2@example.org>"))
    (flagged,) = await events(intake, "case.flagged")
    assert (flagged["reference"], flagged["flag"]) == (reference, "damp_and_mould")
    async with intake.sessions() as session:
        assert "damp_and_mould" in await session.scalar(select(cases.c.flags))


# -- automatic replies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Out of Office: Boiler", {}),
        ("Automatic reply: your case", {}),
        ("Auto-Reply", {}),
        ("Boiler", {"Auto_Submitted": "auto-replied"}),
        ("Boiler", {"Precedence": "bulk"}),
        ("Boiler", {"Precedence": "junk"}),
        ("Boiler", {"Precedence": "list"}),
        ("Boiler", {"X_Autoreply": "yes"}),
        ("Undeliverable: Boiler", {}),
    ],
)
async def test_an_automatic_reply_opens_nothing_and_is_not_answered(intake: Runtime, subject: str, headers: dict):  # type: ignore[type-arg]
    assert await receive(intake, mail(subject, "I am away until Monday", "<ooo@example.org>", **headers)) is None
    assert await count(intake, cases) == 0
    assert await events(intake) == []
    assert await count(intake, raw_messages) == 1  # kept, for staff


async def test_an_automatic_reply_to_a_case_threads_nothing(intake: Runtime):
    reference = await first_case(intake)
    raw = mail(f"Automatic reply: {reference}", "Away", "<ooo@example.org>", In_Reply_To="<first@example.org>")
    assert await receive(intake, raw) is None
    assert await events(intake, "case.message_received") == []
