"""The staff API for cases: reply, acknowledge and respond to complaints, agree an
extension, close; and log a phone or in-person contact."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.events import utcnow
from shared.events.cases import Channel, ComplaintStage
from shared.events.envelope import AwareDatetime
from shared.service import Runtime
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.intake import handlers
from services.intake.adapters.tables import cases
from services.intake.domain.cases import ReceivedContact
from services.intake.domain.staff_actions import Action, NotAllowed, event_for


class CaseAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: AwareDatetime | None = Field(default=None, description="When it was done; now if left out")
    stage: ComplaintStage | None = None
    clock: str | None = Field(default=None, max_length=100, description="For an extension: the clock's id")
    new_deadline: AwareDatetime | None = None
    reason: str | None = Field(default=None, max_length=2000)


class TenantDetails(BaseModel):
    """Who the contact is from, where staff know it: for the reply, booking and works order."""

    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=30)
    property_id: str | None = Field(default=None, min_length=1, max_length=64)
    tenancy_id: str | None = Field(default=None, min_length=1, max_length=64)

    def details(self) -> dict[str, str | None]:
        return {
            "sender_email": self.email,
            "sender_phone": self.phone,
            "property_id": self.property_id,
            "tenancy_id": self.tenancy_id,
        }


class ContactIn(TenantDetails):
    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(description="phone or in_person")
    received_at: AwareDatetime
    text: str = Field(min_length=1, max_length=20000)
    subject: str = Field(default="", max_length=300)


class Done(BaseModel):
    case_id: str
    reference: str
    event_type: str


def add_staff_routes(app: FastAPI, runtime: Runtime, book: StandardsBook, staff: Callable[..., str]) -> None:
    @app.post("/staff/cases/{reference}/{action}", status_code=202, tags=["staff"])
    async def act_on_case(
        reference: str, action: Action, body: CaseAction, _: Annotated[str, Depends(staff)]
    ) -> Done:
        """Record what staff did to a case; the SLA monitor stops or moves its clocks."""
        async with runtime.sessions.begin() as session:
            found = (
                await session.execute(select(cases.c.id, cases.c.kind).where(cases.c.reference == reference))
            ).first()
            if found is None:
                raise HTTPException(404, f"no case with reference {reference}")
            try:
                event = event_for(
                    action, found.id, reference, found.kind, body.at or utcnow(),
                    body.stage, body.clock, body.new_deadline, body.reason,
                )
            except NotAllowed as problem:
                raise HTTPException(409, str(problem)) from None
            await runtime.outbox.add(session, Topic.CASES, event)
        runtime.outbox.wake()
        return Done(case_id=found.id, reference=reference, event_type=event.event_type)

    @app.post("/staff/contacts", status_code=201, tags=["staff"])
    async def log_contact(contact: ContactIn, _: Annotated[str, Depends(staff)]) -> Done:
        """Log a phone call or a visit to the office; it is classified like any contact."""
        if contact.channel not in (Channel.PHONE, Channel.IN_PERSON):
            raise HTTPException(422, "channel must be phone or in_person")
        received = ReceivedContact(
            channel=contact.channel, mailbox=None, text=contact.text,
            subject=contact.subject, received_at=contact.received_at, **contact.details(),
        )
        case = await handlers.record_contact(runtime, book, received)
        return Done(case_id=case.case_id, reference=case.reference, event_type=case.event_type)
