"""What a case needs booked, by when, and how the tenant is asked (pure).

The "by when" comes from the standards pack (the clock named here), so a change to the
landlord's timescales is a change of data, not of code.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.events.appointments import AppointmentKind
from shared.events.cases import CaseKind, CaseOpened, Channel, Flag, Priority
from services.scheduler.domain.contractors import GENERAL, HOUSING_OFFICER, SURVEYOR
from services.scheduler.domain.slots import Pattern

# Offers start far enough ahead for the tenant to answer and the contractor to plan.
OFFER_LEAD = timedelta(hours=2)

# Said on the telephone or at the desk: staff offer slots during the call instead.
SPOKEN = frozenset({Channel.PHONE, Channel.IN_PERSON})

# Words in the tenant's description that name the trade; anything else is general work.
TRADE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("heating", ("boiler", "heating", "radiator", "hot water", "gas")),
    ("electrical", ("electric", "socket", "light", "fuse", "power")),
    ("plumbing", ("leak", "tap", "toilet", "pipe", "drain", "sink", "flood", "water")),
    ("glazing", ("window", "glass", "glazing")),
    ("roofing", ("roof", "gutter")),
    ("carpentry", ("door", "lock", "cupboard", "floorboard", "stair")),
)


@dataclass(frozen=True)
class Job:
    """What is to be booked for a case."""

    kind: AppointmentKind
    priority: Priority
    trade: str
    pattern: Pattern
    clock_id: str  # the standard that says by when
    safeguarding: bool


def job_for(case: CaseOpened) -> Job | None:
    """The appointment a newly opened case needs, if any."""
    safeguarding = Flag.SAFEGUARDING in case.flags
    priority = case.priority or Priority.ROUTINE
    if case.kind is CaseKind.HOME_VISIT:
        clock = "home_visit_harassment_or_domestic_violence" if safeguarding else "home_visit"
        return Job(AppointmentKind.HOME_VISIT, priority, HOUSING_OFFICER, Pattern.OFFICE, clock, safeguarding)
    if case.kind is not CaseKind.REPAIR_REQUEST:
        return None
    if Flag.INSPECTION_REQUIRED in case.flags and priority is not Priority.EMERGENCY:
        return Job(
            AppointmentKind.INSPECTION,
            priority,
            SURVEYOR,
            Pattern.OFFICE,
            "pre_work_inspection",
            safeguarding,
        )
    pattern = Pattern.EMERGENCY if priority is Priority.EMERGENCY else Pattern.REPAIR
    clock = f"repair_completion_{priority}"
    return Job(AppointmentKind.REPAIR, priority, trade_for(case.description), pattern, clock, safeguarding)


def trade_for(description: str) -> str:
    words = description.lower()
    for trade, clues in TRADE_WORDS:
        if any(clue in words for clue in clues):
            return trade
    return GENERAL


def offers_by_message(channel: Channel) -> bool:
    """Written and online reports are answered with offers; spoken ones are booked live."""
    return channel not in SPOKEN


def earliest_start(now: datetime, job_pattern: Pattern) -> datetime:
    return now if job_pattern is Pattern.EMERGENCY else now + OFFER_LEAD


def pattern_for(kind: AppointmentKind, priority: Priority) -> Pattern:
    if kind in (AppointmentKind.HOME_VISIT, AppointmentKind.INSPECTION):
        return Pattern.OFFICE
    return Pattern.EMERGENCY if priority is Priority.EMERGENCY else Pattern.REPAIR


def works_order_number(case_id: str) -> str:
    """The order number for a case's repair, e.g. WO-7K2M9QXA: derived from the case, so a
    redelivered case cannot raise a second order."""
    digest = hashlib.sha256(f"works-order/{case_id}".encode()).digest()
    return "WO-" + base64.b32encode(digest).decode()[:8]
