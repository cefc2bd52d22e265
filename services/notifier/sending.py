"""Sending one claimed request: in its turn, by the first channel that takes it, with
the outcome recorded in the same transaction as the row's new status."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from jinja2 import TemplateError

from shared.events.notifications import (
    NotificationChannel,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
    StaffTask,
    StaffTaskRaised,
)
from shared.service import Runtime
from services.notifier import appointment_memory, delivery_log, inbound, suppression
from services.notifier.adapters.errors import PermanentSendError, RetryableSendError, SendError
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.pacer import Pacer
from services.notifier.adapters.writing import writing
from services.notifier.domain.channels import Reach, plan, reach_of
from services.notifier.domain.delivery import DeliveryStatus
from services.notifier.domain.messages import EmailMessageText
from services.notifier.domain.pacing import priority_of
from services.notifier.domain.quiet_hours import QuietHours

log = logging.getLogger(__name__)

MAX_TRIES = 6
# The share of the sending lease spent trying to record a message the provider took.
RECORD_FOR = 0.8
# All that may go to a tenant whose case is flagged for safeguarding: no case content.
NEUTRAL = "safeguarding_neutral"
NO_CONTACT = "no valid mobile or email to reach the tenant by: staff to contact"


def retry_pause(tries: int) -> timedelta:
    """30 s after the first failure, doubling, never more than 15 minutes."""
    return min(timedelta(seconds=30) * 2 ** (tries - 1), timedelta(minutes=15))


class EmailSender(Protocol):
    async def send_email(self, key: str, to: str, message: EmailMessageText) -> str: ...


class SmsSender(Protocol):
    async def send_sms(self, key: str, to_e164: str, body: str) -> str: ...


@dataclass
class Delivery:
    runtime: Runtime
    templates: Templates
    email: EmailSender
    sms: SmsSender | None
    now: Callable[[], datetime]
    pacer: Pacer | None
    lease: timedelta
    suppress_after: int
    quiet: QuietHours | None = None  # when texts wait (None: never)

    def channels(self, request: NotificationRequested, reach: Reach) -> list[NotificationChannel]:
        texts_wait = bool(self.quiet and self.quiet.release_at(self.now(), request.purpose, request.urgent))
        return plan(request.purpose, reach, partial(self._can_send, request.template), texts_wait)

    async def in_turn(self, request: NotificationRequested) -> None:
        """Wait to be let through (texts), take the row for sending, check, and send."""
        texts_first = self.channels(request, reach_of(request.recipient))[:1] == [NotificationChannel.SMS]
        async with self._admitted(request, texts_first):
            if await delivery_log.take_for_sending(self.runtime, request.idempotency_key, self.now(), self.lease):
                await self._deliver(request)

    def _admitted(self, request: NotificationRequested, texts_first: bool) -> AbstractAsyncContextManager[None]:
        if self.pacer is None or not texts_first:
            return nullcontext()
        return self.pacer.admitted(priority_of(request.purpose, request.urgent))

    async def _deliver(self, request: NotificationRequested) -> None:
        if reason := await appointment_memory.stale_reason(self.runtime, request):
            await self.record_failure(request, reason)
            return
        if request.safeguarding:
            request = request.model_copy(update={"template": NEUTRAL, "personalisation": {}})
        reach = reach_of(request.recipient)
        if await self._not_to_be_texted(reach.mobile):
            reach = replace(reach, mobile=None)
        channels = self.channels(request, reach)
        if not channels:
            await self._cannot_send(request, reach)
            return
        try:
            await self._send_by_first_that_takes(request, reach, channels)
        except RetryableSendError as error:
            await self._retry_later(request, error)

    async def _not_to_be_texted(self, mobile: str | None) -> bool:
        """Opted out with STOP, or suppressed for failing."""
        if mobile is None:
            return False
        async with self.runtime.sessions() as session:
            return await inbound.opted_out(session, mobile) or await suppression.is_suppressed(session, mobile)

    async def _send_by_first_that_takes(
        self, request: NotificationRequested, reach: Reach, channels: list[NotificationChannel]
    ) -> None:
        ids = {"case_id": request.case_id, "idempotency_key": request.idempotency_key}
        refused = []
        for tried, channel in enumerate(channels):
            if tried:
                await delivery_log.still_sending(self.runtime, request.idempotency_key, self.now())
            try:
                provider_ref = await self._send_or_say_why(channel, request, reach)
            except TemplateError as error:
                await self.record_failure(request, f"template {request.template} cannot be rendered: {type(error).__name__}")
                return
            except PermanentSendError as error:
                log.warning("channel refused", extra={**ids, "channel": channel, "reason": error.reason})
                refused.append(f"{channel}: {error.reason}")
                if channel is NotificationChannel.SMS and error.recipient and reach.mobile:
                    await self._mobile_failed(request, reach.mobile)
                continue
            await self._record_sent(request, channel, provider_ref, reach)
            log.info("notification sent", extra={**ids, "channel": channel})
            return
        await self.record_failure(request, "; ".join(refused))

    async def _send_or_say_why(self, channel: NotificationChannel, request: NotificationRequested, reach: Reach) -> str:
        """Send by one channel; a transport's failure outside the exception tree counts as
        one that may pass (a try, then a pause), so that nothing retries forever."""
        try:
            return await self._send(channel, request, reach)
        except (SendError, TemplateError):
            raise
        except Exception as error:  # noqa: BLE001 - named by type only: its text may quote the tenant
            raise RetryableSendError("unexpected", f"unexpected failure sending by {channel}: {type(error).__name__}") from None

    async def _send(self, channel: NotificationChannel, request: NotificationRequested, reach: Reach) -> str:
        if channel is NotificationChannel.SMS:
            body = self.templates.sms(request.template, request.personalisation)
            if self.pacer is not None:  # every text takes its turn, a fallback too
                await self.pacer.turn(priority_of(request.purpose, request.urgent))
            return await self.sms.send_sms(f"{request.idempotency_key}:{channel}", reach.mobile or "", body)  # type: ignore[union-attr]
        message = self.templates.email(request.template, request.personalisation)
        return await self.email.send_email(request.idempotency_key, reach.email or "", message)

    async def _retry_later(self, request: NotificationRequested, error: RetryableSendError) -> None:
        """Try again after a growing pause, or give up, and say so, after MAX_TRIES."""
        tries = await delivery_log.count_try(self.runtime, request.idempotency_key)
        if tries >= MAX_TRIES:
            await self.record_failure(request, f"gave up after {tries} tries: {error.reason}")
            return
        await delivery_log.hold(self.runtime, request, self.now() + retry_pause(tries))

    async def _mobile_failed(self, request: NotificationRequested, mobile: str) -> None:
        async with writing(self.runtime) as session:
            await suppression.failed(self.runtime, session, mobile, request.case_id, self.now(), self.suppress_after)
        self.runtime.outbox.wake()

    def _can_send(self, template: str, channel: NotificationChannel) -> bool:
        transport = self.sms if channel is NotificationChannel.SMS else self.email
        return transport is not None and self.templates.has(template, channel)

    async def _cannot_send(self, request: NotificationRequested, reach: Reach) -> None:
        if reach.mobile or reach.email:
            await self.record_failure(request, f"no template {request.template} for a channel the tenant can be reached on")
            return
        task = StaffTaskRaised(
            task=StaffTask.CONTACT_TENANT,
            reason=f"no valid mobile or email for the {request.purpose.replace('_', ' ')} message",
            raised_at=self.now(),
            correlation_id=request.correlation_id,
            case_id=request.case_id,
            appointment_id=request.appointment_id,
        )
        await self.record_failure(request, NO_CONTACT, task)

    async def _record_sent(
        self, request: NotificationRequested, channel: NotificationChannel, provider_ref: str, reach: Reach
    ) -> None:
        sent = NotificationSent(channel=channel, provider_ref=provider_ref, **_about(request))
        where = {}
        if channel is NotificationChannel.SMS:  # so the tenant's text back can be matched to it
            where = {
                "mobile": reach.mobile,
                "reference": request.personalisation.get("reference"),
                "appointment_id": request.appointment_id,
            }
        record = partial(
            delivery_log.record, self.runtime, request.idempotency_key, DeliveryStatus.SENT, sent,
            provider_ref=provider_ref, channel=channel, **where,
        )
        await self._until_recorded(record)

    async def _until_recorded(self, record: Callable[[], Awaitable[None]]) -> None:
        """The provider has the message: if the database is away, keep trying to say so
        for most of the lease, rather than leave the row to be sent again."""
        give_up_at = time.monotonic() + RECORD_FOR * self.lease.total_seconds()
        pause = 0.5
        while True:
            try:
                await record()
                return
            except Exception as error:
                if time.monotonic() + pause > give_up_at:
                    raise
                log.warning("sent, not yet recorded; trying again", extra={"reason": type(error).__name__})
                await asyncio.sleep(pause)
                pause = min(pause * 2, 4.0)

    async def record_failure(self, request: NotificationRequested, reason: str, *also: StaffTaskRaised) -> None:
        failed = NotificationFailed(reason=reason, retryable=False, **_about(request))
        await delivery_log.record(self.runtime, request.idempotency_key, DeliveryStatus.FAILED, failed, *also)
        log.warning("notification failed", extra={"case_id": request.case_id, "reason": reason})


def _about(request: NotificationRequested) -> dict[str, object]:
    """The fields every outcome of a request carries."""
    return {
        "correlation_id": request.correlation_id,
        "case_id": request.case_id,
        "appointment_id": request.appointment_id,
        "idempotency_key": request.idempotency_key,
        "purpose": request.purpose,
    }
