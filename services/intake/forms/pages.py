"""The pages of the web forms: labels, hints and fieldsets, in the order a tenant reads them."""

from dataclasses import dataclass
from typing import Literal

from services.intake.forms.answers import LONG_MAX
from services.intake.forms.models import (
    STANDARDS_SECTIONS,
    Complaint,
    ComplaintEscalation,
    GeneralEnquiry,
    HomeVisitRequest,
    RepairReport,
    StandardsFeedback,
    WebForm,
)

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
