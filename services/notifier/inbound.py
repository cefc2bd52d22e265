"""Texts from tenants: STOP and START honoured, HELP answered, survey answers and
replies about an appointment matched to the last text sent to that mobile."""

import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.feedback import SurveyAnswered
from shared.events.notifications import Intent, Purpose, ReplyReceived
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.tables import deliveries, opt_outs
from services.notifier.domain.phones import InvalidPhoneNumber, normalise_mobile
from services.notifier.domain.replies import HELP_TEXT, Reply, reply_of, survey_scores

log = logging.getLogger(__name__)

ABOUT_AN_APPOINTMENT = frozenset(
    {Purpose.APPOINTMENT_REMINDER, Purpose.APPOINTMENT_CONFIRMATION, Purpose.GAS_CHECK_OFFER}
)


async def text_received(runtime: Runtime, now: datetime, sender: str, body: str) -> str | None:
    """Act on a text from a tenant; return the answer to text back, if any."""
    try:
        mobile = normalise_mobile(sender)
    except InvalidPhoneNumber:
        return None
    reply = reply_of(body)
    async with runtime.sessions.begin() as session:
        if reply is Reply.STOP:
            await session.execute(delete(opt_outs).where(opt_outs.c.mobile == mobile))
            await session.execute(opt_outs.insert().values(mobile=mobile, since=now))
        elif reply is Reply.START:
            await session.execute(delete(opt_outs).where(opt_outs.c.mobile == mobile))
        elif reply in (Reply.SURVEY, Reply.CONFIRM, Reply.REARRANGE):
            await _answer(runtime, session, now, mobile, reply, body)
    runtime.outbox.wake()
    log.info("text received", extra={"kind": reply})
    return HELP_TEXT if reply is Reply.HELP else None


async def opted_out(runtime: Runtime, mobile: str | None) -> bool:
    if mobile is None:
        return False
    async with runtime.sessions() as session:
        found = await session.scalar(select(opt_outs.c.mobile).where(opt_outs.c.mobile == mobile))
    return found is not None


async def _answer(  # noqa: PLR0913
    runtime: Runtime, session: AsyncSession, now: datetime, mobile: str, reply: Reply, body: str
) -> None:
    """A reply to the last text sent to this mobile: survey answers, or confirm or
    rearrange for an appointment. A reply that fits no such text is only logged."""
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
    if reply is Reply.SURVEY and last.purpose == Purpose.SATISFACTION_SURVEY:
        answered = SurveyAnswered(
            correlation_id=last.case_id,
            case_id=last.case_id,
            reference=last.reference or "",
            answered_at=now,
            scores=survey_scores(body) or {},
        )
        await runtime.outbox.add(session, Topic.CASES, answered)
    elif reply in (Reply.CONFIRM, Reply.REARRANGE) and last.purpose in ABOUT_AN_APPOINTMENT:
        replied = ReplyReceived(
            correlation_id=last.case_id,
            case_id=last.case_id,
            appointment_id=last.appointment_id,
            intent=Intent(reply.value),
            received_at=now,
        )
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, replied)
