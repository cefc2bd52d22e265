"""Intake's use cases: each turns one inbound contact into stored state and events."""

import logging
from uuid import uuid4

from sqlalchemy import update

from shared.events import utcnow
from shared.events.cases import CaseOpened
from shared.service import Runtime
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.intake.adapters.tables import cases, raw_messages
from services.intake.domain.cases import (
    ReceivedContact,
    acknowledgement,
    new_reference,
    open_case,
    reply_promise,
)

log = logging.getLogger(__name__)


async def record_contact(
    runtime: Runtime, book: StandardsBook, contact: ReceivedContact, raw_id: str | None = None
) -> CaseOpened:
    case_id = str(uuid4())
    case = open_case(case_id, new_reference(), contact)
    async with runtime.sessions.begin() as session:
        await session.execute(cases.insert().values(**_case_row(case, contact)))
        if raw_id:
            await session.execute(
                update(raw_messages).where(raw_messages.c.id == raw_id).values(case_id=case_id)
            )
        await runtime.outbox.add(session, Topic.CASES, case)
        if contact.sender_email:
            promise = reply_promise(book, case)
            await runtime.outbox.add(
                session, Topic.NOTIFICATIONS_REQUESTED, acknowledgement(case, contact.sender_email, promise)
            )
    runtime.outbox.wake()
    log.info("case opened", extra={"case_id": case_id, "reference": case.reference, "kind": case.kind})
    return case


async def store_raw(runtime: Runtime, recipient: str, raw: bytes) -> str:
    raw_id = str(uuid4())
    async with runtime.sessions.begin() as session:
        await session.execute(
            raw_messages.insert().values(
                id=raw_id, received_at=utcnow(), recipient=recipient, raw=raw
            )
        )
    return raw_id


def _case_row(case: CaseOpened, contact: ReceivedContact) -> dict[str, object]:
    return {
        "id": case.case_id,
        "reference": case.reference,
        "channel": case.channel,
        "mailbox": case.mailbox,
        "kind": case.kind,
        "priority": case.priority,
        "flags": list(case.flags),
        "reasons": [r.model_dump() for r in case.reasons],
        "received_at": case.received_at,
        "contact_email": contact.sender_email,
        "subject": contact.subject,
        "body": contact.text,
    }
