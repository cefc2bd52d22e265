"""When the next safety check is due (pure). Used by the scheduler's programmes and
the SLA monitor's property clocks alike."""

from datetime import date

from shared.calendar import add_months
from shared.events.compliance import CertificateKind

# A gas check in the two months before the due date keeps the due date (Gas Safety
# (Installation and Use) Regulations 1998, reg. 36(3)(aa)); an earlier one resets it.
GAS_WINDOW_MONTHS = 2


def next_due(
    kind: CertificateKind,
    checked_on: date,
    period_months: int,
    previous_due: date | None = None,
    review_on: date | None = None,
) -> date:
    if review_on is not None:
        return review_on
    if kind is CertificateKind.GAS_SAFETY and previous_due is not None:
        window_opens = add_months(previous_due, -GAS_WINDOW_MONTHS)
        if window_opens <= checked_on <= previous_due:
            return add_months(previous_due, period_months)
    return add_months(checked_on, period_months)
