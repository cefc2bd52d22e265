"""The programme's rules (pure): when each check is due, and what the daily sweep does
about it.

Gas: the window opens two months before the due date. The tenant is offered an
appointment; an offer that ends in no access, or that goes unanswered, is followed by a
second and then a third offer (a chaser); when the third fails too, staff take over.
Electrical inspections (every home, every five years) and fire risk assessments (per
block, by the assessor's review date) are staff tasks: raised when the notice period
opens, and again once if the due date passes with no new certificate."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from shared.calendar import WorkingCalendar, add_months, default_calendar
from shared.compliance import GAS_WINDOW_MONTHS, next_due
from shared.events import stable_event_id
from shared.events.compliance import CertificateKind

MAX_OFFERS = 3

CASE_PREFIX = {
    CertificateKind.GAS_SAFETY: "gas",
    CertificateKind.ELECTRICAL_INSTALLATION: "eicr",
    CertificateKind.FIRE_RISK_ASSESSMENT: "fra",
}

OFFERED_SLOT = (time(8, 0), time(12, 0))  # a weekday morning slot


def due_after(
    kind: CertificateKind,
    checked_on: date,
    previous_due: date | None,
    review_on: date | None,
    period_months: int,
) -> date:
    """The next due date once a check on `checked_on` is recorded, checks being due every
    `period_months` (the standards pack's interval for the kind)."""
    return next_due(kind, checked_on, period_months, previous_due, review_on)


def check_case_id(kind: CertificateKind, subject_id: str, due_on: date) -> str:
    """One case per subject and due date, the same however often it is derived, so the
    offers, appointments and notifications about one check share their key."""
    return f"{CASE_PREFIX[kind]}-{stable_event_id(kind, subject_id, due_on.isoformat()).hex}"


def gas_window_opens(due_on: date) -> date:
    return add_months(due_on, -GAS_WINDOW_MONTHS)


class GasStep(StrEnum):
    NOTHING = "nothing"
    OFFER = "offer"
    CHASE = "chase"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class GasProgress:
    """What is known about arranging one property's check for one due date."""

    attempts: int = 0
    last_attempt_on: date | None = None
    escalated: bool = False
    visits_open: int = 0  # booked and not yet attended
    visits_done: int = 0  # completed; the certificate is on its way
    no_access: int = 0  # visits where the engineer could not get in


def gas_step(today: date, due_on: date, progress: GasProgress, chase_after: timedelta) -> GasStep:
    if today < gas_window_opens(due_on) or progress.escalated:
        return GasStep.NOTHING
    if progress.attempts == 0:
        return GasStep.OFFER
    if progress.visits_open or progress.visits_done:
        return GasStep.NOTHING
    assert progress.last_attempt_on is not None
    unanswered = today >= progress.last_attempt_on + chase_after
    if progress.no_access >= progress.attempts or unanswered:
        return GasStep.ESCALATE if progress.attempts >= MAX_OFFERS else GasStep.CHASE
    return GasStep.NOTHING


def proposed_visit(
    today: date, lead_working_days: int, calendar: WorkingCalendar = default_calendar
) -> tuple[datetime, datetime]:
    """The morning slot offered: `lead_working_days` working days from today."""
    day = calendar.add_working_days(today, lead_working_days)
    return calendar.at(day, OFFERED_SLOT[0]), calendar.at(day, OFFERED_SLOT[1])


class NoticeStep(StrEnum):
    NOTHING = "nothing"
    DUE = "due"
    OVERDUE = "overdue"


def notice_step(
    today: date, due_on: date, notice_months: int, raised: bool, overdue_raised: bool
) -> NoticeStep:
    """For staff-led checks: raise the task once when notice opens, once more if late."""
    if today > due_on:
        return NoticeStep.NOTHING if overdue_raised else NoticeStep.OVERDUE
    if today >= add_months(due_on, -notice_months) and not raised:
        return NoticeStep.DUE
    return NoticeStep.NOTHING


def check_reference(kind: CertificateKind, subject_id: str, due_on: date) -> str:
    """What the tenant and staff quote: 'GAS-202703-P000123'."""
    return f"{CASE_PREFIX[kind].upper()}-{due_on:%Y%m}-{subject_id}"[:64]
