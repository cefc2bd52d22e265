"""The notifier's use case: send a requested message once, and say what happened."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from jinja2 import TemplateError
from sqlalchemy import select, update

from shared.events import utcnow
from shared.events.appointments import AppointmentBooked, AppointmentCancelled
from shared.events.notifications import (
    NotificationChannel,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
)
from shared.service import Runtime
from shared.topics import Topic
from services.notifier import appointment_memory, inbound, provider_reports
from services.notifier.adapters.errors import PermanentSendError, RetryableSendError
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.tables import deliveries
from services.notifier.domain.channels import Reach, plan, reach_of
from services.notifier.domain.messages import EmailMessageText
from services.notifier.domain.quiet_hours import QuietHours

log = logging.getLogger(__name__)

SENDING = "sending"
HELD = "held"
MAX_TRIES = 6
# All that may go to a tenant whose case is flagged for safeguarding: no case content.
NEUTRAL = "safeguarding_neutral"


def retry_pause(tries: int) -> timedelta:
    """30 s after the first failure, doubling, never more than 15 minutes."""
    return min(timedelta(seconds=30) * 2 ** (tries - 1), timedelta(minutes=15))


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

    # The tenant's texts back, the appointments, and the provider's reports: in modules
    # of their own, reached through the notifier so the webhooks and consumers see one object.

    async def text_received(self, sender: str, body: str) -> str | None:
        return await inbound.text_received(self.runtime, self.now(), sender, body)

    async def appointment_booked(self, booked: AppointmentBooked) -> None:
        await appointment_memory.remember(self.runtime, booked.appointment_id, booked.starts_at, cancelled=False)

    async def appointment_cancelled(self, cancelled: AppointmentCancelled) -> None:
        await appointment_memory.remember(self.runtime, cancelled.appointment_id, None, cancelled=True)

    async def status_reported(self, provider_ref: str, status: str, error_code: str | None) -> None:
        await provider_reports.status_reported(self.runtime, provider_ref, status, error_code)

    async def _deliver(self, request: NotificationRequested) -> None:
        if reason := await appointment_memory.stale_reason(self.runtime, request):
            await self._record_failure(request, reason)
            return
        if request.safeguarding:
            request = request.model_copy(update={"template": NEUTRAL, "personalisation": {}})
        reach = reach_of(request.recipient)
        if await inbound.opted_out(self.runtime, reach.mobile):
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
        sent = NotificationSent(channel=channel, provider_ref=provider_ref, **_about(request))
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
        failed = NotificationFailed(reason=reason, retryable=False, **_about(request))
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


def _about(request: NotificationRequested) -> dict[str, object]:
    """The fields every outcome of a request carries."""
    return {
        "correlation_id": request.correlation_id,
        "case_id": request.case_id,
        "appointment_id": request.appointment_id,
        "idempotency_key": request.idempotency_key,
        "purpose": request.purpose,
    }
