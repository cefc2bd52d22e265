"""Intake's tables as its use cases need them: raw messages kept as received, cases, and
the lookups that find a case again (a mail sent twice, a reply, a complaint's reference)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shared.events import utcnow
from shared.events.cases import CaseKind, CaseOpened
from shared.ids import time_ordered_id
from services.intake.adapters.batch_writer import Writes
from services.intake.adapters.tables import cases, raw_messages, refused_forms
from services.intake.domain.cases import ReceivedContact
from services.intake.domain.threads import OpenCase

# Lookups run on a session or, cheaper, on a connection of their own.
Reader = AsyncSession | AsyncConnection


@dataclass(frozen=True)
class Raw:
    """What arrived, as it arrived: kept before any reply says it was accepted."""

    recipient: str  # the mailbox address, or web:<form>, staff:<action>
    data: bytes
    message_id: str | None = None


def keep_raw(writes: Writes, raw: Raw, case_id: str | None = None, at: datetime | None = None) -> str:
    raw_id = str(time_ordered_id())
    writes.insert(
        raw_messages, id=raw_id, received_at=at or utcnow(), recipient=raw.recipient, raw=raw.data,
        message_id=raw.message_id, case_id=case_id,
    )
    return raw_id


@dataclass(frozen=True)
class RefusedForm:
    """A web form refused with a 4xx: what arrived, as far as it was read, and why."""

    form: str
    status: int
    reason: str  # the kinds of problem, e.g. "missing" or "email,phone"; never a value
    content_type: str
    data: bytes


def keep_refused(writes: Writes, refused: RefusedForm) -> str:
    refused_id = str(time_ordered_id())
    writes.insert(
        refused_forms, id=refused_id, received_at=utcnow(), form=refused.form, status=refused.status,
        reason=refused.reason[:300], content_type=refused.content_type[:200], raw=refused.data,
    )
    return refused_id


def insert_case(writes: Writes, case: CaseOpened, contact: ReceivedContact) -> None:
    writes.insert(
        cases,
        id=case.case_id,
        reference=case.reference,
        channel=case.channel,
        mailbox=case.mailbox,
        kind=case.kind,
        priority=case.priority,
        flags=list(case.flags),
        reasons=[r.model_dump() for r in case.reasons],
        received_at=case.received_at,
        contact_email=contact.sender_email,
        subject=contact.subject,
        body=contact.text,
    )


def set_flags(writes: Writes, case_id: str, flags: Iterable[str]) -> None:
    statement = update(cases).where(cases.c.id == case_id).values(flags=list(flags))
    writes.then(lambda connection: connection.execute(statement))


# Built once: asked for every inbound mail.
_MAIL_SEEN = (
    select(cases.c.reference)
    .join(raw_messages, raw_messages.c.case_id == cases.c.id)
    .where(raw_messages.c.message_id == bindparam("message_id"), raw_messages.c.recipient == bindparam("recipient"))
)


@dataclass(frozen=True)
class MailSeen:
    """What intake already knows of an inbound mail: the case it opened or joined before
    (the same mail sent again), else the open case it answers."""

    known: str | None
    answered: OpenCase | None


def mail_seen(
    connection: Connection, message_id: str | None, recipient: str, reference: str | None, replies_to: tuple[str, ...]
) -> MailSeen:
    if message_id and (known := reference_of_mail(connection, message_id, recipient)):
        return MailSeen(known, None)
    return MailSeen(None, case_answered(connection, reference, replies_to))


def reference_of_mail(connection: Connection, message_id: str, recipient: str) -> str | None:
    """The case a mail with this Message-ID to this mailbox already opened or joined."""
    return connection.scalar(_MAIL_SEEN, {"message_id": message_id, "recipient": recipient})


def case_answered(connection: Connection, reference: str | None, replies_to: tuple[str, ...]) -> OpenCase | None:
    """The case named by `reference`, else the one the mails in `replies_to` belong to."""
    conditions = []
    if reference:
        conditions.append(cases.c.reference == reference)
    if replies_to:
        answered = select(raw_messages.c.case_id).where(
            raw_messages.c.message_id.in_(replies_to), raw_messages.c.case_id.is_not(None)
        )
        conditions.append(cases.c.id.in_(answered))
    for condition in conditions:
        query = select(cases.c.id, cases.c.reference, cases.c.flags).where(condition).limit(1)
        if row := connection.execute(query).first():
            return OpenCase(row.id, row.reference, tuple(row.flags))
    return None


async def complaint(session: Reader, reference: str) -> OpenCase | None:
    query = select(cases.c.id, cases.c.reference, cases.c.flags).where(
        cases.c.reference == reference, cases.c.kind == CaseKind.COMPLAINT
    )
    row = (await session.execute(query)).first()
    return OpenCase(row.id, row.reference, tuple(row.flags)) if row else None


async def first_kept(session: Reader, case_id: str, recipients: Iterable[str]) -> datetime | None:
    """When the first raw message to any of `recipients` was kept for this case."""
    return await session.scalar(
        select(raw_messages.c.received_at)
        .where(raw_messages.c.case_id == case_id, raw_messages.c.recipient.in_(list(recipients)))
        .order_by(raw_messages.c.received_at)
        .limit(1)
    )
