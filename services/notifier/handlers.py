"""The notifier's use case: send a requested message once, and say what happened."""

import logging
from dataclasses import dataclass
from typing import Protocol

from jinja2 import TemplateError
from sqlalchemy import select, update

from shared.events import utcnow
from shared.events.notifications import (
    NotificationChannel,
    NotificationFailed,
    NotificationRequested,
    NotificationSent,
)
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.tables import deliveries
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.domain.messages import EmailMessageText

log = logging.getLogger(__name__)

SENDING = "sending"


class EmailSender(Protocol):
    async def send_email(self, key: str, to: str, message: EmailMessageText) -> str: ...


@dataclass
class Notifier:
    runtime: Runtime
    templates: Templates
    email: EmailSender

    async def handle_request(self, request: NotificationRequested) -> None:
        ids = {"case_id": request.case_id, "idempotency_key": request.idempotency_key}
        if not await self._claim(request):
            log.info("duplicate request ignored", extra=ids)
            return
        if not request.recipient.email:
            await self._record_failure(request, "no email address for this recipient")
            return
        try:
            message = self.templates.email(request.template, request.personalisation)
        except TemplateError as error:
            reason = f"template {request.template} cannot be rendered: {type(error).__name__}"
            await self._record_failure(request, reason)
            return
        provider_ref = await self.email.send_email(
            request.idempotency_key, request.recipient.email, message
        )
        await self._record_sent(request, provider_ref)
        log.info("notification sent", extra={**ids, "channel": "email"})

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
                        channel=NotificationChannel.EMAIL,
                        status=SENDING,
                        created_at=utcnow(),
                    )
                )
        return status in (None, SENDING)

    async def _record_sent(self, request: NotificationRequested, provider_ref: str) -> None:
        sent = NotificationSent(
            correlation_id=request.correlation_id,
            case_id=request.case_id,
            appointment_id=request.appointment_id,
            idempotency_key=request.idempotency_key,
            purpose=request.purpose,
            channel=NotificationChannel.EMAIL,
            provider_ref=provider_ref,
        )
        await self._record(request, "sent", provider_ref, sent)

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
    ) -> None:
        async with self.runtime.sessions.begin() as session:
            await session.execute(
                update(deliveries)
                .where(deliveries.c.idempotency_key == request.idempotency_key)
                .values(status=status, provider_ref=provider_ref)
            )
            await self.runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, outcome)
        self.runtime.outbox.wake()
