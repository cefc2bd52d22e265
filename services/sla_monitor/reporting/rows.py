"""What the figures are computed from: the recorded facts and the monitor's clocks, as
plain rows (pure: no database here)."""

from dataclasses import dataclass
from datetime import date, datetime

from shared.events.cases import CaseKind, Priority
from shared.events.feedback import Aspect
from shared.events.sla import Obligation

MET = "met"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class OpenedCase:
    case_id: str
    kind: CaseKind
    priority: Priority | None
    received_at: datetime


@dataclass(frozen=True)
class Escalation:
    case_id: str
    escalated_at: datetime


@dataclass(frozen=True)
class RepairVisit:
    """One completed repair appointment."""

    case_id: str
    appointment_id: str
    completed_at: datetime
    fixed_first_time: bool


@dataclass(frozen=True)
class GasCheck:
    property_id: str
    checked_on: date


@dataclass(frozen=True)
class RentCredit:
    case_id: str
    appointment_id: str
    amount_pence: int
    due_at: datetime


@dataclass(frozen=True)
class Inspection:
    case_id: str
    inspected_at: datetime
    high_value_or_complex: bool
    passed: bool


@dataclass(frozen=True)
class SurveyScore:
    survey_id: str  # the survey.answered event id
    aspect: Aspect
    score: int
    answered_at: datetime


@dataclass(frozen=True)
class ClockRow:
    definition: str
    name: str
    obligation: Obligation
    deadline: datetime
    state: str  # running, paused, breached, met, cancelled
    stopped_at: datetime | None
    breached_at: datetime | None


@dataclass(frozen=True)
class Facts:
    """Everything one report needs. May hold rows outside the period: the figures
    choose what falls in it."""

    cases: tuple[OpenedCase, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    repair_visits: tuple[RepairVisit, ...] = ()
    gas_checks: tuple[GasCheck, ...] = ()
    rent_credits: tuple[RentCredit, ...] = ()
    inspections: tuple[Inspection, ...] = ()
    survey_scores: tuple[SurveyScore, ...] = ()
    clocks: tuple[ClockRow, ...] = ()
