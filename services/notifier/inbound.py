"""Texts from tenants: STOP and START honoured, HELP answered; survey answers, replies
about an appointment, a choice among offered appointments and a request in the tenant's
own words to stop texts, each matched to the last text sent to that mobile. Nothing the
tenant wrote is logged."""

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import stable_event_id
from shared.events.feedback import SurveyAnswered
from shared.events.notifications import (
    Intent,
    NotificationRequested,
    Purpose,
    ReplyReceived,
    StaffTask,
    StaffTaskRaised,
)
from shared.service import Runtime
from shared.topics import Topic
from services.notifier import suppression
from services.notifier.adapters.tables import deliveries, opt_outs
from services.notifier.adapters.writing import writing
from services.notifier.domain.phones import InvalidPhoneNumber, normalise_mobile
from services.notifier.domain.replies import HELP_TEXT, Reply, chosen_offer, reply_of, survey_scores

log = logging.getLogger(__name__)

ABOUT_AN_APPOINTMENT = frozenset(
    {
        Purpose.APPOINTMENT_REMINDER,
        Purpose.APPOINTMENT_CONFIRMATION,
        Purpose.GAS_CHECK_OFFER,
        Purpose.GAS_CHECK_CHASER,  # it proposes a morning too: CONFIRM books it
    }
)


async def text_received(
    runtime: Runtime, now: datetime, sender: str, body: str, message_sid: str = ""
) -> str | None:
    """Act on a text from a tenant; return the answer to text back, if any. Events made
    from it take their ids from the provider's message id, so the same text posted
    again gives the same events, which consumers drop by event_id."""
    try:
        mobile = normalise_mobile(sender)
    except InvalidPhoneNumber:
        return None
    reply = reply_of(body)
    async with writing(runtime) as session:
        await suppression.heard_from(session, mobile)  # the number works after all
        if reply is Reply.STOP:
            await session.execute(delete(opt_outs).where(opt_outs.c.mobile == mobile))
            await session.execute(opt_outs.insert().values(mobile=mobile, since=now))
        elif reply is Reply.START:
            await session.execute(delete(opt_outs).where(opt_outs.c.mobile == mobile))
        elif reply in (Reply.SURVEY, Reply.CONFIRM, Reply.REARRANGE, Reply.OPT_OUT_REQUEST) or (
            chosen_offer(body) is not None  # "2." or "option 3": a choice if the last text offered
        ):
            await _answer(runtime, session, now, mobile, reply, body, _ids(message_sid))
    runtime.outbox.wake()
    log.info("text received", extra={"kind": reply})
    return HELP_TEXT if reply is Reply.HELP else None


async def opted_out(session: AsyncSession, mobile: str) -> bool:
    found = await session.scalar(select(opt_outs.c.mobile).where(opt_outs.c.mobile == mobile))
    return found is not None


async def _answer(  # noqa: PLR0913
    runtime: Runtime,
    session: AsyncSession,
    now: datetime,
    mobile: str,
    reply: Reply,
    body: str,
    ids: Callable[[str], dict[str, UUID]],
) -> None:
    """A reply to the last text sent to this mobile: survey answers, confirm or rearrange
    for an appointment, one of the offered appointments, or a request to stop texts. A
    reply that fits no such text is only logged."""
    last = (
        await session.execute(
            select(deliveries)
            .where(deliveries.c.mobile == mobile, deliveries.c.status == "sent")
            .order_by(deliveries.c.created_at.desc())
            .limit(1)
        )
    ).first()
    if last is None:
        return
    if reply is Reply.OPT_OUT_REQUEST:
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, _opt_out_task(last, now, ids("opt_out_request")))
    elif (offer := _offer_chosen(last, body)) is not None:
        replied = ReplyReceived(
            correlation_id=last.case_id,
            case_id=last.case_id,
            appointment_id=last.appointment_id,
            intent=Intent.CHOOSE_OFFER,
            offer=offer,
            received_at=now,
            **ids("reply"),
        )
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, replied)
    elif reply is Reply.SURVEY and last.purpose == Purpose.SATISFACTION_SURVEY:
        answered = SurveyAnswered(
            correlation_id=last.case_id,
            case_id=last.case_id,
            reference=last.reference or "",
            answered_at=now,
            scores=survey_scores(body) or {},
            **ids("survey"),
        )
        await runtime.outbox.add(session, Topic.CASES, answered)
    elif reply in (Reply.CONFIRM, Reply.REARRANGE) and last.purpose in ABOUT_AN_APPOINTMENT:
        replied = ReplyReceived(
            correlation_id=last.case_id,
            case_id=last.case_id,
            appointment_id=last.appointment_id,
            intent=Intent(reply.value),
            received_at=now,
            **ids("reply"),
        )
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, replied)


def _offer_chosen(last: object, body: str) -> int | None:
    """1, 2 or 3 after an appointment offers text, if that many were offered."""
    if last.purpose != Purpose.APPOINTMENT_OFFERS or (offer := chosen_offer(body)) is None:  # type: ignore[attr-defined]
        return None
    if last.request is None:  # type: ignore[attr-defined]
        return offer
    offered = NotificationRequested.model_validate_json(last.request).personalisation  # type: ignore[attr-defined]
    return offer if offered.get(f"offer_{offer}") else None


def _ids(message_sid: str) -> Callable[[str], dict[str, UUID]]:
    """The event_id for an event of this kind made from the text; a new one if the
    provider gave no message id."""

    def ids(kind: str) -> dict[str, UUID]:
        return {"event_id": stable_event_id(kind, message_sid)} if message_sid else {}

    return ids


def _opt_out_task(last: object, now: datetime, ids: dict[str, UUID]) -> StaffTaskRaised:
    return StaffTaskRaised(
        **ids,
        correlation_id=last.case_id,  # type: ignore[attr-defined]
        case_id=last.case_id,  # type: ignore[attr-defined]
        appointment_id=last.appointment_id,  # type: ignore[attr-defined]
        task=StaffTask.OPT_OUT_REQUESTED,
        reason="the tenant asked in a text, in their own words, not to be texted: "
        "texts continue until they reply STOP or their preferences are changed",
        raised_at=now,
    )
