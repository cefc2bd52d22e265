"""The delivery log: one row per idempotency key, from claimed to sent or failed.

    queued ──▶ sending ──▶ sent | failed
      ▲  │
      │  └──▶ held (quiet hours, or a pause before trying again) ──▶ queued

A request's key is claimed (queued, with the request) before anything is sent, so the
same key twice sends once. A row is moved to "sending", with the time, by compare and
set just before the provider is called, and to "sent" or "failed" in the transaction
that adds the outcome event. The one window in which a message can go twice: the
provider took it, and the process stopped before that last commit. The row is then
still "sending"; once its lease is over it is sent again, because sending twice is
better than never. (A database away at that moment is waited for, for most of the lease.)
"""

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from shared.events import Event, utcnow
from shared.events.notifications import NotificationRequested
from shared.service import Runtime
from shared.topics import Topic
from services.notifier import contacts
from services.notifier.adapters.tables import deliveries
from services.notifier.adapters.writing import writing
from services.notifier.domain.delivery import DeliveryStatus

QUEUED, HELD, SENDING = DeliveryStatus.QUEUED, DeliveryStatus.HELD, DeliveryStatus.SENDING


async def claim(
    runtime: Runtime, request: NotificationRequested, keep_contact: bool = False
) -> NotificationRequested | None:
    """Take the request's key, and remember how to reach the tenant; None when the key
    was taken already (a redelivery, or the same message asked for twice). A case once
    flagged for safeguarding stays flagged: the request comes back flagged too."""
    async with writing(runtime) as session:
        if not keep_contact and await contacts.remember(session, request):
            request = request.model_copy(update={"safeguarding": True})
        taken = await session.scalar(
            select(deliveries.c.status).where(deliveries.c.idempotency_key == request.idempotency_key)
        )
        if taken is not None:
            return None
        await session.execute(
            deliveries.insert().values(
                idempotency_key=request.idempotency_key,
                case_id=request.case_id,
                purpose=request.purpose,
                channel="",  # known once sent
                status=QUEUED,
                request=request.model_dump_json(),
                created_at=utcnow(),
            )
        )
    return request


async def take_for_sending(runtime: Runtime, key: str, now: datetime, lease: timedelta) -> bool:
    """Compare and set to "sending": True for the one caller that may now send it."""
    async with writing(runtime) as session:
        taken = await session.execute(
            update(deliveries)
            .where(deliveries.c.idempotency_key == key, _waiting_to_send(now - lease))
            .values(status=SENDING, sending_since=now)
        )
    return taken.rowcount == 1


async def still_sending(runtime: Runtime, key: str, now: datetime) -> None:
    """Renew the lease before a second provider call (a fallback) for the same request."""
    async with writing(runtime) as session:
        await session.execute(
            update(deliveries).where(deliveries.c.idempotency_key == key).values(sending_since=now)
        )


async def hold(runtime: Runtime, request: NotificationRequested, until: datetime) -> None:
    async with writing(runtime) as session:
        await session.execute(
            update(deliveries)
            .where(deliveries.c.idempotency_key == request.idempotency_key)
            .values(status=HELD, not_before=until, request=request.model_dump_json())
        )


async def count_try(runtime: Runtime, key: str) -> int:
    """One more failed try of this request; how many there have been."""
    async with writing(runtime) as session:
        tries = 1 + (await session.scalar(select(deliveries.c.attempts).where(deliveries.c.idempotency_key == key)) or 0)
        await session.execute(update(deliveries).where(deliveries.c.idempotency_key == key).values(attempts=tries))
    return tries


async def release_due(runtime: Runtime, now: datetime, limit: int = 500) -> list[NotificationRequested]:
    """Held requests whose time has come, queued again."""
    async with writing(runtime) as session:
        due = (
            await session.execute(
                select(deliveries.c.idempotency_key, deliveries.c.request)
                .where(deliveries.c.status == HELD, deliveries.c.not_before <= now)
                .limit(limit)
            )
        ).all()
        keys = [row.idempotency_key for row in due]
        if keys:
            await session.execute(
                update(deliveries)
                .where(deliveries.c.idempotency_key.in_(keys), deliveries.c.status == HELD)
                .values(status=QUEUED)
            )
    return [NotificationRequested.model_validate_json(row.request) for row in due]


async def unfinished(
    runtime: Runtime, now: datetime, lease: timedelta, limit: int = 5000
) -> list[NotificationRequested]:
    """Queued requests, and any left "sending" past the lease by a process that stopped."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(deliveries.c.request)
            .where(_waiting_to_send(now - lease), deliveries.c.request.is_not(None))
            .order_by(deliveries.c.created_at)
            .limit(limit)
        )
    return [NotificationRequested.model_validate_json(row.request) for row in rows]


async def record(  # noqa: PLR0913
    runtime: Runtime,
    key: str,
    status: DeliveryStatus,
    outcome: Event,
    *also: Event,
    **values: object,
) -> None:
    """Set the row's final status (and any other columns) with its outcome events, at once."""
    async with writing(runtime) as session:
        await session.execute(
            update(deliveries).where(deliveries.c.idempotency_key == key).values(status=status, **values)
        )
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, outcome, *also)
    runtime.outbox.wake()


def _waiting_to_send(lease_began_before: datetime):  # type: ignore[no-untyped-def]
    return or_(
        deliveries.c.status == QUEUED,
        (deliveries.c.status == SENDING)
        & or_(deliveries.c.sending_since.is_(None), deliveries.c.sending_since < lease_began_before),
    )
