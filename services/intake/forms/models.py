"""The web forms that open a case (and the Stage 2 request, which opens none): each a
pydantic model, the same rules for JSON and for an HTML form post, and the contact it becomes."""

from abc import abstractmethod
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from shared.events import utcnow
from shared.events.cases import CaseKind, Channel, Flag, Mailbox, Reason
from services.intake.domain.cases import ReceivedContact
from services.intake.forms.answers import (
    Address,
    Name,
    OptionalEmail,
    OptionalLine,
    OptionalName,
    OptionalPhone,
    OptionalPostcode,
    OptionalWords,
    Postcode,
    Reference,
    Tick,
    Words,
    blank_to_none,
    needs_a_way_to_reply,
)


class WebForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseForm(WebForm):
    """A form that opens a case."""

    @abstractmethod
    def contact(self, received_at: datetime) -> ReceivedContact:
        """The contact this form records (each form says how)."""


def _details(*pairs: tuple[str, str | None]) -> str:
    return "\n".join(f"{label}: {value}" for label, value in pairs if value)


class RepairReport(CaseForm):
    name: Name
    address: Address
    postcode: Postcode
    phone: OptionalPhone = None
    email: OptionalEmail = None
    location: OptionalLine = None
    description: Words
    access: OptionalWords = None

    @model_validator(mode="after")
    def _reachable(self) -> "RepairReport":
        needs_a_way_to_reply(self.phone, self.email)
        return self

    def contact(self, received_at: datetime) -> ReceivedContact:
        extra = _details(("Where in the home", self.location), ("Getting in", self.access))
        return ReceivedContact(
            channel=Channel.WEB,
            mailbox=Mailbox.REPAIRS,
            subject=f"Repair: {self.location}" if self.location else "Repair",
            text=f"{self.description}\n\n{extra}".strip(),
            received_at=received_at,
            sender_email=self.email,
            sender_phone=self.phone,
            reasons=(Reason(rule="form:repair"),),
        )


class GeneralEnquiry(CaseForm):
    name: Name
    phone: OptionalPhone = None
    email: OptionalEmail = None
    postcode: OptionalPostcode = None
    subject: OptionalLine = None
    message: Words

    @model_validator(mode="after")
    def _reachable(self) -> "GeneralEnquiry":
        needs_a_way_to_reply(self.phone, self.email)
        return self

    def contact(self, received_at: datetime) -> ReceivedContact:
        return ReceivedContact(
            channel=Channel.WEB,
            mailbox=Mailbox.CUSTOMER_DESK,
            subject=self.subject or "",
            text=self.message,
            received_at=received_at,
            sender_email=self.email,
            sender_phone=self.phone,
            reasons=(Reason(rule="form:enquiry"),),
        )


class Complaint(CaseForm):
    name: Name
    address: Annotated[Address | None, BeforeValidator(blank_to_none)] = None
    postcode: OptionalPostcode = None
    phone: OptionalPhone = None
    email: OptionalEmail = None
    details: Words
    outcome: OptionalWords = None

    @model_validator(mode="after")
    def _reachable(self) -> "Complaint":
        needs_a_way_to_reply(self.phone, self.email)
        return self

    def contact(self, received_at: datetime) -> ReceivedContact:
        wanted = f"\n\nWhat would put it right: {self.outcome}" if self.outcome else ""
        return ReceivedContact(
            channel=Channel.WEB,
            mailbox=Mailbox.COMPLAINTS,
            subject="Complaint",
            text=self.details + wanted,
            received_at=received_at,
            sender_email=self.email,
            sender_phone=self.phone,
            reasons=(Reason(rule="form:complaint"),),
        )


class ComplaintEscalation(WebForm):
    """Stage 2 of a complaint already made: found by its reference, opens no new case."""

    reference: Reference
    name: Name
    phone: OptionalPhone = None
    email: OptionalEmail = None
    reason: Words


class HomeVisitRequest(CaseForm):
    name: Name
    address: Address
    postcode: Postcode
    phone: OptionalPhone = None
    email: OptionalEmail = None
    reason: Words
    preferred_times: OptionalWords = None
    harassment_or_domestic_violence: Tick = False

    @model_validator(mode="after")
    def _reachable(self) -> "HomeVisitRequest":
        needs_a_way_to_reply(self.phone, self.email)
        return self

    def contact(self, received_at: datetime) -> ReceivedContact:
        reasons = [Reason(rule="form:home-visit")]
        flags: tuple[Flag, ...] = ()
        if self.harassment_or_domestic_violence:
            # The tenant's own tick: the 1-working-day visit, and a flag that is never
            # echoed in a text or sent to a shared address.
            flags = (Flag.SAFEGUARDING,)
            reasons.append(Reason(rule="form:harassment-or-domestic-violence"))
        extra = _details(("Good times to visit", self.preferred_times))
        return ReceivedContact(
            channel=Channel.WEB,
            mailbox=None,
            subject="Home visit",
            text=f"{self.reason}\n\n{extra}".strip(),
            received_at=received_at,
            sender_email=self.email,
            sender_phone=self.phone,
            kind=CaseKind.HOME_VISIT,
            flags=flags,
            reasons=tuple(reasons),
        )


# The sections of the draft Customer Service Standards (000), in the document's order.
STANDARDS_SECTIONS = {
    "telephone": "Contacting us by telephone",
    "email_contact": "Contacting us by email",
    "post": "Contacting us by post",
    "home_visits": "Visits to your home",
    "complaints": "Effective handling of complaints",
    "neighbourhood": "Responsible neighbourhood management",
    "building_safety": "Maintaining building safety (fire safety)",
    "repairs": "Keeping homes in good repair",
    "gas_and_electrical": "Maintaining building safety (gas and electrical checks)",
    "other": "Anything else about the standards",
}


class StandardsFeedback(CaseForm):
    """Comments on any section of the draft standards; a name and email only for a reply."""

    telephone: OptionalWords = None
    email_contact: OptionalWords = None
    post: OptionalWords = None
    home_visits: OptionalWords = None
    complaints: OptionalWords = None
    neighbourhood: OptionalWords = None
    building_safety: OptionalWords = None
    repairs: OptionalWords = None
    gas_and_electrical: OptionalWords = None
    other: OptionalWords = None
    name: OptionalName = None
    email: OptionalEmail = None

    @model_validator(mode="after")
    def _says_something(self) -> "StandardsFeedback":
        if not any(getattr(self, section) for section in STANDARDS_SECTIONS):
            raise PydanticCustomError(
                "feedback_needed",
                "Write your comments on at least one section",
                {"field": next(iter(STANDARDS_SECTIONS))},
            )
        return self

    def contact(self, received_at: datetime) -> ReceivedContact:
        parts = [
            f"{title}:\n{getattr(self, section)}"
            for section, title in STANDARDS_SECTIONS.items()
            if getattr(self, section)
        ]
        return ReceivedContact(
            channel=Channel.WEB,
            mailbox=None,
            subject="Feedback on the draft customer service standards",
            text="\n\n".join(parts),
            received_at=received_at,
            sender_email=self.email,
            kind=CaseKind.GENERAL_ENQUIRY,
            reasons=(Reason(rule="form:feedback"),),
        )


def to_contact(form: CaseForm, received_at: datetime | None = None) -> ReceivedContact:
    """The contact a submitted form becomes, received now unless told otherwise."""
    return form.contact(received_at or utcnow())
