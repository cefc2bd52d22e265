"""Finding the earliest free places for a job (pure).

`taken` counts the places already booked per (contractor id, slot start); a contractor
takes at most `capacity_per_slot` jobs in one slot.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.calendar import WorkingCalendar
from services.scheduler.domain.contractors import Contractor
from services.scheduler.domain.slots import Pattern, Slot, slots_between

MAX_OFFERS = 3

Taken = Mapping[tuple[str, datetime], int]


@dataclass(frozen=True)
class Need:
    trade: str
    district: str | None
    pattern: Pattern
    earliest: datetime
    latest: datetime

    @property
    def emergency(self) -> bool:
        return self.pattern is Pattern.EMERGENCY


@dataclass(frozen=True)
class Offer:
    number: int  # 1..3, what the tenant replies with
    contractor_id: str
    starts_at: datetime
    ends_at: datetime


def find_offers(
    need: Need,
    contractors: Iterable[Contractor],
    taken: Taken,
    calendar: WorkingCalendar,
    limit: int = MAX_OFFERS,
    avoid: Collection[datetime] = (),
) -> list[Offer]:
    """Up to `limit` offers in different slots, earliest first; `avoid` skips slot starts
    (the tenant's current appointment when they want to move it)."""
    able = able_for(need, contractors)
    offers: list[Offer] = []
    for slot in slots_between(need.earliest, need.latest, need.pattern, calendar):
        if slot.starts_at in avoid:
            continue
        contractor = _free_contractor(able, slot, taken, need.emergency, calendar)
        if contractor is not None:
            offers.append(Offer(len(offers) + 1, contractor.id, slot.starts_at, slot.ends_at))
            if len(offers) == limit:
                break
    return offers


def able_for(need: Need, contractors: Iterable[Contractor]) -> list[Contractor]:
    """The contractors who do this trade in this area (and, for an emergency, are on the rota)."""
    return [
        c
        for c in contractors
        if c.can_do(need.trade) and c.covers(need.district) and (c.emergency_rota or not need.emergency)
    ]


def _free_contractor(
    able: list[Contractor], slot: Slot, taken: Taken, emergency: bool, calendar: WorkingCalendar
) -> Contractor | None:
    day = calendar.local_date(slot.starts_at)
    best, most_free = None, 0
    for contractor in able:
        if not contractor.works_on(day, emergency):
            continue
        free = contractor.capacity_per_slot - taken.get((contractor.id, slot.starts_at), 0)
        if free > most_free:  # the least loaded, so work is spread
            best, most_free = contractor, free
    return best
