"""Intake's use cases: each turns one inbound contact into stored state and events, in
one transaction with the outbox, so what is accepted is kept and said exactly once."""

import logging
from contextlib import nullcontext

from shared.database_work import database_work
from shared.events import utcnow
from shared.events.cases import CaseOpened, Channel, ComplaintEscalated, Mailbox
from shared.ids import time_ordered_id
from shared.service import Runtime
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.intake.adapters import store
from services.intake.adapters.batch_writer import BatchWriter, Writes, apply, writer_for
from services.intake.adapters.store import Raw, RefusedForm
from services.intake.domain.cases import (
    ReceivedContact,
    acknowledgement,
    new_reference,
    open_case,
    reply_promise,
)
from services.intake.domain.mail import InboundMail, UnreadableMail, read_mail
from services.intake.domain.threads import OpenCase, thread_message
from services.intake.one_at_a_time import OneAtATime

log = logging.getLogger(__name__)

# Mail and forms are acknowledged by email; staff who logged a letter, call or visit answer it themselves.
ACKNOWLEDGED_CHANNELS = (Channel.EMAIL, Channel.WEB)


async def record_contact(
    runtime: Runtime, book: StandardsBook, contact: ReceivedContact, raw: Raw | None = None
) -> CaseOpened:
    """Open the case a contact makes, keeping what arrived with it."""
    case = open_case(str(time_ordered_id()), new_reference(), contact)
    ack = None
    if contact.sender_email and contact.channel in ACKNOWLEDGED_CHANNELS:
        ack = acknowledgement(case, contact.sender_email, reply_promise(book, case))
    writes = Writes()
    if raw:
        store.keep_raw(writes, raw, case.case_id)
    store.insert_case(writes, case, contact)
    writes.emit(Topic.CASES, case)
    if ack:
        writes.emit(Topic.NOTIFICATIONS_REQUESTED, ack)
    await _writer(runtime).write(writes)
    log.info("case opened", extra={"case_id": case.case_id, "reference": case.reference, "kind": case.kind})
    return case


# Per process: intake on SQLite is one process. Replicas on PostgreSQL could still both
# open a case for one mail delivered to each at the same moment.
_MAILS_IN_HAND = OneAtATime()


async def receive_mail(
    runtime: Runtime, book: StandardsBook, mailbox: Mailbox, recipient: str, raw: bytes
) -> str | None:
    """Keep an inbound mail and open its case, or thread it into the case it answers;
    return the case's reference, or None when it opens nothing (unreadable, automatic).
    The same mail sent again (a client retrying) changes nothing."""
    try:
        mail = read_mail(raw)
    except UnreadableMail as problem:
        raw_id = await _keep_only(runtime, Raw(recipient, raw))
        log.warning("unreadable mail kept for staff", extra={"reason": str(problem), "raw_id": raw_id})
        return None
    # Without a Message-ID there is nothing to know a second delivery by.
    in_hand = _MAILS_IN_HAND.holding((mail.message_id, recipient)) if mail.message_id else nullcontext()
    async with in_hand:
        return await _receive_read(runtime, book, mailbox, recipient, mail, raw)


async def _receive_read(  # noqa: PLR0913
    runtime: Runtime, book: StandardsBook, mailbox: Mailbox, recipient: str, mail: InboundMail, raw: bytes
) -> str | None:
    kept = Raw(recipient, raw, mail.message_id)
    seen = await database_work(runtime.engine).read_together(
        lambda connection: store.mail_seen(connection, mail.message_id, recipient, mail.case_reference, mail.replies_to)
    )
    if seen.known:
        log.info("mail received again", extra={"reference": seen.known, "mailbox": mailbox})
        return seen.known
    answered = seen.answered
    if mail.automatic:
        raw_id = await _keep_only(runtime, kept)
        log.info("automatic reply ignored", extra={"raw_id": raw_id, "mailbox": mailbox})
        return None
    contact = _contact_of(mail, mailbox)
    if answered:
        await thread_into(runtime, answered, contact, kept)
        return answered.reference
    return (await record_contact(runtime, book, contact, kept)).reference


def _contact_of(mail: InboundMail, mailbox: Mailbox) -> ReceivedContact:
    return ReceivedContact(
        channel=Channel.EMAIL,
        mailbox=mailbox,
        text=mail.text,
        subject=mail.subject,
        sender_email=mail.sender,
        received_at=utcnow(),
    )


async def thread_into(runtime: Runtime, case: OpenCase, contact: ReceivedContact, raw: Raw) -> None:
    """A further message on an open case: kept with it, said on Kafka, no new case and
    no acknowledgement. Flags its words raise are added to the case."""
    message, flagged = thread_message(case, contact)
    writes = Writes()
    raw_id = store.keep_raw(writes, raw, case.case_id)
    if flagged:
        store.set_flags(writes, case.case_id, [*case.flags, *(f.flag for f in flagged)])
    writes.emit(Topic.CASES, message, *flagged)
    await _writer(runtime).write(writes)
    log.info("message threaded", extra={"case_id": case.case_id, "reference": case.reference, "raw_id": raw_id})


async def receive_form(
    runtime: Runtime, book: StandardsBook, form_name: str, raw: bytes, contact: ReceivedContact
) -> CaseOpened:
    """A web form: the submission is kept as received, with the case it opens."""
    return await record_contact(runtime, book, contact, Raw(f"web:{form_name}", raw))


async def refuse_form(runtime: Runtime, refused: RefusedForm) -> str:
    """A web form refused with a 4xx: kept as it arrived, with why, opening nothing."""
    writes = Writes()
    refused_id = store.keep_refused(writes, refused)
    await _writer(runtime).write(writes)
    return refused_id


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
        case = await store.complaint(session, reference)
        if case is None:
            raise UnknownComplaint(reference)
        earlier = await store.first_kept(session, case.case_id, ESCALATIONS.values())
        now = utcnow()
        writes = Writes()
        store.keep_raw(writes, Raw(ESCALATIONS[via], raw), case.case_id, at=now)
        escalation = ComplaintEscalated(
            correlation_id=case.case_id, case_id=case.case_id, reference=case.reference,
            escalated_at=earlier or now,
        )
        if earlier is None:
            writes.emit(Topic.CASES, escalation)
        await session.run_sync(lambda sync: apply(sync.connection(), runtime.outbox, [writes]))
    if earlier is None:
        runtime.outbox.wake()
        log.info("complaint escalated", extra={"case_id": case.case_id, "reference": case.reference})
    return escalation, earlier is None


async def _keep_only(runtime: Runtime, raw: Raw) -> str:
    """Kept for staff, opening nothing: still before the SMTP reply says 250."""
    writes = Writes()
    raw_id = store.keep_raw(writes, raw)
    await _writer(runtime).write(writes)
    return raw_id


def _writer(runtime: Runtime) -> BatchWriter:
    return writer_for(runtime.sessions, runtime.outbox)
