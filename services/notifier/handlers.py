"""The notifier's use cases: send each requested message once, tell the tenant the
contractor is on the way, and act on what the provider and the tenant say back."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.events import utcnow
from shared.events.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentRescheduled,
    ContractorEnRoute,
)
from shared.events.notifications import NotificationChannel, NotificationRequested, Purpose
from shared.service import Runtime
from services.notifier import appointment_memory, contacts, delivery_log, inbound, provider_reports
from services.notifier.adapters.jinja_templates import Templates
from services.notifier.adapters.pacer import Pacer
from services.notifier.domain.channels import by_email_instead, reach_of
from services.notifier.domain.delivery import DeliveryStatus
from services.notifier.domain.quiet_hours import QuietHours
from services.notifier.sending import (  # noqa: F401 - the senders' shapes and the retry rule, for callers
    MAX_TRIES,
    Delivery,
    EmailSender,
    SmsSender,
    retry_pause,
)

log = logging.getLogger(__name__)

SENDING = DeliveryStatus.SENDING
HELD = DeliveryStatus.HELD


@dataclass
class Notifier:
    runtime: Runtime
    templates: Templates
    email: EmailSender
    sms: SmsSender | None = None  # without it, nothing goes by text
    # Texts wait out quiet hours (emails do not); None: no quiet hours.
    quiet: QuietHours | None = field(default_factory=QuietHours)
    now: Callable[[], datetime] = utcnow
    pacer: Pacer | None = None  # None: texts are not paced
    suppress_after: int = 3  # permanent failures in a row before a mobile is suppressed
    sending_lease: timedelta = timedelta(minutes=1)  # longer than any one send can take
    _in_flight: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.delivery = Delivery(
            self.runtime, self.templates, self.email, self.sms, self.now, self.pacer, self.sending_lease,
            self.suppress_after, self.quiet,
        )

    async def handle_request(self, request: NotificationRequested, keep_contact: bool = False) -> None:
        """Claim the request and queue it for its turn; the consumer commits once claimed.
        `keep_contact`: the request's recipient does not replace the one kept for the case."""
        if (claimed := await self._claim(request, keep_contact)) is None:
            log.info("duplicate request ignored", extra={"case_id": request.case_id, "idempotency_key": request.idempotency_key})
            return
        request = claimed
        if release := self._release_at(request):
            await delivery_log.hold(self.runtime, request, release)
            log.info("message waits", extra={"case_id": request.case_id, "deadline": release.isoformat()})
            return
        self._dispatch(request)

    async def _claim(self, request: NotificationRequested, keep_contact: bool) -> NotificationRequested | None:
        """Take the idempotency key before sending. None when it was taken already.

        The one window in which a message may go twice: the provider accepted it and
        the process stopped before the "sent" row and its event were committed. The
        row is left "sending"; after the sending lease it is sent again. Everywhere
        else the key sends once (see `delivery_log`).
        """
        return await delivery_log.claim(self.runtime, request, keep_contact)

    async def contractor_en_route(self, event: ContractorEnRoute) -> None:
        """The "on the way" text, to the contact kept for the case, at once."""
        recipient, safeguarding = await contacts.contact_of(self.runtime, event.case_id)
        await self.handle_request(
            NotificationRequested(
                correlation_id=event.correlation_id,
                case_id=event.case_id,
                appointment_id=event.appointment_id,
                appointment_starts_at=event.starts_at,
                # Once per appointment and slot: pressed twice, one text; moved and
                # visited on the new day, another.
                idempotency_key=f"{event.appointment_id}:on_the_way:{event.starts_at.isoformat()}",
                purpose=Purpose.ON_THE_WAY,
                template="on_the_way",
                recipient=recipient,
                personalisation={"reference": event.reference, "contractor_name": event.contractor_name},
                urgent=True,
                safeguarding=safeguarding,
            )
        )

    def _release_at(self, request: NotificationRequested) -> datetime | None:
        channels = self.delivery.channels(request, reach_of(request.recipient))
        if self.quiet is None or channels[:1] != [NotificationChannel.SMS]:
            return None
        return self.quiet.release_at(self.now(), request.purpose, request.urgent)

    def _dispatch(self, request: NotificationRequested) -> None:
        key = request.idempotency_key
        if key in self._in_flight:
            return
        task = asyncio.create_task(self.delivery.in_turn(request), name=f"deliver:{key}")
        self._in_flight[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(key, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The row stays queued or sending: the sweep takes it up again.
            log.warning("delivery failed", extra={"idempotency_key": key, "reason": type(error).__name__})

    async def send_held(self) -> int:
        """Queue the held messages whose time has come; how many."""
        due = await delivery_log.release_due(self.runtime, self.now())
        for request in due:
            self._dispatch(request)
        return len(due)

    async def recover(self) -> int:
        """Queue what was claimed and not sent: by a process that stopped, or not yet
        started because the process started again; how many."""
        waiting = await delivery_log.unfinished(self.runtime, self.now(), self.sending_lease)
        taken = [request for request in waiting if request.idempotency_key not in self._in_flight]
        for request in taken:
            self._dispatch(request)
        return len(taken)

    async def sweep(self) -> None:
        await self.send_held()
        await self.recover()

    async def settled(self) -> None:
        """Wait until every queued message has been sent, failed or held (tests, shutdown)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def stop(self, grace: float) -> None:
        """Give no more turns, and let sends already under way finish within `grace` seconds."""
        if self.pacer is not None:
            await self.pacer.aclose()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=grace)
        for task in list(self._in_flight.values()):
            task.cancel()

    # The tenant's texts back, the appointments, and the provider's reports: in modules
    # of their own, reached through the notifier so the webhooks and consumers see one object.

    async def text_received(self, sender: str, body: str, message_sid: str = "") -> str | None:
        return await inbound.text_received(self.runtime, self.now(), sender, body, message_sid)

    async def appointment_booked(self, booked: AppointmentBooked) -> None:
        await appointment_memory.remember(self.runtime, booked.appointment_id, booked.starts_at, cancelled=False)

    async def appointment_rescheduled(self, moved: AppointmentRescheduled) -> None:
        await appointment_memory.remember(self.runtime, moved.appointment_id, moved.starts_at, cancelled=False)

    async def appointment_cancelled(self, cancelled: AppointmentCancelled) -> None:
        await appointment_memory.remember(self.runtime, cancelled.appointment_id, None, cancelled=True)

    async def status_reported(self, provider_ref: str, status: str, error_code: str | None) -> None:
        """A text reported undelivered goes again by email, where there is one."""
        undelivered = await provider_reports.status_reported(
            self.runtime, provider_ref, status, error_code, self.now(), self.suppress_after
        )
        if undelivered is not None and (instead := by_email_instead(undelivered)) is not None:
            await self.handle_request(instead, keep_contact=True)
