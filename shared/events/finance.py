"""Money owed to tenants, on doorstep.finance.rent-credits, keyed by case id."""

from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.events.envelope import AwareDatetime, Event, Id, Reference

# 002 Local Offer: "If the contractor does not turn up for an appointment, you will get
# £10 credited to your rent account."
MISSED_APPOINTMENT_CREDIT_PENCE = 1000


class CreditReason(StrEnum):
    MISSED_APPOINTMENT = "missed_appointment"


class RentCreditDue(Event):
    """A credit to the tenant's rent account, owed for one appointment."""

    event_type: Literal["rent_credit.due"] = "rent_credit.due"
    case_id: Id
    reference: Reference
    appointment_id: Id
    amount_pence: int = Field(gt=0)
    reason: CreditReason
    due_at: AwareDatetime
