"""The provider's reports on texts it took: arriving out of order and twice, the
furthest status is kept and delivery or failure said once."""

import logging
from datetime import datetime

from sqlalchemy import select, update

from shared.events.notifications import NotificationDelivered, NotificationFailed, NotificationRequested
from shared.service import Runtime
from shared.topics import Topic
from services.notifier import suppression
from services.notifier.adapters.tables import deliveries
from services.notifier.adapters.writing import writing
from services.notifier.domain.delivery import Outcome, is_further, outcome_of

log = logging.getLogger(__name__)


async def status_reported(  # noqa: PLR0913
    runtime: Runtime, provider_ref: str, status: str, error_code: str | None, now: datetime, suppress_after: int
) -> NotificationRequested | None:
    """Keep the furthest status; say delivered or failed once; count a failed mobile.
    Returns the request of a text now known undelivered (once), for another channel."""
    undelivered = None
    async with writing(runtime) as session:
        row = (
            await session.execute(select(deliveries).where(deliveries.c.provider_ref == provider_ref).with_for_update())
        ).first()
        if row is None:
            log.warning("status for an unknown message", extra={"status": status})
            return None
        if not is_further(row.provider_status, status):
            return None
        await session.execute(
            update(deliveries)
            .where(deliveries.c.idempotency_key == row.idempotency_key)
            .values(provider_status=status)
        )
        if (outcome := outcome_of(status)) is not None:
            await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, _reported(row, outcome, status, error_code))
            if row.mobile and outcome is Outcome.DELIVERED:
                await suppression.delivered(session, row.mobile)
            elif row.mobile:
                await suppression.failed(runtime, session, row.mobile, row.case_id, now, suppress_after)
            if outcome is Outcome.FAILED and row.request:
                undelivered = NotificationRequested.model_validate_json(row.request)
    runtime.outbox.wake()
    return undelivered


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
