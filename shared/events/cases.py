"""Events about cases, on doorstep.cases, keyed by case id."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from shared.events.envelope import AwareDatetime, Event, Id, Reference
from shared.events.notifications import Recipient


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
    EMERGENCY_HAZARD = "emergency_hazard"  # Awaab's Law: made safe within 24 hours
    INSPECTION_REQUIRED = "inspection_required"  # a surveyor looks before the order


class Reason(BaseModel):
    """Why a case was classified as it was: the rule and the words that matched."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    words: tuple[str, ...] = ()


class CaseOpened(Event):
    event_type: Literal["case.opened"] = "case.opened"
    case_id: Id
    reference: Reference
    channel: Channel
    mailbox: Mailbox | None = None
    kind: CaseKind
    priority: Priority | None = None
    flags: tuple[Flag, ...] = ()
    reasons: tuple[Reason, ...] = ()
    received_at: AwareDatetime
    # Where known: the home and tenancy it is about, how to reach the tenant (personal
    # data: in events, never in logs) and what they said, for the works order.
    property_id: Id | None = None
    tenancy_id: Id | None = None
    contact: Recipient | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] = ""


class CaseReplied(Event):
    event_type: Literal["case.replied"] = "case.replied"
    case_id: Id
    reference: Reference
    replied_at: AwareDatetime


class CaseClosed(Event):
    event_type: Literal["case.closed"] = "case.closed"
    case_id: Id
    reference: Reference
    closed_at: AwareDatetime


class CaseFlagged(Event):
    """Something learned after the case opened: damp and mould, an emergency hazard, ..."""

    event_type: Literal["case.flagged"] = "case.flagged"
    case_id: Id
    reference: Reference
    flag: str
    flagged_at: AwareDatetime


class CallbackRequested(Event):
    event_type: Literal["callback.requested"] = "callback.requested"
    case_id: Id
    reference: Reference
    requested_at: AwareDatetime
    priority: Priority | None = None


class CallbackMade(Event):
    event_type: Literal["callback.made"] = "callback.made"
    case_id: Id
    reference: Reference
    made_at: AwareDatetime


class ComplaintStage(StrEnum):
    STAGE_1 = "1"
    STAGE_2 = "2"


class ComplaintAcknowledged(Event):
    event_type: Literal["complaint.acknowledged"] = "complaint.acknowledged"
    case_id: Id
    reference: Reference
    stage: ComplaintStage
    acknowledged_at: AwareDatetime


class ComplaintResponded(Event):
    event_type: Literal["complaint.responded"] = "complaint.responded"
    case_id: Id
    reference: Reference
    stage: ComplaintStage
    responded_at: AwareDatetime


class ComplaintEscalated(Event):
    """The tenant asked for Stage 2."""

    event_type: Literal["complaint.escalated"] = "complaint.escalated"
    case_id: Id
    reference: Reference
    escalated_at: AwareDatetime


class ExtensionAgreed(Event):
    """More time agreed with the tenant, in writing, before the deadline."""

    event_type: Literal["extension.agreed"] = "extension.agreed"
    case_id: Id
    reference: Reference
    clock: str  # the clock definition id, e.g. complaint_stage1_response
    new_deadline: AwareDatetime
    reason: str
    agreed_at: AwareDatetime


class HazardInvestigated(Event):
    event_type: Literal["hazard.investigated"] = "hazard.investigated"
    case_id: Id
    reference: Reference
    investigated_at: AwareDatetime
    flags: tuple[str, ...] = ()  # significant_hazard, further_work_needed


class HazardMadeSafe(Event):
    event_type: Literal["hazard.made_safe"] = "hazard.made_safe"
    case_id: Id
    reference: Reference
    made_safe_at: AwareDatetime


class WorksStarted(Event):
    event_type: Literal["works.started"] = "works.started"
    case_id: Id
    reference: Reference
    started_at: AwareDatetime


class CaseMessageReceived(Event):
    """A further message from the tenant on a case already open (a reply to our mail,
    or a mail quoting the case's reference): threaded into it, no new case."""

    event_type: Literal["case.message_received"] = "case.message_received"
    case_id: Id
    reference: Reference
    channel: Channel
    mailbox: Mailbox | None = None
    received_at: AwareDatetime
    # What the tenant said (personal data: in events, never in logs).
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
