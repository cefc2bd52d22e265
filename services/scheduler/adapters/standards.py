"""By when a job must be done, from the landlord's standards pack in force when the case opened."""

from datetime import datetime
from functools import cache

from shared.calendar import default_calendar
from shared.standards.loader import clocks_in_force, load_all
from shared.standards.models import StandardsBook

PACK = "hexagon"


@cache
def _book() -> StandardsBook:
    return load_all()


def due_by(clock_id: str, received_at: datetime) -> datetime:
    standard = clocks_in_force(_book().pack(PACK), default_calendar.local_date(received_at))
    if standard is None:
        raise LookupError(f"no {PACK} standard in force on {received_at.date()}")
    return standard.clock(clock_id).target.due(received_at, default_calendar)
