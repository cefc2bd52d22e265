"""Verdicts on completed work, keyed by case id: the tenant's satisfaction survey
(`survey.answered`, on doorstep.cases) and the landlord's post-inspection
(`works.inspected`, on doorstep.appointments)."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from shared.events.envelope import AwareDatetime, Event, Id, Reference


class Aspect(StrEnum):
    """What the telephone survey asks about (002 Local Offer, "Our monitoring includes")."""

    FIRST_CONTACT = "first_contact"
    APPOINTMENT_DETAILS = "appointment_details"
    REMINDERS = "reminders"
    SPEED_OF_REPAIR = "speed_of_repair"
    OPERATIVE = "operative"
    QUALITY = "quality"
    KEPT_INFORMED = "kept_informed"
    OVERALL = "overall"


# 1 very dissatisfied ... 5 very satisfied.
Score = Annotated[int, Field(ge=1, le=5)]


class SurveyAnswered(Event):
    """A tenant's answers; an aspect they did not answer is left out."""

    event_type: Literal["survey.answered"] = "survey.answered"
    case_id: Id
    reference: Reference
    answered_at: AwareDatetime
    scores: dict[Aspect, Score] = Field(min_length=1)


class WorksInspected(Event):
    """A completed job inspected for quality (a sample, and every high-value or complex job)."""

    event_type: Literal["works.inspected"] = "works.inspected"
    case_id: Id
    reference: Reference
    inspected_at: AwareDatetime
    high_value_or_complex: bool
    passed: bool
