"""Which opened cases need an appointment (pure)."""

from shared.events.cases import CaseKind, CaseOpened, Priority


def needs_booking(case: CaseOpened) -> bool:
    return case.kind is CaseKind.REPAIR_REQUEST


def booking_priority(case: CaseOpened) -> Priority:
    return case.priority or Priority.ROUTINE
