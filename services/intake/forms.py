"""The web forms: what each one asks, the limits it keeps, and the contact it becomes.

Each form is a pydantic model (the same rules for JSON and for an HTML form post) and a
page description (labels, hints, fieldsets) that `web.py` renders. Single-line answers
have their line breaks and control characters folded away, so nothing a tenant types
can reach a mail header; long answers keep their lines.
"""

import re
import unicodedata
from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.events import utcnow
from shared.events.cases import CaseKind, Channel, Flag, Mailbox, Reason
from services.intake.domain.cases import ReceivedContact

NAME_MAX = 100
ADDRESS_MAX = 300
SHORT_MAX = 200
LONG_MAX = 5000
EMAIL_MAX = 254
PHONE_MAX = 30
POSTCODE_MAX = 10


# -- cleaning --------------------------------------------------------------------------


def _printable(text: str, keep: str) -> str:
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # lone surrogates from JSON
    return "".join(c for c in text if c in keep or unicodedata.category(c) != "Cc")


def _one_line(value: object) -> object:
    if isinstance(value, str):
        return " ".join(_printable(value, "\t\n\r").split())
    return value


def _lines(value: object) -> object:
    if isinstance(value, str):
        return _printable(value.replace("\r\n", "\n").replace("\r", "\n"), "\t\n").strip()
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# -- checks (messages never repeat what was typed) -------------------------------------

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")
_REFERENCE = re.compile(r"(?:HX)?-?([A-HJ-NP-Z2-9]{8})")
# Ofcom's drama range of mobiles (07700 900xxx): never allocated, and
# called invalid by libphonenumber, but what examples, tests and trainees type.
_OFCOM_DRAMA = range(7700900000, 7700901000)


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError(
            "email", "Enter an email address in the right format, like name@example.com"
        )
    return value


def _uk_phone(value: str) -> str:
    message = "Enter a UK phone number, like 07700 900123 or 020 8778 6699"
    if any(c.isalpha() for c in value):
        raise PydanticCustomError("phone", message)
    try:
        number = phonenumbers.parse(value, "GB")
    except NumberParseException:
        raise PydanticCustomError("phone", message) from None
    fictional = number.national_number in _OFCOM_DRAMA
    if number.country_code != 44 or not (fictional or phonenumbers.is_valid_number(number)):
        raise PydanticCustomError("phone", message)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _postcode(value: str) -> str:
    found = _POSTCODE.fullmatch(value.upper())
    if not found:
        raise PydanticCustomError("postcode", "Enter a full UK postcode, like SE19 2AB")
    return f"{found[1]} {found[2]}"


def _reference(value: str) -> str:
    found = _REFERENCE.fullmatch(value.upper().replace(" ", ""))
    if not found:
        raise PydanticCustomError("reference", "Enter the reference in the right format, like HX-7KQ2M9PZ")
    return f"HX-{found[1]}"


def _line(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str, BeforeValidator(_one_line), StringConstraints(min_length=1, max_length=max_length)
    ]


def _text(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str, BeforeValidator(_lines), StringConstraints(min_length=1, max_length=max_length)
    ]


Name = _line(NAME_MAX)
Address = _text(ADDRESS_MAX)
Postcode = Annotated[_line(POSTCODE_MAX), AfterValidator(_postcode)]
Words = _text(LONG_MAX)
Reference = Annotated[_line(SHORT_MAX), AfterValidator(_reference)]
OptionalLine = Annotated[_line(SHORT_MAX) | None, BeforeValidator(_blank_to_none)]
OptionalWords = Annotated[_text(LONG_MAX) | None, BeforeValidator(_blank_to_none)]
OptionalName = Annotated[Name | None, BeforeValidator(_blank_to_none)]
OptionalPostcode = Annotated[Postcode | None, BeforeValidator(_blank_to_none)]
OptionalEmail = Annotated[
    Annotated[_line(EMAIL_MAX), AfterValidator(_email)] | None, BeforeValidator(_blank_to_none)
]
OptionalPhone = Annotated[
    Annotated[_line(PHONE_MAX), AfterValidator(_uk_phone)] | None, BeforeValidator(_blank_to_none)
]
Tick = Annotated[bool, BeforeValidator(lambda v: False if _blank_to_none(v) is None else v)]


def _needs_a_way_to_reply(phone: str | None, email: str | None) -> None:
    if not (phone or email):
        raise PydanticCustomError(
            "contact_needed",
            "Enter a phone number or an email address, so we can contact you",
            {"field": "phone"},
        )


# -- the forms -------------------------------------------------------------------------


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
        _needs_a_way_to_reply(self.phone, self.email)
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
        _needs_a_way_to_reply(self.phone, self.email)
        return self

    def contact(self, received_at: datetime) -> ReceivedContact:
        return ReceivedContact(
            channel=Channel.WEB,
            mailbox=Mailbox.CUSTOMER_DESK,
            subject=self.subject or "",
            text=self.message,
            received_at=received_at,
            sender_email=self.email,
            reasons=(Reason(rule="form:enquiry"),),
        )


class Complaint(CaseForm):
    name: Name
    address: Annotated[Address | None, BeforeValidator(_blank_to_none)] = None
    postcode: OptionalPostcode = None
    phone: OptionalPhone = None
    email: OptionalEmail = None
    details: Words
    outcome: OptionalWords = None

    @model_validator(mode="after")
    def _reachable(self) -> "Complaint":
        _needs_a_way_to_reply(self.phone, self.email)
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
        _needs_a_way_to_reply(self.phone, self.email)
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


# -- the pages -------------------------------------------------------------------------

Widget = Literal["text", "email", "tel", "textarea", "checkbox"]


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    widget: Widget = "text"
    hint: str = ""
    autocomplete: str = ""
    # What a missing answer is called in "Enter ..." (defaults to the label).
    missing: str = ""
    width: Literal["", "short", "medium"] = ""


@dataclass(frozen=True)
class Fieldset:
    legend: str
    questions: tuple[Question, ...]
    hint: str = ""


@dataclass(frozen=True)
class FormPage:
    name: str
    title: str
    model: type[WebForm]
    fieldsets: tuple[Fieldset, ...]
    intro: tuple[str, ...] = ()
    submit: str = "Send"

    @property
    def questions(self) -> dict[str, Question]:
        return {q.name: q for fieldset in self.fieldsets for q in fieldset.questions}

    def is_optional(self, name: str) -> bool:
        return (
            not self.model.model_fields[name].is_required()
            and self.model.model_fields[name].annotation is not bool
        )


NAME = Question("name", "Full name", autocomplete="name", missing="your full name")
PHONE = Question("phone", "Phone number", "tel", "For example, 07700 900123", "tel", width="medium")
EMAIL = Question("email", "Email address", "email", "We will send your reference here", "email")
ADDRESS = Question("address", "Address", "textarea", "", "street-address", "your address")
POSTCODE = Question(
    "postcode", "Postcode", autocomplete="postal-code", missing="your postcode", width="short"
)
REACH_YOU = "Give us a phone number, an email address or both."
LONG = f"Up to {LONG_MAX:,} characters."

EMERGENCY = (
    "If you have an emergency, such as a smell of gas, flooding or dangerous electrics, "
    "phone 0800 393 338 (free, 24 hours a day) instead of using this form."
)

FORMS: dict[str, FormPage] = {
    page.name: page
    for page in (
        FormPage(
            "repair",
            "Report a repair",
            RepairReport,
            (
                Fieldset("About you", (NAME, PHONE, EMAIL), REACH_YOU),
                Fieldset("Your home", (ADDRESS, POSTCODE)),
                Fieldset(
                    "The repair",
                    (
                        Question(
                            "location",
                            "Where in your home is it?",
                            hint="For example, kitchen or bathroom ceiling",
                        ),
                        Question("description", "What is wrong?", "textarea", LONG, missing="what is wrong"),
                        Question("access", "Anything we should know about getting in?", "textarea", LONG),
                    ),
                ),
            ),
            (EMERGENCY, "We will contact you within 24 hours to arrange an appointment."),
            "Report the repair",
        ),
        FormPage(
            "enquiry",
            "Ask us a question",
            GeneralEnquiry,
            (
                Fieldset("About you", (NAME, PHONE, EMAIL, POSTCODE), REACH_YOU),
                Fieldset(
                    "Your question",
                    (
                        Question("subject", "What is it about?"),
                        Question("message", "Your question", "textarea", LONG, missing="your question"),
                    ),
                ),
            ),
            (EMERGENCY,),
            "Send the question",
        ),
        FormPage(
            "complaint",
            "Make a complaint",
            Complaint,
            (
                Fieldset("About you", (NAME, PHONE, EMAIL, ADDRESS, POSTCODE), REACH_YOU),
                Fieldset(
                    "Your complaint",
                    (
                        Question("details", "What happened?", "textarea", LONG, missing="what happened"),
                        Question("outcome", "What would put it right?", "textarea", LONG),
                    ),
                ),
            ),
            ("We will acknowledge your complaint within 5 working days.",),
            "Send the complaint",
        ),
        FormPage(
            "escalation",
            "Take your complaint to Stage 2",
            ComplaintEscalation,
            (
                Fieldset(
                    "Your complaint",
                    (
                        Question(
                            "reference",
                            "Complaint reference",
                            hint="It is in our reply to your complaint and starts HX-, for example HX-7KQ2M9PZ",
                            missing="your complaint reference",
                            width="medium",
                        ),
                        Question(
                            "reason",
                            "Why are you unhappy with our Stage 1 response?",
                            "textarea",
                            LONG,
                            missing="why you are unhappy with our response",
                        ),
                    ),
                ),
                Fieldset("About you", (NAME, PHONE, EMAIL)),
            ),
            (
                "If you are unhappy with our response to your complaint, you can ask for it to be looked at again.",
            ),
            "Take it to Stage 2",
        ),
        FormPage(
            "home-visit",
            "Ask for a home visit",
            HomeVisitRequest,
            (
                Fieldset("About you", (NAME, PHONE, EMAIL), REACH_YOU),
                Fieldset("Your home", (ADDRESS, POSTCODE)),
                Fieldset(
                    "The visit",
                    (
                        Question(
                            "reason",
                            "What is the visit about?",
                            "textarea",
                            LONG,
                            missing="what the visit is about",
                        ),
                        Question(
                            "preferred_times",
                            "When would suit you?",
                            "textarea",
                            "Visits are usually 9am to 5pm, Monday to Friday.",
                        ),
                        Question(
                            "harassment_or_domestic_violence",
                            "This is about harassment or domestic violence",
                            "checkbox",
                            "We will try to visit within 1 working day.",
                        ),
                    ),
                ),
            ),
            (
                "If you are in danger now, phone 999.",
                (
                    "We will try to arrange a visit at a time that suits you within 5 working days, "
                    "or within 1 working day if this relates to harassment or domestic violence."
                ),
            ),
            "Ask for the visit",
        ),
        FormPage(
            "feedback",
            "Consultation on our Customer Service Standards",
            StandardsFeedback,
            (
                Fieldset(
                    "Your comments",
                    tuple(
                        Question(section, title, "textarea", LONG)
                        for section, title in STANDARDS_SECTIONS.items()
                    ),
                    "Comment on any section you like; you can leave the others empty.",
                ),
                Fieldset(
                    "If you would like a reply",
                    (
                        Question("name", "Full name", autocomplete="name"),
                        Question("email", "Email address", "email", autocomplete="email"),
                    ),
                    "Give your name and email address if you would like us to respond to you directly.",
                ),
            ),
            (
                "You can give feedback on any section of the draft standards.",
                (
                    "Please do not use this form for urgent issues or questions: contact our "
                    "Customer Services Centre at customer_desk@hexagon.org.uk instead."
                ),
            ),
            "Send your feedback",
        ),
    )
}
