"""The staff API: log a letter, a phone call or a visit; see a case with the reasons it
was classified so; reply, acknowledge and respond to complaints, escalate one to Stage 2,
agree an extension, close. Each route needs a bearer token whose role allows it."""

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared.events import utcnow
from shared.events.cases import Channel, ComplaintStage, Reason
from shared.events.envelope import AwareDatetime
from shared.service import Runtime
from shared.standards.models import StandardsBook
from shared.topics import Topic
from services.intake import handlers
from services.intake.adapters.tables import cases, raw_messages
from services.intake.auth import StaffAuth
from services.intake.domain.cases import ReceivedContact
from services.intake.domain.roles import Permission, Role, may
from services.intake.domain.staff_actions import Action, NotAllowed, event_for

# What each action on a case needs of the caller's role.
ACTION_NEEDS = {
    Action.REPLY: Permission.REPLY,
    Action.CLOSE: Permission.CLOSE,
    Action.ACKNOWLEDGE: Permission.HANDLE_COMPLAINT,
    Action.RESPOND: Permission.HANDLE_COMPLAINT,
    Action.EXTEND: Permission.HANDLE_COMPLAINT,
}


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


class LetterIn(TenantDetails):
    model_config = ConfigDict(extra="forbid")

    received_at: AwareDatetime = Field(description="When the letter arrived (with UTC offset)")
    text: str = Field(min_length=1, max_length=100_000, description="The letter's words, as typed or scanned")
    subject: str = Field(default="", max_length=300)


class ContactIn(TenantDetails):
    model_config = ConfigDict(extra="forbid")

    channel: Channel = Field(description="phone or in_person")
    received_at: AwareDatetime
    text: str = Field(min_length=1, max_length=20000)
    subject: str = Field(default="", max_length=300)


class CaseCreated(BaseModel):
    case_id: str
    reference: str


class Done(BaseModel):
    case_id: str
    reference: str
    event_type: str


class CaseView(BaseModel):
    """A case as staff see it: how it was classified and why (no tenant's words)."""

    case_id: str
    reference: str
    channel: Channel
    kind: str
    priority: str | None
    flags: list[str]
    reasons: list[Reason]
    received_at: AwareDatetime
    messages: int = Field(description="Messages kept for this case, the first one included")


def add_staff_routes(app: FastAPI, runtime: Runtime, book: StandardsBook, auth: StaffAuth) -> None:
    _add_logging_routes(app, runtime, book, auth)
    _add_case_routes(app, runtime, auth)


def _add_logging_routes(app: FastAPI, runtime: Runtime, book: StandardsBook, auth: StaffAuth) -> None:
    logger = Depends(auth.require(Permission.LOG_CONTACT))

    @app.post("/staff/letters", status_code=201, tags=["staff"])
    async def log_letter(letter: LetterIn, _: Annotated[Role, logger]) -> CaseCreated:
        """Log a letter received by post; its reply clock runs from the received date."""
        contact = ReceivedContact(
            channel=Channel.LETTER, mailbox=None, text=letter.text, subject=letter.subject,
            received_at=letter.received_at, **letter.details(),
        )
        case = await handlers.record_contact(runtime, book, contact)
        return CaseCreated(case_id=case.case_id, reference=case.reference)

    @app.post("/staff/contacts", status_code=201, tags=["staff"])
    async def log_contact(contact: ContactIn, _: Annotated[Role, logger]) -> Done:
        """Log a phone call or a visit to the office; it is classified like any contact."""
        if contact.channel not in (Channel.PHONE, Channel.IN_PERSON):
            raise HTTPException(422, "channel must be phone or in_person")
        received = ReceivedContact(
            channel=contact.channel, mailbox=None, text=contact.text,
            subject=contact.subject, received_at=contact.received_at, **contact.details(),
        )
        case = await handlers.record_contact(runtime, book, received)
        return Done(case_id=case.case_id, reference=case.reference, event_type=case.event_type)


def _add_case_routes(app: FastAPI, runtime: Runtime, auth: StaffAuth) -> None:
    @app.get("/staff/cases/{reference}", tags=["staff"])
    async def show_case(reference: str, _: Annotated[Role, Depends(auth.require(Permission.VIEW))]) -> CaseView:
        """The case's classification with its reasons (which rule, which words)."""
        async with runtime.sessions() as session:
            found = (await session.execute(select(cases).where(cases.c.reference == reference))).first()
            if found is None:
                raise HTTPException(404, f"no case with reference {reference}")
            kept = await session.scalar(select(func.count()).where(raw_messages.c.case_id == found.id))
        return CaseView(
            case_id=found.id, reference=found.reference, channel=found.channel, kind=found.kind,
            priority=found.priority, flags=found.flags, reasons=found.reasons,
            received_at=found.received_at, messages=kept or 0,
        )

    @app.post("/staff/cases/{reference}/escalate", status_code=202, tags=["staff"])
    async def escalate(
        reference: str, role: Annotated[Role, Depends(auth.require(Permission.ESCALATE))]
    ) -> Done:
        """Take a complaint to Stage 2 for the tenant (asked by phone or letter, say).
        Asking again starts no second Stage 2."""
        asked = f'{{"asked_by_role": "{role}"}}'.encode()
        try:
            escalation, _new = await handlers.escalate_complaint(runtime, reference, asked, via="staff")
        except handlers.UnknownComplaint:
            raise HTTPException(404, f"no complaint with reference {reference}") from None
        return Done(case_id=escalation.case_id, reference=reference, event_type=escalation.event_type)

    async def act_on_case(reference: str, action: Action, body: CaseAction, role: Role) -> Done:
        if not may(role, ACTION_NEEDS[action]):
            raise HTTPException(403, f"the {role} role may not {action}")
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

    @app.post("/staff/cases/{reference}/{action}", status_code=202, tags=["staff"])
    async def act(
        reference: str, action: Action, body: CaseAction,
        role: Annotated[Role, Depends(auth.require(Permission.VIEW))],
    ) -> Done:
        """Record what staff did to a case; the SLA monitor stops or moves its clocks."""
        return await act_on_case(reference, action, body, role)
