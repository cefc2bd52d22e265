"""How to reach the tenant of each case: the notifier owns contact preferences.

Every request names its recipient; the latest one with a mobile or an email is kept
for the case, and a case once flagged for safeguarding stays flagged. A message the
notifier sends of its own accord ("on the way", when the contractor says so) goes to
the contact kept for the case. The scheduler requests an appointment confirmation
whenever it books, so a case with an appointment has a contact here.
"""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import utcnow
from shared.events.notifications import NotificationRequested, Recipient
from shared.service import Runtime
from services.notifier.adapters.tables import contacts


async def remember(session: AsyncSession, request: NotificationRequested) -> bool:
    """Keep the request's recipient for its case; whether the case is flagged for safeguarding."""
    recipient = request.recipient
    known = (await session.execute(select(contacts).where(contacts.c.case_id == request.case_id))).first()
    if not (recipient.email or recipient.phone or request.safeguarding):
        return bool(known and known.safeguarding)
    if known is None:
        await session.execute(
            contacts.insert().values(
                case_id=request.case_id,
                email=recipient.email,
                phone=recipient.phone,
                safeguarding=request.safeguarding,
                updated_at=utcnow(),
            )
        )
        return request.safeguarding
    changes: dict[str, object] = {"safeguarding": known.safeguarding or request.safeguarding, "updated_at": utcnow()}
    if recipient.email or recipient.phone:
        changes |= {"email": recipient.email, "phone": recipient.phone}
    await session.execute(update(contacts).where(contacts.c.case_id == request.case_id).values(**changes))
    return bool(changes["safeguarding"])


async def contact_of(runtime: Runtime, case_id: str) -> tuple[Recipient, bool]:
    """The recipient kept for the case (empty when none is known), and its safeguarding flag."""
    async with runtime.sessions() as session:
        known = (await session.execute(select(contacts).where(contacts.c.case_id == case_id))).first()
    if known is None:
        return Recipient(), False
    return Recipient(email=known.email, phone=known.phone), known.safeguarding
