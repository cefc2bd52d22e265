"""Mobiles that keep failing: after `limit` permanent failures in a row (refused as
invalid or unreachable, or reported undelivered), no more texts go to the number, email
is used instead, and staff are asked to check the tenant's contact details, once. A
delivered text clears the count; a text from the tenant on that mobile lifts the
suppression, since the number plainly works."""

from datetime import datetime

from sqlalchemy import delete, select, update
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
    known = (await session.execute(select(failing_mobiles).where(failing_mobiles.c.mobile == mobile))).first()
    if known is None:
        await session.execute(failing_mobiles.insert().values(mobile=mobile, failures=0))
    failures = 1 + (known.failures if known else 0)
    newly_suppressed = failures >= limit and (known is None or known.suppressed_since is None)
    values: dict[str, object] = {"failures": failures}
    if newly_suppressed:
        values["suppressed_since"] = now
        task = StaffTaskRaised(
            correlation_id=case_id,
            case_id=case_id,
            task=StaffTask.CHECK_CONTACT_DETAILS,
            reason=f"texts to the tenant's mobile failed {failures} times in a row: "
            "no more texts go to it, email is used instead",
            raised_at=now,
        )
        await runtime.outbox.add(session, Topic.NOTIFICATIONS_OUTCOMES, task)
    await session.execute(update(failing_mobiles).where(failing_mobiles.c.mobile == mobile).values(**values))


async def delivered(session: AsyncSession, mobile: str) -> None:
    await session.execute(
        delete(failing_mobiles).where(failing_mobiles.c.mobile == mobile, failing_mobiles.c.suppressed_since.is_(None))
    )


async def heard_from(session: AsyncSession, mobile: str) -> None:
    await session.execute(delete(failing_mobiles).where(failing_mobiles.c.mobile == mobile))
