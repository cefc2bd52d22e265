"""Events about cases, on doorstep.cases, keyed by case id."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.events.envelope import AwareDatetime, Event


class Channel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    WEB = "web"
    PHONE = "phone"
    IN_PERSON = "in_person"


class Mailbox(StrEnum):
    REPAIRS = "repairs"
    CUSTOMER_DESK = "customer_desk"
    COMPLAINTS = "complaints"


class CaseKind(StrEnum):
    REPAIR_REQUEST = "repair_request"
    GENERAL_ENQUIRY = "general_enquiry"
    COMPLAINT = "complaint"
    LETTER = "letter"
    HOME_VISIT = "home_visit"
    ANTI_SOCIAL_BEHAVIOUR = "anti_social_behaviour"


class Priority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class Flag(StrEnum):
    SAFEGUARDING = "safeguarding"
    DAMP_AND_MOULD = "damp_and_mould"
    ANTI_SOCIAL_BEHAVIOUR = "anti_social_behaviour"


class Reason(BaseModel):
    """Why a case was classified as it was: the rule and the words that matched."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    words: tuple[str, ...] = ()


class CaseOpened(Event):
    event_type: Literal["case.opened"] = "case.opened"
    case_id: str
    reference: str
    channel: Channel
    mailbox: Mailbox | None = None
    kind: CaseKind
    priority: Priority | None = None
    flags: tuple[Flag, ...] = ()
    reasons: tuple[Reason, ...] = ()
    received_at: AwareDatetime


class CaseReplied(Event):
    event_type: Literal["case.replied"] = "case.replied"
    case_id: str
    reference: str
    replied_at: AwareDatetime


class CaseClosed(Event):
    event_type: Literal["case.closed"] = "case.closed"
    case_id: str
    reference: str
    closed_at: AwareDatetime
