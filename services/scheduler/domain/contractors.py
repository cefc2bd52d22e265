"""Contractors, and which of them can take a job (pure)."""

from dataclasses import dataclass
from datetime import date

# A multi-trade contractor takes any repair; surveyors and housing officers are named.
GENERAL = "general"
REPAIR_TRADES = frozenset({GENERAL, "plumbing", "heating", "electrical", "carpentry", "roofing", "glazing"})
SURVEYOR = "surveyor"
HOUSING_OFFICER = "housing_officer"


@dataclass(frozen=True)
class Contractor:
    id: str
    name: str
    phone: str
    trades: frozenset[str]
    areas: frozenset[str]  # postcode districts, e.g. SE15
    working_days: frozenset[int]  # ISO weekdays, 1 = Monday
    capacity_per_slot: int
    emergency_rota: bool

    def can_do(self, trade: str) -> bool:
        return trade in self.trades or (trade in REPAIR_TRADES and GENERAL in self.trades)

    def covers(self, district: str | None) -> bool:
        return district is None or district in self.areas

    def works_on(self, day: date, emergency: bool) -> bool:
        # The emergency rota covers every day of the year.
        return (emergency and self.emergency_rota) or day.isoweekday() in self.working_days


def postcode_district(postcode: str) -> str:
    """'se15 4ab' -> 'SE15' (the outward code)."""
    compact = postcode.upper().replace(" ", "")
    return compact[:-3] if len(compact) > 4 else compact
