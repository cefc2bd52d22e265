"""Mobiles that keep failing: after `limit` permanent failures in a row (refused as
invalid or unreachable, or reported undelivered), no more texts go to the number, email
is used instead, and staff are asked to check the tenant's contact details, once. A
delivered text clears the count; a text from the tenant on that mobile lifts the
suppression, since the number plainly works."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.notifications import StaffTask, StaffTaskRaised
from shared.service import Runtime
from shared.topics import Topic
from services.notifier.adapters.tables import failing_mobiles


async def is_suppressed(session: AsyncSession, mobile: str) -> bool:
    since = await session.scalar(select(failing_mobiles.c.suppressed_since).where(failing_mobiles.c.mobile == mobile))
    return since is not None


async def failed(  # noqa: PLR0913
    runtime: Runtime, session: AsyncSession, mobile: str, case_id: str, now: datetime, limit: int
) -> None:
    """Count one more failure, atomically: callbacks for the same number may come at once."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    counted = (
        dialect.insert(failing_mobiles)
        .values(mobile=mobile, failures=1)
        .on_conflict_do_update(index_elements=["mobile"], set_={"failures": failing_mobiles.c.failures + 1})
        .returning(failing_mobiles.c.failures)
    )
    failures = (await session.execute(counted)).scalar_one()
    if failures < limit:
        return
    # Only the transaction that sets suppressed_since asks staff; the row is locked by
    # the upsert above, so another waits and then finds it already set.
    newly_suppressed = (
        await session.execute(
            update(failing_mobiles)
            .where(failing_mobiles.c.mobile == mobile, failing_mobiles.c.suppressed_since.is_(None))
            .values(suppressed_since=now)
            .returning(failing_mobiles.c.mobile)
        )
    ).first()
    if newly_suppressed is None:
        return
    task = StaffTaskRaised(
        correlation_id=case_id,
        case_id=case_id,
        task=StaffTask.CHECK_CONTACT_DETAILS,
        reason=f"texts to the tenant's mobile failed {failures} times in a row: "
        "no more texts go to it, email is used instead",
        raised_at=now,
    )
    await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, task)


async def delivered(session: AsyncSession, mobile: str) -> None:
    await session.execute(
        delete(failing_mobiles).where(failing_mobiles.c.mobile == mobile, failing_mobiles.c.suppressed_since.is_(None))
    )


async def heard_from(session: AsyncSession, mobile: str) -> None:
    await session.execute(delete(failing_mobiles).where(failing_mobiles.c.mobile == mobile))
