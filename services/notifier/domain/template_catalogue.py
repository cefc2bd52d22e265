"""What every message template needs, and sample values to render it with (pure).

Each template in `services/notifier/adapters/templates/` has an entry here naming:

- `required`: the personalisation keys it cannot be rendered without. Every value is
  a string, already formatted by the sender (a date reads "Tuesday 14 July 2026", a
  time "8am to 1pm"), because personalisation travels as `dict[str, str]`.
- `optional`: keys it uses when given (each guarded with `is defined` in the template).
  `name` is the tenant's name, used only when the sender chooses to give it.
- `samples`: realistic values, for previews.
- `long`: the longest plausible values (a 60-character contractor name, a 200-character
  job description, and so on), so a text can be held to its segment limit.
- `sms_segments`: the most parts its text may go out as with the long values; None when
  the template has no text message.
- `channels`: which channels it has a template for.

`doorstep templates check` and the unit tests render every template with both sets
of samples and hold each text to its limit.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.events.feedback import Aspect
from shared.events.notifications import NotificationChannel

SMS, EMAIL = NotificationChannel.SMS, NotificationChannel.EMAIL

EMERGENCY_NUMBER = "0800 393 338"

# The satisfaction survey asks about the eight aspects 002 monitors, in this order; a
# text reply is eight digits from 1 (very dissatisfied) to 5 (very satisfied), one per
# aspect in this order.
SURVEY_ORDER: tuple[Aspect, ...] = (
    Aspect.FIRST_CONTACT,
    Aspect.APPOINTMENT_DETAILS,
    Aspect.REMINDERS,
    Aspect.SPEED_OF_REPAIR,
    Aspect.OPERATIVE,
    Aspect.QUALITY,
    Aspect.KEPT_INFORMED,
    Aspect.OVERALL,
)


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    required: frozenset[str]
    samples: dict[str, str]
    long: dict[str, str]
    optional: frozenset[str] = frozenset()
    sms_segments: int | None = None
    channels: frozenset[NotificationChannel] = field(default_factory=lambda: frozenset({SMS, EMAIL}))

    @property
    def keys(self) -> frozenset[str]:
        return self.required | self.optional


class UnknownTemplate(KeyError):
    """No template of this name in the catalogue."""


# Values shared by many templates. Ofcom's drama ranges (020 7946 0xxx, 07700 900xxx)
# are used for every phone number, so no real person is ever called from a sample.
_REFERENCE = "HX-7KQ2M9TD"
_NAME, _LONG_NAME = "Ms Adebayo", "Mrs Oluwaseun Abimbola Fitzgerald-Nwachukwu"
_DATE, _LONG_DATE = "Tuesday 14 July 2026", "Wednesday 30 September 2026"
_TIME, _LONG_TIME = "8am to 1pm", "12:30pm to 5:30pm"
_CONTRACTOR = "Hexagon Repairs Team"
_LONG_CONTRACTOR = "Southern Counties Property Maintenance and Building Services"  # 60
_PHONE, _LONG_PHONE = "020 7946 0123", "+44 20 7946 0123"
_JOB = "Replace the leaking kitchen tap and check the pipe under the sink."
_LONG_JOB = (
    "Trace and repair the leak from the bathroom above into the kitchen ceiling, replace "
    "the damaged plasterboard, make good and redecorate the affected area, then reseal the "
    "bath and check the waste pipe."
)  # 200
_LINK = "https://www.hexagon.org.uk/r/7KQ2M9TD"
_LONG_LINK = "https://www.hexagon.org.uk/repairs/appointments/HX-7KQ2M9TD/a8f3c1"


def _spec(
    name: str,
    required: Iterable[str],
    samples: dict[str, str],
    long: dict[str, str],
    optional: Iterable[str] = (),
    sms_segments: int | None = None,
    channels: Iterable[NotificationChannel] = (SMS, EMAIL),
) -> TemplateSpec:
    return TemplateSpec(
        name,
        frozenset(required),
        samples,
        long,
        frozenset(optional),
        sms_segments,
        frozenset(channels),
    )


_SPECS = (
    _spec(
        "acknowledgement",
        {"reference"},
        {
            "reference": _REFERENCE,
            "promise": "We will reply to all repair email requests within 3 working days.",
        },
        {
            "reference": _REFERENCE,
            "promise": "We will reply within 10 working days of receiving your letter, unless it is a "
            "complaint, when we will respond according to our complaints procedure.",
        },
        optional={"promise"},
        sms_segments=1,
    ),
    _spec(
        "complaint_acknowledgement",
        {"reference", "stage", "respond_by"},
        {"reference": _REFERENCE, "stage": "1", "respond_by": "Friday 24 July 2026", "name": _NAME},
        {
            "reference": _REFERENCE,
            "stage": "2",
            "respond_by": "Wednesday 30 September 2026",
            "name": _LONG_NAME,
        },
        optional={"name"},
        sms_segments=1,
    ),
    _spec(
        "works_order_confirmation",
        {"reference", "works_order", "contractor_name", "contractor_phone", "job_description"},
        {
            "reference": _REFERENCE,
            "works_order": "WO-2026-041873",
            "contractor_name": _CONTRACTOR,
            "contractor_phone": _PHONE,
            "job_description": _JOB,
            "complete_by": "Tuesday 21 July 2026",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "works_order": "WO-2026-0418730-02",
            "contractor_name": _LONG_CONTRACTOR,
            "contractor_phone": _LONG_PHONE,
            "job_description": _LONG_JOB,
            "complete_by": _LONG_DATE,
            "name": _LONG_NAME,
        },
        optional={"complete_by", "name"},
        sms_segments=3,
    ),
    _spec(
        "appointment_offers",
        {"reference", "offer_1"},
        {
            "reference": _REFERENCE,
            "offer_1": "Monday 13 July, 8am to 1pm",
            "offer_2": "Wednesday 15 July, 12pm to 5pm",
            "offer_3": "Saturday 18 July, 8am to 12pm",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "offer_1": "Wednesday 30 September, 12:30pm to 5:30pm",
            "offer_2": "Thursday 1 October, 12:30pm to 5:30pm",
            "offer_3": "Saturday 3 October, 8:00am to 12:00pm",
            "link": _LONG_LINK,
            "name": _LONG_NAME,
        },
        optional={"offer_2", "offer_3", "link", "name"},
        sms_segments=3,
    ),
    _spec(
        "appointment_confirmation",
        {"reference", "appointment_date", "appointment_time"},
        {
            "reference": _REFERENCE,
            "appointment_date": _DATE,
            "appointment_time": _TIME,
            "contractor_name": _CONTRACTOR,
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "appointment_time": _LONG_TIME,
            "contractor_name": _LONG_CONTRACTOR,
            "job_description": _LONG_JOB,
            "name": _LONG_NAME,
        },
        # "reminder": "no" when no reminder will follow (booked after its day, an emergency).
        optional={"contractor_name", "job_description", "name", "reminder"},
        sms_segments=2,
    ),
    _spec(
        "appointment_reminder",
        {"reference", "appointment_date", "appointment_time"},
        {
            "reference": _REFERENCE,
            "appointment_date": _DATE,
            "appointment_time": _TIME,
            "contractor_name": _CONTRACTOR,
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "appointment_time": _LONG_TIME,
            "contractor_name": _LONG_CONTRACTOR,
            "name": _LONG_NAME,
        },
        optional={"contractor_name", "name"},
        sms_segments=2,
    ),
    _spec(
        "on_the_way",
        {"reference", "contractor_name"},
        {"reference": _REFERENCE, "contractor_name": _CONTRACTOR, "eta": "11:30am"},
        {
            "reference": _REFERENCE,
            "contractor_name": _LONG_CONTRACTOR,
            "eta": "12:45pm",
            "contractor_phone": _LONG_PHONE,
            "name": _LONG_NAME,
        },
        optional={"eta", "contractor_phone", "name"},
        sms_segments=1,
    ),
    _spec(
        "missed_appointment",
        {"reference", "appointment_date"},
        {"reference": _REFERENCE, "appointment_date": _DATE, "name": _NAME},
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "credit": "£10",
            "link": _LONG_LINK,
            "name": _LONG_NAME,
        },
        optional={"credit", "link", "name"},
        sms_segments=2,
    ),
    _spec(
        "no_access",
        {"reference", "appointment_date"},
        {"reference": _REFERENCE, "appointment_date": _DATE, "name": _NAME},
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "contractor_name": _LONG_CONTRACTOR,
            "link": _LONG_LINK,
            "name": _LONG_NAME,
        },
        optional={"contractor_name", "link", "name"},
        sms_segments=2,
    ),
    _spec(
        "satisfaction_survey",
        {"reference"},
        {"reference": _REFERENCE, "name": _NAME},
        {"reference": _REFERENCE, "link": _LONG_LINK, "name": _LONG_NAME},
        optional={"link", "name"},
        sms_segments=3,
    ),
    _spec(
        "gas_check_offer",
        {"reference", "appointment_date", "appointment_time", "certificate_expires"},
        {
            "reference": _REFERENCE,
            "appointment_date": _DATE,
            "appointment_time": _TIME,
            "certificate_expires": "Friday 28 August 2026",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "appointment_time": _LONG_TIME,
            "certificate_expires": "Wednesday 28 October 2026",
            "link": _LONG_LINK,
            "name": _LONG_NAME,
        },
        optional={"link", "name"},
        sms_segments=2,
    ),
    _spec(
        "gas_check_chaser",
        {"reference", "certificate_expires"},
        {
            "reference": _REFERENCE,
            "appointment_date": _DATE,
            "appointment_time": _TIME,
            "certificate_expires": "Friday 28 August 2026",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "appointment_time": _LONG_TIME,
            "certificate_expires": "Wednesday 28 October 2026",
            "link": _LONG_LINK,
            "name": _LONG_NAME,
        },
        # The morning proposed; a chaser requested before chasers proposed one has none.
        optional={"appointment_date", "appointment_time", "link", "name"},
        sms_segments=2,
    ),
    _spec(
        "inspection_confirmation",
        {"reference", "appointment_date", "appointment_time"},
        {
            "reference": _REFERENCE,
            "appointment_date": _DATE,
            "appointment_time": _TIME,
            "surveyor_name": "Daniel Okafor",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "appointment_time": _LONG_TIME,
            "surveyor_name": "Alexandra Montgomery-Whitfield",
            "job_description": _LONG_JOB,
            "name": _LONG_NAME,
        },
        optional={"surveyor_name", "job_description", "name"},
        sms_segments=2,
    ),
    _spec(
        "home_visit_confirmation",
        {"reference", "appointment_date", "appointment_time"},
        {
            "reference": _REFERENCE,
            "appointment_date": _DATE,
            "appointment_time": "10am to 11am",
            "officer_name": "Priya Shah",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "appointment_date": _LONG_DATE,
            "appointment_time": _LONG_TIME,
            "officer_name": "Alexandra Montgomery-Whitfield",
            "name": _LONG_NAME,
        },
        optional={"officer_name", "name"},
        sms_segments=2,
    ),
    _spec(
        "investigation_summary",
        {"reference", "investigated_on", "findings", "next_steps"},
        {
            "reference": _REFERENCE,
            "investigated_on": "Monday 13 July 2026",
            "findings": "We found black mould on the bedroom wall behind the wardrobe, caused by "
            "condensation and a blocked extractor fan in the bathroom.",
            "next_steps": "We will clean and treat the mould, replace the extractor fan, and check "
            "the room again six weeks later.",
            "safety_work_by": "Monday 20 July 2026",
            "name": _NAME,
        },
        {
            "reference": _REFERENCE,
            "investigated_on": _LONG_DATE,
            "findings": (
                "We found black mould on the walls and ceiling of the main bedroom and the box room, "
                "worst behind the wardrobe and around the window frame. Moisture readings in the outside "
                "wall were high. The bathroom extractor fan was not working and the gutter above the "
                "bedroom window is blocked and overflowing, so rain is soaking into the brickwork. We "
                "did not find any leak from the flat above."
            ),
            "next_steps": (
                "We will clear the gutter and replace the bathroom extractor fan, then clean and treat "
                "the mould in both rooms with a fungicidal wash and stain-block paint. Once the wall has "
                "dried out we will check the moisture readings again and decide whether the outside wall "
                "needs further work, such as repointing or a new damp-proof course."
            ),
            "safety_work_by": "Wednesday 7 October 2026",
            "further_work_by": "Wednesday 14 October 2026",
            "name": _LONG_NAME,
        },
        optional={"safety_work_by", "further_work_by", "name"},
        channels={EMAIL},
    ),
    _spec(
        "safeguarding_neutral",
        set(),
        {},
        {},
        sms_segments=1,
    ),
)

CATALOGUE: dict[str, TemplateSpec] = {spec.name: spec for spec in _SPECS}


def spec(name: str) -> TemplateSpec:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownTemplate(name) from None


def names() -> list[str]:
    return sorted(CATALOGUE)


def sample(name: str, long: bool = False) -> dict[str, str]:
    """Personalisation to render `name` with: realistic, or the longest plausible."""
    wanted = spec(name)
    return dict(wanted.long if long else wanted.samples)


def required_only(name: str) -> dict[str, str]:
    """The sample values of the required keys alone, to show nothing optional is needed."""
    wanted = spec(name)
    return {key: value for key, value in wanted.samples.items() if key in wanted.required}
