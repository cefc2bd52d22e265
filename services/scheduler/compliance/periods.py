"""How often each check is due, read from the standards packs (the targets are data):
gas yearly and electrical five-yearly from the statutory pack, fire risk assessments
from the landlord's own (yearly unless the assessor sets a review date)."""

from datetime import date
from functools import cache

from shared.calendar import Unit
from shared.events.compliance import CertificateKind
from shared.standards.loader import clocks_in_force, load_all
from shared.standards.models import StandardsBook

CLOCKS = {
    CertificateKind.GAS_SAFETY: ("statutory-england", "gas_safety_check"),
    CertificateKind.ELECTRICAL_INSTALLATION: ("statutory-england", "electrical_safety_check"),
    CertificateKind.FIRE_RISK_ASSESSMENT: ("hexagon", "fire_risk_assessment"),
}


@cache
def _book() -> StandardsBook:
    return load_all()


@cache
def period_months(kind: CertificateKind, on: date) -> int:
    """The interval between checks of `kind` in the standard in force `on` that day."""
    pack_id, clock_id = CLOCKS[kind]
    standard = clocks_in_force(_book().pack(pack_id), on)
    if standard is None:
        raise LookupError(f"no {pack_id} standard in force on {on}")
    target = standard.clock(clock_id).target
    if target.unit is not Unit.MONTHS:
        raise ValueError(f"{pack_id} {clock_id}: expected a target in months, not {target.unit}")
    return target.amount
