"""Intake's use cases: each turns one inbound contact into stored state and events."""

import logging
from uuid import uuid4

from sqlalchemy import select, update

from shared.events import utcnow
from shared.events.cases import CaseKind, CaseOpened, Channel, ComplaintEscalated, Mailbox
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
from services.intake.domain.mail import InboundMail, UnreadableMail, read_mail
from services.intake.domain.threads import OpenCase, thread_message

log = logging.getLogger(__name__)

# Mail and forms are acknowledged by email; staff who logged a letter, call or visit answer it themselves.
ACKNOWLEDGED_CHANNELS = (Channel.EMAIL, Channel.WEB)


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
        if contact.sender_email and contact.channel in ACKNOWLEDGED_CHANNELS:
            promise = reply_promise(book, case)
            await runtime.outbox.add(
                session, Topic.NOTIFICATIONS_REQUESTED, acknowledgement(case, contact.sender_email, promise)
            )
    runtime.outbox.wake()
    log.info("case opened", extra={"case_id": case_id, "reference": case.reference, "kind": case.kind})
    return case


async def receive_mail(
    runtime: Runtime, book: StandardsBook, mailbox: Mailbox, recipient: str, raw: bytes
) -> str | None:
    """Store an inbound mail and open its case; return the case reference, or None when
    the mail opens no case. The same mail sent again (a client retrying) opens nothing new."""
    try:
        mail: InboundMail | None = read_mail(raw)
    except UnreadableMail as problem:
        mail, reason = None, str(problem)
    if mail and mail.message_id and (known := await _reference_of(runtime, mail.message_id, recipient)):
        log.info("mail received again", extra={"reference": known, "mailbox": mailbox})
        return known
    raw_id = await _store_raw(runtime, recipient, raw, mail.message_id if mail else None)
    if mail is None:
        log.warning("unreadable mail kept for staff", extra={"reason": reason, "raw_id": raw_id})
        return None
    if mail.automatic:
        log.info("automatic reply ignored", extra={"raw_id": raw_id, "mailbox": mailbox})
        return None
    contact = ReceivedContact(
        channel=Channel.EMAIL,
        mailbox=mailbox,
        text=mail.text,
        subject=mail.subject,
        sender_email=mail.sender,
        received_at=utcnow(),
    )
    if case := await _case_answered_by(runtime, mail):
        await thread_into(runtime, case, contact, raw_id)
        return case.reference
    return (await record_contact(runtime, book, contact, raw_id)).reference


async def thread_into(runtime: Runtime, case: OpenCase, contact: ReceivedContact, raw_id: str) -> None:
    """A further message on an open case: kept with it, said on Kafka, no new case and
    no acknowledgement. Flags its words raise are added to the case."""
    message, flagged = thread_message(case, contact)
    async with runtime.sessions.begin() as session:
        await session.execute(update(raw_messages).where(raw_messages.c.id == raw_id).values(case_id=case.case_id))
        if flagged:
            flags = [*case.flags, *(f.flag for f in flagged)]
            await session.execute(update(cases).where(cases.c.id == case.case_id).values(flags=flags))
        await runtime.outbox.add(session, Topic.CASES, message, *flagged)
    runtime.outbox.wake()
    log.info("message threaded", extra={"case_id": case.case_id, "reference": case.reference, "raw_id": raw_id})


async def _case_answered_by(runtime: Runtime, mail: InboundMail) -> OpenCase | None:
    """The case this mail answers: by the reference in its subject, else by the mail it
    replies to (In-Reply-To, References)."""
    conditions = []
    if mail.case_reference:
        conditions.append(cases.c.reference == mail.case_reference)
    if mail.replies_to:
        answered = select(raw_messages.c.case_id).where(
            raw_messages.c.message_id.in_(mail.replies_to), raw_messages.c.case_id.is_not(None)
        )
        conditions.append(cases.c.id.in_(answered))
    async with runtime.sessions() as session:
        for condition in conditions:
            query = select(cases.c.id, cases.c.reference, cases.c.flags).where(condition).limit(1)
            if row := (await session.execute(query)).first():
                return OpenCase(row.id, row.reference, tuple(row.flags))
    return None
    query = select(cases.c.id, cases.c.reference, cases.c.flags)
    async with runtime.sessions() as session:
        for condition in (by_reference if mail.case_reference else None, by_thread if mail.replies_to else None):
            if condition is not None and (row := (await session.execute(query.where(condition).limit(1))).first()):
                return OpenCase(row.id, row.reference, tuple(row.flags))
    return None


async def receive_form(
    runtime: Runtime, book: StandardsBook, form_name: str, raw: bytes, contact: ReceivedContact
) -> CaseOpened:
    """A web form: the submission is kept as received, then its case opens."""
    raw_id = await _store_raw(runtime, f"web:{form_name}", raw, None)
    return await record_contact(runtime, book, contact, raw_id)


class UnknownComplaint(LookupError):
    """No complaint has the reference given."""


# Where a request for Stage 2 came from, as kept with the case: the tenant's form, or staff.
ESCALATIONS = {"web": "web:escalation", "staff": "staff:escalation"}


async def escalate_complaint(
    runtime: Runtime, reference: str, raw: bytes, via: str = "web"
) -> tuple[ComplaintEscalated, bool]:
    """The tenant asks for Stage 2 of a complaint (by the form, or through staff). Returns
    the escalation and whether it is new: asking again keeps the request but starts no
    second Stage 2."""
    async with runtime.sessions.begin() as session:
        case = (
            await session.execute(
                select(cases.c.id, cases.c.reference).where(
                    cases.c.reference == reference, cases.c.kind == CaseKind.COMPLAINT
                )
            )
        ).first()
        if case is None:
            raise UnknownComplaint(reference)
        earlier = await session.scalar(
            select(raw_messages.c.received_at)
            .where(raw_messages.c.case_id == case.id, raw_messages.c.recipient.in_(ESCALATIONS.values()))
            .order_by(raw_messages.c.received_at)
            .limit(1)
        )
        now = utcnow()
        await session.execute(
            raw_messages.insert().values(
                id=str(uuid4()), received_at=now, recipient=ESCALATIONS[via], raw=raw, case_id=case.id
            )
        )
        escalation = ComplaintEscalated(
            correlation_id=case.id, case_id=case.id, reference=case.reference, escalated_at=earlier or now
        )
        if earlier is None:
            await runtime.outbox.add(session, Topic.CASES, escalation)
    if earlier is None:
        runtime.outbox.wake()
        log.info("complaint escalated", extra={"case_id": case.id, "reference": case.reference})
    return escalation, earlier is None


async def _reference_of(runtime: Runtime, message_id: str, recipient: str) -> str | None:
    async with runtime.sessions() as session:
        return await session.scalar(
            select(cases.c.reference)
            .join(raw_messages, raw_messages.c.case_id == cases.c.id)
            .where(raw_messages.c.message_id == message_id, raw_messages.c.recipient == recipient)
        )


async def _store_raw(runtime: Runtime, recipient: str, raw: bytes, message_id: str | None) -> str:
    """Kept before the SMTP reply says 250, so an accepted mail is never lost."""
    raw_id = str(uuid4())
    async with runtime.sessions.begin() as session:
        await session.execute(
            raw_messages.insert().values(
                id=raw_id, received_at=utcnow(), recipient=recipient, raw=raw, message_id=message_id
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
