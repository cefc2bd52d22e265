"""The notifier's use case: send a requested message once, and say what happened."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from functools import partial

from jinja2 import TemplateError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import utcnow
from shared.events.appointments import AppointmentBooked, AppointmentCancelled
from shared.events.feedback import SurveyAnswered
from shared.events.notifications import (
    Intent,
    NotificationChannel,
    NotificationDelivered,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
    Purpose,
    ReplyReceived,
)
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.tables import appointments, deliveries, opt_outs
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.errors import PermanentSendError, RetryableSendError
from services.notifier.domain.channels import Reach, plan, reach_of
from services.notifier.domain.delivery import Outcome, is_further, outcome_of
from services.notifier.domain.messages import EmailMessageText
from services.notifier.domain.phones import InvalidPhoneNumber, normalise_mobile
from services.notifier.domain.quiet_hours import QuietHours
from services.notifier.domain.replies import HELP_TEXT, Reply, reply_of, survey_scores
from services.notifier.domain.staleness import why_stale

log = logging.getLogger(__name__)

SENDING = "sending"
HELD = "held"
ABOUT_AN_APPOINTMENT = frozenset(
    {Purpose.APPOINTMENT_REMINDER, Purpose.APPOINTMENT_CONFIRMATION, Purpose.GAS_CHECK_OFFER}
)
MAX_TRIES = 6


def retry_pause(tries: int) -> timedelta:
    """30 s after the first failure, doubling, never more than 15 minutes."""
    return min(timedelta(seconds=30) * 2 ** (tries - 1), timedelta(minutes=15))
# All that may go to a tenant whose case is flagged for safeguarding: no case content.
NEUTRAL = "safeguarding_neutral"


class EmailSender(Protocol):
    async def send_email(self, key: str, to: str, message: EmailMessageText) -> str: ...


class SmsSender(Protocol):
    async def send_sms(self, key: str, to_e164: str, body: str) -> str: ...


@dataclass
class Notifier:
    runtime: Runtime
    templates: Templates
    email: EmailSender
    sms: SmsSender | None = None  # without it, nothing goes by text
    # Texts wait out quiet hours (emails do not); None: no quiet hours.
    quiet: QuietHours | None = field(default_factory=QuietHours)
    now: Callable[[], datetime] = utcnow

    async def handle_request(self, request: NotificationRequested) -> None:
        ids = {"case_id": request.case_id, "idempotency_key": request.idempotency_key}
        if not await self._claim(request):
            log.info("duplicate request ignored", extra=ids)
            return
        if release := self._release_at(request):
            await self._hold(request, release)
            return
        await self._deliver(request)

    def _release_at(self, request: NotificationRequested) -> datetime | None:
        channels = plan(request.purpose, reach_of(request.recipient), partial(self._can_send, request.template))
        if self.quiet is None or channels[:1] != [NotificationChannel.SMS]:
            return None
        return self.quiet.release_at(self.now(), request.purpose, request.urgent)

    async def send_held(self) -> int:
        """Send the messages whose quiet hours are over; how many went."""
        async with self.runtime.sessions.begin() as session:
            due = (
                await session.execute(
                    select(deliveries.c.idempotency_key, deliveries.c.request)
                    .where(deliveries.c.status == HELD, deliveries.c.not_before <= self.now())
                    .limit(100)
                )
            ).all()
            keys = [row.idempotency_key for row in due]
            if keys:
                await session.execute(
                    update(deliveries)
                    .where(deliveries.c.idempotency_key.in_(keys), deliveries.c.status == HELD)
                    .values(status=SENDING)
                )
        for row in due:
            await self._deliver(NotificationRequested.model_validate_json(row.request))
        return len(due)

    async def _hold(self, request: NotificationRequested, release: datetime) -> None:
        async with self.runtime.sessions.begin() as session:
            await session.execute(
                update(deliveries)
                .where(deliveries.c.idempotency_key == request.idempotency_key)
                .values(status=HELD, not_before=release, request=request.model_dump_json())
            )
        log.info("message waits", extra={"case_id": request.case_id, "deadline": release.isoformat()})

    async def text_received(self, sender: str, body: str) -> str | None:
        """A text from a tenant: STOP and START honoured, HELP answered. Returns the
        answer to text back, if any."""
        try:
            mobile = normalise_mobile(sender)
        except InvalidPhoneNumber:
            return None
        reply = reply_of(body)
        async with self.runtime.sessions.begin() as session:
            if reply is Reply.STOP:
                await session.execute(delete(opt_outs).where(opt_outs.c.mobile == mobile))
                await session.execute(opt_outs.insert().values(mobile=mobile, since=self.now()))
            elif reply is Reply.START:
                await session.execute(delete(opt_outs).where(opt_outs.c.mobile == mobile))
            elif reply in (Reply.SURVEY, Reply.CONFIRM, Reply.REARRANGE):
                await self._answer(session, mobile, reply, body)
        self.runtime.outbox.wake()
        log.info("text received", extra={"kind": reply})
        return HELP_TEXT if reply is Reply.HELP else None

    async def _answer(self, session: AsyncSession, mobile: str, reply: Reply, body: str) -> None:
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
                answered_at=self.now(),
                scores=survey_scores(body) or {},
            )
            await self.runtime.outbox.add(session, Topic.CASES, answered)
        elif reply in (Reply.CONFIRM, Reply.REARRANGE) and last.purpose in ABOUT_AN_APPOINTMENT:
            replied = ReplyReceived(
                correlation_id=last.case_id,
                case_id=last.case_id,
                appointment_id=last.appointment_id,
                intent=Intent(reply.value),
                received_at=self.now(),
            )
            await self.runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, replied)

    async def _opted_out(self, mobile: str | None) -> bool:
        if mobile is None:
            return False
        async with self.runtime.sessions() as session:
            return await session.scalar(select(opt_outs.c.mobile).where(opt_outs.c.mobile == mobile)) is not None

    async def appointment_booked(self, booked: AppointmentBooked) -> None:
        await self._remember_appointment(booked.appointment_id, booked.starts_at, cancelled=False)

    async def appointment_cancelled(self, cancelled: AppointmentCancelled) -> None:
        await self._remember_appointment(cancelled.appointment_id, None, cancelled=True)

    async def _remember_appointment(self, appointment_id: str, starts_at: datetime | None, cancelled: bool) -> None:
        async with self.runtime.sessions.begin() as session:
            known = (
                await session.execute(select(appointments).where(appointments.c.appointment_id == appointment_id))
            ).first()
            if known is None and starts_at is None:
                return  # cancelled before we heard it was booked: nothing is planned for it
            if known is None:
                await session.execute(
                    appointments.insert().values(appointment_id=appointment_id, starts_at=starts_at, cancelled=cancelled)
                )
            else:
                await session.execute(
                    update(appointments)
                    .where(appointments.c.appointment_id == appointment_id)
                    .values(starts_at=starts_at or known.starts_at, cancelled=cancelled)
                )

    async def _stale(self, request: NotificationRequested) -> str | None:
        if request.appointment_id is None:
            return None
        async with self.runtime.sessions() as session:
            known = (
                await session.execute(
                    select(appointments).where(appointments.c.appointment_id == request.appointment_id)
                )
            ).first()
        return why_stale(request, known.starts_at if known else None, bool(known and known.cancelled))

    async def _deliver(self, request: NotificationRequested) -> None:
        if reason := await self._stale(request):
            await self._record_failure(request, reason)
            return
        if request.safeguarding:
            request = request.model_copy(update={"template": NEUTRAL, "personalisation": {}})
        reach = reach_of(request.recipient)
        if await self._opted_out(reach.mobile):
            reach = replace(reach, mobile=None)
        channels = plan(request.purpose, reach, partial(self._can_send, request.template))
        if not channels:
            await self._record_failure(request, self._why_not(request, reach))
            return
        try:
            await self._send_by_first_that_takes(request, reach, channels)
        except RetryableSendError as error:
            await self._retry_later(request, error)

    async def _send_by_first_that_takes(
        self, request: NotificationRequested, reach: Reach, channels: list[NotificationChannel]
    ) -> None:
        ids = {"case_id": request.case_id, "idempotency_key": request.idempotency_key}
        refused = []
        for channel in channels:
            try:
                provider_ref = await self._send(channel, request, reach)
            except TemplateError as error:
                reason = f"template {request.template} cannot be rendered: {type(error).__name__}"
                await self._record_failure(request, reason)
                return
            except PermanentSendError as error:
                log.warning("channel refused", extra={**ids, "channel": channel, "reason": error.reason})
                refused.append(f"{channel}: {error.reason}")
                continue
            await self._record_sent(request, channel, provider_ref, reach)
            log.info("notification sent", extra={**ids, "channel": channel})
            return
        await self._record_failure(request, "; ".join(refused))

    async def _retry_later(self, request: NotificationRequested, error: RetryableSendError) -> None:
        """Try again after a growing pause, or give up, and say so, after MAX_TRIES."""
        async with self.runtime.sessions.begin() as session:
            tries = 1 + (
                await session.scalar(
                    select(deliveries.c.attempts).where(deliveries.c.idempotency_key == request.idempotency_key)
                )
                or 0
            )
            await session.execute(
                update(deliveries)
                .where(deliveries.c.idempotency_key == request.idempotency_key)
                .values(attempts=tries)
            )
        if tries >= MAX_TRIES:
            await self._record_failure(request, f"gave up after {tries} tries: {error.reason}")
            return
        await self._hold(request, self.now() + retry_pause(tries))

    def _can_send(self, template: str, channel: NotificationChannel) -> bool:
        transport = self.sms if channel is NotificationChannel.SMS else self.email
        return transport is not None and self.templates.has(template, channel)

    def _why_not(self, request: NotificationRequested, reach: Reach) -> str:
        if not (reach.mobile or reach.email):
            return "no valid mobile or email to reach the tenant by: staff to contact"
        return f"no template {request.template} for a channel the tenant can be reached on"

    async def _send(self, channel: NotificationChannel, request: NotificationRequested, reach: Reach) -> str:
        """Send by one channel. A retryable failure propagates: the consumer tries again."""
        key = f"{request.idempotency_key}:{channel}"
        if channel is NotificationChannel.SMS:
            body = self.templates.sms(request.template, request.personalisation)
            return await self.sms.send_sms(key, reach.mobile or "", body)  # type: ignore[union-attr]
        message = self.templates.email(request.template, request.personalisation)
        return await self.email.send_email(request.idempotency_key, reach.email or "", message)

    async def status_reported(self, provider_ref: str, status: str, error_code: str | None) -> None:
        """A provider's report on a text it took: kept if it is further along than what is
        known, and delivery or failure said once on the outcomes topic."""
        async with self.runtime.sessions.begin() as session:
            row = (
                await session.execute(
                    select(deliveries).where(deliveries.c.provider_ref == provider_ref).with_for_update()
                )
            ).first()
            if row is None:
                log.warning("status for an unknown message", extra={"status": status})
                return
            if not is_further(row.provider_status, status):
                return
            await session.execute(
                update(deliveries)
                .where(deliveries.c.idempotency_key == row.idempotency_key)
                .values(provider_status=status)
            )
            if (outcome := outcome_of(status)) is not None:
                event = _reported(row, outcome, status, error_code)
                await self.runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, event)
        self.runtime.outbox.wake()

    async def _claim(self, request: NotificationRequested) -> bool:
        """Take the idempotency key before sending. False when it was sent or failed already.

        A key left "sending" means an earlier attempt stopped between claiming and
        recording: the one window in which a message may go twice. It is sent again.
        """
        async with self.runtime.sessions.begin() as session:
            status = await session.scalar(
                select(deliveries.c.status).where(
                    deliveries.c.idempotency_key == request.idempotency_key
                )
            )
            if status is None:
                await session.execute(
                    deliveries.insert().values(
                        idempotency_key=request.idempotency_key,
                        case_id=request.case_id,
                        purpose=request.purpose,
                        channel="",  # known once sent
                        status=SENDING,
                        created_at=utcnow(),
                    )
                )
        return status in (None, SENDING)

    async def _record_sent(
        self, request: NotificationRequested, channel: NotificationChannel, provider_ref: str, reach: Reach
    ) -> None:
        sent = NotificationSent(
            correlation_id=request.correlation_id,
            case_id=request.case_id,
            appointment_id=request.appointment_id,
            idempotency_key=request.idempotency_key,
            purpose=request.purpose,
            channel=channel,
            provider_ref=provider_ref,
        )
        await self._record(request, "sent", provider_ref, sent, channel)
        if channel is NotificationChannel.SMS:  # so the tenant's text back can be matched to it
            async with self.runtime.sessions.begin() as session:
                await session.execute(
                    update(deliveries)
                    .where(deliveries.c.idempotency_key == request.idempotency_key)
                    .values(
                        mobile=reach.mobile,
                        reference=request.personalisation.get("reference"),
                        appointment_id=request.appointment_id,
                    )
                )

    async def _record_failure(self, request: NotificationRequested, reason: str) -> None:
        failed = NotificationFailed(
            correlation_id=request.correlation_id,
            case_id=request.case_id,
            appointment_id=request.appointment_id,
            idempotency_key=request.idempotency_key,
            purpose=request.purpose,
            reason=reason,
            retryable=False,
        )
        await self._record(request, "failed", None, failed)
        log.warning("notification failed", extra={"case_id": request.case_id, "reason": reason})

    async def _record(
        self,
        request: NotificationRequested,
        status: str,
        provider_ref: str | None,
        outcome: NotificationSent | NotificationFailed,
        channel: NotificationChannel | None = None,
    ) -> None:
        async with self.runtime.sessions.begin() as session:
            await session.execute(
                update(deliveries)
                .where(deliveries.c.idempotency_key == request.idempotency_key)
                .values(status=status, provider_ref=provider_ref, channel=channel or "")
            )
            await self.runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, outcome)
        self.runtime.outbox.wake()


def _reported(
    row: object, outcome: Outcome, status: str, error_code: str | None
) -> NotificationDelivered | NotificationFailed:
    ids = {
        "correlation_id": row.case_id,  # type: ignore[attr-defined]
        "case_id": row.case_id,  # type: ignore[attr-defined]
        "idempotency_key": row.idempotency_key,  # type: ignore[attr-defined]
        "purpose": row.purpose,  # type: ignore[attr-defined]
    }
    if outcome is Outcome.DELIVERED:
        return NotificationDelivered(channel=row.channel, provider_ref=row.provider_ref, **ids)  # type: ignore[attr-defined]
    code = f" (code {error_code})" if error_code else ""
    return NotificationFailed(reason=f"the provider reports the text {status}{code}", retryable=False, **ids)
